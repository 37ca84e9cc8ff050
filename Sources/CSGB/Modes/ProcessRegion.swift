import Atomics
import CSGBSystem

/// The memory the coordinator and the actor processes of `--mode process` share:
/// the plan (settings, scripts, descriptors), the start gate, the stop word, the
/// pass counters, each actor's pid and exit, and each actor's getrusage at every
/// window edge. Laid out in cache lines from counts alone, so the actor host can
/// find everything from the header after it maps the region.
struct ProcessRegion: @unchecked Sendable {
    static let magic: UInt64 = 0x6373_6762_7072_6331
    static let line = 64
    static let headerBytes = 512
    static let controlBytes = 1024
    static let planBytes = 64
    static let operationBytes = 16
    static let slotBytes = 64
    static let statusBytes = 256
    static let messageOffset = 64
    static let messageCapacity = 192
    static let records = 4
    static let recordBytes = 128
    static let futexBytes = 64
    /// The stop bit of the state word; the other bits count edge requests.
    static let stopBit: UInt64 = 1 << 63

    let base: UnsafeMutableRawPointer
    let actors: Int
    let futexWords: Int
    let operations: Int
    let cpuCount: Int
    /// `--phases`' inboxes (0 without it); a tally per actor follows them.
    let phaseSlots: Int

    // Offsets, each a multiple of a cache line.
    let control: Int
    let cpuList: Int
    let plans: Int
    let scripts: Int
    let slots: Int
    let statuses: Int
    let recordArea: Int
    let futexArea: Int
    let phaseArea: Int
    let length: Int

    init(base: UnsafeMutableRawPointer, actors: Int, futexWords: Int, operations: Int, cpuCount: Int, phaseSlots: Int) {
        func lines(_ bytes: Int) -> Int { (bytes + Self.line - 1) / Self.line * Self.line }
        self.base = base
        self.actors = actors
        self.futexWords = futexWords
        self.operations = operations
        self.cpuCount = cpuCount
        self.phaseSlots = phaseSlots
        control = Self.headerBytes
        cpuList = control + Self.controlBytes
        plans = cpuList + lines(cpuCount * 4)
        scripts = plans + actors * Self.planBytes
        slots = scripts + lines(operations * Self.operationBytes)
        statuses = slots + actors * Self.slotBytes
        recordArea = statuses + actors * Self.statusBytes
        futexArea = recordArea + actors * Self.records * Self.recordBytes
        phaseArea = futexArea + futexWords * Self.futexBytes
        length = phaseArea + (phaseSlots > 0 ? PhaseBoard.length(tallies: actors, slots: phaseSlots) : 0)
    }

    /// The layout of a region another process made, from its header.
    init?(mapped base: UnsafeMutableRawPointer, length: Int) {
        let header = base.assumingMemoryBound(to: UInt64.self)
        guard length >= Self.headerBytes, header[Header.magic] == Self.magic else { return nil }
        self.init(base: base, actors: Int(header[Header.actors]), futexWords: Int(header[Header.futexWords]),
                  operations: Int(header[Header.operations]), cpuCount: Int(header[Header.cpuCount]),
                  phaseSlots: Int(header[Header.phaseSlots]))
        guard self.length <= length else { return nil }
    }

    /// Static byte count for a plan, before the memory exists.
    static func length(actors: Int, futexWords: Int, operations: Int, cpuCount: Int, phaseSlots: Int) -> Int {
        ProcessRegion(base: UnsafeMutableRawPointer(bitPattern: 64)!, actors: actors, futexWords: futexWords,
                      operations: operations, cpuCount: cpuCount, phaseSlots: phaseSlots).length
    }

    /// `--phases`' tallies (one per actor process) and inboxes; nil without it.
    var phases: PhaseBoard? {
        phaseSlots > 0 ? PhaseBoard(base: base + phaseArea, tallies: actors, slots: phaseSlots) : nil
    }

    // MARK: header

    /// Indices (in UInt64s) of the header's fields.
    enum Header {
        static let magic = 0, actors = 1, futexWords = 2, operations = 3, cpuCount = 4, pinning = 5
        static let workSize = 6, stride = 7, numa = 8, io = 9, ringEntries = 10, sqpoll = 11, fixedFiles = 12
        static let pollerCPU = 13, schedPolicy = 14, schedPriority = 15, speculation = 16, notifyFD = 17
        static let ringSetup = 18, syscalls = 19
        /// The hidden fault `--inject-deaf-actor`: its index + 1, 0 for none.
        static let deafActor = 20
        /// `--phases`: its inbox count, 0 for none.
        static let phaseSlots = 21
        /// `--access` (its index in AccessPattern.allCases) and the hidden
        /// `--inject-cold-work` (1 when given).
        static let access = 22, coldWork = 23
    }

    var header: UnsafeMutablePointer<UInt64> { base.assumingMemoryBound(to: UInt64.self) }

    // MARK: control

    var gate: SharedFutexWord { SharedFutexWord(storage: (base + control).assumingMemoryBound(to: UInt32.self)) }

    private func atomic(_ offset: Int) -> UnsafeAtomic<UInt64> {
        UnsafeAtomic(at: (base + offset).assumingMemoryBound(to: UnsafeAtomic<UInt64>.Storage.self))
    }

    /// Edge requests in the low bits, the stop in the top bit: an actor loads it once
    /// per pass, as a thread loads its stop flag.
    var state: UnsafeAtomic<UInt64> { atomic(control + Self.line) }
    var arrivals: UnsafeAtomic<UInt64> { atomic(control + 2 * Self.line) }
    /// 0 while the host forks, 1 once every actor exists, 2 when the host failed,
    /// 3 when a stop ended the forking before every actor existed.
    var hostState: UnsafeAtomic<UInt64> { atomic(control + 3 * Self.line) }
    /// The host's failure, as text.
    var hostMessage: Message { Message(base: base + control + 4 * Self.line, capacity: Self.controlBytes - 4 * Self.line) }

    // MARK: plan

    var cpus: UnsafeMutablePointer<Int32> { (base + cpuList).assumingMemoryBound(to: Int32.self) }

    /// Per actor: input fd, output fd, futex word (-1: none), first operation, operations.
    struct Plan {
        var input: Int64
        var output: Int64
        var futex: Int64
        var firstOperation: Int64
        var operationCount: Int64
        /// The peer actor's index, -1 for none.
        var peer: Int64
    }

    func plan(_ actor: Int) -> UnsafeMutablePointer<Int64> {
        (base + plans + actor * Self.planBytes).assumingMemoryBound(to: Int64.self)
    }

    func setPlan(_ actor: Int, _ value: Plan) {
        let p = plan(actor)
        p[0] = value.input; p[1] = value.output; p[2] = value.futex; p[3] = value.firstOperation; p[4] = value.operationCount
        p[5] = value.peer
    }

    func readPlan(_ actor: Int) -> Plan {
        let p = plan(actor)
        return Plan(input: p[0], output: p[1], futex: p[2], firstOperation: p[3], operationCount: p[4], peer: p[5])
    }

    func operation(_ index: Int) -> UnsafeMutablePointer<UInt64> {
        (base + scripts + index * Self.operationBytes).assumingMemoryBound(to: UInt64.self)
    }

    func futex(_ index: Int) -> SharedFutexWord {
        SharedFutexWord(storage: (base + futexArea + index * Self.futexBytes).assumingMemoryBound(to: UInt32.self))
    }

    // MARK: per actor

    /// The hot line: iterations, EAGAINs, failed, as `ActorSlots` keeps them, then
    /// the actor's ring enters and submissions, all published after every pass, so
    /// the coordinator reads every actor's figures at the edge's moment itself.
    enum Slot {
        static let iterations = 0, eagain = 1, failed = 2, ringEnters = 3, ringSubmitted = 4
    }

    func slot(_ actor: Int) -> ActorSlot {
        let line = base + slots + actor * Self.slotBytes
        func field(_ i: Int) -> UnsafeAtomic<UInt64> {
            UnsafeAtomic(at: (line + i * 8).assumingMemoryBound(to: UnsafeAtomic<UInt64>.Storage.self))
        }
        return ActorSlot(iterations: field(0), eagain: field(1), failed: field(2))
    }

    func slotValue(_ actor: Int, _ field: Int) -> UInt64 {
        slotField(actor, field).load(ordering: .relaxed)
    }

    func slotField(_ actor: Int, _ field: Int) -> UnsafeAtomic<UInt64> {
        atomic(slots + actor * Self.slotBytes + field * 8)
    }

    /// pid (0 until forked), arrived, exited, exit code, exit signal; a message.
    enum Status {
        static let pid = 0, arrived = 1, exited = 2, exitCode = 3, exitSignal = 4
        /// `--sched` read back (encoded + 1), then PR_GET's bits + 1 per control.
        static let sched = 5, speculation = 6
    }

    func writeReadback(_ actor: Int, _ readback: ActorThreadSettings.Readback) {
        status(actor, Status.sched).store(readback.sched.map { $0.encoded + 1 } ?? 0, ordering: .relaxed)
        for (i, control) in SpeculationControl.allCases.enumerated() {
            let bits = readback.speculation[control].map { UInt64(UInt32(bitPattern: $0)) + 1 } ?? 0
            status(actor, Status.speculation + i).store(bits, ordering: .relaxed)
        }
    }

    func readback(_ actor: Int) -> ActorThreadSettings.Readback? {
        let settings = ActorThreadSettings(sched: header[Header.schedPolicy], speculationMask: header[Header.speculation])
        guard !settings.isEmpty else { return nil }
        var readback = ActorThreadSettings.Readback()
        let sched = status(actor, Status.sched).load(ordering: .relaxed)
        readback.sched = sched == 0 ? nil : SchedulingPolicy(encoded: sched - 1)
        for (i, control) in SpeculationControl.allCases.enumerated() where settings.speculation.contains(control) {
            let bits = status(actor, Status.speculation + i).load(ordering: .relaxed)
            readback.speculation[control] = bits == 0 ? -1 : Int32(bitPattern: UInt32(truncatingIfNeeded: bits - 1))
        }
        return readback
    }

    func status(_ actor: Int, _ field: Int) -> UnsafeAtomic<UInt64> {
        atomic(statuses + actor * Self.statusBytes + field * 8)
    }

    func message(_ actor: Int) -> Message {
        Message(base: base + statuses + actor * Self.statusBytes + Self.messageOffset, capacity: Self.messageCapacity)
    }

    /// What an actor records at an edge: the request it answers, then its own
    /// getrusage, which only the actor's process can read.
    enum Record {
        static let epoch = 0, userMicroseconds = 1, systemMicroseconds = 2
        static let voluntary = 3, involuntary = 4, maxRSSKiB = 5
        static let count = 6
    }

    func record(_ actor: Int, epoch: UInt64) -> UnsafeMutablePointer<UInt64> {
        let index = Int(epoch % UInt64(Self.records))
        return (base + recordArea + (actor * Self.records + index) * Self.recordBytes).assumingMemoryBound(to: UInt64.self)
    }

    /// The record's epoch word, stored last with release order: the acknowledgement.
    func recordEpoch(_ actor: Int, epoch: UInt64) -> UnsafeAtomic<UInt64> {
        UnsafeAtomic(at: UnsafeMutableRawPointer(record(actor, epoch: epoch)).assumingMemoryBound(to: UnsafeAtomic<UInt64>.Storage.self))
    }
}

/// A short text in shared memory: a length word, then UTF-8 bytes.
struct Message {
    let base: UnsafeMutableRawPointer
    let capacity: Int

    func write(_ text: String) {
        let bytes = Array(text.utf8.prefix(capacity - 8))
        (base + 8).copyMemory(from: bytes, byteCount: bytes.count)
        base.storeBytes(of: UInt64(bytes.count), as: UInt64.self)
    }

    var text: String? {
        let count = Int(base.load(as: UInt64.self))
        guard count > 0, count <= capacity - 8 else { return nil }
        return String(decoding: UnsafeRawBufferPointer(start: base + 8, count: count), as: UTF8.self)
    }
}

/// Operations as numbers in the region: a code and an argument (a futex value).
extension Operation {
    var processCode: (code: UInt64, value: UInt64) {
        switch self {
        case .touch: return (0, 0)
        case .write: return (1, 0)
        case .read: return (2, 0)
        case .wakePeer: return (3, 0)
        case .waitPeer: return (4, 0)
        case .yield: return (5, 0)
        case .futexPost(let value): return (6, UInt64(value))
        case .futexAwait(let value): return (7, UInt64(value))
        case .injectedSleep: return (8, 0)
        }
    }

    init?(processCode code: UInt64, value: UInt64) {
        switch code {
        case 0: self = .touch
        case 1: self = .write
        case 2: self = .read
        case 3: self = .wakePeer
        case 4: self = .waitPeer
        case 5: self = .yield
        case 6: self = .futexPost(UInt32(truncatingIfNeeded: value))
        case 7: self = .futexAwait(UInt32(truncatingIfNeeded: value))
        case 8: self = .injectedSleep
        default: return nil
        }
    }
}
