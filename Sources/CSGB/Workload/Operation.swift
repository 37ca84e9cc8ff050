#if canImport(Glibc)
import Glibc
#endif

/// One step of an actor's script. A workload is a short cyclic script per actor;
/// each mode is an interpreter of the same scripts, so the syscalls of a workload
/// are identical in every mode by construction.
public enum Operation: Sendable, Equatable {
    /// Read and write the actor's own buffer (`--work-size`, `--stride`).
    case touch
    /// One write(2) of one byte to the actor's socket.
    case write
    /// One read(2) of one byte from the actor's socket.
    case read
    /// Tell the peer it may go on. Thread mode: nothing (the blocking read is the
    /// wait). Green: unpark the peer. Async: notify the peer.
    case wakePeer
    /// Wait until the peer said to go on. Thread mode: nothing.
    case waitPeer
    /// Give the CPU to the next runnable actor: sched_yield, a green yield, or
    /// `Task.yield()`.
    case yield
    /// Store the value in the pair's futex word and FUTEX_WAKE the peer.
    case futexPost(UInt32)
    /// FUTEX_WAIT until the pair's futex word holds the value.
    case futexAwait(UInt32)
    /// A deliberate blocking call (nanosleep of 1 µs), added only by the hidden
    /// `--inject-blocking-sleep`: a fault built to prove that `csgb stat` catches a
    /// green or async mode that blocks in the kernel.
    case injectedSleep
}

extension Operation {
    /// What `.injectedSleep` does, in every mode: block the OS thread briefly.
    static func sleepBlocking() {
        var pause = timespec(tv_sec: 0, tv_nsec: 1_000)
        nanosleep(&pause, nil)
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
    public let socket: FileDescriptor?
    public let futex: FutexWord?

    public init(name: String, script: [Operation], countsIterations: Bool, peer: Int?, group: Int,
                socket: FileDescriptor? = nil, futex: FutexWord? = nil) {
        self.name = name
        self.script = script
        self.countsIterations = countsIterations
        self.peer = peer
        self.group = group
        self.socket = socket
        self.futex = futex
    }
}
