import CSGBSystem
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
    /// Threads (or processes) waiting at the start gate so far.
    func arrivals(_ context: RunContext) -> Int
    /// Lets every actor go.
    func openGate(_ context: RunContext)
    /// The figures at one edge of the window.
    func takeEdge(_ context: RunContext) -> WindowEdge
    /// What an edge gathers after its moment (figures the actors must report
    /// themselves), waiting at most until `deadline` (monotonic ns) when one is
    /// given; called after the last edge's observers have closed the window, so
    /// that waiting for them counts in no window.
    func finishEdge(_ edge: WindowEdge, _ context: RunContext, by deadline: Int64?) -> WindowEdge
    /// Passes actor `actor` has published so far.
    func passes(_ actor: Int, _ context: RunContext) -> UInt64
    /// Threads (or processes) that have left their actors.
    func finishedThreads(_ context: RunContext) -> Int
    /// Why the run ended, when neither the duration nor a signal ended it.
    func stopCause(_ context: RunContext) -> String?
    /// Called at each poll once the stop has made no progress for
    /// `Benchmark.stallSeconds`, with how long: a mode whose carriers can be ended by
    /// force (processes) kills and reaps what does not answer when it is stopped or
    /// has stalled far too long, says so in `stopCause`, and returns true. Threads
    /// of this process cannot be; the default does nothing.
    func abandon(_ context: RunContext, stalledSeconds: Double) -> Bool
    /// Memory the actors hold outside this process at the gate (their own
    /// processes), nil when every actor lives in this one; throws when it could not
    /// be read.
    func residentBytesElsewhere(_ context: RunContext) throws(SystemError) -> Int?
}

// Actors in this process share the coordinator's memory: the gate, the counters
// and getrusage(RUSAGE_SELF) are read in place. A mode whose actors live elsewhere
// answers these itself.
extension ModeRunner {
    func osThreads(_ context: RunContext) -> Int { context.threadIDs.count }
    func arrivals(_ context: RunContext) -> Int { context.gate.arrivals }
    func openGate(_ context: RunContext) { context.gate.open() }
    func takeEdge(_ context: RunContext) -> WindowEdge { WindowEdge.take(context) }
    func finishEdge(_ edge: WindowEdge, _ context: RunContext, by deadline: Int64?) -> WindowEdge { edge }
    func finishedThreads(_ context: RunContext) -> Int { context.finishedThreads }
    func passes(_ actor: Int, _ context: RunContext) -> UInt64 { context.slots.iterations(actor) }
    func stopCause(_ context: RunContext) -> String? { nil }
    func abandon(_ context: RunContext, stalledSeconds: Double) -> Bool { false }
    func residentBytesElsewhere(_ context: RunContext) throws(SystemError) -> Int? { nil }
}
