/// A FIFO ring of fiber indices. Each fiber sits in it at most once, so a capacity of
/// the fiber count never overflows; it only grows when a fiber is spawned.
@usableFromInline
struct RunQueue {
    @usableFromInline var slots: UnsafeMutablePointer<Int32>
    @usableFromInline var mask: Int
    // Free-running counters; only their difference and low bits matter.
    @usableFromInline var head = 0
    @usableFromInline var tail = 0

    init(capacity: Int) {
        let size = max(16, capacity).nextPowerOfTwo
        slots = .allocate(capacity: size)
        mask = size - 1
    }

    @usableFromInline var count: Int { tail &- head }
    var isEmpty: Bool { head == tail }

    @inlinable @inline(__always)
    mutating func push(_ index: Int32) {
        assert(count <= mask, "run queue overflow: a fiber was queued twice")
        slots[tail & mask] = index
        tail &+= 1
    }

    /// The next index, or -1 when empty.
    @inlinable @inline(__always)
    mutating func pop() -> Int32 {
        if head == tail { return -1 }
        let index = slots[head & mask]
        head &+= 1
        return index
    }

    mutating func reserve(_ capacity: Int) {
        guard capacity > mask + 1 else { return }
        let size = capacity.nextPowerOfTwo
        let grown = UnsafeMutablePointer<Int32>.allocate(capacity: size)
        let queued = count
        for offset in 0..<queued { grown[offset] = slots[(head &+ offset) & mask] }
        slots.deallocate()
        slots = grown
        mask = size - 1
        head = 0
        tail = queued
    }

    mutating func removeAll() { head = tail }

    func deallocate() { slots.deallocate() }
}

extension Int {
    fileprivate var nextPowerOfTwo: Int {
        self <= 1 ? 1 : 1 << (Int.bitWidth - (self - 1).leadingZeroBitCount)
    }
}
