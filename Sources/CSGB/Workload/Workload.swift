/// A micro workload: how many actors it has, what each one does per iteration, and
/// which kernel objects they share. It knows nothing about how actors run.
public protocol Workload: Sendable {
    /// The command name: `socket`, `yield`, `futex`.
    var name: String { get }
    /// The modes that can interpret its scripts.
    var supportedModes: Set<Mode> { get }
    /// Descriptors the plan opens for `n`, checked against RLIMIT_NOFILE first.
    func descriptors(n: Int) -> Int
    /// Creates the kernel objects and the actors' scripts.
    func makeActors(n: Int, touches: Bool, resources: WorkloadResources) throws(SystemError) -> [ActorPlan]
}

/// The kernel objects a plan owns, released once at the end of the run.
public final class WorkloadResources: @unchecked Sendable {
    private(set) var descriptors: [FileDescriptor] = []
    private var futexWords: UnsafeMutableRawPointer?
    private var futexCount = 0

    public init() {}

    public func socketPair() throws(SystemError) -> SocketPair {
        let pair = try SocketPair()
        descriptors.append(pair.first)
        descriptors.append(pair.second)
        return pair
    }

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

    /// Unblocks every actor stuck in a blocking call so that a stop lands within
    /// milliseconds, whatever state the actors are in.
    public func interruptBlockedActors() {
        for fd in descriptors { fd.shutdown() }
        if let futexWords {
            for i in 0..<futexCount {
                FutexWord(storage: (futexWords + i * 64).assumingMemoryBound(to: UInt32.self)).poisonAndWakeAll()
            }
        }
    }

    public func release() {
        for fd in descriptors { fd.close() }
        descriptors.removeAll()
        futexWords?.deallocate()
        futexWords = nil
    }
}

/// The workloads csgb knows, by command name.
public enum Workloads {
    public static func named(_ name: String) -> (any Workload)? {
        switch name {
        case "socket": return SocketEcho()
        case "yield": return YieldLoop()
        case "futex": return FutexPingPong()
        default: return nil
        }
    }
}
