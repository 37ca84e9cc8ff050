import CCSGB

/// Everything read at one edge of the measured window. The report is the
/// difference of two edges, so every figure covers the window only.
public struct WindowEdge: Sendable {
    public let timeNanoseconds: Int64
    public let iterations: [UInt64]
    public let eagain: [UInt64]
    public let switches: ContextSwitches
    public let usage: ProcessUsage

    /// Counts first (they move fastest), then the slower /proc reads.
    static func take(_ context: RunContext, threads: [Int32]) -> WindowEdge {
        let time = csgb_monotonic_ns()
        let slots = context.slots
        let iterations = (0..<slots.count).map { slots.iterations($0) }
        let eagain = (0..<slots.count).map { slots.eagain($0) }
        var switches = ContextSwitches.zero
        for tid in threads {
            if let counts = ContextSwitches.read(thread: tid) { switches = switches + counts }
        }
        return WindowEdge(timeNanoseconds: time, iterations: iterations, eagain: eagain,
                          switches: switches, usage: .now())
    }
}
