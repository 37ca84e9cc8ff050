#if canImport(Glibc)
import Glibc
#endif
import SystemPackage

/// errno values are swift-system's `Errno`: readable names and strerror text.
public typealias Errno = SystemPackage.Errno

extension Errno {
    public init(_ rawValue: Int32) { self.init(rawValue: rawValue) }

    /// The calling thread's errno, read right after a failed call. swift-system keeps
    /// its own reader internal, and this layer is the only place that reads errno.
    public static var current: Errno { Errno(rawValue: errno) }
}

/// A failed system call: which call, and why. Nothing above the system layer sees errno.
public struct SystemError: Error, Equatable, Sendable, CustomStringConvertible {
    public let call: String
    public let errno: Errno

    public init(_ call: String, _ errno: Errno = .current) {
        self.call = call
        self.errno = errno
    }

    /// The C shims' one convention: 0 (or a count) on success, -1 with errno set on
    /// failure. Throws the named call's error for -1.
    @inline(__always)
    public static func check<T: FixedWidthInteger>(_ call: @autoclosure () -> String, _ result: T) throws(SystemError) -> T {
        if result == -1 { throw SystemError(call(), .current) }
        return result
    }

    public var description: String { "\(call): \(errno)" }
}
