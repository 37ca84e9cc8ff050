import Atomics
import CCSGB
import Glibc

/// A 32-bit atomic whose address the kernel can sleep on. swift-atomics' UnsafeAtomic
/// is used (rather than Synchronization.Atomic) because the futex needs the word's
/// address, and here we own the storage.
struct FutexWord: @unchecked Sendable {
    private let storage: UnsafeMutablePointer<UnsafeAtomic<UInt32>.Storage>
    let atomic: UnsafeAtomic<UInt32>

    init(_ value: UInt32) {
        storage = .allocate(capacity: 1)
        storage.initialize(to: .init(value))
        atomic = UnsafeAtomic(at: storage)
    }

    /// Sleeps while the word holds `expected`. May return early (a wake, a signal, or
    /// the word already differing); callers re-check their condition in a loop.
    func wait(whileEqualTo expected: UInt32) {
        let address = UnsafeMutableRawPointer(storage).assumingMemoryBound(to: UInt32.self)
        if csgb_futex_wait(address, expected) == -1 {
            let error = errno
            // EAGAIN: the word changed before we slept; EINTR: a signal. Both mean "look again".
            if error != EAGAIN && error != EINTR {
                fatalError("futex(FUTEX_WAIT_PRIVATE) failed: errno \(error)")
            }
        }
    }

    func wake(_ count: Int32 = 1) {
        let address = UnsafeMutableRawPointer(storage).assumingMemoryBound(to: UInt32.self)
        if csgb_futex_wake(address, count) == -1 {
            fatalError("futex(FUTEX_WAKE_PRIVATE) failed: errno \(errno)")
        }
    }

    func deallocate() {
        storage.deinitialize(count: 1)
        storage.deallocate()
    }
}
