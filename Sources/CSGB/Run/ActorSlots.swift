import Atomics

/// Per-actor figures written by the actor on its hot path and read by the
/// coordinator at the window's edges: one cache line per actor, one writer each,
/// relaxed stores (a plain `mov` on x86_64), so counting costs no shared traffic.
public final class ActorSlots: @unchecked Sendable {
    public let count: Int
    private let raw: UnsafeMutableRawPointer
    static let lineSize = 64

    // Field offsets inside a slot, in units of UInt64.
    private static let iterationsField = 0
    private static let eagainField = 1
    private static let failedField = 2

    public init(count: Int) {
        self.count = count
        raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * Self.lineSize, alignment: Self.lineSize)
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: max(count, 1) * Self.lineSize)
    }

    deinit { raw.deallocate() }

    @inline(__always)
    func field(_ actor: Int, _ field: Int) -> UnsafeAtomic<UInt64> {
        UnsafeAtomic(at: (raw + actor * Self.lineSize + field * 8).assumingMemoryBound(to: UnsafeAtomic<UInt64>.Storage.self))
    }

    /// The handle an actor keeps for its own slot.
    public func slot(_ actor: Int) -> ActorSlot {
        ActorSlot(iterations: field(actor, Self.iterationsField), eagain: field(actor, Self.eagainField),
                  failed: field(actor, Self.failedField))
    }

    public func iterations(_ actor: Int) -> UInt64 { field(actor, Self.iterationsField).load(ordering: .relaxed) }
    public func eagain(_ actor: Int) -> UInt64 { field(actor, Self.eagainField).load(ordering: .relaxed) }
    /// 1 when the actor's run ended on a failed transfer, else 0.
    public func failed(_ actor: Int) -> UInt64 { field(actor, Self.failedField).load(ordering: .relaxed) }
}

/// One actor's view of its slot. The actor keeps its counts in locals and
/// publishes them with a relaxed store: no read-modify-write on the hot path.
public struct ActorSlot: @unchecked Sendable {
    let iterations: UnsafeAtomic<UInt64>
    let eagain: UnsafeAtomic<UInt64>
    let failed: UnsafeAtomic<UInt64>

    @inline(__always)
    public func publish(iterations value: UInt64) { iterations.store(value, ordering: .relaxed) }

    @inline(__always)
    public func publish(eagain value: UInt64) { eagain.store(value, ordering: .relaxed) }

    public func publishFailure() { failed.store(1, ordering: .relaxed) }
}
