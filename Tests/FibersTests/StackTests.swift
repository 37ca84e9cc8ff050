import CCSGB
import Fibers
import Glibc
import Testing

@Suite struct StackTests {
    @Test func rejectsSizesBelowTheMinimumOrNotPageMultiples() {
        #expect(throws: FiberError.stackTooSmall(bytes: 8192, minimum: 16384)) {
            try GreenScheduler(stackSize: 8192)
        }
        #expect(throws: FiberError.stackNotPageMultiple(bytes: 20_000, pageSize: FiberStack.pageSize)) {
            try FiberStack.allocate(size: 20_000, owner: "odd")
        }
        #expect(FiberError.stackTooSmall(bytes: 8192, minimum: 16384).description
            == "green-thread stack size 8192 bytes is below the minimum of 16384 bytes")
    }

    @Test func stackIsUsableUpToItsTopAndGuardedBelow() throws {
        let stack = try FiberStack.allocate(size: 32 * 1024, owner: "probe")
        defer { stack.release() }
        let usable = stack.top - stack.size
        usable.storeBytes(of: 0xAB, as: UInt8.self)
        (stack.top - 1).storeBytes(of: 0xCD, as: UInt8.self)
        // mincore fails with ENOMEM only for unmapped ranges: the guard page is mapped,
        // just not accessible.
        var residency: UInt8 = 0
        #expect(mincore(usable - FiberStack.pageSize, FiberStack.pageSize, &residency) == 0)
    }

    @Test func overflowNamesTheGreenThreadAndExits70() async {
        let result = await #expect(processExitsWith: .exitCode(70), observing: [\.standardErrorContent]) {
            let scheduler = try GreenScheduler(stackSize: 16 * 1024)
            try scheduler.spawn(name: "deep-diver") { _ = recurse(1) }
            _ = scheduler.run()
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains(
            "csgb: green thread 'deep-diver' overflowed its stack (16384 bytes); raise --stack-size\n"))
    }

    @Test func otherFaultsStillCrashAsBefore() async {
        await #expect(processExitsWith: .signal(SIGSEGV)) {
            let scheduler = try GreenScheduler()
            try scheduler.spawn(name: "innocent") {}
            _ = scheduler.run()  // installs the handler on this thread
            let nowhere = UnsafeMutablePointer<Int>(bitPattern: 8)!
            nowhere.pointee = 1
        }
    }
}

/// Recursion the optimizer may not turn into a loop (it does, for `f(n) &+ c`).
@_optimize(none)
func recurse(_ depth: Int) -> Int {
    var frame = (depth, depth, depth, depth, depth, depth, depth, depth)
    return withUnsafeMutablePointer(to: &frame) { pointer in
        depth == Int.max ? 0 : recurse(depth + 1) &+ pointer.pointee.7
    }
}
