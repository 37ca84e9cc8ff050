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

/// How a non-blocking actor wakes its peer and waits: green threads unpark a fiber
/// and park or yield in place; tasks notify a one-permit notify and must return to
/// their mode's loop to await. Called on the actor's own worker, mid-script.
protocol PeerWaking {
    func wakePeer()
    /// Whether `waitInPlace` can wait where the actor stands (a green thread parks
    /// or yields on the spot) or the suspension must go back to the mode's loop (a
    /// task can only await there). A constant per mode, so the specialised
    /// interpreter keeps one of the two paths.
    static var waitsInPlace: Bool { get }
    /// Waits for `suspension`; only called when `waitsInPlace`.
    func waitInPlace(_ suspension: NonBlockingSuspension)
    /// Takes turns in place while `step` returns true, `step` running between them
    /// (before the first turn comes from the caller); only called when
    /// `waitsInPlace`.
    func takeTurns(while step: () -> Bool)
}

/// The interpreter of green and async mode, written once: the script runs until it
/// has to wait. A green thread waits in place and goes on, so its whole run is one
/// `advance` with the script's state in registers (a yield costs a jump, not a return
/// through the mode's loop). A task cannot: Swift cannot be generic over `async`, so
/// `advance` returns what it waits for, its mode's loop awaits that, and the next
/// `advance` finishes the operation it stopped in. Everything else (the script, the
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
    private let loneYield: Bool

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
        loneYield = script == [.yield]
        self.context = context
        self.waker = waker
        passes = PassRecorder(actor: index, context: context)
        self.phases = phases
        self.phases.timeWorkAlone(buffer)
    }

    /// Runs the script from where it stopped until the actor must wait and cannot do
    /// so in place, or its run is over.
    @inline(__always)
    mutating func advance() -> NonBlockingSuspension {
        if Waker.waitsInPlace && loneYield { return takeTurns() }
        let resumed = pending
        pending = .nothing
        if let end = complete(resumed) { return end }
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
                            if let end = wait(.ring, then: .detachedWrite) { return end }
                            continue
                        }
                        if result != .done { return failed() }
                    }
                    let detach = detaches[position]
                    guard ring.prepare(actor: index, direction, direction == .write ? output! : input!, byte: byte,
                                       detach: detach) else { return failed() }
                    if !detach {
                        // Woken by the worker once the entry completed (or by the stop).
                        if let end = wait(.ring, then: .ringTransfer) { return end }
                        continue
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
                        if let end = wait(.turn, then: .retryTransfer) { return end }
                        continue
                    }
                }
            case .wakePeer:
                waker.wakePeer()
            case .waitPeer:
                if let end = wait(.peer, then: .peerWait) { return end }
                continue
            case .yield:
                if let end = wait(.turn, then: .turnTaken) { return end }
                continue
            case .injectedSleep:
                Operation.sleepBlocking()
            case .futexPost, .futexAwait:
                preconditionFailure("a futex wait would block the worker: SharedWorkerTraits refuses these scripts")
            }
            phases.after(position)
            position &+= 1
        }
    }

    /// A script that is one yield, with an actor that waits in place: each pass is
    /// one turn, so the run is a loop of turns without the dispatch on operations
    /// and positions (with it, a green turn measured 10.0 ns instead of 9.0).
    private mutating func takeTurns() -> NonBlockingSuspension {
        if context.shouldStop { return finish() }
        passes.beginPass()
        phases.before(0)
        waker.takeTurns {
            phases.after(0)
            passes.endPass()
            if context.shouldStop { return false }
            passes.beginPass()
            phases.before(0)
            return true
        }
        return finish()
    }

    /// Waits for `suspension` in place and finishes the operation (nil: go on at
    /// `position`), or leaves that to the next `advance` and returns the suspension.
    /// `then` is a constant at every call, so `complete` folds to its one case.
    @inline(__always)
    private mutating func wait(_ suspension: NonBlockingSuspension, then: Pending) -> NonBlockingSuspension? {
        guard Waker.waitsInPlace else {
            pending = then
            return suspension
        }
        waker.waitInPlace(suspension)
        return complete(then)
    }

    /// Finishes the operation the actor waited in: nil to go on at `position`, or
    /// `.finished` when the run is over.
    @inline(__always)
    private mutating func complete(_ waited: Pending) -> NonBlockingSuspension? {
        switch waited {
        case .nothing, .retryTransfer:
            return nil
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
        return nil
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
