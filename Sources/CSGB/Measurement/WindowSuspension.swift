import CSGBSystem

/// Whether the process stood still during its measured window (SIGSTOP and SIGCONT,
/// a debugger, a frozen cgroup, a starved VM): the window's time then includes time
/// nothing ran, so ns/iteration is inflated and must be flagged, never reported as
/// the workload's figure.
public struct WindowSuspension: Sendable {
    let continuesAtOpen: Int

    /// Taken when the window opens.
    public static func open() -> WindowSuspension { WindowSuspension(continuesAtOpen: StopRequest.continueCount) }

    /// A window that ends on its duration may overrun by scheduling latency; beyond
    /// this the coordinator did not run for a while.
    static func allowedOverrun(_ duration: Double) -> Double { max(0.2, duration * 0.1) }

    /// The warning for the report, or nil for a window that ran throughout.
    /// `windowSeconds` is the window's wall time; `duration` the planned one when
    /// the window ended on it.
    public func note(windowSeconds: Double, plannedSeconds: Double?) -> String? {
        let continues = StopRequest.continueCount - continuesAtOpen
        if continues > 0 {
            return "the process was stopped and continued (SIGSTOP/SIGTSTP, SIGCONT) \(continues) time\(continues == 1 ? "" : "s") in the window: its time includes a pause, so ns/iteration is not the workload's"
        }
        if let plannedSeconds, windowSeconds > plannedSeconds + Self.allowedOverrun(plannedSeconds) {
            return "the window ran \(Fmt.fixed(windowSeconds - plannedSeconds, 3)) s past its planned \(Fmt.trimmed(plannedSeconds)) s: the process did not run for part of it (stopped, frozen or starved of CPU), so ns/iteration is not the workload's"
        }
        return nil
    }
}
