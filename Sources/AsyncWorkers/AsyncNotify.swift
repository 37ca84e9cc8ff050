import CCSGB
import Synchronization

/// A one-permit wake-up for one waiting task, with the semantics of tokio's
/// `Notify::notify_one`: a `notify()` with nobody waiting stores a permit (several
/// store still one) and the next wait consumes it without suspending, so a wake that
/// comes before the wait is never lost.
///
/// Lock-free and safe across threads. Resuming the waiter enqueues it on the executor
/// it suspended on: with a `WorkerExecutor` preference, that same worker thread. A
/// waiter with no preference goes where the runtime sends generic jobs; if it waited
/// on a worker that keeps unpreferred tasks, the notify routes it back to that worker,
/// from whatever thread it is called.
///
/// Memory ordering: the waiter writes its continuation into `slot` and only then
/// publishes `waiting` with a release CAS; a notifier takes `waiting -> empty` with an
/// acquire CAS before reading `slot`, so it reads the whole continuation, and only one
/// notifier can win that CAS. A permit is stored with release and consumed with
/// acquire, so what the notifier wrote before `notify()` is visible after the wait
/// that consumes it (a resume gives the same guarantee through the runtime's enqueue).
public final class AsyncNotify: @unchecked Sendable {
    private enum State {
        static let empty = 0
        static let permit = 1
        static let waiting = 2
    }

    private let state = Atomic<Int>(State.empty)
    // Initialized only while `state == waiting`; a pointer so no exclusivity check runs.
    private let slot: UnsafeMutablePointer<UnsafeContinuation<Void, Never>>
    // The waiter's thread route (its worker, or nil), published along with `slot`.
    private let waiterRoute: UnsafeMutablePointer<UnsafeMutableRawPointer?>

    public init() {
        slot = .allocate(capacity: 1)
        waiterRoute = .allocate(capacity: 1)
        waiterRoute.initialize(to: nil)
    }

    deinit {
        // A suspended waiter keeps the notify alive, so no continuation is left here.
        slot.deallocate()
        waiterRoute.deallocate()
    }

    /// Wakes the waiter, or stores the permit if nobody waits.
    /// Whether a waiter is parked: for tests that must notify only after the wait
    /// began, instead of sleeping and hoping it did.
    var hasWaiter: Bool { state.load(ordering: .acquiring) == State.waiting }

    public func notify() {
        var current = state.load(ordering: .relaxed)
        while true {
            switch current {
            case State.permit:
                return
            case State.empty:
                let (stored, seen) = state.compareExchange(
                    expected: State.empty, desired: State.permit, ordering: .releasing)
                if stored { return }
                current = seen
            default:
                let (taken, seen) = state.compareExchange(
                    expected: State.waiting, desired: State.empty, ordering: .acquiringAndReleasing)
                if taken {
                    resumeWaiter()
                    return
                }
                current = seen
            }
        }
    }

    /// Returns at once if a permit is stored (consuming it), else suspends until
    /// `notify()`. Only one task may wait on a given notify at a time.
    ///
    /// `nonisolated(nonsending)` keeps the call on the caller's executor: a plain
    /// nonisolated async function costs one more `swift_task_switch` per wait, and
    /// under a task executor preference every switch looks the preference up under
    /// the task's status-record lock.
    nonisolated(nonsending) public func wait() async {
        if state.compareExchange(expected: State.permit, desired: State.empty, ordering: .acquiring).exchanged {
            return
        }
        await withUnsafeContinuation { resumeOnNotify($0) }
    }

    /// The hot-loop form of `wait()`: `await withUnsafeContinuation { n.resumeOnNotify($0) }`
    /// written in the caller saves the async call (its frame and one executor switch),
    /// about 50 ns a hop here. Resumes `continuation` at the next `notify()`, or at once
    /// if a permit is stored. Only one continuation may be pending at a time.
    public func resumeOnNotify(_ continuation: UnsafeContinuation<Void, Never>) {
        slot.initialize(to: continuation)
        waiterRoute.pointee = csgb_async_route()
        let (published, seen) = state.compareExchange(
            expected: State.empty, desired: State.waiting, ordering: .acquiringAndReleasing)
        if published { return }
        // A permit is stored: take it and resume at once. Nobody else moves a permit
        // away, so a plain store is enough.
        precondition(seen == State.permit, "AsyncNotify: a second task is already waiting")
        state.store(State.empty, ordering: .relaxed)
        slot.move().resume()
    }

    /// The resume enqueues the waiter on the calling thread; under another route (a
    /// stop request from the coordinator, a wake from another worker) it would land on
    /// that thread's worker or the global pool, so borrow the waiter's for the call.
    private func resumeWaiter() {
        let continuation = slot.move()
        let route = waiterRoute.pointee
        let current = csgb_async_route()
        if route == current {
            continuation.resume()
        } else {
            csgb_async_set_route(route)
            continuation.resume()
            csgb_async_set_route(current)
        }
    }
}
