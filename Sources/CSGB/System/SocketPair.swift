#if canImport(Glibc)
import Glibc
#endif

/// A file descriptor this process owns. A value type: closing is explicit.
public struct FileDescriptor: Equatable, Hashable, Sendable {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    public func close() { _ = Glibc.close(rawValue) }

    /// Unblocks any thread blocked in read or write on this descriptor; they then
    /// see end-of-file or EPIPE. Used to stop thread mode.
    public func shutdown() { _ = Glibc.shutdown(rawValue, Int32(SHUT_RDWR)) }

    public func setNonBlocking() throws(SystemError) {
        let flags = fcntl(rawValue, F_GETFL)
        if flags < 0 { throw SystemError("fcntl(F_GETFL)") }
        if fcntl(rawValue, F_SETFL, flags | O_NONBLOCK) < 0 { throw SystemError("fcntl(F_SETFL)") }
    }
}

/// The outcome of a 1-byte transfer on the hot path. Not an error type: the hot
/// loop branches on it without throwing.
public enum TransferResult: Equatable, Sendable {
    case done
    /// Non-blocking descriptor with nothing to transfer: a bug in an echo that only
    /// reads after the peer wrote, counted and reported as `eagain`.
    case wouldBlock
    /// End of file, EPIPE or another error: the run is over for this actor.
    case closed
}

/// Which way a 1-byte transfer goes.
public enum TransferDirection: Sendable {
    case read, write
}

extension FileDescriptor {
    /// Exactly one write(2) of one byte (retried only on EINTR).
    @inline(__always)
    public func writeByte(_ byte: inout UInt8) -> TransferResult { transferByte(.write, &byte) }

    /// Exactly one read(2) of one byte (retried only on EINTR).
    @inline(__always)
    public func readByte(_ byte: inout UInt8) -> TransferResult { transferByte(.read, &byte) }

    /// One read(2) or write(2) of one byte, retried only on EINTR.
    @inline(__always)
    public func transferByte(_ direction: TransferDirection, _ byte: inout UInt8) -> TransferResult {
        while true {
            let n = direction == .write ? Glibc.write(rawValue, &byte, 1) : Glibc.read(rawValue, &byte, 1)
            if n == 1 { return .done }
            if n < 0 {
                let e = errno
                if e == EINTR { continue }
                if e == EAGAIN { return .wouldBlock }
            }
            return .closed
        }
    }
}

/// Two connected AF_UNIX SOCK_STREAM endpoints.
public struct SocketPair: Sendable {
    public let first: FileDescriptor
    public let second: FileDescriptor

    public init() throws(SystemError) {
        var fds: [Int32] = [-1, -1]
        let rc = socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds)
        if rc != 0 { throw SystemError("socketpair") }
        first = FileDescriptor(rawValue: fds[0])
        second = FileDescriptor(rawValue: fds[1])
    }
}
