/// The bookkeeping of one actor's passes through its script, shared by every mode's
/// interpreter: count the pass, publish it to the actor's slot, time the sampled
/// ones for `--latency`, count EAGAINs. A value type kept in the interpreter's frame:
/// nothing here allocates, locks or retains.
struct PassRecorder {
    private let slot: ActorSlot
    private let latency: LatencyProbe?
    private(set) var passes: UInt64 = 0
    private var eagain: UInt64 = 0
    private var sampleStart: Int64 = 0

    init(actor index: Int, context: RunContext) {
        slot = context.slots.slot(index)
        latency = context.latencyProbe(forActor: index)
    }

    @inline(__always)
    mutating func beginPass() {
        sampleStart = latency?.begin(pass: passes) ?? 0
    }

    @inline(__always)
    mutating func endPass() {
        passes &+= 1
        slot.publish(iterations: passes)
        if sampleStart != 0 { latency!.end(started: sampleStart) }
    }

    /// A non-blocking read or write found nothing: a bug in an echo that only reads
    /// after the peer wrote, counted so that the report shows it.
    mutating func countEAGAIN() {
        eagain &+= 1
        slot.publish(eagain: eagain)
    }

    /// The actor's read or write failed or came up short (a CQE error, end of file,
    /// a short transfer) while the run was not stopping: its run ends here, and the
    /// report counts it instead of a starved actor nobody can explain.
    func transferFailed(stopping: Bool) {
        if !stopping { slot.publishFailure() }
    }
}
