#if canImport(Glibc)
import Glibc
#endif
import CCSGB

/// A file descriptor this process owns. A value type: closing is explicit.
public struct FileDescriptor: Equatable, Hashable, Sendable {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// Closes the descriptor. The result is ignored: Linux releases the number even
    /// when close reports an error, so there is nothing to retry.
    public func close() { _ = Glibc.close(rawValue) }

    /// Unblocks any thread blocked in read or write on this socket; they then see
    /// end-of-file or EPIPE. The number stays valid, so no racing reader can pick up
    /// a reused descriptor.
    public func shutdown() { _ = Glibc.shutdown(rawValue, Int32(SHUT_RDWR)) }

    /// Closes what this descriptor refers to without freeing its number: the number
    /// now refers to /dev/null. On a pipe's write end this is how readers blocked on
    /// the other end get end-of-file (pipes have no shutdown), without the race of a
    /// plain close where another thread's next open could take the number.
    public func detachToNull() {
        let null = Glibc.open("/dev/null", O_WRONLY | O_CLOEXEC)
        guard null >= 0 else { return }
        _ = csgb_dup_onto(null, rawValue)
        _ = Glibc.close(null)
    }

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

/// Which syscalls move the byte (`--syscalls`): read(2)/write(2), which work on any
/// descriptor, or send(2)/recv(2) with flags 0, sockets only, which skip the VFS
/// layer. The kernel has no send or recv on x86_64 and arm64: libc issues sendto
/// and recvfrom, and those are the syscalls a trace shows.
public enum TransferCalls: String, CaseIterable, Sendable {
    case readWrite = "read-write"
    case sendRecv = "send-recv"

    /// The syscalls a trace shows for a read and for a write.
    public var syscallNames: (read: String, write: String) {
        switch self {
        case .readWrite: return ("read", "write")
        case .sendRecv: return ("recvfrom", "sendto")
        }
    }
}

extension FileDescriptor {
    /// Exactly one write(2) of one byte (retried only on EINTR).
    @inline(__always)
    public func writeByte(_ byte: inout UInt8) -> TransferResult { transferByte(.write, .readWrite, &byte) }

    /// Exactly one read(2) of one byte (retried only on EINTR).
    @inline(__always)
    public func readByte(_ byte: inout UInt8) -> TransferResult { transferByte(.read, .readWrite, &byte) }

    /// One read(2) or write(2) of one byte (recv or send with `.sendRecv`), retried
    /// only on EINTR.
    @inline(__always)
    public func transferByte(_ direction: TransferDirection, _ calls: TransferCalls,
                             _ byte: inout UInt8) -> TransferResult {
        while true {
            let n = switch (direction, calls) {
            case (.write, .readWrite): Glibc.write(rawValue, &byte, 1)
            case (.read, .readWrite): Glibc.read(rawValue, &byte, 1)
            case (.write, .sendRecv): Glibc.send(rawValue, &byte, 1, 0)
            case (.read, .sendRecv): Glibc.recv(rawValue, &byte, 1, 0)
            }
            if n == 1 { return .done }
            if n < 0 {
                let e = Errno.current
                if e == .interrupted { continue }
                if e == .resourceTemporarilyUnavailable { return .wouldBlock }
            }
            return .closed
        }
    }
}

extension FileDescriptor {
    /// open(2) with O_CLOEXEC added.
    /// `mode` applies when `flags` has O_CREAT (before the umask).
    public static func open(_ path: String, _ flags: Int32, mode: mode_t = 0) throws(SystemError) -> FileDescriptor {
        let fd = Glibc.open(path, flags | O_CLOEXEC, mode)
        if fd < 0 { throw SystemError("open \(path)") }
        return FileDescriptor(rawValue: fd)
    }

    /// Waits up to `milliseconds` for something to read; false on timeout.
    public func waitReadable(milliseconds: Int32) throws(SystemError) -> Bool {
        while true {
            var poller = pollfd(fd: rawValue, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, milliseconds)
            if ready >= 0 { return ready > 0 }
            if Errno.current != .interrupted { throw SystemError("poll") }
        }
    }

    /// One read(2) into `buffer`: the bytes read (0 at end of file), or nil when a
    /// non-blocking descriptor has nothing yet. Retried on EINTR.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> Int? {
        while true {
            let n = Glibc.read(rawValue, buffer.baseAddress, buffer.count)
            if n >= 0 { return n }
            let error = Errno.current
            if error == .interrupted { continue }
            if error == .resourceTemporarilyUnavailable { return nil }
            throw SystemError("read", error)
        }
    }

    /// Writes all of `bytes`, retrying on EINTR and short writes.
    public func write(_ bytes: UnsafeRawBufferPointer) throws(SystemError) {
        var written = 0
        try write(bytes, written: &written)
    }

    /// Writes all of `bytes`; `written` says how far it got when it fails.
    public func write(_ bytes: UnsafeRawBufferPointer, written offset: inout Int) throws(SystemError) {
        offset = 0
        while offset < bytes.count {
            let n = Glibc.write(rawValue, bytes.baseAddress! + offset, bytes.count - offset)
            if n >= 0 {
                offset += n
                continue
            }
            if Errno.current != .interrupted { throw SystemError("write") }
        }
    }
}

extension FileDescriptor {
    public static let standardOutput = FileDescriptor(rawValue: 1)

    /// Whether the number refers to an open file at all.
    public var isOpen: Bool { fcntl(rawValue, F_GETFD) != -1 }

    /// Creates (or truncates) the file at `path`, readable by all as results should
    /// be (0644 before the umask), and writes `text` into it. A close that reports a
    /// failed write (NFS, a full disk) is a failure too.
    public static func writeFile(_ path: String, _ text: String) throws(SystemError) {
        try write(text, into: try open(path, O_WRONLY | O_CREAT | O_TRUNC, mode: 0o644), path)
    }

    /// Creates the file at `path` only if nothing is there (O_EXCL: of two processes
    /// at once exactly one succeeds) and writes `text` into it: true when this call
    /// made it, false when it existed.
    public static func createNewFile(_ path: String, _ text: String) throws(SystemError) -> Bool {
        let fd: FileDescriptor
        do {
            fd = try open(path, O_WRONLY | O_CREAT | O_EXCL, mode: 0o644)
        } catch {
            if error.errno == .fileExists { return false }
            throw error
        }
        try write(text, into: fd, path)
        return true
    }

    private static func write(_ text: String, into fd: FileDescriptor, _ path: String) throws(SystemError) {
        let bytes = Array(text.utf8)
        let failure: SystemError? = bytes.withUnsafeBytes { buffer in
            do throws(SystemError) { try fd.write(buffer) } catch { return SystemError("write \(path)", error.errno) }
            return nil
        }
        let closed = Glibc.close(fd.rawValue) == 0 ? nil : SystemError("close \(path)")
        if let failure { throw failure }
        if let closed { throw closed }
    }

    /// Whether anything exists at `path` (a file, a folder, a dangling link).
    public static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    /// Whether `path` is a folder.
    public static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return statPath(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// Bytes an unprivileged writer may still put into the file system holding `path`.
    public static func availableBytes(_ path: String) throws(SystemError) -> UInt64 {
        var info = statvfs()
        if statFileSystem(path, &info) != 0 { throw SystemError("statvfs \(path)") }
        return UInt64(info.f_bavail) * UInt64(info.f_frsize)
    }

    /// Removes a file; a missing one is not an error.
    public static func remove(_ path: String) {
        unlink(path)
    }

    /// Removes a folder if it is empty, and says whether it did.
    @discardableResult
    public static func removeEmptyDirectory(_ path: String) -> Bool {
        rmdir(path) == 0
    }

    /// `mkdir -p`: the directory and its parents. Returns the folders it created,
    /// outermost first, so a run that fails can take back what it made.
    @discardableResult
    public static func makeDirectories(_ path: String) throws(SystemError) -> [String] {
        var prefix = path.hasPrefix("/") ? "/" : ""
        var created: [String] = []
        for component in path.split(separator: "/") {
            prefix += component
            if mkdir(prefix, 0o755) == 0 {
                created.append(prefix)
            } else if Errno.current != .fileExists {
                throw SystemError("mkdir \(prefix)")
            }
            prefix += "/"
        }
        return created
    }
}

// Outside the extension, where `stat` and `statvfs` name the functions rather than
// the structures' initializers.
private func statPath(_ path: String, _ info: inout stat) -> Int32 { stat(path, &info) }
private func statFileSystem(_ path: String, _ info: inout statvfs) -> Int32 { statvfs(path, &info) }
