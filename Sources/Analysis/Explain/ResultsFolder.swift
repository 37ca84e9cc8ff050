#if canImport(Glibc)
import Glibc
#endif
import CSGB
import CSGBSystem

/// The folder one `csgb explain` run writes its flame graphs, folded stacks,
/// timeline and report into.
public struct ResultsFolder: Sendable {
    public let path: String

    /// Creates the folder and its parents.
    public init(_ path: String) throws(SystemError) {
        self.path = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
        try FileDescriptor.makeDirectories(self.path)
    }

    public func file(_ name: String) -> String { "\(path)/\(name)" }

    public func write(_ name: String, _ text: String) throws(SystemError) {
        try FileDescriptor.writeFile(file(name), text)
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
