import CSGBSystem
import ArgumentParser
import CSGB
import Fibers
#if canImport(Glibc)
import Glibc
#endif

extension Mode: ExpressibleByArgument {}
extension ExecutorChoice: ExpressibleByArgument {}
extension Pinning: ExpressibleByArgument {}
extension ReportFormat: ExpressibleByArgument {}
extension NUMAPolicy: ExpressibleByArgument {}
extension ByteChannel.Kind: ExpressibleByArgument {}
extension IOChoice: ExpressibleByArgument {}
extension TransferCalls: ExpressibleByArgument {}
extension AccessPattern: ExpressibleByArgument {}

/// `--counters [thread|cpu]`: per OS thread, or per CPU of `--cpus`.
enum CounterChoice: String, CaseIterable, ExpressibleByArgument {
    case thread, cpu
}

extension CPUList: ExpressibleByArgument {
    public init?(argument: String) { self.init(parsing: argument) }
    public var defaultValueDescription: String { description }
}

extension ByteSize: ExpressibleByArgument {
    public init?(argument: String) { self.init(parsing: argument) }
    public var defaultValueDescription: String { description }
}

extension SchedulingPolicy: ExpressibleByArgument {
    public init?(argument: String) { self.init(parsing: argument) }
    public var defaultValueDescription: String { description }
}
extension SpeculationControl: ExpressibleByArgument {}

/// The options every workload shares.
struct WorkloadOptions: ParsableArguments {
    @Option(name: [.short, .long], help: ArgumentHelp("How actors run: " + Mode.allCases.map { "\($0.rawValue) (\($0.summary))" }.joined(separator: ", ") + " (default: \(Mode.default.rawValue))."))
    var mode: Mode?

    @Flag(name: [.short, .long], help: ArgumentHelp("Same as --mode \(Mode.synchronous.rawValue), as in the original csgb."))
    var sync = false

    @Option(name: [.short, .long], help: ArgumentHelp(OptionRules.workers.help("OS threads that carry the actors, " + OptionRules.workers.accepts + " (default 1). Both ends of a pair share a worker.")))
    var workers: Int?

    @Option(help: "Pin every OS thread of the run to these CPUs with sched_setaffinity: 0, 0-3, 0,2.")
    var cpus: CPUList?

    @Option(help: ArgumentHelp(OptionRules.pin.help("set (every thread may use every listed CPU; the default) or each (thread i gets CPU i mod count).")))
    var pin: Pinning?

    @Option(name: .customLong("work-size"), help: ArgumentHelp("Bytes of its own buffer each actor reads and writes every iteration: " + OptionRules.workSize.accepts + "; 0 = none."))
    var workSize = ByteSize(bytes: 0)

    @Option(help: ArgumentHelp(OptionRules.stride.help("distance in bytes between the bytes touched in the work buffer (default 64).")))
    var stride: ByteSize?

    @Option(help: ArgumentHelp(OptionRules.access.help("how each iteration walks the buffer: ") + AccessPattern.allCases.map { "\($0.rawValue) (\($0.summary))" }.joined(separator: ", ") + ". Default stride. With li, --stride and --work-size must be multiples of 8.", valueName: "walk"))
    var access: AccessPattern?

    @Option(name: [.short, .long], help: ArgumentHelp("Measured seconds, " + OptionRules.duration.accepts + "; without it the run lasts until SIGINT or SIGTERM."))
    var duration: Double?

    @Option(help: ArgumentHelp("Unmeasured seconds after every actor is running and before the window opens: " + OptionRules.warmup.accepts + "."))
    var warmup = 0.1

    @Option(help: "Where work buffers and green stacks are placed: off (the kernel's default), local (the node of the CPU that first touches them), interleave (round-robin over every node).")
    var numa: NUMAPolicy = .off

    @Option(help: "Report format: text, json or csv (one header line and one row).")
    var format: ReportFormat = .text

    @Option(name: .customLong("stack-size"), help: ArgumentHelp(OptionRules.stackSize.help("stack size of each actor: " + OptionRules.stackSize.accepts + "; default \(ByteSize(bytes: FiberStack.defaultSize)); a guard page sits below each stack.")))
    var stackSize: ByteSize?

    @Option(help: ArgumentHelp(OptionRules.executor.help("dedicated (one TaskExecutor thread per worker) or global (Swift's default executor, to show thread hops).")))
    var executor: ExecutorChoice?

    @Option(help: ArgumentHelp("How reads and writes reach the kernel: direct (read(2)/write(2)) or uring (io_uring entries: one ring per actor in --mode \(Mode.spoken(Mode.allCases.filter { !$0.hasWorkers })), one per worker, batched, in --mode \(Mode.spoken(Mode.allCases.filter { $0.hasWorkers })))."))
    var io: IOChoice = .direct

    @Option(name: .customLong("ring-entries"), help: ArgumentHelp(OptionRules.ringEntries.help("per ring, " + OptionRules.ringEntries.accepts + " (default: the actors the ring serves, rounded up to a power of two, at least 4).")))
    var ringEntries: Int?

    @Flag(help: ArgumentHelp(OptionRules.sqpoll.help("a kernel thread polls each ring's submission queue (IORING_SETUP_SQPOLL); enters drop to about 0 but a CPU spins.")))
    var sqpoll = false

    @Flag(name: .customLong("fixed-files"), help: ArgumentHelp(OptionRules.fixedFiles.help("register the descriptors with each ring (IOSQE_FIXED_FILE).")))
    var fixedFiles = false

    @Option(help: ArgumentHelp("Scheduling policy of every OS thread (or process) that carries actors, in every mode: " + SchedulingPolicy.acceptedForms + "; P defaults to 1. Real-time policies need root or CAP_SYS_NICE; the coordinator then runs one priority above the actors from the gate to the stop.", valueName: "policy"))
    var sched: SchedulingPolicy?

    @Option(help: ArgumentHelp("A per-task speculation control set on every actor before the gate and read back (repeatable): ibpb (PR_SPEC_INDIRECT_BRANCH force-disabled: a barrier at every address-space switch, so only --mode " + Mode.spoken(Mode.allCases.filter(\.switchesAddressSpace)) + " feels it), ssbd (PR_SPEC_STORE_BYPASS), l1d-flush (PR_SPEC_L1D_FLUSH).", valueName: "control"))
    var spec: [SpeculationControl] = []
    @Option(name: .customLong("ring-setup"), help: ArgumentHelp(OptionRules.ringSetup.help("how every ring is set up, a comma-separated list of single-issuer (IORING_SETUP_SINGLE_ISSUER), defer-taskrun (IORING_SETUP_DEFER_TASKRUN, needs single-issuer), coop-taskrun, register-ring-fd (io_uring_register_ring_fd), submit-all, or none (default: single-issuer,defer-taskrun,register-ring-fd,submit-all; without defer-taskrun under --sqpoll)."), valueName: "LIST"))
    var ringSetup: String?

    @Flag(name: .customLong("ring-link"), inversion: .prefixedNo, help: ArgumentHelp(OptionRules.ringLink.help(also: ["--mode \(Mode.spoken(Mode.allCases.filter { $0.linksRingEntries }))"], "a write the script follows by waking the peer goes to the ring in one chain with the peer's read (IOSQE_IO_LINK), halving the enters of a lone pair (default: on, off under --sqpoll).")))
    var ringLink: Bool?

    @Option(help: "Which syscalls move the byte: read-write (read(2)/write(2)) or send-recv (send(2)/recv(2) with flags 0, which the kernel sees as sendto/recvfrom; sockets only). With --io uring: IORING_OP_READ/WRITE or IORING_OP_RECV/SEND.")
    var syscalls: TransferCalls = .readWrite

    @Flag(help: ArgumentHelp(OptionRules.latency.help("Sample iteration durations (round trips, yields) into an HDR histogram and report p50, p90, p99, p99.9 and max; sampling costs about 0.5 %.")))
    var latency = false

    @Flag(help: "Time every actor's work (--work-size) and every hand-off between actors (a write, wake or yield to the moment its peer's read, wait or yield returns): work ns/iteration, hand-off p50 to max, and the same work timed alone before the window (warm caches). Off: it costs nothing.")
    var phases = false

    @Option(name: .customLong("counters"), help: ArgumentHelp("Perf counters over the measured window: instructions, cycles, IPC, cache and dTLB misses (user and kernel), per OS thread (thread, the default when --counters has no value) or per CPU of --cpus (cpu: nothing is saved at a context switch, but whatever else runs on those CPUs counts too). Context switches and task clock come from getrusage. Hardware figures say \"not supported\" where the machine has no PMU; there perf opens nothing.", valueName: "thread|cpu"))
    var counters: CounterChoice?

    @Option(name: .customLong("perf-control"), help: ArgumentHelp("CTL,ACK: perf stat's control and ack fifos; the run enables perf at the window's opening and disables it at the close (set by csgb stat).", visibility: .hidden))
    var perfControl: String?

    @Flag(name: .customLong("largest-n"), help: "With N given as max: print the largest N this machine's limits allow for the command, and the limit that stops the next one, then exit without running.")
    var largestN = false

    @Option(name: .customLong("window-file"), help: ArgumentHelp("PATH: written with `open` as the measured window opens, so a test or a script can act inside the window without guessing the set-up time.", visibility: .hidden))
    var windowFile: String?

    @Flag(name: .customLong("inject-blocking-sleep"), help: ArgumentHelp("Fault injection for tests: every iteration also sleeps 1 µs in the kernel, so modes that switch in user mode block and their verification must fail.", visibility: .hidden))
    var injectBlockingSleep = false

    @Flag(name: .customLong("inject-closed-channel"), help: ArgumentHelp("Fault injection for tests: the first pair's channel is shut down as the window opens, so its transfers fail mid-run and the report and verification must say so.", visibility: .hidden))
    var injectClosedChannel = false

    @Option(name: .customLong("inject-deaf-actor"), help: ArgumentHelp("K: fault injection for tests of modes whose actors are processes: actor K never records its own getrusage at the window's edges, so the report must count it as missing there.", visibility: .hidden))
    var injectDeafActor: Int?

    @Flag(name: .customLong("inject-cold-work"), help: ArgumentHelp("Fault injection for tests: every line of an actor's work buffer is evicted from the caches (clflush) before each pass, so the work runs on cold caches after every switch and csgb cost must count the slowdown as indirect.", visibility: .hidden))
    var injectColdWork = false

    @Option(name: .customLong("until-passes"), help: ArgumentHelp("K: for tests that assume every actor passed: the window stays open past --duration until every actor has made K passes in it (at most 60 s more), so a loaded machine lengthens the run instead of leaving an actor at none.", visibility: .hidden))
    var untilPasses = 0

    var resolvedMode: Mode { sync ? .synchronous : (mode ?? .default) }

    mutating func validate() throws {
        if sync, let mode, mode != .synchronous {
            throw ValidationError("--sync means --mode \(Mode.synchronous.rawValue); it cannot be combined with --mode \(mode.rawValue)")
        }
        if let workers, let refusal = OptionRules.workers.outOfRange(Double(workers)) { throw ValidationError(refusal) }
        if let cpus {
            let allowed = Set((try? CPUList.allowed().cpus) ?? [])
            if let missing = cpus.cpus.first(where: { !allowed.contains($0) }) {
                throw ValidationError("--cpus \(cpus): CPU \(missing) is not available to this process (allowed: \(allowedDescription()))")
            }
        }
        if let duration, let refusal = OptionRules.duration.outOfRange(duration) { throw ValidationError(refusal) }
        if let refusal = OptionRules.warmup.outOfRange(warmup) { throw ValidationError(refusal) }
        if let stride, let refusal = OptionRules.stride.outOfRange(Double(stride.bytes)) { throw ValidationError(refusal) }
        if let refusal = OptionRules.workSize.outOfRange(Double(workSize.bytes)) { throw ValidationError(refusal) }
        if numa != .off && !NUMAPolicy.isAvailable {
            throw ValidationError("--numa \(numa.rawValue): this kernel has no NUMA memory policies; use --numa off")
        }
        if let ringSetup, case .failure(let unknown) = RingSetup.parse(ringSetup) {
            throw ValidationError("--ring-setup: unknown option '\(unknown.name)'; give none or a comma-separated list of \(RingSetup.catalogue.map(\.name).joined(separator: ", "))")
        }
        if let ringEntries, let refusal = OptionRules.ringEntries.outOfRange(Double(ringEntries)) { throw ValidationError(refusal) }
        if let ringEntries, ringEntries & (ringEntries - 1) != 0 {
            // The kernel rounds a ring up to a power of two: a report saying 3
            // entries of a ring that has 4 would be wrong.
            var rounded = 1
            while rounded < ringEntries { rounded <<= 1 }
            throw ValidationError("--ring-entries \(ringEntries): the kernel makes rings of a power of two entries and would make \(rounded); give a power of two from 1 to 32768")
        }
        if let perfControl, PerfControl.paths(perfControl) == nil {
            throw ValidationError("--perf-control must be CTL-FIFO,ACK-FIFO, got \(perfControl)")
        }
    }

    /// The options given, for `OptionRules.refusal(given:_:)`: each long name with
    /// the value its refusal quotes ("" for none). `--workers` carries its count
    /// only where N is known (`count`), to refuse workers that would sit idle.
    func given(count: Int?) -> [String: String] {
        var given: [String: String] = [:]
        if let workers { given["--workers"] = count == nil ? "" : "\(workers)" }
        if stride != nil { given["--stride"] = "" }
        if access != nil { given["--access"] = "" }
        if stackSize != nil { given["--stack-size"] = "" }
        if executor != nil { given["--executor"] = "" }
        if latency { given["--latency"] = "" }
        if ringEntries != nil { given["--ring-entries"] = "" }
        if sqpoll { given["--sqpoll"] = "" }
        if fixedFiles { given["--fixed-files"] = "" }
        if ringSetup != nil { given["--ring-setup"] = "" }
        if let ringLink { given[ringLink ? "--ring-link" : "--no-ring-link"] = "" }
        if sched != nil { given["--sched"] = "" }
        if !spec.isEmpty { given["--spec"] = "" }
        if let pin { given["--pin"] = pin.rawValue }
        if let counters { given["--counters"] = counters.rawValue }
        return given
    }

    /// An option that would be accepted and then do nothing is bad input: the user
    /// believes it shaped the run. Each is refused with its rule's reason.
    func rejectIgnoredOptions(workload: any Workload, count: Int?) throws {
        let configuration = configuration(workload: workload, n: count ?? 1)
        if let refusal = OptionRules.refusal(given: given(count: count), configuration) { throw ValidationError(refusal) }
    }

    /// What watches the window's edges: perf's control fifo and the counters.
    /// Counters open first (the slow part), perf is enabled last, so both start as
    /// close to the window's opening as they can; closing runs in reverse.
    func windowObservers(scope: Counters.Scope, sched: SchedulingPolicy? = nil)
        throws -> (observers: [WindowObserver], counters: PerfCounters?, perf: PerfControl?) {
        var observers: [WindowObserver] = []
        var perfCounters: PerfCounters?
        if let counters {
            let observer = counters == .cpu
                ? PerfCounters(scope: .listedCPUs, cpus: cpus?.cpus ?? [])
                : PerfCounters(scope: scope)
            observers.append(observer)
            perfCounters = observer
        }
        var perf: PerfControl?
        if let perfControl, let paths = PerfControl.paths(perfControl) {
            // perf runs at the coordinator's window policy, unless csgb was started
            // with a lowered priority (as the coordinator then stays put).
            let lowered = ThreadPriority.current() > 0 && sched?.isRealTime != true
            let control = try PerfControl(controlPath: paths.control, ackPath: paths.ack, cpus: cpus,
                                          policy: lowered ? nil : CoordinatorSchedule.windowPolicy(above: sched))
            observers.append(control)
            perf = control
        }
        if let windowFile { observers.append(WindowAnnouncement(path: windowFile)) }
        return (observers, perfCounters, perf)
    }

    private func allowedDescription() -> String { (try? CPUList.allowed().description) ?? "unknown" }

    func configuration(workload: any Workload, n: Int) -> RunConfiguration {
        var configuration = RunConfiguration(workload: workload, n: n)
        configuration.mode = resolvedMode
        configuration.workers = workers ?? 1
        configuration.placement = Placement(cpus: cpus, pinning: pin ?? .set)
        configuration.workSize = workSize.bytes
        configuration.stride = stride?.bytes ?? 64
        configuration.access = access ?? .stride
        configuration.injectColdWork = injectColdWork
        configuration.duration = duration
        configuration.warmup = warmup
        configuration.stackSize = stackSize?.bytes
        configuration.numa = numa
        configuration.executor = executor ?? .dedicated
        configuration.latency = latency
        configuration.phases = phases
        configuration.threadSettings = ActorThreadSettings(
            sched: sched, speculation: SpeculationControl.allCases.filter { spec.contains($0) })
        configuration.io = io
        configuration.ring.entries = ringEntries
        configuration.ring.sqpoll = sqpoll
        configuration.ring.fixedFiles = fixedFiles
        if let ringSetup, case .success(let setup) = RingSetup.parse(ringSetup) { configuration.ring.setup = setup }
        configuration.ring.link = ringLink
        configuration.syscalls = syscalls
        configuration.injectBlockingSleep = injectBlockingSleep
        configuration.injectClosedChannel = injectClosedChannel
        configuration.injectDeafActor = injectDeafActor
        configuration.untilPasses = untilPasses
        return configuration
    }
}

/// N as the command line gives it: a number, or `max`, the largest N this
/// machine's limits allow for the run as configured.
enum WorkloadCount: ExpressibleByArgument {
    case exactly(Int)
    case largest

    /// The N csgb accepts at most, whatever the limits.
    static let ceiling = OptionRules.countCeiling

    init?(argument: String) {
        if argument == "max" { self = .largest } else if let n = Int(argument) { self = .exactly(n) } else { return nil }
    }

    var defaultValueDescription: String { "a count, or max" }
}

/// The parts every workload subcommand shares: N, the options, and the run.
protocol WorkloadCommand: ParsableCommand {
    var count: WorkloadCount { get }
    var options: WorkloadOptions { get }
    var workload: any Workload { get }
}

extension WorkloadCommand {
    func validateCount() throws {
        if case .exactly(let n) = count, OptionRules.count.outOfRange(Double(n)) != nil {
            throw ValidationError("N \(n): out of range; N takes \(OptionRules.count.accepts)")
        }
        // An option the rest of the command gives no meaning is the first thing wrong with it.
        if case .exactly(let n) = count {
            try options.rejectIgnoredOptions(workload: workload, count: n)
            if options.largestN { throw ValidationError("--largest-n finds N itself: give N as max") }
        } else {
            try options.rejectIgnoredOptions(workload: workload, count: nil)
        }
    }

    /// N itself, or for `max` the largest N whose limit checks pass.
    func resolvedN() throws -> Int {
        switch count {
        case .exactly(let n): return n
        case .largest: return try largest().n
        }
    }

    /// The largest N whose limit checks pass and the refusal of the next N (nil at
    /// csgb's own ceiling); none fitting is the refusal of N = 1 (exit 71).
    func largest() throws -> (n: Int, next: String?) {
        let found = options.configuration(workload: workload, n: 1).largestN(upTo: WorkloadCount.ceiling)
        guard let n = found.n else { throw CSGBError.limit(found.stoppedBy ?? "no N fits this machine's limits") }
        return (n, found.stoppedBy)
    }

    /// A fault for the test of `max`: `CSGB_INJECT_TASKS_AFTER_MAX=K` starts K idle
    /// threads once N is chosen, as other programs' tasks may start on a busy machine.
    static func injectTasksAfterLargest() {
        guard let text = SystemIdentity.environmentVariable("CSGB_INJECT_TASKS_AFTER_MAX"), let count = Int(text) else { return }
        for _ in 0..<max(count, 0) { _ = try? OSThread(name: "csgb-injected") { while true { pause() } } }
    }

    func run() throws {
        if options.largestN {
            let (n, next) = try largest()
            try StandardOutput.write("\(n)\n" + (next.map { "N = \(n + 1): \($0)\n" } ?? "N = \(n) is csgb's own ceiling\n"))
            return
        }
        var configuration = options.configuration(workload: workload, n: try resolvedN())
        if case .largest = count {
            configuration.needsCheckedByLargest = true
            Self.injectTasksAfterLargest()
        }
        try configuration.validatePlan()
        // Under csgb stat or explain, perf is this run's parent: a run that outlived
        // it (perf killed with csgb stat) would go on, perhaps at a real-time priority.
        if options.perfControl != nil { ChildProcess.dieWithParent() }
        try CSGBRun.prepareProcess()
        try StandardOutput.ensureOpen()
        // Without a duration nothing is printed until the stop: say so once, to a
        // person at a terminal (not into a log or a pipe).
        if options.duration == nil && isatty(2) == 1 {
            writeStandardError("csgb: no --duration: running until SIGINT (Ctrl-C) or SIGTERM\n")
        }
        let (observers, counters, perf) = try options.windowObservers(scope: configuration.counterScope,
                                                                      sched: configuration.threadSettings.sched)
        var broken: [String] = []
        try Benchmark.run(configuration, observers: observers) { report throws(CSGBError) in
            var report = report
            report.counters = try counters?.counters()
            report.perfSchedule = perf?.schedule
            // Out before the teardown (write(2), unbuffered): under a pipe, the
            // reader sees the report now.
            try StandardOutput.write(report.rendered(options.format))
            broken = report.brokenClaims
            // A user who pressed ^C wants the prompt back: the kernel reclaims 10,000
            // stacks and 20,000 descriptors at exit faster than unmapping and closing
            // them one by one (100 ms and more). Timed runs tear down in full, which
            // is what the tests exercise.
            if report.stoppedBy != "duration" {
                if let failure = Self.brokenRun(broken) {
                    writeStandardError("csgb: \(failure.description)\n")
                    _exit(failure.exitCode)
                }
                _exit(0)
            }
        }
        if let failure = Self.brokenRun(broken) { throw failure }
    }

    /// A run that did not do what it claims: its report stands, and the exit code
    /// (3, as `csgb stat` gives a broken expectation) keeps a script or a sweep from
    /// taking it for a measurement.
    static func brokenRun(_ broken: [String]) -> CSGBError? {
        broken.isEmpty ? nil : .verificationFailed("the run is not what it claims: " + broken.joined(separator: "; "))
    }
}

/// A workload's subcommand, made from its registry entry: N, the shared options, and
/// nothing of its own.
struct WorkloadSubcommand<W: Workload>: WorkloadCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: W.command.name, abstract: W.command.abstract)
    }

    @Argument(help: ArgumentHelp(W.command.countHelp + " `max`: the largest N this machine's limits allow."))
    var count: WorkloadCount

    @OptionGroup var options: WorkloadOptions

    var workload: any Workload { W(WorkloadParameters()) }

    func validate() throws { try validateCount() }
}

/// The subcommand of a workload that moves bytes: the same, plus `--transport`.
struct ChannelWorkloadSubcommand<W: Workload>: WorkloadCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: W.command.name, abstract: W.command.abstract)
    }

    @Argument(help: ArgumentHelp(W.command.countHelp + " `max`: the largest N this machine's limits allow."))
    var count: WorkloadCount

    @Option(help: "What carries the byte: unix (a socketpair), pipe (two pipes per pair), tcp (a loopback connection with TCP_NODELAY).")
    var transport: ByteChannel.Kind = .unix

    @OptionGroup var options: WorkloadOptions

    var workload: any Workload { W(WorkloadParameters(transport: transport)) }

    func validate() throws { try validateCount() }
}

extension Workload {
    /// The subcommand the registry entry becomes.
    static var subcommand: any ParsableCommand.Type {
        command.movesBytes ? ChannelWorkloadSubcommand<Self>.self : WorkloadSubcommand<Self>.self
    }
}

struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "The environment: CPU model, cores, NUMA nodes, kernel, perf and io_uring availability, perf_event_paranoid.")

    @Option(help: "text or json (csv is not accepted: the environment is no single row).")
    var format: ReportFormat = .text

    @Flag(help: "Also say what on this machine makes figures noisy or incomparable, and what to do about each (warnings only; exit 0).")
    var check = false

    @Option(help: "With --check: the CPUs a run would use, to count other runnable tasks on them.")
    var cpus: CPUList?

    func validate() throws {
        if format == .csv { throw ValidationError("--format for info must be text or json") }
        if cpus != nil && !check { throw ValidationError("--cpus applies to csgb info --check") }
        if let cpus {
            // A CPU the machine lacks would count nothing and report a quiet machine.
            let allowed = Set((try? CPUList.allowed().cpus) ?? [])
            if let missing = cpus.cpus.first(where: { !allowed.contains($0) }) {
                throw ValidationError("--cpus \(cpus): CPU \(missing) is not available to this process (allowed: \((try? CPUList.allowed().description) ?? "unknown"))")
            }
        }
    }

    func run() throws {
        let environment = Environment.current()
        let warnings = check ? environment.kernelEnvironment.warnings(
            onlineCPUs: environment.onlineCPUs, cpus: cpus,
            busyOnCPUs: cpus.map { KernelEnvironment.runnableTasks(on: $0, excluding: SystemIdentity.processID) }) : []
        guard format == .json else {
            var text = environment.text
            if check {
                text += "\n" + (warnings.isEmpty ? "check: nothing found that makes figures noisy here"
                    : warnings.map { TextTable.wrapped("warning: \($0)", hanging: "warning: ".count) }.joined(separator: "\n"))
            }
            try StandardOutput.write(text)
            return
        }
        // The environment, plus what this build can run, for experiment drivers.
        var pairs = (environment.json.objectPairs ?? []) + [("capabilities", Capabilities.json)]
        if check { pairs.append(("warnings", .array(warnings.map { .string($0) }))) }
        try StandardOutput.write(JSON.object(pairs).rendered())
    }
}
