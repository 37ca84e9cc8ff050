import CSGBSystem
import ArgumentParser
import Analysis
import CSGB
#if canImport(Glibc)
import Glibc
#endif

extension ExpectationChoice: ExpressibleByArgument {}

/// stat's report is a verdict with nested figures: no one-row CSV.
enum StatFormat: String, CaseIterable, ExpressibleByArgument {
    case text, json
    var report: ReportFormat { self == .json ? .json : .text }
}

struct StatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stat",
        abstract: "Run a workload under perf stat, count its measured window only, and verify that its mode did what it claims.",
        discussion: """
            Example: csgb stat -- socket 1 --mode \(Mode.defaultComparison.user.rawValue) --cpus 0 --duration 2
            Prints per iteration: context switches, CPU migrations, syscalls by name (\
            \(Claims.alwaysTraced.joined(separator: ", ")), and every other one the run's claims name), instructions, \
            cycles, IPC, cache and dTLB misses, the user/kernel split, and ns/iteration. Then \
            checks the expectation (csgb stat --explain-rules prints them all) and exits 0 when it holds, 3 when \
            it does not (naming the figure, with the top kernel stacks of sched:sched_switch), \
            69 when perf is missing or not permitted. Without --duration the workload runs 2 s.
            """)

    @Option(help: "Comma-separated perf events to count instead of the hardware defaults (instructions, cycles, cache-misses, dTLB-load-misses, instructions:u/k, cycles:u/k). Context switches, migrations, task clock and the syscall tracepoints are always counted.")
    var events: String?

    @Option(name: .customLong("repeat"), help: "Runs; the report shows the median and min–max of each figure and the coefficient of variation of ns/iteration (above 5 % is flagged noisy).")
    var repeatCount = 1

    @Option(help: "auto (from mode and workload), no-switches (< 0.001 context switches per iteration) or switching (>= 1).")
    var expect: ExpectationChoice = .auto

    @Option(help: "text or json.")
    var format: StatFormat = .text

    @Flag(name: .customLong("explain-rules"), help: "Print the expectations for every workload, mode and io path (a Markdown table, generated from the claims the runs state) and exit.")
    var explainRules = false

    @Argument(parsing: .postTerminator, help: ArgumentHelp("After --: the workload and its options, as for csgb itself (socket 1 --mode \(Mode.synchronous.rawValue) --cpus 0 --duration 1)."))
    var workload: [String] = []

    /// Seconds the workload runs when its arguments name no duration.
    static let defaultDuration = "2"

    func validate() throws {
        if explainRules {
            if !workload.isEmpty { throw ValidationError("--explain-rules prints the rules of every workload; give no workload after --") }
            return
        }
        if workload.isEmpty {
            throw ValidationError("csgb stat needs a workload after --, e.g. csgb stat -- socket 1 --mode \(Mode.defaultComparison.user.rawValue) --duration 2")
        }
        if repeatCount < 1 || repeatCount > 100 { throw ValidationError("--repeat must be between 1 and 100, got \(repeatCount)") }
        if let events, StatEvents.split(events).isEmpty { throw ValidationError("--events must list at least one event") }
        _ = try Self.parseWorkload(workload)
    }

    /// Parses the workload exactly as csgb would, so bad arguments fail here with
    /// exit 64 before perf starts.
    static func parseWorkload(_ arguments: [String]) throws -> any WorkloadCommand {
        if arguments.contains(where: { $0 == "--perf-control" || $0.hasPrefix("--perf-control=") }) {
            throw ValidationError("--perf-control is set by csgb stat itself; leave it out of the workload")
        }
        if let help = arguments.first(where: { $0 == "--help" || $0 == "-h" }) {
            throw ValidationError("\(help) after -- asks the workload for help, which csgb stat does not run; see `csgb \(arguments.first ?? "socket") --help` for the workload's options and `csgb stat --help` for stat's")
        }
        let command: ParsableCommand
        do {
            command = try CSGBCommand.parseAsRoot(arguments)
        } catch {
            let message = CSGBCommand.message(for: error).split(separator: "\n").first.map(String.init) ?? "invalid workload arguments"
            throw ValidationError("workload: " + (message.hasPrefix("Error: ") ? String(message.dropFirst(7)) : message))
        }
        guard let workload = command as? any WorkloadCommand else {
            throw ValidationError("csgb stat runs a workload (\(WorkloadRegistry.names.joined(separator: ", "))), not \(arguments[0])")
        }
        // The mode's refusals too (futex in green mode, --io uring without transfers),
        // before perf starts rather than after its first run.
        do {
            try workload.options.configuration(workload: workload.workload, n: try workload.resolvedN()).validatePlan()
        } catch let error as CSGBError {
            throw ValidationError("workload: " + error.description)
        }
        return workload
    }

    func run() throws {
        if explainRules {
            try StandardOutput.write(RulesTable.markdown())
            return
        }
        try CSGBRun.prepareReportingProcess()
        try StandardOutput.ensureOpen()
        guard let perf = PerfTool.path() else { throw CSGBError.unavailable(PerfRunner.perfMissing) }
        var arguments = workload
        let command = try Self.parseWorkload(workload)
        if command.options.duration == nil {
            arguments += ["--duration", Self.defaultDuration]
        }
        var request = StatRequest(
            workloadArguments: arguments, events: events.map(StatEvents.split), repeatCount: repeatCount,
            expectation: expect, executable: Self.executablePath(), perfPath: perf)
        request.syscalls = command.options.configuration(workload: command.workload, n: try command.resolvedN()).tracedSyscalls
        let report = try StatSession.run(request)
        try StandardOutput.write(report.rendered(format.report))
        if !report.holds { throw CSGBError.verificationFailed(report.verification.failureMessage) }
    }

    /// This very binary, so perf runs the same csgb the user ran.
    static func executablePath() -> String {
        SystemIdentity.executablePath ?? CommandLine.arguments[0]
    }
}
