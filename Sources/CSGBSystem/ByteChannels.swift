#if canImport(Glibc)
import Glibc
#endif
import CCSGB

/// The kernel objects that carry one byte between two actors: a Unix socketpair,
/// two pipes, or a TCP connection over loopback. Each end has an input (read from)
/// and an output (written to); for sockets they are the same descriptor.
public struct ChannelEnd: Sendable, Equatable {
    public let input: FileDescriptor
    public let output: FileDescriptor
    public init(input: FileDescriptor, output: FileDescriptor) {
        self.input = input
        self.output = output
    }
}

/// Two connected ends and how to stop whoever blocks on them.
public struct ByteChannel: Sendable {
    public enum Kind: String, CaseIterable, Sendable {
        /// AF_UNIX SOCK_STREAM socketpair: one descriptor per end, both ways.
        case unix
        /// Two pipes, one per direction: two descriptors per end.
        case pipe
        /// A TCP connection over 127.0.0.1 with TCP_NODELAY.
        case tcp
    }

    public let kind: Kind
    public let first: ChannelEnd
    public let second: ChannelEnd

    /// Every descriptor the channel owns, each once.
    public var descriptors: [FileDescriptor] {
        var all: [FileDescriptor] = []
        for fd in [first.input, first.output, second.input, second.output] where !all.contains(fd) { all.append(fd) }
        return all
    }

    /// Descriptors one channel of `kind` opens.
    public static func descriptorCount(_ kind: Kind) -> Int { kind == .pipe ? 4 : 2 }

    /// Makes a thread blocked in read or write on either end return: sockets are
    /// shut down (EOF / EPIPE); pipes have their write ends detached, so readers see
    /// EOF and later writes go nowhere. Repeating it is harmless.
    public func interrupt() {
        switch kind {
        case .unix, .tcp:
            first.input.shutdown()
            second.input.shutdown()
        case .pipe:
            first.output.detachToNull()
            second.output.detachToNull()
        }
    }

    public static func unixSocketPair() throws(SystemError) -> ByteChannel {
        var fds: [Int32] = [-1, -1]
        let rc = socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds)
        if rc != 0 { throw SystemError("socketpair") }
        let a = FileDescriptor(rawValue: fds[0]), b = FileDescriptor(rawValue: fds[1])
        return ByteChannel(kind: .unix, first: ChannelEnd(input: a, output: a), second: ChannelEnd(input: b, output: b))
    }

    public static func pipes() throws(SystemError) -> ByteChannel {
        let forward = try pipe()
        let backward: (read: FileDescriptor, write: FileDescriptor)
        do {
            backward = try pipe()
        } catch {
            forward.read.close()
            forward.write.close()
            throw error
        }
        return ByteChannel(kind: .pipe,
                           first: ChannelEnd(input: backward.read, output: forward.write),
                           second: ChannelEnd(input: forward.read, output: backward.write))
    }

    private static func pipe() throws(SystemError) -> (read: FileDescriptor, write: FileDescriptor) {
        var fds: [Int32] = [-1, -1]
        if csgb_pipe(&fds) != 0 { throw SystemError("pipe2") }
        return (FileDescriptor(rawValue: fds[0]), FileDescriptor(rawValue: fds[1]))
    }

    /// Connects to `listener` and accepts the connection: both ends exist before
    /// this returns, so no handshake lands in a measured window.
    public static func tcp(through listener: LoopbackListener) throws(SystemError) -> ByteChannel {
        let client = try LoopbackListener.socket()
        var address = listener.address
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(client.rawValue, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        if rc != 0 {
            let error = SystemError("connect 127.0.0.1:\(listener.port)")
            client.close()
            throw error
        }
        let server: FileDescriptor
        do {
            server = try listener.accept()
            try client.setNoDelay()
            try server.setNoDelay()
        } catch {
            client.close()
            throw error
        }
        return ByteChannel(kind: .tcp, first: ChannelEnd(input: client, output: client),
                           second: ChannelEnd(input: server, output: server))
    }
}

/// A TCP listener on 127.0.0.1 and an ephemeral port, for the channels of one plan.
public struct LoopbackListener: Sendable {
    public let descriptor: FileDescriptor
    public let port: UInt16
    let address: sockaddr_in

    public init(backlog: Int32 = 128) throws(SystemError) {
        descriptor = try LoopbackListener.socket()
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let fd = descriptor.rawValue
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Int32 in
                if bind(fd, pointer, length) != 0 { return -1 }
                if listen(fd, backlog) != 0 { return -1 }
                return getsockname(fd, pointer, &length)
            }
        }
        if bound != 0 {
            let error = SystemError("bind/listen on 127.0.0.1")
            descriptor.close()
            throw error
        }
        self.address = address
        port = UInt16(bigEndian: address.sin_port)
    }

    func accept() throws(SystemError) -> FileDescriptor {
        while true {
            let fd = csgb_accept(descriptor.rawValue)
            if fd >= 0 { return FileDescriptor(rawValue: fd) }
            if Errno.current != .interrupted { throw SystemError("accept 127.0.0.1:\(port)") }
        }
    }

    static func socket() throws(SystemError) -> FileDescriptor {
        let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        if fd < 0 { throw SystemError("socket(AF_INET)") }
        return FileDescriptor(rawValue: fd)
    }

    public func close() { descriptor.close() }
}

extension FileDescriptor {
    /// TCP_NODELAY: each 1-byte write leaves at once instead of waiting for Nagle.
    func setNoDelay() throws(SystemError) {
        var on: Int32 = 1
        if setsockopt(rawValue, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size)) != 0 {
            throw SystemError("setsockopt(TCP_NODELAY)")
        }
    }
}
