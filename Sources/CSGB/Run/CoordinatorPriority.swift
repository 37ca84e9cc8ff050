import CSGBSystem

/// What csgb did to the coordinator's priority for the window. The coordinator
/// sleeps through the window; nice −20 only makes it take the window's edges on time
/// instead of queueing behind thousands of runnable actors. A caller who lowered
/// csgb's priority (`nice -n 19 csgb …`) asked for the opposite, so then nothing is raised.
public struct CoordinatorPriority: Sendable, Equatable {
    /// The nice value csgb was started with (its actors keep it).
    public let niceAtStart: Int32
    /// The coordinator thread's nice value while the window was open.
    public let niceInWindow: Int32

    public static let raised: Int32 = -20

    /// Raises the calling thread to nice −20 unless the caller lowered it, or
    /// raising is not permitted (it needs root or CAP_SYS_NICE).
    static func raiseForWindow() -> CoordinatorPriority {
        let current = ThreadPriority.current()
        if current > 0 { return CoordinatorPriority(niceAtStart: current, niceInWindow: current) }
        let permitted = ThreadPriority.set(raised)
        return CoordinatorPriority(niceAtStart: current, niceInWindow: permitted ? raised : current)
    }

    /// Puts the coordinator back where it was (a library caller keeps its thread).
    func restore() {
        if niceInWindow != niceAtStart { ThreadPriority.set(niceAtStart) }
    }

    public var text: String {
        if niceInWindow != niceAtStart {
            return "coordinator at nice \(niceInWindow) while the window was open (started at \(niceAtStart); actors stay at \(niceAtStart))"
        }
        if niceAtStart > 0 {
            return "left at nice \(niceAtStart): csgb was started with a lowered priority, so nothing was raised"
        }
        return "left at nice \(niceAtStart): raising the coordinator needs root or CAP_SYS_NICE"
    }
}
