import CSGBSystem

/// A micro workload: how many actors it has, what each one does per iteration, and
/// which kernel objects they share. It knows nothing about how actors run: modes
/// declare which operations they can interpret, and the run checks the scripts
/// against the mode before anything starts.
public protocol Workload: Sendable {
    /// The command name: `socket`, `yield`, `futex`.
    var name: String { get }
    /// What carries the bytes, for workloads that move any (`--transport`).
    var transport: ByteChannel.Kind? { get }
    /// Descriptors the plan opens for `n`, checked against RLIMIT_NOFILE first.
    func descriptors(n: Int) -> Int
    /// The scripts of one group (a pair, or one actor), for the check against the
    /// mode before any kernel object exists.
    func scripts(touches: Bool) -> [[Operation]]
    /// Creates the kernel objects and the actors' scripts.
    func makeActors(n: Int, touches: Bool, resources: WorkloadResources) throws(SystemError) -> [ActorPlan]
}

extension Workload {
    public var transport: ByteChannel.Kind? { nil }
}

/// The kernel objects a plan owns, released once at the end of the run.
public final class WorkloadResources: @unchecked Sendable {
    private(set) var channels: [ByteChannel] = []
    private var listener: LoopbackListener?
    private var futexWords: UnsafeMutableRawPointer?
    private var futexCount = 0

    public init() {}

    /// A new channel of `kind`, owned by the plan.
    public func channel(_ kind: ByteChannel.Kind) throws(SystemError) -> ByteChannel {
        let channel: ByteChannel
        switch kind {
        case .unix: channel = try .unixSocketPair()
        case .pipe: channel = try .pipes()
        case .tcp:
            if listener == nil { listener = try LoopbackListener() }
            channel = try .tcp(through: listener!)
        }
        channels.append(channel)
        return channel
    }

    /// Every descriptor the plan's channels use.
    public var descriptors: [FileDescriptor] { channels.flatMap(\.descriptors) }

    /// `count` futex words, zeroed, each on its own cache line so pairs do not
    /// false-share.
    public func futexWords(_ count: Int) -> [FutexWord] {
        precondition(futexWords == nil, "futex words are allocated once per plan")
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * 64, alignment: 64)
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: max(count, 1) * 64)
        futexWords = raw
        futexCount = count
        return (0..<count).map { FutexWord(storage: (raw + $0 * 64).assumingMemoryBound(to: UInt32.self)) }
    }

    /// Every connection is made: the listener is not needed during the run.
    func planComplete() {
        listener?.close()
        listener = nil
    }

    /// Unblocks every actor stuck in a blocking call so that a stop lands within
    /// milliseconds, whatever state the actors are in: each channel knows how
    /// (shutdown for sockets, detaching the write ends of pipes).
    public func interruptBlockedActors() {
        for channel in channels { channel.interrupt() }
        if let futexWords {
            for i in 0..<futexCount {
                FutexWord(storage: (futexWords + i * 64).assumingMemoryBound(to: UInt32.self)).poisonAndWakeAll()
            }
        }
    }

    /// The fault of `--inject-closed-channel`: the first channel closes under its actors.
    func interruptFirstChannel() { channels.first?.interrupt() }

    public func release() {
        planComplete()
        for fd in descriptors { fd.close() }
        channels.removeAll()
        futexWords?.deallocate()
        futexWords = nil
    }
}
