/// Context switches of one OS thread, from /proc/self/task/TID/status. The kernel
/// keeps these per thread whatever perf says, so no permission is needed.
public struct ContextSwitches: Equatable, Sendable {
    public var voluntary: UInt64
    public var involuntary: UInt64

    public static let zero = ContextSwitches(voluntary: 0, involuntary: 0)

    public static func - (a: ContextSwitches, b: ContextSwitches) -> ContextSwitches {
        ContextSwitches(voluntary: a.voluntary &- b.voluntary, involuntary: a.involuntary &- b.involuntary)
    }

    public static func + (a: ContextSwitches, b: ContextSwitches) -> ContextSwitches {
        ContextSwitches(voluntary: a.voluntary + b.voluntary, involuntary: a.involuntary + b.involuntary)
    }

    /// Reads one thread's counts; nil when the thread is gone.
    public static func read(thread tid: Int32) -> ContextSwitches? {
        guard let text = try? ProcFile.read("/proc/self/task/\(tid)/status") else { return nil }
        return parse(status: text)
    }

    /// Parses the two `*_ctxt_switches` lines of a status file.
    public static func parse(status text: String) -> ContextSwitches? {
        var voluntary: UInt64?
        var involuntary: UInt64?
        for line in text.split(separator: "\n") {
            if line.hasPrefix("voluntary_ctxt_switches:") {
                voluntary = UInt64(line.dropFirst("voluntary_ctxt_switches:".count).trimmingCharacters(in: .whitespacesAndNewlines))
            } else if line.hasPrefix("nonvoluntary_ctxt_switches:") {
                involuntary = UInt64(line.dropFirst("nonvoluntary_ctxt_switches:".count).trimmingCharacters(in: .whitespacesAndNewlines))
            }
        }
        guard let voluntary, let involuntary else { return nil }
        return ContextSwitches(voluntary: voluntary, involuntary: involuntary)
    }
}

extension Substring {
    func trimmingCharacters(in set: Set<Character>) -> String { String(self).trimmingCharacters(in: set) }
}
