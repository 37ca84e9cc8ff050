import CSGBSystem
import CCSGB

/// A green thread's handle, valid in the scheduler that spawned it until `close()`.
public struct FiberID: Hashable, Sendable, CustomStringConvertible {
    public let index: Int32
    public var description: String { "fiber#\(index)" }
}

/// Cooperative green threads on one OS thread: a FIFO run queue and a one-permit
/// park/unpark per fiber. Confined to the thread that calls `run()`, and not
/// thread-safe by design.
///
/// A switch goes straight from one fiber to the next runnable one; the scheduler's
/// own context runs only when the queue is empty. The hot path (park, unpark, yield)
/// works on preallocated unsafe buffers: it allocates nothing, takes no lock and does
/// no reference counting.
///
/// Stacks are unmapped by `close()` (or deinit). A fiber still parked then is
/// discarded without unwinding, so whatever its frames retained leaks: stop fibers
/// with `unparkAll()` and a flag they check, and `run()` until it returns 0.
public final class GreenScheduler {
    @usableFromInline let core: UnsafeMutablePointer<SchedulerCore>

    /// Every fiber gets a stack of `stackSize` usable bytes (a page multiple of at
    /// least `FiberStack.minimumSize`) plus a guard page.
    /// `numa` places the stacks' pages (`--numa`).
    public init(stackSize: Int = FiberStack.defaultSize, numa: NUMAPolicy = .off) throws(FiberError) {
        guard csgb_context_supported() != 0 else { throw .unsupportedArchitecture }
        try FiberStack.validate(size: stackSize)
        core = .allocate(capacity: 1)
        core.initialize(to: SchedulerCore(stackSize: stackSize, numa: numa))
    }

    deinit {
        close()
        core.pointee.deallocateBuffers()
        core.deinitialize(count: 1)
        core.deallocate()
    }

    /// Creates a runnable fiber that will run `body` once. Nothing runs before `run()`;
    /// a fiber may spawn others. `name` appears in the stack-overflow message.
    @discardableResult
    public func spawn(name: String, body: @escaping () -> Void) throws(FiberError) -> FiberID {
        let c = core
        let index = c.pointee.count
        if index == c.pointee.capacity { c.pointee.grow() }
        let stack = try c.pointee.carveStack(owner: name)
        (c.pointee.records + index).initialize(to: FiberRecord(stack: stack))
        c.pointee.contexts[index] = csgb_make_context(stack.top, fiberEntry)
        c.pointee.bodies[index] = body
        c.pointee.count = index + 1
        c.pointee.mappedStacks += 1
        c.pointee.queue.push(Int32(index))
        return FiberID(index: Int32(index))
    }

    /// Runs fibers on the calling thread until none is runnable. Returns how many are
    /// still parked: 0 means every fiber has finished. Call it again after unparking.
    public func run() -> Int {
        let c = core
        precondition(c.pointee.current < 0, "GreenScheduler.run() called from a green thread")
        // Without the alternate stack an overflow still crashes, just without naming
        // the fiber; FiberStackGuard.installOnCurrentThread() reports the failure.
        _ = csgb_stack_guard_install_thread()
        while true {
            let next = c.pointee.queue.pop()
            if next < 0 { break }
            c.pointee.current = next
            // Returns when the run queue has emptied, in whichever fiber that happened.
            _ = csgb_jump_context(c.pointee.home, c.pointee.contexts[Int(next)]!, UnsafeMutableRawPointer(c))
        }
        return c.pointee.count - c.pointee.finished
    }

    /// Moves the current fiber to the back of the run queue and runs the next one;
    /// returns at once if no other fiber is runnable (`yield(_:)` does the work).
    @inlinable
    public func yield() {
        _ = GreenScheduler.yield(yieldHandle)
    }

    /// The scheduler as a plain value, for a loop of yields (`yield(_:)`).
    public struct YieldHandle: Equatable {
        // Optional as the switch returns it, so nothing is checked after the switch.
        @usableFromInline let core: UnsafeMutableRawPointer?

        @usableFromInline init(core: UnsafeMutableRawPointer?) { self.core = core }
    }

    @inlinable
    public var yieldHandle: YieldHandle { YieldHandle(core: UnsafeMutableRawPointer(core)) }

    /// The yield, for a loop that does nothing else between turns: returns the handle
    /// the switch back hands over (every jump passes the scheduler's state), so the
    /// loop carries it in a register. Otherwise each turn's next stack pointer comes
    /// at the end of a chain of dependent loads that starts from the restored frame
    /// (the scheduler, its state, the queue's head, the slot, the saved context); a
    /// green turn is bound by that chain's latency, not by its instructions.
    @inline(never)
    public static func yield(_ handle: YieldHandle) -> YieldHandle {
        let c = handle.core.unsafelyUnwrapped.assumingMemoryBound(to: SchedulerCore.self)
        let me = c.pointee.current
        precondition(me >= 0, "GreenScheduler.yield outside a green thread")
        let next = c.pointee.queue.pop()
        if next < 0 { return handle }
        c.pointee.queue.push(me)
        c.pointee.current = next
        return YieldHandle(core: csgb_jump_context(c.pointee.contexts + Int(me), c.pointee.contexts[Int(next)]!, handle.core))
    }

    /// Consumes the current fiber's permit if it has one; otherwise suspends it until
    /// `unpark`. A permit stored by an earlier unpark makes this return at once.
    public func park() {
        let c = core
        let me = c.pointee.current
        precondition(me >= 0, "GreenScheduler.park() outside a green thread")
        if c.pointee.records[Int(me)].permit {
            c.pointee.records[Int(me)].permit = false
            return
        }
        c.pointee.records[Int(me)].state = .parked
        switchAway(c, from: me)
    }

    /// Makes a parked fiber runnable; for a running or runnable one, stores its single
    /// permit (several unparks store one); ignored for a finished one. Callable from a
    /// fiber or from the thread between runs, never from another thread.
    public func unpark(_ id: FiberID) {
        precondition(Int(id.index) < core.pointee.count, "unpark of an unknown \(id)")
        core.pointee.unpark(Int(id.index))
    }

    /// Unparks every fiber, for shutdown.
    public func unparkAll() {
        for index in 0..<core.pointee.count { core.pointee.unpark(index) }
    }

    /// The running fiber, or nil outside the green threads.
    public var current: FiberID? {
        let me = core.pointee.current
        return me >= 0 ? FiberID(index: me) : nil
    }

    /// Fibers spawned since creation or the last `close()`, finished ones included.
    public var count: Int { core.pointee.count }

    /// Fibers that have finished their body.
    public var finishedCount: Int { core.pointee.finished }

    /// Stacks this scheduler has mapped now: `count` until `close()` makes it 0.
    public var mappedStackCount: Int { core.pointee.mappedStacks }

    /// Unmaps every stack and drops every fiber; the scheduler is empty and reusable.
    /// Not from a green thread, whose own stack this would unmap.
    public func close() {
        precondition(core.pointee.current < 0, "GreenScheduler.close() called from a green thread")
        core.pointee.removeAllFibers()
    }
}

// MARK: - The core, reached through one stable pointer

enum FiberState: UInt8 {
    /// Running or in the run queue: a switch between the two writes nothing.
    case active
    case parked, finished
}

struct FiberRecord {
    var state: FiberState = .active
    var permit = false
    let stack: FiberStack
}

/// Everything a switch touches, in buffers indexed by fiber; never referenced by a
/// class, so switching needs no retain or release. Growth in spawn reallocates the
/// buffers, which is safe because a suspended fiber keeps indices, not pointers.
@usableFromInline
struct SchedulerCore {
    let stackSize: Int
    let numa: NUMAPolicy
    var records: UnsafeMutablePointer<FiberRecord>
    /// Each fiber's saved context while it is not running.
    @usableFromInline var contexts: UnsafeMutablePointer<UnsafeMutableRawPointer?>
    /// Each body until its fiber starts and takes it.
    var bodies: UnsafeMutablePointer<(() -> Void)?>
    var capacity = 0
    var count = 0
    var finished = 0
    var mappedStacks = 0
    /// Where stacks come from: slabs that double in size up to `maximumSlab`, so a
    /// few fibers reserve little and a million take a few thousand mmaps.
    var slabs: [FiberStackSlab] = []
    static let maximumSlab = 1024
    @usableFromInline var queue = RunQueue(capacity: 0)
    /// The running fiber's index, -1 while the scheduler's own context runs.
    @usableFromInline var current: Int32 = -1
    /// The context of `run()` while fibers run; its own allocation, because the
    /// jump writes it through a pointer and the fiber that empties the queue reads it.
    let home = UnsafeMutablePointer<UnsafeMutableRawPointer?>.allocate(capacity: 1)

    init(stackSize: Int, numa: NUMAPolicy) {
        self.stackSize = stackSize
        self.numa = numa
        records = .allocate(capacity: 0)
        contexts = .allocate(capacity: 0)
        bodies = .allocate(capacity: 0)
        home.initialize(to: nil)
    }

    mutating func carveStack(owner: String) throws(FiberError) -> FiberStack {
        if slabs.last?.isFull ?? true {
            let stacks = min(Self.maximumSlab, max(1, (slabs.last?.capacity ?? 0) * 2))
            slabs.append(try FiberStackSlab(stacks: stacks, size: stackSize, numa: numa))
        }
        return try slabs[slabs.count - 1].carve(owner: owner)
    }

    mutating func grow() {
        let newCapacity = max(16, capacity * 2)
        let newRecords = UnsafeMutablePointer<FiberRecord>.allocate(capacity: newCapacity)
        newRecords.moveInitialize(from: records, count: count)
        records.deallocate()
        records = newRecords
        let newContexts = UnsafeMutablePointer<UnsafeMutableRawPointer?>.allocate(capacity: newCapacity)
        newContexts.moveInitialize(from: contexts, count: capacity)
        newContexts.advanced(by: capacity).initialize(repeating: nil, count: newCapacity - capacity)
        contexts.deallocate()
        contexts = newContexts
        let newBodies = UnsafeMutablePointer<(() -> Void)?>.allocate(capacity: newCapacity)
        newBodies.moveInitialize(from: bodies, count: capacity)
        newBodies.advanced(by: capacity).initialize(repeating: nil, count: newCapacity - capacity)
        bodies.deallocate()
        bodies = newBodies
        capacity = newCapacity
        queue.reserve(newCapacity)
    }

    @inline(__always)
    mutating func unpark(_ index: Int) {
        switch records[index].state {
        case .parked:
            records[index].state = .active
            queue.push(Int32(index))
        case .active:
            records[index].permit = true
        case .finished:
            break
        }
    }

    mutating func removeAllFibers() {
        for index in 0..<count {
            records[index].stack.release()
            contexts[index] = nil
            bodies[index] = nil
        }
        records.deinitialize(count: count)
        for slab in slabs { slab.unmap() }
        slabs.removeAll()
        mappedStacks = 0
        count = 0
        finished = 0
        queue.removeAll()
    }

    func deallocateBuffers() {
        records.deallocate()
        contexts.deinitialize(count: capacity)
        contexts.deallocate()
        bodies.deinitialize(count: capacity)
        bodies.deallocate()
        queue.deallocate()
        home.deinitialize(count: 1)
        home.deallocate()
    }
}

// MARK: - Switching and fiber entry

/// Saves fiber `me` and resumes the next runnable fiber, or `run()` if none.
/// Returns when someone switches back to `me`. A free function on the pointer, not a
/// mutating method: no access to the core may span the jump.
@inline(__always)
private func switchAway(_ core: UnsafeMutablePointer<SchedulerCore>, from me: Int32) {
    let next = core.pointee.queue.pop()
    let target = next >= 0 ? core.pointee.contexts[Int(next)] : core.pointee.home.pointee
    core.pointee.current = next
    _ = csgb_jump_context(core.pointee.contexts + Int(me), target!, UnsafeMutableRawPointer(core))
}

/// Where every fiber starts, called by the assembly trampoline with the core.
private func fiberEntry(_ value: UnsafeMutableRawPointer?) {
    let core = value!.assumingMemoryBound(to: SchedulerCore.self)
    runBody(core)
    finish(core)
}

/// A separate frame so that the body and everything it captured are released
/// before the fiber switches away for good, leaving nothing owned on its stack.
@inline(never)
private func runBody(_ core: UnsafeMutablePointer<SchedulerCore>) {
    let index = Int(core.pointee.current)
    let body = core.pointee.bodies[index]
    core.pointee.bodies[index] = nil
    body?()
}

private func finish(_ core: UnsafeMutablePointer<SchedulerCore>) -> Never {
    let me = core.pointee.current
    core.pointee.records[Int(me)].state = .finished
    core.pointee.finished += 1
    switchAway(core, from: me)
    fatalError("a finished green thread was resumed")
}
