#if canImport(Glibc)
import Glibc
#endif
import CCSGB

/// One end of a local socket that hands descriptors to another process (SCM_RIGHTS),
/// a message at a time, each tagged with a number. The receiver gets its own
/// descriptors for the same open files; nothing else of the sender's table.
public struct DescriptorChannel: Sendable {
    public let descriptor: FileDescriptor

    public init(_ descriptor: FileDescriptor) { self.descriptor = descriptor }

    /// The most descriptors one message carries.
    public static let batch = 8

    /// Two connected ends, both closed on exec unless a spawn keeps one.
    public static func pair() throws(SystemError) -> (DescriptorChannel, DescriptorChannel) {
        var fds: [Int32] = [-1, -1]
        if csgb_descriptor_socket_pair(&fds) != 0 { throw SystemError("socketpair(SOCK_SEQPACKET)") }
        return (DescriptorChannel(FileDescriptor(rawValue: fds[0])), DescriptorChannel(FileDescriptor(rawValue: fds[1])))
    }

    /// Sends `tag` with `descriptors` attached; blocks while the receiver's queue is full.
    public func send(tag: UInt32, _ descriptors: [FileDescriptor]) throws(SystemError) {
        let raw = descriptors.map(\.rawValue)
        let rc = raw.withUnsafeBufferPointer { csgb_send_descriptors(descriptor.rawValue, tag, $0.baseAddress, Int32($0.count)) }
        if rc != 0 { throw SystemError("sendmsg(SCM_RIGHTS)") }
    }

    /// The next message, nil at the end of the stream (the sender closed or shut
    /// down its end).
    public func receive() throws(SystemError) -> (tag: UInt32, descriptors: [FileDescriptor])? {
        var tag: UInt32 = 0
        var raw = [Int32](repeating: -1, count: Self.batch)
        let count = raw.withUnsafeMutableBufferPointer { csgb_receive_descriptors(descriptor.rawValue, &tag, $0.baseAddress, Int32($0.count)) }
        if count == -2 { return nil }
        if count < 0 { throw SystemError("recvmsg(SCM_RIGHTS)") }
        return (tag, raw.prefix(Int(count)).map { FileDescriptor(rawValue: $0) })
    }

    /// Ends the stream for both sides: a blocked send fails, the receiver reads what
    /// is queued and then the end.
    public func shutdown() { descriptor.shutdown() }

    public func close() { descriptor.close() }
}
