#if canImport(Glibc)
import Glibc
#endif
import Atomics
import CCSGB

/// What a futex ping-pong needs of its word, private to a process or shared
/// between processes: the interpreters are written once over it.
public protocol FutexWaitable {
    func load() -> UInt32
    func post(_ value: UInt32, waking waiters: Int32)
    func wait(whileEqualTo current: UInt32)
}

/// A 32-bit atomic whose address the kernel can sleep on: the start gate, the async
/// worker's sleep, the futex ping-pong pairs. A view on storage owned elsewhere (one
/// cache line per word in a plan) or by itself (`FutexWord(owning:)`).
public struct FutexWord: FutexWaitable, @unchecked Sendable {
    public let storage: UnsafeMutablePointer<UInt32>

    /// A word in storage the caller owns and keeps alive.
    public init(storage: UnsafeMutablePointer<UInt32>) { self.storage = storage }

    /// A word in its own allocation, released with `deallocate()`.
    public init(owning value: UInt32) {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64)
        storage = raw.initializeMemory(as: UInt32.self, repeating: value, count: 1)
    }

    public func deallocate() { UnsafeMutableRawPointer(storage).deallocate() }

    /// The word as an atomic, for the lock-free protocols built on it.
    @inline(__always)
    public var atomic: UnsafeAtomic<UInt32> {
        UnsafeAtomic(at: UnsafeMutableRawPointer(storage).assumingMemoryBound(to: UnsafeAtomic<UInt32>.Storage.self))
    }

    @inline(__always)
    public func load() -> UInt32 { atomic.load(ordering: .acquiring) }

    /// Stores `value` and wakes up to `waiters` sleepers (the peer, by default):
    /// one futex(FUTEX_WAKE) syscall.
    @inline(__always)
    public func post(_ value: UInt32, waking waiters: Int32 = 1) {
        atomic.store(value, ordering: .releasing)
        wake(waiters)
    }

    /// FUTEX_WAKE_PRIVATE for up to `count` sleepers.
    @inline(__always)
    public func wake(_ count: Int32 = 1) {
        if csgb_futex_wake(storage, count) == -1 { FutexWord.misuse("FUTEX_WAKE") }
    }

    /// Sleeps in FUTEX_WAIT while the word still holds `current`. May return early (a
    /// wake, a signal, the word already differing): callers re-check in a loop.
    @inline(__always)
    public func wait(whileEqualTo current: UInt32) {
        if csgb_futex_wait(storage, current) == -1 {
            let error = Errno.current
            // EAGAIN: the word changed before we slept; EINTR: a signal. Both mean "look again".
            if error != .resourceTemporarilyUnavailable && error != .interrupted { FutexWord.misuse("FUTEX_WAIT", error) }
        }
    }

    /// Stores a value no waiter expects and wakes everyone: how a stop reaches a
    /// thread asleep in FUTEX_WAIT without racing its check of the stop flag.
    public func poisonAndWakeAll() {
        post(FutexWord.poison, waking: Int32.max)
    }

    public static let poison: UInt32 = .max

    /// The only other failures are EFAULT and EINVAL: a bad address, a bug of ours.
    private static func misuse(_ operation: String, _ error: Errno = .current) -> Never {
        fatalError("futex(\(operation)_PRIVATE) failed: \(error)")
    }
}
