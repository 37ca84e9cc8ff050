import ArgumentParser
import Analysis
import CSGB

struct CostCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cost",
        abstract: "What one switch costs, in ns: a kernel-switching mode against a user-mode one with the same syscalls, split into direct and indirect.",
        discussion: """
            Example: csgb cost -- socket 1 --cpus 0
            Runs the workload in the two modes of --modes, alternated for --rounds rounds, \
            each run with --phases --format json, and prints per switch of the first mode: \
            total = (ns/iteration first − second) ÷ the first's context switches per iteration; \
            indirect = (work ns/iteration first − second) ÷ the same switches, the actors' own \
            work (touch, --work-size) slowed by the caches and TLB a kernel switch leaves cold; \
            direct = total − indirect, the switch path itself. Each with a 95 % interval: \
            \(PairedEstimate.method), which needs at least \(PairedEstimate.minimumCount) rounds; \
            "not resolved" when it includes 0. Beside them, one user-mode switch of the second \
            mode alone, timed by two actors yielding to each other (--no-switch-probe: not). The first mode must switch \
            through the kernel (\(Mode.allCases.filter(\.kernelSwitching).map(\.rawValue).joined(separator: ", "))), and both \
            must issue the same syscalls per iteration (their claims): any other pair is refused \
            with exit 64, as is a mode that cannot run the workload. Without --duration each \
            run lasts \(defaultDuration) s. SIGINT or SIGTERM stops the running child (its window \
            is cut and its round dropped) and prints the rounds done. JSON keeps every child's \
            report.
            """)

    @Option(help: ArgumentHelp("The two modes, compared as first − second: the first one switching through the kernel, both with the same syscalls per iteration (default \(Mode.defaultComparisonList)).", valueName: "K,U"))
    var modes = Mode.defaultComparisonList

    @Option(help: "Rounds, each one run of each mode next to each other in time (1 to 50; at least \(PairedEstimate.minimumCount) for an interval).")
    var rounds = 7

    @Option(help: "text or json.")
    var format: StatFormat = .text

    @Flag(name: .customLong("switch-probe"), inversion: .prefixedNo, help: "Time one user-mode switch of the second mode alone (two actors yielding to each other on one worker, 0.1 s per round); --no-switch-probe leaves it out, as a sweep over work sizes does for all but one size.")
    var switchProbe = true

    @Flag(name: .customLong("inject-cold-work"), help: ArgumentHelp("Fault injection for tests: --inject-cold-work is given to the first mode's runs only, so their work runs on caches emptied before every pass; the slowdown must show as indirect.", visibility: .hidden))
    var injectColdWork = false

    @Argument(parsing: .postTerminator, help: "After --: the workload and its options, as for csgb itself, without --mode and --format (socket 1 --cpus 0 --work-size 64K).")
    var workload: [String] = []

    static let defaultDuration = "1"

    var modeList: [String] { modes.split(separator: ",").map { String($0).filter { $0 != " " } } }

    /// The parsed workload with each mode, after every check: exit 64 before any run.
    func plans() throws -> (kernel: any WorkloadCommand, user: any WorkloadCommand, k: Mode, u: Mode) {
        let list = modeList
        guard list.count == 2, let k = Mode(rawValue: list[0]), let u = Mode(rawValue: list[1]) else {
            throw ValidationError("--modes must name two modes of \(Mode.allCases.map(\.rawValue).joined(separator: ", ")), e.g. \(Mode.defaultComparisonList); got \(modes)")
        }
        let kernel = try StatCommand.parseWorkload(workload + ["--mode", k.rawValue])
        let user = try StatCommand.parseWorkload(workload + ["--mode", u.rawValue])
        let kc = kernel.options.configuration(workload: kernel.workload, n: try kernel.resolvedN())
        let uc = user.options.configuration(workload: user.workload, n: try user.resolvedN())
        if let reason = CostPlan.refusal(kernel: kc, user: uc) {
            let valid = CostPlan.validPairs(kc).map { "\($0.0.rawValue),\($0.1.rawValue)" }
            throw ValidationError(reason + (valid.isEmpty ? "; no pair of modes is comparable for this workload"
                : "; comparable here: \(valid.joined(separator: ", "))"))
        }
        return (kernel, user, k, u)
    }

    func validate() throws {
        if workload.isEmpty {
            throw ValidationError("csgb cost needs a workload after --, e.g. csgb cost -- socket 1 --cpus 0")
        }
        if !(1...50).contains(rounds) { throw ValidationError("--rounds must be from 1 to 50, got \(rounds)") }
        for option in ["--mode", "-m", "--sync", "-s", "--format", "--phases"] {
            if workload.contains(where: { $0 == option || $0.hasPrefix(option + "=") }) {
                throw ValidationError("csgb cost sets \(option) itself (--modes, --format); leave it out of the workload")
            }
        }
        _ = try plans()
    }

    /// Two actors of the second mode yielding to each other on one worker: one
    /// iteration is one user-mode switch. Nil when the second mode switches through
    /// the kernel or cannot run a yielding workload.
    func probeArguments(_ user: any WorkloadCommand, mode: Mode) -> [String]? {
        guard switchProbe, !mode.kernelSwitching,
              let yielding = WorkloadRegistry.defaults.first(where: { $0.scripts(touches: false).joined().contains(.yield) }),
              mode.runs(yielding) else { return nil }
        return [yielding.name, "2", "--mode", mode.rawValue, "--format", "json", "--duration", "0.1"]
            + (user.options.cpus.map { ["--cpus", $0.description] } ?? [])
    }

    func run() throws {
        let (_, user, k, u) = try plans()
        try CSGBRun.prepareReportingProcess()
        try StandardOutput.ensureOpen()
        var arguments = workload
        if user.options.duration == nil { arguments += ["--duration", Self.defaultDuration] }
        var request = CostRequest(workloadArguments: arguments, kernel: k, user: u, rounds: rounds,
                                  executable: StatCommand.executablePath(), switchProbe: probeArguments(user, mode: u))
        request.injectColdWorkInKernelMode = injectColdWork
        let report = try CostSession.run(request)
        try StandardOutput.write(report.rendered(format.report))
    }
}
