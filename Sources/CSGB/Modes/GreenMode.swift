import CSGBSystem
import Fibers

/// One green thread per actor on our own stacks, one GreenScheduler per worker
/// OS thread. `wakePeer` unparks the peer and `waitPeer` parks: the peer's one
/// permit means a wake that comes before the wait is never lost. Sockets are
/// non-blocking, and a read happens only after the peer wrote, so the kernel
/// never has a reason to switch.
final class GreenMode: ModeRunner {
    private let configuration: RunConfiguration
    private var threads: [OSThread] = []
    /// With `--io uring`: one ring per worker, made before any thread starts.
    private var rings: [WorkerRing] = []

    init(_ configuration: RunConfiguration) { self.configuration = configuration }

    var threadCount: Int { configuration.workers }
    var startedThreads: Int { threads.count }

    func prepare(_ context: RunContext) throws {
        #if !arch(x86_64)
        throw CSGBError.usage("--mode green: the context switch exists for x86_64 only")
        #endif
        try configuration.checkNeeds(Self.needs(actors: context.actors.count, configuration))
        if configuration.io == .uring { rings = try WorkerRing.forWorkers(context) }
    }

    func start(_ context: RunContext) throws {
        let workers = configuration.workers
        let plan = WorkerAssignment(actors: context.actors, workers: workers)
        for worker in 0..<workers {
            let actors = plan.actors(ofWorker: worker)
            let ring = rings.isEmpty ? nil : rings[worker]
            let thread = try OSThread(name: "csgb-green-\(worker)") { [configuration] in
                let scheduler = GreenMode.runWorker(worker, actors: actors, configuration: configuration, context: context,
                                                    ring: ring)
                // On this thread: a single-issuer ring takes no enter from another.
                ring?.finish()
                // Finished first: the report need not wait for thousands of munmaps.
                context.threadFinished()
                scheduler?.close()
            }
            threads.append(thread)
        }
    }

    func interrupt(_ context: RunContext) {
        // Green threads never block in the kernel; each sees the stop flag within one
        // iteration and unparks its peer on the way out.
    }

    func join() {
        for thread in threads { thread.join() }
        threads.removeAll()
        rings.removeAll()
    }

    /// The body of one worker OS thread: spawn its actors, wait at the gate, run the
    /// scheduler until every green thread has seen the stop. Returns the scheduler,
    /// whose stacks the caller unmaps.
    static func runWorker(_ worker: Int, actors: [Int], configuration: RunConfiguration, context: RunContext,
                          ring: WorkerRing?) -> GreenScheduler? {
        let scheduler: GreenScheduler
        do {
            try context.threadStarted(index: worker)
            try ring?.adopt()
            try FiberStackGuard.installOnCurrentThread()
            scheduler = try GreenScheduler(stackSize: configuration.stackSize ?? FiberStack.defaultSize, numa: configuration.numa)
        } catch {
            context.recordFailure("green worker \(worker): \(error)")
            context.gate.arriveAndWait()
            return nil
        }
        // Actor index -> fiber, filled before any fiber runs.
        let fibers = FiberTable(actors: context.actors.count)
        do {
            for actor in actors {
                let id = try scheduler.spawn(name: context.actors[actor].name) {
                    GreenMode.run(actor: actor, worker: worker, scheduler: scheduler, fibers: fibers, context: context, ring: ring)
                }
                fibers.set(actor, id)
            }
        } catch {
            context.recordFailure("green worker \(worker): \(error)")
            context.gate.arriveAndWait()
            return scheduler
        }
        context.gate.arriveAndWait()
        while scheduler.run() > 0 {
            // Nothing runnable: hand every prepared entry to the kernel in one enter
            // and wake the owners of what completed.
            if let ring, ring.inFlight > 0, !context.shouldStop {
                if !ring.complete({ scheduler.unpark(fibers[$0]) }) {
                    context.recordFailure("green worker \(worker): io_uring_enter failed")
                    context.requestStop()
                }
                continue
            }
            // Every fiber parked and none runnable: only a stop can end that.
            while !context.shouldStop {
                MonotonicClock.sleep(seconds: 0.001)
            }
            scheduler.unparkAll()
        }
        return scheduler
    }

    /// One actor: the shared interpreter, parked on this worker's scheduler whenever
    /// it waits for its peer or its ring entry.
    static func run(actor index: Int, worker: Int, scheduler: GreenScheduler, fibers: FiberTable, context: RunContext,
                    ring: WorkerRing?) {
        let waker = FiberWaker(scheduler: scheduler, peer: context.actors[index].peer.map { fibers[$0] })
        if let probe = context.phaseProbe(actor: index, worker: worker) {
            drive(NonBlockingInterpreter(actor: index, context: context, ring: ring, waker: waker, phases: probe), scheduler)
        } else {
            drive(NonBlockingInterpreter(actor: index, context: context, ring: ring, waker: waker, phases: NoPhases()), scheduler)
        }
    }

    @inline(__always)
    private static func drive<Phases: PhaseProbe>(_ start: NonBlockingInterpreter<FiberWaker, Phases>, _ scheduler: GreenScheduler) {
        var interpreter = start
        // Every wait happens in place (FiberWaker), so one advance is the whole run.
        let end = interpreter.advance()
        precondition(end == .finished, "a green thread returned from its script to wait: \(end)")
    }
}

/// A green thread wakes its peer by making it runnable on their shared scheduler, and
/// waits by parking (for its peer or its ring entry) or yielding (for its turn) in
/// place.
struct FiberWaker: PeerWaking {
    // The worker's scheduler outlives every fiber on it. Called through an unmanaged
    // reference: loaded from the interpreter's frame, a plain (even unowned(unsafe))
    // one gets a retain/release pair around every park and yield.
    private let scheduler: Unmanaged<GreenScheduler>
    private let peer: FiberID?

    init(scheduler: GreenScheduler, peer: FiberID?) {
        self.scheduler = Unmanaged.passUnretained(scheduler)
        self.peer = peer
    }

    @inline(__always)
    func wakePeer() {
        if let peer { scheduler._withUnsafeGuaranteedRef { $0.unpark(peer) } }
    }

    static var waitsInPlace: Bool { true }

    @inline(__always)
    func takeTurns(while step: () -> Bool) {
        var handle = scheduler._withUnsafeGuaranteedRef { $0.yieldHandle }
        repeat {
            handle = GreenScheduler.yield(handle)
        } while step()
    }

    @inline(__always)
    func waitInPlace(_ suspension: NonBlockingSuspension) {
        scheduler._withUnsafeGuaranteedRef { scheduler in
            switch suspension {
            case .peer, .ring: scheduler.park()
            case .turn: scheduler.yield()
            case .finished: preconditionFailure("nothing to wait for once finished")
            }
        }
    }
}

extension GreenMode: SharedWorkerTraits {
    static let summary = "green threads on our own stacks"
    static let colour = "#2ca02c"
    static let actorKind = "green thread"

    /// The workers; a stack and its guard page per actor (two mappings); a ring per
    /// worker with `--io uring`.
    static func needs(actors: Int, _ configuration: RunConfiguration) -> RunNeeds {
        RunNeeds(threads: configuration.workers, mappings: 2 * actors,
                 descriptors: configuration.io == .uring ? configuration.workers : 0)
    }

    static func refusal(_ option: ModeOption, _ configuration: RunConfiguration) -> String? {
        switch option {
        case .workers: return nil
        case .stackSize:
            do {
                try FiberStack.validate(size: configuration.stackSize ?? FiberStack.defaultSize)
                return nil
            } catch {
                return "must be a multiple of \(FiberStack.pageSize) from \(FiberStack.minimumSize / 1024)K to \(FiberStack.maximumSize >> 30)G: \(error)"
            }
        case .executor: return runsNoTasks(configuration)
        case .latency: return nil
        }
    }

    static func workers(_ configuration: RunConfiguration) -> Int? { configuration.workers }
}

/// Which worker carries which actors: whole groups (pairs) round-robin, so both
/// ends of a pair share a worker and pairs spread evenly.
struct WorkerAssignment {
    private let byWorker: [[Int]]

    init(actors: [ActorPlan], workers: Int) {
        var byWorker = Array(repeating: [Int](), count: workers)
        for (index, actor) in actors.enumerated() { byWorker[actor.group % workers].append(index) }
        self.byWorker = byWorker
    }

    func actors(ofWorker worker: Int) -> [Int] { byWorker[worker] }
}

/// Actor index to fiber, written before the scheduler runs and read once by each
/// fiber when it starts.
final class FiberTable: @unchecked Sendable {
    private var ids: [FiberID?]
    init(actors: Int) { ids = Array(repeating: nil, count: actors) }
    func set(_ actor: Int, _ id: FiberID) { ids[actor] = id }
    subscript(actor: Int) -> FiberID { ids[actor]! }
}
