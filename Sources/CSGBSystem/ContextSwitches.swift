/// Voluntary (the thread blocked) and involuntary (it was preempted) context
/// switches. The kernel keeps these per thread whatever perf says, so no
/// permission is needed.
public struct ContextSwitches: Equatable, Sendable {
    public var voluntary: UInt64
    public var involuntary: UInt64

    public init(voluntary: UInt64, involuntary: UInt64) {
        self.voluntary = voluntary
        self.involuntary = involuntary
    }

    public static let zero = ContextSwitches(voluntary: 0, involuntary: 0)

    public var total: UInt64 { voluntary &+ involuntary }

    public static func - (a: ContextSwitches, b: ContextSwitches) -> ContextSwitches {
        ContextSwitches(voluntary: a.voluntary &- b.voluntary, involuntary: a.involuntary &- b.involuntary)
    }

    public static func + (a: ContextSwitches, b: ContextSwitches) -> ContextSwitches {
        ContextSwitches(voluntary: a.voluntary + b.voluntary, involuntary: a.involuntary + b.involuntary)
    }
}
