@testable import AsyncWorkers
import Testing

@Suite struct JobRingOrder {
    // UnownedJob is a plain pointer-sized value; these fakes are never run.
    private func fake(_ n: Int) -> UnownedJob { unsafeBitCast(UInt(n + 1), to: UnownedJob.self) }
    private func value(_ job: UnownedJob) -> Int { Int(unsafeBitCast(job, to: UInt.self)) - 1 }

    @Test func growsWhileWrappedAndKeepsFIFO() {
        var ring = JobRing(capacity: 4)
        defer { ring.deallocate() }
        var expected: [Int] = []
        var next = 0
        // Move the head off zero, then overfill so that growth unwraps a wrapped ring.
        for _ in 0..<3 { ring.push(fake(next)); expected.append(next); next += 1 }
        for _ in 0..<2 { #expect(ring.pop().map(value) == expected.removeFirst()) }
        for _ in 0..<20 { ring.push(fake(next)); expected.append(next); next += 1 }
        #expect(ring.count == expected.count)
        while let job = ring.pop() { #expect(value(job) == expected.removeFirst()) }
        #expect(expected.isEmpty)
        #expect(ring.pop() == nil)
    }
}
