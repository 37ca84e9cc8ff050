import Atomics
import CCSGB
import CSGBSystem
import Glibc
import Synchronization

/// A Swift task executor that runs every job on one dedicated OS thread.
///
/// Tasks started with `Task(executorPreference:)` or inside
/// `withTaskExecutorPreference(_:)` never leave that thread: a continuation resumed
/// there enqueues the waiter right back here. Such same-thread enqueues go to a
/// thread-confined ring (no lock, no atomic read-modify-write); only enqueues from
/// other threads take the locked inbox and may wake the sleeping thread.
///
/// Jobs run with `runSynchronously(on: asUnownedTaskExecutor())`, as nonisolated code
/// under this task executor. `runSynchronously(isolatedTo:taskExecutor:)` would make
/// every resume of nonisolated code switch from this serial executor to the generic
/// one: two jobs per hop instead of one (measured). The `SerialExecutor` conformance
/// lets the worker back an actor too, but each hop onto such an actor costs an extra job.
///
/// Tasks without a preference can stay here too, more cheaply: see
/// `keepsUnpreferredTasks`.
///
/// Call `shutdown()` once every task using the executor has finished; until then the
/// thread keeps the executor alive.
public final class WorkerExecutor: TaskExecutor, SerialExecutor, @unchecked Sendable {
    public let name: String
    /// The worker thread's kernel id (for affinity, perf and tests).
    public private(set) var threadID: Int32 = 0

    /// Jobs run so far. Only the worker writes it (load + store, no RMW).
    public var jobsRun: Int { jobCount.load(ordering: .relaxed) }

    /// True when called on the worker thread. The worker names itself in a
    /// thread-local before it runs anything, so no other thread ever matches.
    @inlinable
    public var isCurrentThread: Bool {
        @inline(__always) get { csgb_async_worker() == Unmanaged.passUnretained(self).toOpaque() }
    }

    /// Whether tasks with no executor preference that run here stay here (see init).
    public let keepsUnpreferredTasks: Bool

    private let onThreadStart: @Sendable () -> Void
    private let onIdle: (@Sendable () -> Bool)?
    private let onThreadExit: @Sendable () -> Void
    private var thread: OSThread?
    private let jobCount = Atomic<Int>(0)
    // Behind a pointer so that the hot path pays no dynamic exclusivity check.
    @usableFromInline let ring: UnsafeMutablePointer<JobRing>
    private let inbox = Mutex<[UnownedJob]>([])
    /// `Wake.idle`, `.posted` (the inbox may hold jobs) or `.sleeping` (in futex_wait).
    private let wake = FutexWord(owning: Wake.idle)
    /// 0 until the thread reports its tid, which init waits for.
    private let startedTID = FutexWord(owning: 0)
    private let stopRequested = Atomic<Bool>(false)
    private let joinState = Mutex<Bool>(false)  // true once joined

    // Queue entries are pointers at least 16-byte aligned, so their low bits say what
    // they are: a job from `enqueue` (no tag) runs under this task executor; a generic
    // job from the enqueue hook runs the way the global executor would run it; a
    // yielded task's continuation is resumed (see `yield()`).
    private static let genericTag: UInt = 1
    @usableFromInline static let yieldTag: UInt = 2
    private static let tagMask: UInt = 3

    private enum Wake {
        static let idle: UInt32 = 0
        static let posted: UInt32 = 1
        static let sleeping: UInt32 = 2
    }

    /// Starts the worker thread. `onThreadStart` runs on it before any job (to pin it,
    /// record its tid, wait on a start gate); jobs enqueued meanwhile wait in the inbox.
    /// Returns once the thread exists and `threadID` is valid. `onThreadExit` runs on
    /// it after the last job, before the thread ends.
    ///
    /// `keepsUnpreferredTasks`: a task with no executor preference that is started
    /// inside `routingUnpreferredTasks(_:)`, or that is resumed or yields while it runs
    /// here, is queued here instead of on Swift's global executor (through the
    /// runtime's global-enqueue hook, installed while such a worker exists). That saves
    /// the preference lookup, a lock, on every resume and executor switch. Wakes from
    /// other threads must say where to go: `AsyncNotify` remembers its waiter's worker.
    public init(
        name: String, keepsUnpreferredTasks: Bool = false,
        onThreadStart: @escaping @Sendable () -> Void = {},
        onIdle: (@Sendable () -> Bool)? = nil,
        onThreadExit: @escaping @Sendable () -> Void = {}
    ) throws(SystemError) {
        self.name = name
        self.keepsUnpreferredTasks = keepsUnpreferredTasks
        self.onThreadStart = onThreadStart
        self.onIdle = onIdle
        self.onThreadExit = onThreadExit
        ring = .allocate(capacity: 1)
        ring.initialize(to: JobRing(capacity: 1024))
        inbox.withLock { $0.reserveCapacity(256) }

        // The thread owns one reference until it exits. Its stack is the usual 8 MiB:
        // jobs run ordinary synchronous code on it.
        do {
            thread = try OSThread(name: name, stackSize: 8 << 20) { [self] in threadMain() }
        } catch {
            joinState.withLock { $0 = true }  // nothing to join
            throw error
        }
        if keepsUnpreferredTasks { csgb_async_hook_retain(pushRoutedJob) }
        while startedTID.atomic.load(ordering: .acquiring) == 0 {
            startedTID.wait(whileEqualTo: 0)
        }
        threadID = Int32(bitPattern: startedTID.atomic.load(ordering: .relaxed))
    }

    deinit {
        // Runs only after the thread dropped its reference, i.e. left its loop.
        ring.pointee.deallocate()
        ring.deinitialize(count: 1)
        ring.deallocate()
        wake.deallocate()
        startedTID.deallocate()
    }

    // MARK: Executor

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        if isCurrentThread {
            ring.pointee.push(job)
        } else {
            post(job)
        }
    }

    /// A job the global-enqueue hook routed here: a task with no preference.
    fileprivate func enqueueGeneric(_ job: UnsafeMutableRawPointer) {
        let tagged = unsafeBitCast(UInt(bitPattern: job) | Self.genericTag, to: UnownedJob.self)
        if isCurrentThread {
            ring.pointee.push(tagged)
        } else {
            post(tagged)
        }
    }

    /// Runs `body` with this thread's generic enqueues routed to this worker, so that a
    /// `Task {}` without an executor preference created in it starts on this worker
    /// (and, run here, stays here). Needs `keepsUnpreferredTasks`.
    public func routingUnpreferredTasks<R>(_ body: () throws -> R) rethrows -> R {
        precondition(keepsUnpreferredTasks, "worker \(name) was not made to keep unpreferred tasks")
        let saved = csgb_async_route()
        csgb_async_set_route(Unmanaged.passUnretained(self).toOpaque())
        defer { csgb_async_set_route(saved) }
        return try body()
    }

    /// `Task.yield()` for an unpreferred task running here. The standard one hands the
    /// task to `Task.currentExecutor`, which for a task without a preference is Swift's
    /// default executor, bypassing the enqueue hook: the task would leave this worker
    /// for good. This one queues the task behind the jobs already here instead.
    /// Call it only from a task running on this worker.
    nonisolated(nonsending) public func yield() async {
        await withUnsafeContinuation { resumeAfterQueuedJobs($0) }
    }

    /// The hot-loop form of `yield()`: `await withUnsafeContinuation {
    /// worker.resumeAfterQueuedJobs($0) }` written in the caller saves the async call
    /// (a task-allocator frame, a retain and release of the worker) per yield. Queues
    /// `continuation` behind the jobs already here; the worker resumes it in turn.
    /// Call it only from a task running on this worker. Inlinable: as a call of its
    /// own it took 1.7 % of an async yield's samples.
    @inlinable
    public func resumeAfterQueuedJobs(_ continuation: UnsafeContinuation<Void, Never>) {
        precondition(isCurrentThread, "WorkerExecutor.yield() called off the thread of worker \(name)")
        let bits = unsafeBitCast(continuation, to: UInt.self) | Self.yieldTag
        ring.pointee.push(unsafeBitCast(bits, to: UnownedJob.self))
    }

    public func checkIsolated() {
        precondition(isCurrentThread, "not on the thread of worker \(name)")
    }

    // MARK: Shutdown

    /// Asks the thread to exit once its queues are empty and joins it. Call it after
    /// every task using this executor has finished, never from the worker itself.
    /// Further calls return at once (concurrent callers all wait for the join).
    public func shutdown() {
        precondition(!isCurrentThread, "shutdown() called on the worker thread it would join")
        joinState.withLock { joined in
            guard !joined else { return }
            stopRequested.store(true, ordering: .releasing)
            raiseWake()
            thread?.join()
            joined = true
            if keepsUnpreferredTasks { csgb_async_hook_release() }
        }
    }

    // MARK: The worker thread

    private func post(_ job: UnownedJob) {
        inbox.withLock { $0.append(job) }
        raiseWake()
    }

    /// After publishing work (or the stop request): mark it posted and, if the worker
    /// had gone to sleep, wake it. The worker announced `.sleeping` before re-checking,
    /// so either it sees `.posted` and does not sleep, or we see `.sleeping` and wake it.
    private func raiseWake() {
        if wake.atomic.exchange(Wake.posted, ordering: .acquiringAndReleasing) == Wake.sleeping {
            wake.wake()
        }
    }

    private func threadMain() {
        csgb_async_set_worker(Unmanaged.passUnretained(self).toOpaque())
        defer { csgb_async_set_worker(nil) }
        let tid = csgb_gettid()
        startedTID.atomic.store(UInt32(bitPattern: tid), ordering: .releasing)
        startedTID.wake()

        // Unretained: the thread holds a reference until it leaves threadMain.
        if keepsUnpreferredTasks { csgb_async_set_route(Unmanaged.passUnretained(self).toOpaque()) }
        onThreadStart()
        runLoop()
        onThreadExit()
        csgb_async_set_route(nil)
    }

    private func runLoop() {
        let taskExecutor = asUnownedTaskExecutor()
        while true {
            // A plain load on x86: the hot path only reads the shared line.
            if wake.atomic.load(ordering: .relaxed) == Wake.posted {
                takeInbox()
            }
            if let job = ring.pointee.pop() {
                let bits = unsafeBitCast(job, to: UInt.self)
                switch bits & Self.tagMask {
                case 0:
                    job.runSynchronously(on: taskExecutor)
                case Self.genericTag:
                    csgb_async_run_generic(UnsafeMutableRawPointer(bitPattern: bits & ~Self.tagMask))
                default:
                    // Enqueues the task again, through the hook, onto this ring.
                    unsafeBitCast(bits & ~Self.tagMask, to: UnsafeContinuation<Void, Never>.self).resume()
                }
                jobCount.store(jobCount.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
                continue
            }
            // Nothing to run: work the owner parked elsewhere (an io_uring's
            // completions) comes first; it returns false when it has none.
            if let onIdle, onIdle() { continue }
            if stopRequested.load(ordering: .acquiring) {
                takeInbox()  // anything posted after the last look would be lost otherwise
                if ring.pointee.count == 0 { return }
                continue
            }
            sleepUntilPosted()
        }
    }

    private func takeInbox() {
        // Reset before draining: a post that lands after the drain sets `.posted` again.
        wake.atomic.store(Wake.idle, ordering: .relaxed)
        inbox.withLock { jobs in
            for job in jobs { ring.pointee.push(job) }
            jobs.removeAll(keepingCapacity: true)
        }
    }

    private func sleepUntilPosted() {
        guard wake.atomic.compareExchange(
            expected: Wake.idle, desired: Wake.sleeping, ordering: .acquiringAndReleasing
        ).exchanged else { return }  // something was posted meanwhile
        while wake.atomic.load(ordering: .acquiring) == Wake.sleeping {
            wake.wait(whileEqualTo: Wake.sleeping)
        }
    }
}

/// The hook's way back into Swift: `worker` is the route the job was enqueued under.
private func pushRoutedJob(_ worker: UnsafeMutableRawPointer?, _ job: UnsafeMutableRawPointer?) {
    // The route is valid while its worker runs (or is being started), and guaranteed
    // use skips a retain/release pair per enqueue.
    Unmanaged<WorkerExecutor>.fromOpaque(worker!)._withUnsafeGuaranteedRef { $0.enqueueGeneric(job!) }
}
