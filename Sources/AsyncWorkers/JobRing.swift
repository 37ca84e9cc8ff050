/// A FIFO of jobs that only the worker thread touches, so it needs no lock and no
/// atomic instruction. It doubles when full and never shrinks: after warm-up the hot
/// path allocates nothing.
@usableFromInline
struct JobRing {
    @usableFromInline var buffer: UnsafeMutablePointer<UnownedJob>
    @usableFromInline var capacity: Int  // a power of two, so wrapping is a mask
    @usableFromInline var head = 0
    @usableFromInline var count = 0

    init(capacity: Int) {
        precondition(capacity > 0 && capacity & (capacity - 1) == 0, "capacity must be a power of two")
        self.capacity = capacity
        buffer = .allocate(capacity: capacity)
    }

    // Inlined into the enqueue paths (it was a call of its own, 2 % of an async
    // yield's samples); the rare growth stays out of line.
    @inlinable @inline(__always)
    mutating func push(_ job: UnownedJob) {
        if count == capacity { grow() }
        (buffer + ((head + count) & (capacity - 1))).initialize(to: job)
        count += 1
    }

    @inline(__always)
    mutating func pop() -> UnownedJob? {
        guard count > 0 else { return nil }
        let job = (buffer + head).move()
        head = (head + 1) & (capacity - 1)
        count -= 1
        return job
    }

    /// Frees the storage. Jobs still queued are dropped (UnownedJob owns nothing).
    func deallocate() {
        buffer.deallocate()
    }

    @usableFromInline @inline(never)
    mutating func grow() {
        let bigger = UnsafeMutablePointer<UnownedJob>.allocate(capacity: capacity * 2)
        // Unwrap the ring so that the jobs sit in order at the start of the new buffer.
        let firstRun = capacity - head
        bigger.moveInitialize(from: buffer + head, count: firstRun)
        (bigger + firstRun).moveInitialize(from: buffer, count: head)
        buffer.deallocate()
        buffer = bigger
        head = 0
        capacity *= 2
    }
}
