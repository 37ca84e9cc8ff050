import CSGBSystem
import AsyncWorkers
import Atomics

/// One Swift task per actor. With the dedicated executor each worker is one OS
/// thread running a WorkerExecutor, and every task of a pair is started on it and kept
/// there (without an executor preference, see WorkerExecutor.keepsUnpreferredTasks),
/// so no job ever hops threads; `wakePeer` notifies the peer's AsyncNotify and `waitPeer`
/// awaits the actor's own. With `--executor global` the same tasks run on Swift's
/// default executor, to show what thread hops and cross-thread wakes cost.
final class AsyncMode: ModeRunner {
    private let configuration: RunConfiguration
    private var executors: [WorkerExecutor] = []
    private var notifies: [AsyncNotify] = []
    /// With `--io uring`: one ring per worker, made before any thread starts.
    private var rings: [WorkerRing] = []
    private let tasksStarted = ManagedAtomic<Int>(0)

    init(_ configuration: RunConfiguration) { self.configuration = configuration }

    private var dedicated: Bool { configuration.executor == .dedicated }

    /// Dedicated: the worker threads arrive at the gate. Global: there are no
    /// threads of ours, so each task arrives once, without blocking a pool thread.
    var threadCount: Int { dedicated ? configuration.workers : notifies.count }

    /// What `threadFinished` is counted against: workers (dedicated) or tasks (global).
    var startedThreads: Int { dedicated ? executors.count : tasksStarted.load(ordering: .acquiring) }

    func prepare(_ context: RunContext) throws {
        try configuration.checkNeeds(Self.needs(actors: context.actors.count, configuration))
        notifies = context.actors.map { _ in AsyncNotify() }
        if configuration.io == .uring {
            guard dedicated else {
                throw CSGBError.usage("--io uring needs --executor dedicated: the global executor has no worker thread to own a ring")
            }
            rings = try WorkerRing.forWorkers(context)
        }
    }

    func start(_ context: RunContext) throws {
        let notifies = NotifyTable(notifies)
        guard dedicated else {
            for actor in context.actors.indices {
                tasksStarted.wrappingIncrement(ordering: .releasing)
                Task {
                    context.gate.arrive()
                    await AsyncMode.run(actor: actor, notifies: notifies, context: context)
                    context.threadFinished()
                }
            }
            return
        }
        let assignment = WorkerAssignment(actors: context.actors, workers: configuration.workers)
        for worker in 0..<configuration.workers {
            let io: RingWaiters? = rings.isEmpty ? nil : RingWaiters(ring: rings[worker], actors: context.actors.count)
            var onIdle: (@Sendable () -> Bool)?
            if let io { onIdle = { io.completeOnIdle(context) } }
            let executor = try WorkerExecutor(name: "csgb-async-\(worker)", keepsUnpreferredTasks: true, onThreadStart: {
                context.enterThread(index: worker, label: "async worker \(worker)")
                do {
                    try io?.ring.adopt()
                } catch {
                    context.recordFailure("async worker \(worker): \(error)")
                }
                context.gate.arriveAndWait()
            }, onIdle: onIdle, onThreadExit: {
                // On this thread: a single-issuer ring takes no enter from another.
                io?.ring.finish()
            })
            executors.append(executor)
            let actors = assignment.actors(ofWorker: worker)
            // The last task of a worker to finish reports the worker finished.
            let remaining = ManagedAtomic<Int>(actors.count)
            if actors.isEmpty { context.threadFinished() }
            // Started without an executor preference but routed to the worker, where they
            // stay: a preference would cost a locked lookup at every resume and switch.
            executor.routingUnpreferredTasks {
                for actor in actors {
                    Task {
                        await AsyncMode.run(actor: actor, notifies: notifies, context: context, worker: (worker, executor), io: io)
                        if remaining.wrappingDecrementThenLoad(ordering: .acquiringAndReleasing) == 0 {
                            context.threadFinished()
                        }
                    }
                }
            }
        }
    }

    func interrupt(_ context: RunContext) {
        // A notify is safe from any thread: wake every waiter so it sees the stop.
        for notify in notifies { notify.notify() }
    }

    /// The global executor's threads are not ours to list: count every thread of
    /// the process at the window's end except the coordinator.
    func osThreads(_ context: RunContext) -> Int {
        dedicated ? context.threadIDs.count : max(ResourceLimits.currentThreadCount() - 1, 0)
    }

    func join() {
        for executor in executors { executor.shutdown() }
        executors.removeAll()
        rings.removeAll()
    }

    /// One actor: the shared interpreter, awaiting its notify, its ring entry or its
    /// turn whenever it waits. `worker`: the dedicated worker the task runs on (nil
    /// on the global executor).
    static func run(actor index: Int, notifies: NotifyTable, context: RunContext, worker: (index: Int, executor: WorkerExecutor)? = nil,
                    io: RingWaiters? = nil) async {
        let peer = context.actors[index].peer.map { Unmanaged.passUnretained(notifies[$0]) }
        let waker = NotifyWaker(peer: peer)
        if let probe = context.phaseProbe(actor: index, worker: worker?.index) {
            await drive(NonBlockingInterpreter(actor: index, context: context, ring: io?.ring, waker: waker, phases: probe),
                        mine: notifies[index], worker: worker?.executor, io: io)
        } else {
            await drive(NonBlockingInterpreter(actor: index, context: context, ring: io?.ring, waker: waker, phases: NoPhases()),
                        mine: notifies[index], worker: worker?.executor, io: io)
        }
    }

    private static func drive<Phases: PhaseProbe>(_ start: NonBlockingInterpreter<NotifyWaker, Phases>, mine: AsyncNotify,
                                                  worker: WorkerExecutor?, io: RingWaiters?) async {
        // `notifies` keeps them alive; calling through unmanaged references saves the
        // retain/release pair (two atomic instructions) the compiler puts around
        // every call on a reference loaded from the async frame.
        let mineRef = Unmanaged.passUnretained(mine)
        let workerRef = worker.map { Unmanaged.passUnretained($0) }
        let index = start.actor
        var interpreter = start
        while true {
            switch interpreter.advance() {
            case .peer:
                // wait() written out: one executor switch per hop instead of two (the
                // call of an async function costs one more).
                await withUnsafeContinuation { c in mineRef._withUnsafeGuaranteedRef { $0.resumeOnNotify(c) } }
            case .ring:
                // Resumed by the worker once the entry completed.
                await withUnsafeContinuation { io!.wait(actor: index, $0) }
            case .turn:
                // The worker's yield written out, as for the notify: no async call per
                // yield. Task.yield() would move a task without an executor preference
                // to the global executor; the worker's own yield keeps it there.
                if let workerRef {
                    await withUnsafeContinuation { c in workerRef._withUnsafeGuaranteedRef { $0.resumeAfterQueuedJobs(c) } }
                } else {
                    await Task.yield()
                }
            case .finished:
                return
            }
        }
    }
}

/// A task wakes its peer through the peer's one-permit notify, safe from any thread.
struct NotifyWaker: PeerWaking {
    let peer: Unmanaged<AsyncNotify>?

    @inline(__always)
    func wakePeer() {
        peer?._withUnsafeGuaranteedRef { $0.notify() }
    }

    /// A task awaits in its mode's loop, never in place.
    static var waitsInPlace: Bool { false }

    func waitInPlace(_ suspension: NonBlockingSuspension) {
        preconditionFailure("a task cannot wait in place")
    }

    func takeTurns(while step: () -> Bool) {
        preconditionFailure("a task cannot wait in place")
    }
}

extension AsyncMode: SharedWorkerTraits {
    static let summary = "Swift tasks on one thread per worker"
    static let colour = "#1f77b4"
    static let actorKind = "Swift task"

    static func refusal(_ option: ModeOption, _ configuration: RunConfiguration) -> String? {
        switch option {
        case .workers:
            return configuration.executor == .global
                ? "applies to --executor dedicated; --executor global runs tasks on Swift's own thread pool" : nil
        case .stackSize: return hasNoStacks(configuration)
        case .executor: return nil
        case .latency: return nil
        }
    }

    static func executor(_ configuration: RunConfiguration) -> ExecutorChoice? { configuration.executor }

    /// The dedicated workers (Swift's pool is the runtime's), and a ring per worker
    /// with `--io uring`.
    static func needs(actors: Int, _ configuration: RunConfiguration) -> RunNeeds {
        let workers = configuration.executor == .dedicated ? configuration.workers : 0
        return RunNeeds(threads: workers, descriptors: configuration.io == .uring ? workers : 0)
    }

    /// Swift's global executor runs tasks on its own pool's threads.
    static func ownsItsThreads(_ configuration: RunConfiguration) -> Bool { configuration.executor == .dedicated }

    static func workers(_ configuration: RunConfiguration) -> Int? {
        configuration.executor == .dedicated ? configuration.workers : nil
    }

    static func claims(_ operations: OperationCounts, _ configuration: RunConfiguration) -> Claims {
        var claims = Claims()
        guard configuration.executor == .dedicated else {
            // Swift's global pool parks its threads on futexes and hops tasks between
            // threads: no claim about switches, epoll or futex.
            claims.transfers(operations, configuration, enterPerTransfer: false)
            claims.noEAGAIN = true
            claims.reasons.append("global executor: switches allowed")
            return claims
        }
        claims.userModeSwitching(operations, configuration)
        return claims
    }
}

/// The tasks of one worker waiting for their ring entries: the worker, when it has
/// no job to run, submits and reaps, and resumes each owner on itself.
final class RingWaiters: @unchecked Sendable {
    let ring: WorkerRing
    private var waiting: [UnsafeContinuation<Void, Never>?]

    init(ring: WorkerRing, actors: Int) {
        self.ring = ring
        waiting = Array(repeating: nil, count: actors)
    }

    /// On the worker thread, inside the suspension of the actor's task.
    func wait(actor: Int, _ continuation: UnsafeContinuation<Void, Never>) { waiting[actor] = continuation }

    /// The worker's idle work: false when nothing is in flight (it may sleep).
    func completeOnIdle(_ context: RunContext) -> Bool {
        guard ring.inFlight > 0 else { return false }
        let ok = ring.complete { actor in
            let continuation = waiting[actor]
            waiting[actor] = nil
            continuation?.resume()
        }
        if !ok {
            context.recordFailure("async worker: io_uring_enter failed")
            context.requestStop()
        }
        return true
    }
}

/// The actors' notifies, shared by every task of the run.
final class NotifyTable: Sendable {
    private let notifies: [AsyncNotify]
    init(_ notifies: [AsyncNotify]) { self.notifies = notifies }
    subscript(actor: Int) -> AsyncNotify { notifies[actor] }
}
