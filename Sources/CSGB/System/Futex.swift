import Atomics
import CCSGB

/// A 32-bit futex word shared by a ping-pong pair, on its own cache line.
public struct FutexWord: @unchecked Sendable {
    let storage: UnsafeMutablePointer<UInt32>

    init(storage: UnsafeMutablePointer<UInt32>) { self.storage = storage }

    private var atomic: UnsafeAtomic<UInt32> {
        UnsafeAtomic(at: UnsafeMutableRawPointer(storage).assumingMemoryBound(to: UnsafeAtomic<UInt32>.Storage.self))
    }

    @inline(__always)
    public func load() -> UInt32 { atomic.load(ordering: .acquiring) }

    /// Stores `value` and wakes up to `waiters` sleepers (the peer, by default):
    /// one futex(FUTEX_WAKE) syscall.
    @inline(__always)
    public func post(_ value: UInt32, waking waiters: Int32 = 1) {
        atomic.store(value, ordering: .releasing)
        _ = csgb_futex_wake(storage, waiters)
    }

    /// Sleeps in futex(FUTEX_WAIT) while the word still holds `current`.
    @inline(__always)
    public func wait(whileEqualTo current: UInt32) {
        _ = csgb_futex_wait(storage, current)
    }

    /// Stores a value no waiter expects and wakes everyone: how a stop reaches a
    /// thread asleep in FUTEX_WAIT without racing its check of the stop flag.
    public func poisonAndWakeAll() {
        post(FutexWord.poison, waking: Int32.max)
    }

    public static let poison: UInt32 = .max
}
