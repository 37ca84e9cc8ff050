import Atomics
import CCSGB

/// Holds every OS thread of a run until all of them exist, so the measured window
/// never includes the seconds it takes to create thousands of threads while the
/// first ones already run. Threads sleep in FUTEX_WAIT; opening is one FUTEX_WAKE.
public final class StartGate: @unchecked Sendable {
    private let word = UnsafeMutablePointer<UInt32>.allocate(capacity: 16)
    private let arrived = ManagedAtomic<Int>(0)

    public init() { word.initialize(repeating: 0, count: 16) }
    deinit { word.deallocate() }

    private var atomic: UnsafeAtomic<UInt32> {
        UnsafeAtomic(at: UnsafeMutableRawPointer(word).assumingMemoryBound(to: UnsafeAtomic<UInt32>.Storage.self))
    }

    public var arrivals: Int { arrived.load(ordering: .acquiring) }
    public var isOpen: Bool { atomic.load(ordering: .acquiring) != 0 }

    /// Counts the caller in and sleeps until the gate opens.
    public func arriveAndWait() {
        arrived.wrappingIncrement(ordering: .releasing)
        while atomic.load(ordering: .acquiring) == 0 {
            _ = csgb_futex_wait(word, 0)
        }
    }

    /// Counts the caller in without waiting, for tasks on executors we do not own.
    public func arrive() {
        arrived.wrappingIncrement(ordering: .releasing)
    }

    public func open() {
        atomic.store(1, ordering: .releasing)
        _ = csgb_futex_wake(word, Int32.max)
    }
}
