import CSGBSystem

/// The kernel objects a plan owns, released once at the end of the run.
public final class WorkloadResources: @unchecked Sendable {
    private(set) var channels: [ByteChannel] = []
    private var listener: LoopbackListener?
    private var futexWords: UnsafeMutableRawPointer?
    private var futexCount = 0
    private var channelsInterrupted = false

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
        // Once is enough for channels (a shut-down socket or a pipe without writers
        // stays at end-of-file), and repeating 4,000 dup3 calls every few
        // milliseconds of the stop loop made a run of 2,000 pipe pairs take seconds to stop.
        if !channelsInterrupted {
            channelsInterrupted = true
            for channel in channels { channel.interrupt() }
        }
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
