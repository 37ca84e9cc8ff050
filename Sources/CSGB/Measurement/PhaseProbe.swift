import CSGBSystem

/// What an interpreter calls around each operation of its script. Interpreters are
/// generic over it, so a run without `--phases` gets `NoPhases`, whose calls compile
/// to nothing: the option costs nothing when off.
protocol PhaseProbe {
    /// Just before the operation at `position` of the script.
    mutating func before(_ position: Int)
    /// Just after it returned (for a wait: once the actor runs again).
    mutating func after(_ position: Int)
    /// Before the actor's first pass: its work timed alone, pass after pass.
    mutating func timeWorkAlone(_ buffer: TouchBuffer)
}

/// `--phases` off.
struct NoPhases: PhaseProbe {
    @inline(__always) mutating func before(_ position: Int) {}
    @inline(__always) mutating func after(_ position: Int) {}
    @inline(__always) mutating func timeWorkAlone(_ buffer: TouchBuffer) {}
}

/// `--phases` on: the work (`touch`) and every hand-off timed. A hand-off runs from
/// just before an actor's write, wake or yield to the moment its peer's read, wait
/// or yield returns: the sender stores the moment in the receiver's inbox, and the
/// receiver, once it runs, tallies the difference into its carrier's tally. Adjacent
/// edges share one clock read (a read's return is the next touch's start).
struct TimedPhases: PhaseProbe {
    /// What an operation is to the phases.
    enum Role: UInt8 {
        case none
        case work
        /// Begins a hand-off to the peer (the first of a write/wake group).
        case send
        /// Ends the hand-off the peer began.
        case receive
        /// A yield: begins a hand-off to whoever runs next on the carrier, and ends
        /// the one the last yielder began.
        case turn
    }

    private let roles: [Role]
    private let board: PhaseBoard
    private let tally: UnsafeMutablePointer<UInt64>
    private let inbox: UnsafeMutablePointer<Int64>
    private let outbox: UnsafeMutablePointer<Int64>?
    /// The inbox a yield stamps and reads: the worker's; nil where the kernel picks
    /// who runs next, which is then the inbox of the CPU the actor runs on.
    private let turnInbox: UnsafeMutablePointer<Int64>?
    private let firstCPUSlot: Int
    private var last: Int64 = 0
    private var fresh = false
    private var workStart: Int64 = 0

    /// `actor` tallies into `tally` (its own, or its worker's) and is sent to
    /// through its own inbox; `worker`: the worker whose yields it shares.
    init(script: [Operation], board: PhaseBoard, actor: Int, peer: Int?, tally: Int, actors: Int, worker: Int?) {
        roles = Self.roles(script)
        self.board = board
        self.tally = board.tally(tally)
        inbox = board.inbox(actor)
        outbox = peer.map { board.inbox($0) }
        firstCPUSlot = actors
        turnInbox = worker.map { board.inbox(actors + $0) }
    }

    /// Each position's role: the first of a group of sends begins the hand-off.
    static func roles(_ script: [Operation]) -> [Role] {
        func sends(_ operation: Operation) -> Bool {
            switch operation {
            case .write, .wakePeer, .futexPost: return true
            default: return false
            }
        }
        return script.indices.map { position in
            let operation = script[position]
            switch operation {
            case .touch: return .work
            case .read, .futexAwait: return .receive
            case .yield: return .turn
            case .write, .wakePeer, .futexPost:
                return sends(script[(position + script.count - 1) % script.count]) ? .none : .send
            case .waitPeer, .injectedSleep: return .none
            }
        }
    }

    @inline(__always)
    private mutating func stamp(_ clock: () -> Int64) -> Int64 {
        if fresh { return last }
        return clock()
    }

    @inline(__always)
    private func turnSlot() -> UnsafeMutablePointer<Int64> {
        turnInbox ?? board.inbox(firstCPUSlot + SystemIdentity.currentCPU % (board.slots - firstCPUSlot))
    }

    @inline(__always)
    mutating func before(_ position: Int) { before(position, clock: MonotonicClock.nanoseconds) }

    @inline(__always)
    mutating func after(_ position: Int) { after(position, clock: MonotonicClock.nanoseconds) }

    /// `before`, reading `clock` (a test's synthetic one).
    @inline(__always)
    mutating func before(_ position: Int, clock: () -> Int64) {
        switch roles[position] {
        case .none: fresh = false
        case .work: workStart = stamp(clock)
        case .send:
            outbox?.pointee = stamp(clock)
            fresh = false
        case .receive: break
        case .turn:
            turnSlot().pointee = stamp(clock)
            fresh = false
        }
    }

    /// `after`, reading `clock`.
    @inline(__always)
    mutating func after(_ position: Int, clock: () -> Int64) {
        let role = roles[position]
        guard role != .none && role != .send else { return }
        let now = clock()
        last = now
        fresh = true
        guard board.window.pointee != 0 else { return }
        switch role {
        case .work:
            tally[PhaseBoard.Field.work] &+= UInt64(max(now - workStart, 0))
            tally[PhaseBoard.Field.works] &+= 1
        case .receive, .turn:
            let began = role == .receive ? inbox.pointee : turnSlot().pointee
            if began > 0 && now >= began { board.recordHandoff(tally, UInt64(now - began)) }
        case .none, .send: break
        }
    }

    /// Two warm-up passes, then the median of nine timed ones.
    mutating func timeWorkAlone(_ buffer: TouchBuffer) {
        guard roles.contains(.work), buffer.size > 0 else { return }
        buffer.touch()
        buffer.touch()
        var times: [Int64] = []
        for _ in 0..<9 {
            let start = MonotonicClock.nanoseconds()
            buffer.touch()
            times.append(MonotonicClock.nanoseconds() - start)
        }
        times.sort()
        tally[PhaseBoard.Field.alone] &+= UInt64(max(times[4], 0))
        tally[PhaseBoard.Field.alones] &+= 1
    }
}
