import CCSGB
import CCSGBTestSupport
import Fibers
import Glibc
import Testing

/// Single-threaded shared state for fiber bodies.
private final class Box<Value> {
    var value: Value
    init(_ value: Value) { self.value = value }
}

// Serialized so the ping-pong timing is not disturbed by the other tests of this suite.
@Suite(.serialized) struct GreenSchedulerTests {
    @Test func nothingRunsBeforeRunAndEveryFiberFinishes() throws {
        let scheduler = try GreenScheduler()
        let log = Box<[String]>([])
        let a = try scheduler.spawn(name: "a") { log.value.append("a") }
        try scheduler.spawn(name: "b") {
            log.value.append("b:\(scheduler.current!)")
        }
        #expect(log.value.isEmpty)
        #expect(scheduler.current == nil)
        #expect(scheduler.run() == 0)
        #expect(log.value == ["a", "b:fiber#1"])
        #expect(scheduler.count == 2 && scheduler.finishedCount == 2)
        scheduler.unpark(a)  // finished: ignored
        #expect(scheduler.run() == 0)
    }

    @Test func parkSuspendsUntilUnpark() throws {
        let scheduler = try GreenScheduler()
        let log = Box<[String]>([])
        let ids = Box<[FiberID]>([])
        ids.value.append(try scheduler.spawn(name: "waiter") {
            log.value.append("waiter parks")
            scheduler.park()
            log.value.append("waiter woke")
        })
        ids.value.append(try scheduler.spawn(name: "waker") {
            log.value.append("waker unparks")
            scheduler.unpark(ids.value[0])
            log.value.append("waker still running")
        })
        #expect(scheduler.run() == 0)
        #expect(log.value == ["waiter parks", "waker unparks", "waker still running", "waiter woke"])
    }

    @Test func unparkBeforeParkKeepsOnePermit() throws {
        let scheduler = try GreenScheduler()
        let log = Box<[String]>([])
        let ids = Box<[FiberID]>([])
        ids.value.append(try scheduler.spawn(name: "waker") {
            // The sleeper is runnable, not parked: both unparks store one permit.
            scheduler.unpark(ids.value[1])
            scheduler.unpark(ids.value[1])
            log.value.append("woken twice")
        })
        ids.value.append(try scheduler.spawn(name: "sleeper") {
            scheduler.park()
            log.value.append("first park returned")
            scheduler.park()
            log.value.append("second park returned")
        })
        #expect(scheduler.run() == 1, "the second park must block")
        #expect(log.value == ["woken twice", "first park returned"])
        scheduler.unpark(ids.value[1])
        #expect(scheduler.run() == 0)
        #expect(log.value.last == "second park returned")
    }

    @Test func selfUnparkMakesTheNextParkReturn() throws {
        let scheduler = try GreenScheduler()
        let passed = Box(false)
        try scheduler.spawn(name: "self") {
            scheduler.unpark(scheduler.current!)
            scheduler.park()
            passed.value = true
        }
        #expect(scheduler.run() == 0)
        #expect(passed.value)
    }

    @Test func yieldIsFairAcrossAHundredFibers() throws {
        let scheduler = try GreenScheduler()
        let fibers = 100, rounds = 50
        let counters = Box([Int](repeating: 0, count: fibers))
        let worstSpread = Box(0)
        for index in 0..<fibers {
            try scheduler.spawn(name: "yielder-\(index)") {
                for _ in 0..<rounds {
                    counters.value[index] += 1
                    let spread = counters.value.max()! - counters.value.min()!
                    worstSpread.value = max(worstSpread.value, spread)
                    scheduler.yield()
                }
            }
        }
        #expect(scheduler.run() == 0)
        #expect(worstSpread.value <= 1)
        #expect(counters.value.allSatisfy { $0 == rounds })
    }

    /// The handle each yield gets back came through the switch from whichever fiber
    /// ran before: it must be the scheduler's, or the next yield would work on
    /// another scheduler's queue. Mixed with plain yields, parks and unparks, the
    /// turns still go round fairly and every handle is the one the scheduler gives.
    @Test func aLoopOfHandleYieldsTakesTurnsWithTheOthers() throws {
        let scheduler = try GreenScheduler()
        let fibers = 4, rounds = 300
        let counters = Box([Int](repeating: 0, count: fibers))
        let worstSpread = Box(0)
        let foreignHandles = Box(0)
        let mine = scheduler.yieldHandle
        for index in 0..<fibers {
            try scheduler.spawn(name: "turns-\(index)") {
                var handle = scheduler.yieldHandle
                for round in 0..<rounds {
                    counters.value[index] += 1
                    worstSpread.value = max(worstSpread.value, counters.value.max()! - counters.value.min()!)
                    if index == 0 && round % 7 == 0 {
                        scheduler.yield()
                    } else {
                        handle = GreenScheduler.yield(handle)
                        if handle != mine { foreignHandles.value += 1 }
                    }
                }
            }
        }
        #expect(scheduler.run() == 0)
        #expect(foreignHandles.value == 0)
        #expect(worstSpread.value <= 1)
        #expect(counters.value.allSatisfy { $0 == rounds })
    }

    @Test func aHandleYieldAloneReturnsItsHandle() throws {
        let scheduler = try GreenScheduler()
        let same = Box(0)
        let mine = scheduler.yieldHandle
        try scheduler.spawn(name: "alone") {
            for _ in 0..<100 {
                if GreenScheduler.yield(mine) == mine { same.value += 1 }
            }
        }
        #expect(scheduler.run() == 0)
        #expect(same.value == 100)
    }

    @Test func yieldAloneReturnsAtOnce() throws {
        let scheduler = try GreenScheduler()
        let yields = Box(0)
        try scheduler.spawn(name: "alone") {
            for _ in 0..<1000 { scheduler.yield(); yields.value += 1 }
        }
        #expect(scheduler.run() == 0)
        #expect(yields.value == 1000)
    }

    @Test func fibersSpawnFibersWhileOthersAreSuspended() throws {
        let scheduler = try GreenScheduler()
        let finished = Box(0)
        try scheduler.spawn(name: "parent") {
            // Enough children to grow every buffer several times while they wait.
            for index in 0..<200 {
                _ = try! scheduler.spawn(name: "child-\(index)") {
                    scheduler.yield()
                    finished.value += 1
                }
                if index % 7 == 0 { scheduler.yield() }
            }
        }
        #expect(scheduler.run() == 0)
        #expect(finished.value == 200)
        #expect(scheduler.count == 201)
    }

    @Test func floatingPointAndSSEWorkOnGreenStacks() throws {
        let scheduler = try GreenScheduler()
        let results = Box<[String]>([])
        try scheduler.spawn(name: "sse") {
            results.value.append("misalignment \(csgb_test_entry_misalignment())")
            results.value.append(String(describing: 3.14159265358979))
            results.value.append("\(Double(1) / 3)")
            let source = UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 16)
            let target = UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 16)
            defer { source.deallocate(); target.deallocate() }
            for offset in 0..<4096 { source.storeBytes(of: UInt8(truncatingIfNeeded: offset * 7), toByteOffset: offset, as: UInt8.self) }
            memcpy(target, source, 4096)
            results.value.append("memcpy \(memcmp(source, target, 4096) == 0)")
        }
        #expect(scheduler.run() == 0)
        #expect(results.value == ["misalignment 0", "3.14159265358979", "0.3333333333333333", "memcpy true"])
    }

    @Test func fiveThousandParkedFibersStopCleanly() throws {
        let fibers = 5_000
        // An unusual stack size, so that counting mappings of exactly that size sees
        // only ours even while other tests map and unmap in parallel.
        let stackSize = 17 * FiberStack.pageSize
        let before = mappingCount(ofSize: stackSize)
        let scheduler = try GreenScheduler(stackSize: stackSize)
        let stop = Box(false)
        for index in 0..<fibers {
            try scheduler.spawn(name: "parked-\(index)") {
                while !stop.value { scheduler.park() }
            }
        }
        #expect(scheduler.run() == fibers)
        #expect(scheduler.mappedStackCount == fibers)
        #expect(FiberStack.liveCount >= fibers)
        #expect(mappingCount(ofSize: stackSize) == before + fibers)

        stop.value = true
        scheduler.unparkAll()
        #expect(scheduler.run() == 0)
        #expect(scheduler.finishedCount == fibers)
        scheduler.close()
        #expect(scheduler.mappedStackCount == 0 && scheduler.count == 0)
        #expect(mappingCount(ofSize: stackSize) == before)

        // Closed is empty, not dead.
        let ran = Box(false)
        try scheduler.spawn(name: "after-close") { ran.value = true }
        #expect(scheduler.run() == 0 && ran.value)
    }

    @Test func closeDropsParkedAndUnstartedFibers() throws {
        let scheduler = try GreenScheduler()
        for index in 0..<10 { try scheduler.spawn(name: "p\(index)") { scheduler.park() } }
        #expect(scheduler.run() == 10)
        try scheduler.spawn(name: "never-run") {}
        scheduler.close()
        #expect(scheduler.mappedStackCount == 0)
    }

    @Test func twoFibersPingPongAMillionTimes() throws {
        let scheduler = try GreenScheduler()
        let iterations = 1_000_000
        let ids = Box<[FiberID]>([])
        let counts = Box((ping: 0, pong: 0))
        // Counted in locals: the loop should cost what the scheduler costs.
        ids.value.append(try scheduler.spawn(name: "ping") {
            let peer = ids.value[1]
            var rounds = 0
            for _ in 0..<iterations {
                scheduler.unpark(peer)
                scheduler.park()
                rounds += 1
            }
            counts.value.ping = rounds
        })
        ids.value.append(try scheduler.spawn(name: "pong") {
            let peer = ids.value[0]
            var rounds = 0
            for _ in 0..<iterations {
                scheduler.park()
                rounds += 1
                scheduler.unpark(peer)
            }
            counts.value.pong = rounds
        })
        let start = csgb_monotonic_ns()
        #expect(scheduler.run() == 0)
        let elapsed = csgb_monotonic_ns() - start
        #expect(counts.value.ping == iterations && counts.value.pong == iterations)
        print("ping-pong: \(Double(elapsed) / Double(iterations)) ns per park+unpark round (not a benchmark)")
    }
}

/// Mappings of exactly `size` bytes in /proc/self/maps (lines start "lo-hi ").
private func mappingCount(ofSize size: Int) -> Int {
    guard let file = fopen("/proc/self/maps", "r") else { return -1 }
    defer { fclose(file) }
    var count = 0
    var line = [CChar](repeating: 0, count: 4096)
    while fgets(&line, Int32(line.count), file) != nil {
        let text = String(cString: line)
        guard let range = text.split(separator: " ").first else { continue }
        let bounds = range.split(separator: "-").compactMap { UInt(String($0), radix: 16) }
        if bounds.count == 2, bounds[1] - bounds[0] == UInt(size) { count += 1 }
    }
    return count
}
