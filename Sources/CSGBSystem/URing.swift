#if canImport(Glibc)
import Glibc
#endif
import CCSGBURing

/// An io_uring (through liburing) owned by one OS thread: SQEs are prepared and
/// reaped on that thread only.
public final class URing: @unchecked Sendable {
    private let ring: OpaquePointer
    public let entries: Int
    public let sqpoll: Bool

    /// Why a ring could not be made, with how to fix it.
    public struct CreationError: Error, Sendable, CustomStringConvertible {
        public let errno: Errno
        public var description: String {
            let base = "io_uring_setup failed: \(errno)"
            switch errno {
            case .permissionDenied, .notPermitted:
                return base + "; io_uring is disabled for this process: set `sysctl -w kernel.io_uring_disabled=0` (or 1 and add the user to kernel.io_uring_group), or use --io direct"
            case .noMemory:
                return base + "; the locked-memory limit is too low for the rings: raise it with `ulimit -l unlimited` (or LimitMEMLOCK=), lower --ring-entries, or use --io direct"
            case .noFunction:
                return base + "; this kernel has no io_uring (Linux 5.1 or later, CONFIG_IO_URING): use --io direct"
            default:
                return base + "; use --io direct"
            }
        }
    }

    /// `pollerCPU`: with `sqpoll`, the CPU the kernel's poller thread is pinned to
    /// (nil: it inherits the creating thread's CPUs).
    public init(entries: Int, sqpoll: Bool = false, pollerCPU: Int32? = nil) throws(CreationError) {
        var code: Int32 = 0
        guard let ring = csgb_ring_create(UInt32(entries), sqpoll ? 1 : 0, pollerCPU ?? -1, &code) else {
            throw CreationError(errno: Errno(-code))
        }
        self.ring = ring
        self.entries = entries
        self.sqpoll = sqpoll
    }

    deinit { csgb_ring_destroy(ring) }

    public func register(_ descriptors: [FileDescriptor]) throws(SystemError) {
        let fds = descriptors.map(\.rawValue)
        let rc = fds.withUnsafeBufferPointer { csgb_ring_register_files(ring, $0.baseAddress!, UInt32($0.count)) }
        if rc < 0 { throw SystemError("io_uring_register_files", Errno(-rc)) }
    }

    /// Prepares one read or write; false when the submission queue is full.
    @inline(__always)
    public func prepare(_ direction: TransferDirection, target: Int32, fixed: Bool,
                        buffer: UnsafeMutablePointer<UInt8>, length: Int = 1, userData: UInt64) -> Bool {
        csgb_ring_prepare(ring, direction == .write ? 1 : 0, target, fixed ? 1 : 0, buffer, UInt32(length), userData) == 0
    }

    /// Submits everything prepared and waits for `wait` completions or the timeout
    /// (nil: none). Returns false when the time ran out or a signal came first.
    @inline(__always)
    public func submitAndWait(_ wait: Int, timeoutNanoseconds: Int64?) throws(SystemError) -> Bool {
        let rc = csgb_ring_submit_and_wait(ring, UInt32(wait), timeoutNanoseconds ?? -1)
        if rc >= 0 { return true }
        let error = Errno(-rc)
        if error == Errno(ETIME) || error == .interrupted || error == .resourceBusy { return false }
        throw SystemError("io_uring_enter", error)
    }

    /// Hands each completion to `body` (user data, result) and marks them seen.
    @inline(__always)
    public func reap(_ body: (UInt64, Int32) -> Void) {
        var data = (UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        var results = (Int32(0), Int32(0), Int32(0), Int32(0), Int32(0), Int32(0), Int32(0), Int32(0))
        while true {
            let count = withUnsafeMutableBytes(of: &data) { d in
                withUnsafeMutableBytes(of: &results) { r in
                    Int(csgb_ring_reap(ring, d.baseAddress!.assumingMemoryBound(to: UInt64.self),
                                       r.baseAddress!.assumingMemoryBound(to: Int32.self), 8))
                }
            }
            if count == 0 { return }
            withUnsafeBytes(of: &data) { d in
                withUnsafeBytes(of: &results) { r in
                    let ds = d.bindMemory(to: UInt64.self), rs = r.bindMemory(to: Int32.self)
                    for i in 0..<count { body(ds[i], rs[i]) }
                }
            }
            if count < 8 { return }
        }
    }

    /// io_uring_enter calls made, and SQEs submitted, since the ring was made.
    public var enters: UInt64 { csgb_ring_enters(ring) }
    public var submitted: UInt64 { csgb_ring_submitted(ring) }

    /// Whether this machine can make a ring at all (for `csgb info` and tests).
    public static func probe() -> Errno? {
        do {
            _ = try URing(entries: 2)
            return nil
        } catch {
            return error.errno
        }
    }
}
