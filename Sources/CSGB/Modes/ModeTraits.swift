import CSGBSystem


/// What a mode declares before anything runs: which operations it can interpret,
/// whether its descriptors block, and what a run of it must show (its claims). The
/// run checks a plan against these; workloads never name a mode.
protocol ModeTraits {
    /// Who switches, in a few words, for `--help`.
    static var summary: String { get }
    /// The colour of the mode's series in plots, so that every figure shows a mode alike.
    static var colour: String { get }
    /// What one actor is ("kernel thread", "green thread"), for reports and `csgb info`.
    static var actorKind: String { get }
    /// Whether the kernel scheduler switches between the actors (each blocks in a
    /// syscall until its peer's byte arrives), or they switch in user mode on a worker.
    static var kernelSwitching: Bool { get }
    /// Why the mode cannot interpret `operation`, or nil when it can.
    static func refusal(_ operation: Operation) -> String?
    /// Why `option` means nothing (or something impossible) for this mode in
    /// `configuration`, or nil when the mode gives it its meaning.
    static func refusal(_ option: ModeOption, _ configuration: RunConfiguration) -> String?
    /// The executor the report names, nil when the mode has no choice of executor.
    static func executor(_ configuration: RunConfiguration) -> ExecutorChoice?
    /// What a run of `actors` actors takes from the machine's limits, checked before
    /// anything starts (and by `csgb <workload> max` to find the largest N).
    static func needs(actors: Int, _ configuration: RunConfiguration) -> RunNeeds
    /// Whether reads and writes may block the OS thread (thread mode), or must not
    /// (green threads and tasks share their worker: descriptors are non-blocking).
    static func blocksInKernel(_ configuration: RunConfiguration) -> Bool
    /// The claims of a run of this mode that performs `operations` per iteration.
    static func claims(_ operations: OperationCounts, _ configuration: RunConfiguration) -> Claims
    /// Whether every OS thread that runs actors is one the run started (and can list
    /// and count), or the actors also run on threads of a runtime it does not own.
    static func ownsItsThreads(_ configuration: RunConfiguration) -> Bool
    /// The workers (OS threads carrying many actors) of this mode, nil when it has none.
    static func workers(_ configuration: RunConfiguration) -> Int?
    /// What carries the actors, as the report counts them ("OS thread", "process").
    static var carrier: String { get }
    /// Whether the kernel changes address space when it switches between actors
    /// (where an IBPB, `--spec ibpb`, is issued).
    static var switchesAddressSpace: Bool { get }
    /// Whether the actors run in csgb's own process (its getrusage and its threads'
    /// counters then cover them).
    static var actorsInThisProcess: Bool { get }
    /// Why this mode's rings cannot link a write to the peer's read (both must be on
    /// one ring), or nil when they can.
    static func ringLinkRefusal(_ configuration: RunConfiguration) -> String?
    /// Why `--sqpoll` cannot be given to `actors` actors: more SQ poller threads,
    /// each spinning a CPU, than the run has CPUs. Nil when the run's rings share
    /// one poller.
    static func pollerRefusal(actors: Int, _ configuration: RunConfiguration) -> String?
}

extension ModeTraits {
    /// `--stack-size` in a mode whose actors have no stacks of csgb's own.
    static func hasNoStacks(_ configuration: RunConfiguration) -> String {
        "sets green thread stacks; --mode \(configuration.mode.rawValue) has none"
    }
    /// `--executor` in a mode that runs no Swift tasks.
    static func runsNoTasks(_ configuration: RunConfiguration) -> String {
        "chooses the executor of Swift tasks; --mode \(configuration.mode.rawValue) runs none"
    }

    static func ownsItsThreads(_ configuration: RunConfiguration) -> Bool { true }
    static func executor(_ configuration: RunConfiguration) -> ExecutorChoice? { nil }
    static var carrier: String { "OS thread" }
    static var switchesAddressSpace: Bool { false }
    static var actorsInThisProcess: Bool { true }
    /// Green threads and tasks: both ends of a pair share their worker's ring.
    static func ringLinkRefusal(_ configuration: RunConfiguration) -> String? { nil }
    /// The rings of one process share the first ring's poller.
    static func pollerRefusal(actors: Int, _ configuration: RunConfiguration) -> String? { nil }
}

/// The options whose meaning belongs to a mode: each mode says which it gives a
/// meaning, and the run refuses the others (an option accepted and ignored would
/// make the user believe it shaped the run). Each has its rule in `OptionRules`,
/// which asks the mode.
public enum ModeOption: String, CaseIterable, Sendable {
    case workers = "--workers"
    case stackSize = "--stack-size"
    case executor = "--executor"
    case latency = "--latency"
}

/// A mode whose actors share a worker OS thread and switch in user mode (green
/// threads, tasks): what every such mode declares alike.
protocol SharedWorkerTraits: ModeTraits {}

extension SharedWorkerTraits {
    static var kernelSwitching: Bool { false }

    /// A call that blocks the worker would stop every actor on it.
    static func refusal(_ operation: Operation) -> String? {
        switch operation {
        case .futexPost, .futexAwait: return "a futex wait would block the worker thread"
        default: return nil
        }
    }

    /// Descriptors are non-blocking: a read comes only after the peer's write.
    static func blocksInKernel(_ configuration: RunConfiguration) -> Bool { false }

    static func claims(_ operations: OperationCounts, _ configuration: RunConfiguration) -> Claims {
        var claims = Claims()
        claims.userModeSwitching(operations, configuration)
        return claims
    }
}

/// The syscalls whose absence shows that no reactor and no kernel wait took part.
let reactorSyscalls = ["epoll_wait", "epoll_pwait"]

extension Claims {
    /// What the reads and writes cost in syscalls. Direct: one read(2) or write(2)
    /// each (recvfrom and sendto with `--syscalls send-recv`; the other pair is
    /// absent). io_uring: none of those; either one io_uring_enter per transfer (an
    /// actor that submits and waits alone, `enterPerTransfer`), or, on a worker's
    /// ring, one enter per transfer at N = 1 (each waits alone) less one per
    /// write linked to the peer's read, and batches whose enters at N ≥ 100 stay
    /// below 0.1 per iteration; with --sqpoll the poller submits, so enters only
    /// bound from above.
    mutating func transfers(_ operations: OperationCounts, _ configuration: RunConfiguration, enterPerTransfer: Bool) {
        let transfers = operations[.read] + operations[.write]
        guard transfers > 0 else { return }
        let used = configuration.syscalls.syscallNames
        let other = (configuration.syscalls == .readWrite ? TransferCalls.sendRecv : .readWrite).syscallNames
        let verbs = configuration.syscalls == .readWrite ? ("reads", "writes") : ("recvs", "sends")
        switch configuration.io {
        case .direct:
            if operations[.read] > 0 { exactSyscalls[used.read] = operations[.read] }
            if operations[.write] > 0 { exactSyscalls[used.write] = operations[.write] }
            absentSyscalls += [other.read, other.write]
            reasons.append("\(Fmt.trimmed(operations[.read])) \(verbs.0) and \(Fmt.trimmed(operations[.write])) \(verbs.1) per iteration (\(used.read), \(used.write))")
        case .uring:
            absentSyscalls += ["read", "write", "recvfrom", "sendto"]
            let linked = configuration.linksRingEntries ? operations.linkableWrites : 0
            if configuration.ring.sqpoll {
                boundedSyscalls["io_uring_enter"] = transfers + Claims.edgeTolerance
                reasons.append("\(Fmt.trimmed(transfers)) ring entries per iteration, submitted by the SQ poller")
            } else if enterPerTransfer {
                exactSyscalls["io_uring_enter"] = transfers
                reasons.append("\(Fmt.trimmed(transfers)) ring entries per iteration, one io_uring_enter each")
            } else if configuration.n == 1 {
                exactSyscalls["io_uring_enter"] = transfers - linked
                reasons.append("\(Fmt.trimmed(transfers)) ring entries per iteration, "
                    + (linked > 0 ? "\(Fmt.trimmed(linked)) write→read chains: \(Fmt.trimmed(transfers - linked)) io_uring_enter"
                        : "each waited for alone: \(Fmt.trimmed(transfers)) io_uring_enter"))
            } else if configuration.n >= 100 {
                boundedSyscalls["io_uring_enter"] = 0.1
                reasons.append("\(Fmt.trimmed(transfers)) ring entries per iteration, batched: io_uring_enter below 0.1")
            } else {
                reasons.append("\(Fmt.trimmed(transfers)) ring entries per iteration, batched")
            }
        }
    }

    /// Green threads and tasks on our own workers: every switch is in user mode.
    mutating func userModeSwitching(_ operations: OperationCounts, _ configuration: RunConfiguration) {
        transfers(operations, configuration, enterPerTransfer: false)
        absentSyscalls += reactorSyscalls + ["futex"]
        noEAGAIN = true
        if configuration.pollsSubmissions {
            // The SQ poller is a kernel thread of this process: where it shares a CPU
            // with a worker the kernel switches between them, which is reported.
            reasons.append("no epoll, no futex; reads find their byte; switches to the SQ poller reported")
        } else {
            switches = Claims.Switches.none
            reasons.append("no epoll, no futex; user-mode switches only; reads find their byte")
        }
    }
}
