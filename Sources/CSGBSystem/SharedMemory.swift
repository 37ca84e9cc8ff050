#if canImport(Glibc)
import Glibc
#endif
import CCSGB

/// Memory several processes see at once: a memfd mapped MAP_SHARED. The process
/// mode keeps its gate, stop word, pass counters, futex words and window-edge
/// records here; a child re-executed from csgb maps the same file from the
/// descriptor it inherited.
public final class SharedMemory: @unchecked Sendable {
    public let base: UnsafeMutableRawPointer
    public let length: Int
    /// The memfd; kept open so that a child can inherit it.
    public let descriptor: FileDescriptor

    /// A new zero-filled region of `length` bytes.
    public init(name: String, length: Int) throws(SystemError) {
        let fd = try SystemError.check("memfd_create", csgb_shared_memory_create(name, length))
        guard let mapped = csgb_shared_memory_map(fd, length) else {
            let error = SystemError("mmap of a \(length)-byte shared region")
            Glibc.close(fd)
            throw error
        }
        base = mapped
        self.length = length
        descriptor = FileDescriptor(rawValue: fd)
    }

    /// Maps a region made by another process, from the descriptor it passed on.
    public init(mapping descriptor: FileDescriptor) throws(SystemError) {
        var info = stat()
        if fstat(descriptor.rawValue, &info) != 0 { throw SystemError("fstat of the shared region") }
        let length = Int(info.st_size)
        guard length > 0, let mapped = csgb_shared_memory_map(descriptor.rawValue, length) else {
            throw SystemError("mmap of the shared region", length > 0 ? .current : .invalidArgument)
        }
        base = mapped
        self.length = length
        self.descriptor = descriptor
    }

    /// Unmaps and closes; the other processes keep their own mappings.
    public func release() {
        munmap(base, length)
        descriptor.close()
    }
}

/// A futex word in shared memory, waited and woken without FUTEX_PRIVATE_FLAG so
/// that a waiter in one process is woken by a store in another.
public struct SharedFutexWord: FutexWaitable, @unchecked Sendable {
    public let storage: UnsafeMutablePointer<UInt32>

    public init(storage: UnsafeMutablePointer<UInt32>) { self.storage = storage }

    @inline(__always)
    public func load() -> UInt32 { FutexWord(storage: storage).atomic.load(ordering: .acquiring) }

    /// Stores `value` and wakes up to `waiters` sleepers: one futex(FUTEX_WAKE).
    @inline(__always)
    public func post(_ value: UInt32, waking waiters: Int32 = 1) {
        FutexWord(storage: storage).atomic.store(value, ordering: .releasing)
        if csgb_futex_wake_shared(storage, waiters) == -1 { SharedFutexWord.misuse("FUTEX_WAKE") }
    }

    /// Sleeps in FUTEX_WAIT while the word holds `current`; may return early.
    @inline(__always)
    public func wait(whileEqualTo current: UInt32) {
        if csgb_futex_wait_shared(storage, current) == -1 {
            let error = Errno.current
            if error != .resourceTemporarilyUnavailable && error != .interrupted { SharedFutexWord.misuse("FUTEX_WAIT", error) }
        }
    }

    /// Stores a value no waiter expects and wakes everyone (how a stop reaches a
    /// waiter without racing its look at the stop word).
    public func poisonAndWakeAll() { post(FutexWord.poison, waking: Int32.max) }

    private static func misuse(_ operation: String, _ error: Errno = .current) -> Never {
        fatalError("futex(\(operation)) on shared memory failed: \(error)")
    }
}
