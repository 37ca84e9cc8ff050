import CSGBSystem

/// Whether the process stood still during its measured window (SIGSTOP and SIGCONT,
/// a debugger, a frozen cgroup, a starved VM): the window's time then includes time
/// nothing ran, so ns/iteration is inflated and must be flagged, never reported as
/// the workload's figure.
///
/// A stop is counted by its SIGCONT handled inside the window: after the window
/// opened and before it closed or a stop signal came, whichever is first. GNU
/// `timeout` sends SIGCONT right after its SIGINT or SIGTERM; that continue comes
/// after the window's end, or from the stop signal's sender within
/// `StopRequest.followNanoseconds` of it, and is not a pause. A process cannot read
/// its own stops from the kernel (only its parent can, with waitid), so a SIGCONT
/// sent inside the window to a process that was not stopped still counts.
public struct WindowSuspension: Sendable {
    /// When the window opened (monotonic ns).
    let openedAt: Int64

    /// Taken when the window opens.
    public static func open() -> WindowSuspension { WindowSuspension(openedAt: MonotonicClock.nanoseconds()) }

    /// The continues inside the window that closed at `closedAt` (monotonic ns).
    func continues(closedAt: Int64) -> Int {
        let end = min(closedAt, StopRequest.signalTime ?? closedAt)
        return StopRequest.continues(from: openedAt, to: end)
    }

    /// A window that ends on its duration may overrun by scheduling latency; beyond
    /// this the coordinator did not run for a while.
    static func allowedOverrun(_ duration: Double) -> Double { max(0.2, duration * 0.1) }

    /// The warning for the report, or nil for a window that ran throughout.
    /// `windowSeconds` is the window's wall time; `duration` the planned one when
    /// the window ended on it.
    public func note(windowSeconds: Double, plannedSeconds: Double?, closedAt: Int64 = MonotonicClock.nanoseconds()) -> String? {
        let continues = continues(closedAt: closedAt)
        if continues > 0 {
            return "the process was stopped and continued (SIGSTOP/SIGTSTP, SIGCONT) \(continues) time\(continues == 1 ? "" : "s") in the window: its time includes a pause, so ns/iteration is not the workload's"
        }
        if let plannedSeconds, windowSeconds > plannedSeconds + Self.allowedOverrun(plannedSeconds) {
            return "the window ran \(Fmt.fixed(windowSeconds - plannedSeconds, 3)) s past its planned \(Fmt.trimmed(plannedSeconds)) s: the process did not run for part of it (stopped, frozen or starved of CPU), so ns/iteration is not the workload's"
        }
        return nil
    }
}
