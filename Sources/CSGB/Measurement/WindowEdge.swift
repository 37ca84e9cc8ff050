import CSGBSystem

/// Everything read at one edge of the measured window. The report is the
/// difference of two edges, so every figure covers the window only. Taking an
/// edge costs a few microseconds: the coordinator may be starved by thousands of
/// runnable actor threads, and a slow edge would blur the window.
public struct WindowEdge: Sendable {
    public let timeNanoseconds: Int64
    public let iterations: [UInt64]
    public let eagain: [UInt64]
    /// Actors whose run ended on a failed transfer so far.
    public let failedTransfers: UInt64
    public var usage: ProcessUsage
    /// What every ring of the run did so far.
    public let rings: RingTotals
    /// CPU time of the kernel's SQ poller threads so far (`--sqpoll` only: listing
    /// every thread at an edge is not free).
    public let pollerNanoseconds: UInt64
    /// The SQ poller threads of this process at this edge (`--sqpoll`; nil where
    /// the rings live in other processes).
    public var pollerThreads: Int? = nil
    /// Per actor, whether its getrusage is from this edge; nil where the actors'
    /// usage is this process's own, read at the edge itself.
    public var usageAnswered: [Bool]? = nil

    static func take(_ context: RunContext) -> WindowEdge {
        let time = MonotonicClock.nanoseconds()
        let slots = context.slots
        let iterations = (0..<slots.count).map { slots.iterations($0) }
        let eagain = (0..<slots.count).map { slots.eagain($0) }
        let rings = context.rings.totals
        let sqpoll = context.configuration.pollsSubmissions
        let failed = (0..<slots.count).reduce(UInt64(0)) { $0 + slots.failed($1) }
        let pollers = sqpoll ? ThreadCPUTime.sample(namePrefix: "iou-sqp") : (threads: 0, nanoseconds: 0)
        return WindowEdge(timeNanoseconds: time, iterations: iterations, eagain: eagain, failedTransfers: failed,
                          usage: .now(),
                          rings: rings,
                          pollerNanoseconds: pollers.nanoseconds,
                          pollerThreads: sqpoll ? pollers.threads : nil)
    }
}
