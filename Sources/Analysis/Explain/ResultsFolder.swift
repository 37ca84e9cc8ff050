#if canImport(Glibc)
import CSGB
import CSGBSystem
import Glibc
#endif

/// The folder one `csgb explain` run writes its flame graphs, folded stacks,
/// timeline and report into.
public struct ResultsFolder: Sendable {
    public let path: String

    /// Creates the folder and its parents.
    public init(_ path: String) throws(SystemError) {
        self.path = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
        var prefix = self.path.hasPrefix("/") ? "/" : ""
        for component in self.path.split(separator: "/") {
            prefix += component
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST { throw SystemError("mkdir \(prefix)") }
            prefix += "/"
        }
    }

    public func file(_ name: String) -> String { "\(path)/\(name)" }

    public func write(_ name: String, _ text: String) throws(SystemError) {
        let target = file(name)
        let fd = open(target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd < 0 { throw SystemError("open \(target)") }
        defer { close(fd) }
        var remaining = Array(text.utf8)[...]
        while !remaining.isEmpty {
            let n = remaining.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw SystemError("write \(target)")
            }
            remaining = remaining.dropFirst(n)
        }
    }

    /// `csgb-explain-20261201-052233`, in UTC, for a run given no `--out`.
    public static func defaultName() -> String {
        var now = time(nil)
        var parts = tm()
        gmtime_r(&now, &parts)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "csgb-explain-\(parts.tm_year + 1900)\(two(parts.tm_mon + 1))\(two(parts.tm_mday))-\(two(parts.tm_hour))\(two(parts.tm_min))\(two(parts.tm_sec))"
    }
}
