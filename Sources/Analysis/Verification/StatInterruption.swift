import CSGB
/// A `csgb stat` that a stop signal ended early: which run it hit, and whether that
/// run was cut short (not judged) or never started.
public struct StatInterruption: Sendable, Equatable {
    /// For the report's `runs` line: what happened, and that the cut run is not judged.
    public var reportText: String { text + (cutShort ? ", so that run is not judged" : "") }

    /// "SIGINT", "SIGTERM", "SIGQUIT", "SIGHUP".
    public let signal: String
    /// The run (1-based) that was cut short or not started.
    public let run: Int
    public let requested: Int
    /// True when the run had started and its window was cut short; false when the
    /// stop came between runs.
    public let cutShort: Bool

    /// "stopped by SIGINT before run 3 of 3 completed its window".
    public var text: String {
        let which = requested == 1 ? "the run" : "run \(run) of \(requested)"
        return "stopped by \(signal) before \(which) " + (cutShort ? "completed its window" : "started")
    }
}
