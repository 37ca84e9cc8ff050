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

    /// The sampler an actor uses: only passes that are iterations (the initiator's
    /// round trips, every yield) are sampled.
    func latencyProbe(forActor index: Int) -> LatencyProbe? {
        actors[index].countsIterations ? latency?.probe(actor: index) : nil
    }

    deinit { stopStorage.destroy() }

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
