import CSGBSystem
import Atomics
import Synchronization

/// The state a run shares between the coordinator and the OS threads that carry
/// its actors: the plan, the per-actor slots, the start gate and the stop flag.
public final class RunContext: @unchecked Sendable {
    public let configuration: RunConfiguration
    public let actors: [ActorPlan]
    public let slots: ActorSlots
    public let buffers: TouchBuffers
    public let resources: WorkloadResources
    public let gate = StartGate()
    /// Every io_uring of the run (`--io uring`), for the counters at the edges.
    let rings = RingRegistry()
    /// Present with `--latency`.
    public let latency: LatencySampler?
    /// `--phases`: where actors tally their work and hand-offs. Process mode points
    /// it into its shared region as it prepares; the others get their own memory.
    var phases: PhaseBoard?
    private var phaseMemory: AnonymousMapping?
    /// What one read of the phases' clock cost, measured as the run was set up.
    private(set) var phaseClockRead: Double = 0
    // UnsafeAtomic rather than ManagedAtomic: its load inlines into the actors' hot
    // loops (ManagedAtomic's storage getter showed up as 5 % of a green yield).
    private let stopStorage = UnsafeAtomic<Bool>.create(false)
    private let threads = Mutex<[Int32]>([])
    private let failures = Mutex<[String]>([])
    private let finished = ManagedAtomic<Int>(0)

    init(configuration: RunConfiguration, actors: [ActorPlan], buffers: TouchBuffers, resources: WorkloadResources) {
        self.configuration = configuration
        self.actors = actors
        self.slots = ActorSlots(count: actors.count)
        self.buffers = buffers
        self.resources = resources
        self.latency = configuration.latency ? LatencySampler(actors: actors.count) : nil
    }

    /// How many tallies and inboxes `--phases` needs: a tally per carrier (each
    /// worker, or each actor's own thread or process), an inbox per actor, and one
    /// per worker or CPU for the hand-offs of yields.
    static func phaseShape(_ configuration: RunConfiguration, actors: Int) -> (tallies: Int, slots: Int) {
        let workers = configuration.mode.traits.workers(configuration)
        return (workers ?? actors, actors + max(workers ?? 0, SystemIdentity.configuredCPUs))
    }

    /// Sets up `--phases` in memory of this process (actors that live here).
    func preparePhases() throws(SystemError) {
        guard configuration.phases else { return }
        phaseClockRead = MonotonicClock.readCost()
        guard configuration.actorsInThisProcess else { return }
        let shape = Self.phaseShape(configuration, actors: actors.count)
        // MAP_NORESERVE: only the buckets a carrier reaches are ever touched.
        let memory = try AnonymousMapping(length: PhaseBoard.length(tallies: shape.tallies, slots: shape.slots), stack: true)
        phaseMemory = memory
        phases = PhaseBoard(base: memory.base, tallies: shape.tallies, slots: shape.slots)
    }

    /// The probe of an actor's interpreter; `worker`: the worker carrying it, whose
    /// tally and yields it shares. Nil without `--phases`.
    func phaseProbe(actor index: Int, worker: Int?) -> TimedPhases? {
        guard let phases else { return nil }
        return TimedPhases(script: actors[index].script, board: phases, actor: index, peer: actors[index].peer,
                           tally: worker ?? index, actors: actors.count, worker: worker)
    }

    /// The sampler an actor uses: only passes that are iterations (the initiator's
    /// round trips, every yield) are sampled.
    func latencyProbe(forActor index: Int) -> LatencyProbe? {
        actors[index].countsIterations ? latency?.probe(actor: index) : nil
    }

    deinit {
        stopStorage.destroy()
        phaseMemory?.unmap()
    }

    /// Checked by every actor once per iteration: a relaxed load.
    @inline(__always)
    public var shouldStop: Bool { stopStorage.load(ordering: .relaxed) }

    public func requestStop() { stopStorage.store(true, ordering: .sequentiallyConsistent) }

    /// Called first on every OS thread of the run that carries actors: pins it per
    /// `--cpus`/`--pin` and records its kernel id for the per-thread figures.
    public func threadStarted(index: Int) throws(SystemError) {
        try configuration.placement.pinCurrentThread(index: index)
        if !configuration.threadSettings.isEmpty {
            readbacks.record(try configuration.threadSettings.apply())
        }
        let tid = OSThread.currentID
        threads.withLock { $0.append(tid) }
    }

    /// What the actor threads read back after `--sched` and `--spec`.
    let readbacks = ReadbackRecord()

    /// Records the kernel id of an actor carrier the run did not start in this
    /// process (an actor process's pid).
    func recordThreadID(_ tid: Int32) {
        threads.withLock { $0.append(tid) }
    }

    /// `threadStarted`, with a failure recorded rather than thrown: a thread's body
    /// cannot throw, and the coordinator aborts the run before the window opens.
    public func enterThread(index: Int, label: String) {
        do {
            try threadStarted(index: index)
        } catch {
            recordFailure("\(label): \(error)")
        }
    }

    /// A thread that could not set itself up says so here; the coordinator aborts
    /// the run before the window opens.
    public func recordFailure(_ message: String) {
        failures.withLock { $0.append(message) }
    }

    public var failureMessages: [String] { failures.withLock { $0 } }

    /// Called last on every OS thread of the run.
    public func threadFinished() { finished.wrappingIncrement(ordering: .releasing) }

    public var finishedThreads: Int { finished.load(ordering: .acquiring) }

    /// Kernel ids of the OS threads that carried actors.
    public var threadIDs: [Int32] { threads.withLock { $0 } }
}
