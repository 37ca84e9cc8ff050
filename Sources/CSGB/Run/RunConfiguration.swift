import CSGBSystem
import Fibers

/// Which executor runs async-mode tasks.
public enum ExecutorChoice: String, CaseIterable, Sendable {
    /// Our TaskExecutor: one OS thread per worker, tasks never hop threads.
    case dedicated
    /// Swift's default global executor: shows what thread hops cost.
    case global
}

/// Everything a run needs to know, validated before anything starts.
public struct RunConfiguration: Sendable {
    public var workload: any Workload
    public var n: Int
    public var mode: Mode = .default
    public var workers: Int = 1
    public var placement = Placement(cpus: nil, pinning: .set)
    public var workSize = 0
    public var stride = 64
    /// `--access`: how `touch` walks the buffer.
    public var access: AccessPattern = .stride
    /// nil: run until SIGINT or SIGTERM.
    public var duration: Double?
    public var warmup: Double = 0.1
    /// `--stack-size`; nil: the mode's default.
    public var stackSize: Int?
    /// `--numa`: where work buffers and green stacks are placed.
    public var numa: NUMAPolicy = .off
    public var executor: ExecutorChoice = .dedicated
    /// `--io`: read(2)/write(2) or io_uring entries.
    public var io: IOChoice = .direct
    /// `--syscalls`: read(2)/write(2) or send(2)/recv(2) (sockets only).
    public var syscalls: TransferCalls = .readWrite
    /// `--ring-entries`, `--sqpoll`, `--fixed-files`, `--ring-setup`, `--ring-link`
    /// (with `--io uring`).
    public var ring = RingSettings()
    /// `--latency`: sample iteration durations into a histogram.
    public var latency = false
    /// `--phases`: time every actor's work and every hand-off between actors.
    public var phases = false
    /// `--sched` and `--spec`: set on every thread or process carrying actors.
    public var threadSettings = ActorThreadSettings()
    /// Hidden `--inject-blocking-sleep`: every iteration also blocks in the kernel,
    /// a fault for testing the verification.
    public var injectBlockingSleep = false
    /// Hidden `--inject-closed-channel`: the first pair's channel is shut down as the
    /// window opens, so its actors' transfers fail mid-run: a fault for testing that
    /// failed transfers are reported and fail the verification.
    public var injectClosedChannel = false
    /// Hidden `--inject-deaf-actor K` (`--mode process`): actor K never records its
    /// getrusage at an edge, a fault for testing that the report counts it.
    public var injectDeafActor: Int? = nil
    /// Hidden `--inject-cold-work`: every line of an actor's work buffer is evicted
    /// from the caches before each pass, so the work runs slower after every switch,
    /// as a switch's indirect cost would make it: a fault for testing that `csgb cost`
    /// puts such a slowdown in the indirect part.
    public var injectColdWork = false
    /// Hidden `--until-passes K`, for tests that assume every actor passed: the
    /// window stays open past the duration until every actor has made K passes in it
    /// (at most `Benchmark.untilPassesLimitSeconds` more), so that a loaded machine
    /// lengthens the run instead of leaving an actor at none.
    public var untilPasses = 0
    /// N came from `max`: its search passed the machine-wide limit checks (task ids,
    /// threads, mappings) for this N moments ago, so the run does not repeat them. A
    /// repeat would count tasks other programs started in between and could refuse the
    /// very N the search chose; the 256 task ids the checks keep free are the margin
    /// for those.
    public var needsCheckedByLargest = false

    public init(workload: any Workload, n: Int) {
        self.workload = workload
        self.n = n
    }
}

extension RunConfiguration {
    /// Checks that the mode can run the workload's scripts, and every option rule of
    /// the plan (`OptionRules`); nothing is created.
    public func validatePlan() throws(CSGBError) {
        try mode.check(workload, touches: workSize > 0)
        if let reason = OptionRules.planRefusal(self) { throw .usage(reason) }
        // A configuration made in code (explain, cost, tests) has no command line:
        // what it asks for that a mode may refuse is checked as if given.
        if latency, let reason = OptionRules.refusal(given: ["--latency": ""], self) { throw .usage(reason) }
    }

    /// `--io uring` and a write→read link where the script orders them: asked for,
    /// or by default, where the mode's rings can carry both ends of a pair.
    public var linksRingEntries: Bool {
        // Off under --sqpoll: chains the poller submitted failed some actors' reads
        // (2 to 8 of 16 actors in 0.3 s, green mode); unlinked entries do not.
        io == .uring && (ring.link ?? !ring.sqpoll) && mode.traits.ringLinkRefusal(self) == nil
    }

    /// Refuses, before anything starts, an option the user gave (`given`) that the
    /// mode gives no meaning, and a configuration the mode cannot honour.
    public func checkOptions(given: Set<ModeOption>) throws(CSGBError) {
        let names = Dictionary(uniqueKeysWithValues: given.map { ($0.rawValue, "") })
        if let reason = OptionRules.refusal(given: names, self) { throw .usage(reason) }
    }

    /// Whether every OS thread that carries actors is one the run started (and so
    /// pinned to `--cpus`).
    public var ownsItsThreads: Bool { mode.traits.ownsItsThreads(self) }

    /// Whether the actors run inside this process, where `--counters` can see them.
    public var actorsInThisProcess: Bool { mode.traits.actorsInThisProcess }

    /// The executor the report names (nil for modes without one).
    public var reportedExecutor: ExecutorChoice? { mode.traits.executor(self) }

    /// What `csgb stat` traces for this run: the fixed set and every syscall the
    /// run's claims will name, known before anything exists.
    public var tracedSyscalls: [String] { claims.tracedSyscalls }

    /// The claims a run of this configuration states, known before anything exists
    /// (from the workload's scripts; the run itself states the same from its actors).
    public var claims: Claims {
        mode.traits.claims(OperationCounts(groupScripts: workload.scripts(touches: workSize > 0)), self)
    }

    /// What the run takes from the machine's limits besides its workload's descriptors.
    public var needs: RunNeeds { mode.traits.needs(actors: workload.actors(n: n), self) }

    /// The mode's check of `needs` as it prepares, unless `max` just made it.
    public func checkNeeds(_ needs: RunNeeds) throws(LimitError) {
        if needsCheckedByLargest { return }
        try ResourceLimits.check(needs)
    }

    /// The workload's descriptors and the mode's own (rings).
    public var descriptorsNeeded: Int { workload.descriptors(n: n) + needs.descriptors }

    /// Every limit check of the run, with nothing created (the soft descriptor limit
    /// may be raised, as the run would); throws the refusal the run would give.
    public func preflight() throws(CSGBError) {
        do {
            if workload.transport == .tcp { try ResourceLimits.ensureEphemeralPorts(n) }
            try ResourceLimits.ensureOpenFiles(descriptorsNeeded)
            try ResourceLimits.check(needs)
            try checkWorkMemory()
        } catch {
            throw .limit(error.description)
        }
    }

    /// The actors' work buffers against the memory the run may have (LimitError).
    func checkWorkMemory() throws(LimitError) {
        guard workSize > 0 else { return }
        let page = AnonymousMapping.pageSize
        let perActor = UInt64((workSize + page - 1) / page * page)
        let actors = UInt64(workload.actors(n: n))
        try ResourceLimits.ensureWorkMemory(total: perActor * actors, perProcess: actorsInThisProcess ? perActor * actors : perActor,
                                            asked: "--work-size \(ByteSize(bytes: workSize)) for \(actors) actors")
    }

    /// The largest N up to `ceiling` whose preflight passes, and the refusal of the
    /// next N (nil when the ceiling itself fits); nil N when even one does not fit.
    public func largestN(upTo ceiling: Int) -> (n: Int?, stoppedBy: String?) {
        func fits(_ n: Int) -> Bool {
            var candidate = self
            candidate.n = n
            return (try? candidate.preflight()) != nil
        }
        guard fits(1) else { return (nil, refusal(at: 1)) }
        if fits(ceiling) { return (ceiling, nil) }
        var low = 1, high = ceiling  // fits(low), !fits(high)
        while high - low > 1 {
            let middle = low + (high - low) / 2
            if fits(middle) { low = middle } else { high = middle }
        }
        return (low, refusal(at: high))
    }

    private func refusal(at n: Int) -> String? {
        var candidate = self
        candidate.n = n
        do {
            try candidate.preflight()
            return nil
        } catch {
            return error.description
        }
    }

    /// `--io uring --sqpoll`: kernel poller threads take the ring entries.
    public var pollsSubmissions: Bool { io == .uring && ring.sqpoll }

    /// Which threads `--counters` must count: the run's own, or every thread of the
    /// process when actors run on threads of a runtime csgb does not own.
    public var counterScope: Counters.Scope {
        mode.traits.ownsItsThreads(self) ? .runThreads : .processThreads
    }
}
