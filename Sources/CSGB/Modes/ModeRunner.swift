/// How a mode runs the actors of a plan. The coordinator owns the window, the stop
/// and the report; a mode only starts OS threads, unblocks them on stop and joins.
protocol ModeRunner: AnyObject {
    /// OS threads the mode will create, each of which arrives at the start gate once.
    var threadCount: Int { get }
    /// OS threads actually started so far; each calls `threadFinished` when done.
    var startedThreads: Int { get }
    /// Checks limits and prepares descriptors. Nothing runs yet.
    func prepare(_ context: RunContext) throws
    /// Starts every OS thread; each pins itself, records its tid, arrives at the gate.
    func start(_ context: RunContext) throws
    /// Called after the stop flag is set: unblock whatever is blocked.
    func interrupt(_ context: RunContext)
    /// Waits for every thread to finish.
    func join()
    /// OS threads that carried actors, for the report.
    func osThreads(_ context: RunContext) -> Int
}

extension ModeRunner {
    func osThreads(_ context: RunContext) -> Int { context.threadIDs.count }
}

extension Mode {
    func makeRunner(_ configuration: RunConfiguration) -> any ModeRunner {
        switch self {
        case .thread: return ThreadMode()
        case .green: return GreenMode(configuration)
        case .async: return AsyncMode(configuration)
        }
    }
}
