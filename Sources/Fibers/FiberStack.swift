import Atomics
import CCSGB
import CSGBSystem

private let pageSize = AnonymousMapping.pageSize
private let liveStacks = ManagedAtomic<Int>(0)

/// A green thread's stack: `size` usable bytes above one `PROT_NONE` guard page, in
/// one anonymous mapping that the kernel fills lazily, page by page, on first touch.
/// The guard page is registered with the overflow reporter under the owner's name.
/// A plain value: whoever allocates it calls `release()` exactly once.
public struct FiberStack {
    public static let defaultSize = 64 * 1024
    /// 8 KiB overflowed on first use of ordinary Swift code paths (runtime metadata
    /// and lazy binding run on the green stack); 16 KiB was enough.
    public static let minimumSize = 16 * 1024
    /// Far above any script's need; beyond it a typo, not a choice.
    public static let maximumSize = 1 << 30
    public static var pageSize: Int { Fibers.pageSize }
    /// Stacks mapped and not yet released, process-wide.
    public static var liveCount: Int { liveStacks.load(ordering: .relaxed) }

    /// Usable bytes, without the guard page.
    public let size: Int
    /// The start of the stack's own pages, which is the guard page.
    let mapping: UnsafeMutableRawPointer
    let guardSlot: Int32
    /// Carved from a `FiberStackSlab`, which unmaps it with the slab.
    let inSlab: Bool

    /// One past the highest usable byte: stacks grow down from here.
    public var top: UnsafeMutableRawPointer { mapping + Fibers.pageSize + size }

    public static func validate(size: Int) throws(FiberError) {
        guard size >= minimumSize else { throw .stackTooSmall(bytes: size, minimum: minimumSize) }
        guard size <= maximumSize else { throw .stackTooLarge(bytes: size, maximum: maximumSize) }
        guard size % Fibers.pageSize == 0 else {
            throw .stackNotPageMultiple(bytes: size, pageSize: Fibers.pageSize)
        }
    }

    public static func allocate(size: Int, owner: String, numa: NUMAPolicy = .off) throws(FiberError) -> FiberStack {
        try validate(size: size)
        let length = size + Fibers.pageSize
        // A stack costs only the pages it touches; its own worker faults them in,
        // after the NUMA policy is set.
        let region: AnonymousMapping
        do {
            region = try AnonymousMapping(length: length, stack: true, numa: numa)
            try region.protectBottom(Fibers.pageSize)
        } catch {
            throw .stackMapFailed(bytes: length, error)
        }
        let mapping = region.base
        let slot = owner.withCString { csgb_stack_guard_register(mapping, Fibers.pageSize, size, $0) }
        guard slot >= 0 else {
            region.unmap()
            throw .guardRegistryFull
        }
        liveStacks.wrappingIncrement(ordering: .relaxed)
        return FiberStack(size: size, mapping: mapping, guardSlot: slot, inSlab: false)
    }

    /// Unregisters the guard page and, unless its slab does, unmaps the stack.
    /// Nothing may run on it.
    public func release() {
        csgb_stack_guard_unregister(guardSlot)
        if !inSlab { AnonymousMapping(base: mapping, length: size + Fibers.pageSize).unmap() }
        liveStacks.wrappingDecrement(ordering: .relaxed)
    }
}

/// Many stacks in one mapping, each with its guard page below it, carved in order:
/// one mmap for many stacks and one munmap for all of them, where a million stacks
/// made one by one cost a million of each (a third of a million-fiber set-up). Every
/// guard page is still its own PROT_NONE page, so the kernel keeps two mappings per
/// stack (vm.max_map_count counts them) and an overflow still faults and is named.
struct FiberStackSlab {
    let region: AnonymousMapping
    let stackSize: Int
    let capacity: Int
    private(set) var used = 0

    init(stacks capacity: Int, size: Int, numa: NUMAPolicy) throws(FiberError) {
        try FiberStack.validate(size: size)
        let length = capacity * (size + Fibers.pageSize)
        do {
            // Reserved inaccessible: carving opens each stack above its guard page, so
            // stacks never merge with the slab's unused rest into one mapping.
            region = try AnonymousMapping(length: length, stack: true, numa: numa, accessible: false)
        } catch {
            throw .stackMapFailed(bytes: length, error)
        }
        stackSize = size
        self.capacity = capacity
    }

    var isFull: Bool { used == capacity }

    /// The next stack: its guard page protected and registered under `owner`.
    mutating func carve(owner: String) throws(FiberError) -> FiberStack {
        precondition(!isFull, "a full slab carves no stack")
        let offset = used * (stackSize + Fibers.pageSize)
        let mapping = region.base + offset
        do {
            try region.allowAccess(offset: offset + Fibers.pageSize, bytes: stackSize)
        } catch {
            throw .stackMapFailed(bytes: stackSize + Fibers.pageSize, error)
        }
        let slot = owner.withCString { csgb_stack_guard_register(mapping, Fibers.pageSize, stackSize, $0) }
        guard slot >= 0 else { throw .guardRegistryFull }
        used += 1
        liveStacks.wrappingIncrement(ordering: .relaxed)
        return FiberStack(size: stackSize, mapping: mapping, guardSlot: slot, inSlab: true)
    }

    /// Unmaps every stack of the slab; each must have been released.
    func unmap() { region.unmap() }
}

/// The SIGSEGV/SIGBUS reporter that names a green thread whose stack overflowed.
public enum FiberStackGuard {
    /// Installs the process-wide handler (once) and an alternate signal stack for the
    /// calling OS thread, which a handler needs when the fault is a full stack.
    /// Every thread that runs green threads calls this; `GreenScheduler.run()` does
    /// too, so calling it first only moves a failure to a place that can report it.
    public static func installOnCurrentThread() throws(FiberError) {
        do {
            _ = try SystemError.check("sigaction/sigaltstack", csgb_stack_guard_install_thread())
        } catch {
            throw .signalSetupFailed(error)
        }
    }

    /// Guard pages registered now, process-wide.
    public static var registeredCount: Int { Int(csgb_stack_guard_registered_count()) }
}
