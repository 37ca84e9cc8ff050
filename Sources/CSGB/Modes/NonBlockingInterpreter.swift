import CSGBSystem

/// What a non-blocking actor waits for when its script cannot go on without
/// another actor (or its worker's ring) running first.
enum NonBlockingSuspension {
    /// Until its peer wakes it.
    case peer
    /// Until its worker has reaped the ring entry it submitted.
    case ring
    /// Until the other actors of its worker have had their turn.
    case turn
    /// The actor's run is over (the stop, or a failed transfer).
    case finished
}

/// How a non-blocking actor wakes its peer: green threads unpark a fiber, tasks
/// notify a one-permit notify. Called on the actor's own worker, mid-script.
protocol PeerWaking {
    func wakePeer()
}

/// The interpreter of green and async mode, written once: the script runs until it
/// has to wait, and `advance` says what for; the mode's own loop then parks the
/// green thread or awaits, and calls `advance` again. Swift cannot be generic over
/// `async`, so the waiting stays in the modes and everything else (the script, the
/// ring, EAGAIN, the stop, the bookkeeping) is here. Reads and writes are
/// non-blocking and come after the peer's wake, so none should find its descriptor
/// empty; one that does is counted and retried after a turn.
struct NonBlockingInterpreter<Waker: PeerWaking, Phases: PhaseProbe> {
    /// What to finish, on the next `advance`, of the operation the actor waited in.
    private enum Pending {
        case nothing
        case peerWait
        case ringTransfer
        case detachedWrite
        case retryTransfer
        case turnTaken
    }

    private let index: Int
    var actor: Int { index }
    private let script: [Operation]
    private let buffer: TouchBuffer
    private let input: FileDescriptor?
    private let output: FileDescriptor?
    private let ring: WorkerRing?
    /// Per position: a write that goes to the ring linked to the peer's read, whose
    /// outcome is collected at the actor's next transfer.
    private let detaches: [Bool]
    private let calls: TransferCalls
    private unowned(unsafe) let context: RunContext
    private let waker: Waker
    private var passes: PassRecorder
    private var phases: Phases
    private var position = 0
    /// Whether the first pass has begun (its stop check and `beginPass` are done
    /// at each wrap of `position` after that).
    private var started = false
    private var pending = Pending.nothing
    private var writeInFlight = false
    private var byte: UInt8 = 0

    /// Made on the actor's own worker, where its work is first timed alone.
    init(actor index: Int, context: RunContext, ring: WorkerRing?, waker: Waker, phases: Phases) {
        let plan = context.actors[index]
        self.index = index
        script = plan.script
        buffer = context.buffers[index]
        input = plan.channel?.input
        output = plan.channel?.output
        self.ring = ring
        detaches = LinkedTransfers.detachedWrites(script, linking: ring != nil && context.configuration.linksRingEntries)
        calls = context.configuration.syscalls
        self.context = context
        self.waker = waker
        passes = PassRecorder(actor: index, context: context)
        self.phases = phases
        self.phases.timeWorkAlone(buffer)
    }

    /// Runs the script from where it stopped until the actor must wait.
    @inline(__always)
    mutating func advance() -> NonBlockingSuspension {
        switch pending {
        case .nothing, .retryTransfer:
            break
        case .turnTaken:
            phases.after(position)
            position &+= 1
        case .peerWait:
            if context.shouldStop { return finish() }
            phases.after(position)
            position &+= 1
        case .ringTransfer:
            if context.shouldStop { return finish() }
            if ring!.outcome(actor: index, byte: &byte) != .done { return failed() }
            phases.after(position)
            position &+= 1
        case .detachedWrite:
            // The write went first; its result counts before the transfer at `position`.
            if context.shouldStop { return finish() }
            var ignored: UInt8 = 0
            if ring!.outcome(actor: index, byte: &ignored) != .done { return failed() }
        }
        pending = .nothing
        if !started {
            if context.shouldStop { return finish() }
            passes.beginPass()
            started = true
        }
        while true {
            if position == script.count {
                passes.endPass()
                if context.shouldStop { return finish() }
                passes.beginPass()
                position = 0
            }
            phases.before(position)
            switch script[position] {
            case .touch:
                buffer.touch()
            case .write, .read:
                let direction: TransferDirection = script[position] == .write ? .write : .read
                if let ring {
                    if writeInFlight {
                        writeInFlight = false
                        guard let result = ring.detachedOutcome(actor: index) else {
                            pending = .detachedWrite
                            return .ring
                        }
                        if result != .done { return failed() }
                    }
                    let detach = detaches[position]
                    guard ring.prepare(actor: index, direction, direction == .write ? output! : input!, byte: byte,
                                       detach: detach) else { return failed() }
                    if !detach {
                        // Woken by the worker once the entry completed (or by the stop).
                        pending = .ringTransfer
                        return .ring
                    }
                    writeInFlight = true
                } else {
                    let result = direction == .write ? output!.transferByte(.write, calls, &byte)
                        : input!.transferByte(.read, calls, &byte)
                    if result != .done {
                        if context.shouldStop { return finish() }
                        if result == .closed { return failed() }
                        // Never expected: the peer wrote before it woke us. Count it,
                        // let the others run, and try again.
                        passes.countEAGAIN()
                        pending = .retryTransfer
                        return .turn
                    }
                }
            case .wakePeer:
                waker.wakePeer()
            case .waitPeer:
                pending = .peerWait
                return .peer
            case .yield:
                pending = .turnTaken
                return .turn
            case .injectedSleep:
                Operation.sleepBlocking()
            case .futexPost, .futexAwait:
                preconditionFailure("a futex wait would block the worker: SharedWorkerTraits refuses these scripts")
            }
            phases.after(position)
            position &+= 1
        }
    }

    /// A read or write failed or came up short: counted unless the run is stopping.
    private mutating func failed() -> NonBlockingSuspension {
        passes.transferFailed(stopping: context.shouldStop)
        return finish()
    }

    /// The peer may be waiting for us: let it see the stop too.
    private func finish() -> NonBlockingSuspension {
        waker.wakePeer()
        return .finished
    }
}
