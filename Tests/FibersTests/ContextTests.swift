import CCSGB
import CCSGBTestSupport
import Fibers
import Testing

/// The raw switch, without a scheduler.
@Suite struct ContextTests {
    @Test func calleeSavedRegistersAndFloatingPointModesSurviveJumps() throws {
        let stack = try FiberStack.allocate(size: FiberStack.minimumSize, owner: "trasher")
        defer { stack.release() }
        let pair = UnsafeMutablePointer<csgb_test_pair>.allocate(capacity: 1)
        defer { pair.deallocate() }
        pair.initialize(to: csgb_test_pair(main: nil, fiber: csgb_make_context(stack.top, csgb_test_trashing_entry)))
        // The other side overwrites rbx, rbp, r12-r15, MXCSR and the x87 control word
        // every time it runs; each bit of the result is one that came back changed.
        for _ in 0..<1_000 {
            #expect(csgb_test_registers_survive_jump(pair) == 0)
        }
    }

    @Test func valuesCrossTheJumpBothWays() throws {
        let stack = try FiberStack.allocate(size: FiberStack.minimumSize, owner: "doubler")
        defer { stack.release() }
        let slots = UnsafeMutablePointer<UnsafeMutableRawPointer?>.allocate(capacity: 2)
        defer { slots.deallocate() }
        slots.initialize(repeating: nil, count: 2)
        slots[1] = csgb_make_context(stack.top, doublingEntry)

        // The first jump's value becomes the entry's argument.
        let started = csgb_jump_context(slots, slots[1]!, slots)
        #expect(Int(bitPattern: started) == 1)
        for n in 1...10_000 {
            let reply = csgb_jump_context(slots, slots[1]!, UnsafeMutableRawPointer(bitPattern: n))
            #expect(Int(bitPattern: reply) == 2 * n)
        }
    }

    @Test func freshContextsStartAlignedWhateverTheTop() throws {
        let stack = try FiberStack.allocate(size: FiberStack.minimumSize, owner: "aligner")
        defer { stack.release() }
        let slots = UnsafeMutablePointer<UnsafeMutableRawPointer?>.allocate(capacity: 2)
        defer { slots.deallocate() }
        slots.initialize(repeating: nil, count: 2)
        for offset in 0..<32 {
            slots[1] = csgb_make_context(stack.top - offset, alignmentReportingEntry)
            let misalignment = csgb_jump_context(slots, slots[1]!, slots)
            #expect(Int(bitPattern: misalignment) == 0, "stack top - \(offset)")
        }
    }
}

/// slots[0] is the caller's context, slots[1] this one's. Answers n with 2n, forever.
private func doublingEntry(_ value: UnsafeMutableRawPointer?) {
    let slots = value!.assumingMemoryBound(to: UnsafeMutableRawPointer?.self)
    var reply = UnsafeMutableRawPointer(bitPattern: 1)
    while true {
        let received = csgb_jump_context(slots + 1, slots[0]!, reply)
        reply = UnsafeMutableRawPointer(bitPattern: 2 * Int(bitPattern: received))
    }
}

/// Reports (rsp + 8) % 16 as seen by a C function called from the entry; a Swift
/// frame in between keeps whatever alignment the trampoline gave it.
private func alignmentReportingEntry(_ value: UnsafeMutableRawPointer?) {
    let slots = value!.assumingMemoryBound(to: UnsafeMutableRawPointer?.self)
    let misalignment = Int(csgb_test_entry_misalignment())
    _ = csgb_jump_context(slots + 1, slots[0]!, UnsafeMutableRawPointer(bitPattern: misalignment))
    fatalError("resumed a finished alignment probe")
}
