import ArgumentParser
import Analysis
import CSGB
#if canImport(Glibc)
import Glibc
#endif

struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Where each mode's time goes, and where the difference between two modes goes, in ns per iteration.",
        discussion: """
            Example: csgb explain -- socket 1 --cpus 0
            Runs the workload once per mode under perf record -g (cpu-clock where the machine \
            has no hardware PMU, cycles where it has one), counting the measured window only, \
            and splits each mode's ns per iteration into: scheduler (__schedule and below), \
            wake-ups, syscall entry/exit, socket work, Swift runtime, csgb code, other; then \
            the first mode minus the second, row by row. The rows must sum to the measured \
            difference within 10 %; the report says so or flags it. Writes flame graphs (one \
            SVG per mode and a differential one), folded stacks, a timeline of per-interval \
            counts (perf stat -I 1, separate runs) as CSV and PNG, and the report into --out. \
            Exit 69 when perf is missing or not permitted, 74 when the results folder cannot \
            take the report (checked before anything runs), 130 when stopped by a signal \
            (nothing is written). A --out folder that already holds files is kept, and one \
            another explain is writing (its .claimed file) is left to it: the report goes \
            beside it, into NAME-2.
            """)

    @Option(help: ArgumentHelp("Two modes, compared as first − second: any two of \(Mode.allCases.map(\.rawValue).joined(separator: ", ")).", valueName: "A,B"))
    var modes = Mode.defaultComparisonList

    @Option(help: "Measured seconds of each mode's recorded run.")
    var seconds = 2.0

    @Option(name: .customLong("timeline-seconds"), help: "Measured seconds of each mode's timeline run (perf stat, 1 ms intervals).")
    var timelineSeconds = 0.5

    @Option(help: "Results folder for the SVGs, folded stacks, timeline and report (default: csgb-explain-<UTC date-time> here).")
    var out: String?

    @Option(help: "text or json.")
    var format: StatFormat = .text

    @Argument(parsing: .postTerminator, help: "After --: the workload and its options, as for csgb itself, without --mode and --duration (socket 1 --cpus 0).")
    var workload: [String] = []

    static let shortestWindow = 0.01

    var modeList: [String] { modes.split(separator: ",").map { String($0).filter { $0 != " " } } }

    func validate() throws {
        if workload.isEmpty {
            throw ValidationError("csgb explain needs a workload after --, e.g. csgb explain -- socket 1 --cpus 0")
        }
        if let out, out.isEmpty {
            throw ValidationError("--out needs a folder name (an empty one would write into /)")
        }
        let list = modeList
        if list.count != 2 || Set(list).count != 2 || list.contains(where: { Mode(rawValue: $0) == nil }) {
            throw ValidationError("--modes must name two different modes of \(Mode.allCases.map(\.rawValue).joined(separator: ", ")), e.g. \(Mode.defaultComparisonList); got \(modes)")
        }
        // Below 10 ms perf takes no sample and counts no interval: the run would end
        // in a confusing "is perf's --control supported?".
        if !(seconds >= Self.shortestWindow && seconds <= 600) {
            throw ValidationError("--seconds must be from \(Fmt.trimmed(Self.shortestWindow)) to 600, got \(Fmt.trimmed(seconds))")
        }
        if !(timelineSeconds >= Self.shortestWindow && timelineSeconds <= 60) {
            throw ValidationError("--timeline-seconds must be from \(Fmt.trimmed(Self.shortestWindow)) to 60, got \(Fmt.trimmed(timelineSeconds))")
        }
        for option in ["--mode", "-m", "--sync", "-s", "--duration", "-d", "--format"] {
            if workload.contains(where: { $0 == option || $0.hasPrefix(option + "=") }) {
                throw ValidationError("csgb explain sets \(option) itself (--modes, --seconds); leave it out of the workload")
            }
        }
        for mode in list {
            _ = try StatCommand.parseWorkload(workload + ["--mode", mode, "--duration", "1"])
        }
    }

    func run() throws {
        try CSGBRun.prepareReportingProcess()
        try StandardOutput.ensureOpen()
        guard let perf = PerfTool.path() else { throw CSGBError.unavailable(PerfRunner.perfMissing) }
        let request = ExplainRequest(
            workloadArguments: workload, modes: modeList, seconds: seconds, timelineSeconds: timelineSeconds,
            outputPath: out ?? ResultsFolder.defaultName(), executable: StatCommand.executablePath(), perfPath: perf)
        let report = try ExplainSession.run(request)
        try StandardOutput.write(report.rendered(format.report))
    }
}
