#if canImport(Glibc)
import Glibc
#endif
import CSGBSystem

/// One step of an actor's script. A workload is a short cyclic script per actor;
/// each mode is an interpreter of the same scripts, so the syscalls of a workload
/// are identical in every mode by construction.
public enum Operation: Sendable, Equatable {
    /// Read and write the actor's own buffer (`--work-size`, `--stride`).
    case touch
    /// One write of one byte to the actor's output descriptor.
    case write
    /// One read of one byte from the actor's input descriptor.
    case read
    /// Tell the peer it may go on. Where reads block, the blocking read is the wait
    /// and this is nothing; elsewhere the mode readies the peer.
    case wakePeer
    /// Wait until the peer said to go on (nothing where reads block).
    case waitPeer
    /// Give the CPU to the next runnable actor, the mode's way: a syscall or a
    /// user-mode yield.
    case yield
    /// Store the value in the pair's futex word and FUTEX_WAKE the peer.
    case futexPost(UInt32)
    /// FUTEX_WAIT until the pair's futex word holds the value.
    case futexAwait(UInt32)
    /// A deliberate blocking call (nanosleep of 1 µs), added only by the hidden
    /// `--inject-blocking-sleep`: a fault built to prove that `csgb stat` catches a
    /// mode claiming user-mode switching that blocks in the kernel.
    case injectedSleep
}

extension Operation {
    /// The operation's name, in messages and in the per-iteration counts.
    public var name: String {
        switch self {
        case .touch: return "touch"
        case .write: return "write"
        case .read: return "read"
        case .wakePeer: return "wake"
        case .waitPeer: return "wait"
        case .yield: return "yield"
        case .futexPost: return "futex-wake"
        case .futexAwait: return "futex-wait"
        case .injectedSleep: return "sleep"
        }
    }

    /// What `.injectedSleep` does everywhere: sleep in the kernel briefly.
    static func sleepBlocking() {
        MonotonicClock.sleep(seconds: 1e-6)
    }
}

/// What one actor is: its script, its peer, and the kernel objects it uses.
public struct ActorPlan: Sendable {
    public let name: String
    public let script: [Operation]
    /// Whether a pass through this actor's script is one iteration of the run
    /// (the initiator of a pair counts round trips; its peer does not).
    public let countsIterations: Bool
    /// Index of the peer actor in the plan, for wake/wait.
    public let peer: Int?
    /// Actors of one group (a pair) always live on the same worker.
    public let group: Int
    /// Where `read` reads and `write` writes: one socket both ways, or two pipes.
    public let channel: ChannelEnd?
    public let futex: FutexWord?

    public init(name: String, script: [Operation], countsIterations: Bool, peer: Int?, group: Int,
                channel: ChannelEnd? = nil, futex: FutexWord? = nil) {
        self.name = name
        self.script = script
        self.countsIterations = countsIterations
        self.peer = peer
        self.group = group
        self.channel = channel
        self.futex = futex
    }

    /// The same actor with `operation` appended to its script.
    func appending(_ operation: Operation) -> ActorPlan {
        ActorPlan(name: name, script: script + [operation], countsIterations: countsIterations, peer: peer,
                  group: group, channel: channel, futex: futex)
    }
}

/// How many of each operation one iteration performs, over every actor of a plan:
/// what the verification's syscall counts are derived from.
public struct OperationCounts: Sendable, Equatable {
    /// Keyed by `Operation.name`.
    public let perIteration: [String: Double]
    /// Writes the script follows at once with waking the peer: with `--ring-link`
    /// each goes to the ring in one chain with the peer's read.
    public let linkableWrites: Double

    public init(_ actors: [ActorPlan]) {
        var totals: [String: Double] = [:]
        for actor in actors {
            for operation in actor.script { totals[operation.name, default: 0] += 1 }
        }
        let iterations = Double(max(actors.filter(\.countsIterations).count, 1))
        perIteration = totals.mapValues { $0 / iterations }
        linkableWrites = LinkedTransfers.perIteration(actors)
    }

    /// The operations of one group's scripts: one iteration of the group, since a
    /// group's first script is its one actor that counts iterations.
    init(groupScripts scripts: [[Operation]]) {
        var totals: [String: Double] = [:]
        for operation in scripts.joined() { totals[operation.name, default: 0] += 1 }
        perIteration = totals
        linkableWrites = Double(scripts.reduce(0) { $0 + LinkedTransfers.linkable($1) })
    }

    public subscript(_ operation: Operation) -> Double { perIteration[operation.name] ?? 0 }
}
