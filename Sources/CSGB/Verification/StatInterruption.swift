/// A `csgb stat` that a stop signal ended early: which run it hit, and whether that
/// run was cut short (not judged) or never started.
public struct StatInterruption: Sendable, Equatable {
    /// "SIGINT", "SIGTERM", "SIGQUIT", "SIGHUP".
    public let signal: String
    /// The run (1-based) that was cut short or not started.
    public let run: Int
    public let requested: Int
    /// True when the run had started and its window was cut short; false when the
    /// stop came between runs.
    public let cutShort: Bool

    public var text: String {
        let which = requested == 1 ? "the run" : "run \(run) of \(requested)"
        if cutShort {
            return "stopped by \(signal) before \(which) completed its window, so \(requested == 1 ? "it" : "that run") was not judged"
        }
        return "stopped by \(signal) before \(which) started"
    }
}
