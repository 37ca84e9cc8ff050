import CSGBSystem
import Foundation
import Testing
@testable import CSGB

/// `--phases`: the roles of a script's operations, the arithmetic of the tallies on
/// synthetic timestamps, and every mode's report.
@Suite struct PhaseTests {
    /// A board in memory of the test's own, zero-filled.
    final class TestBoard {
        let memory: UnsafeMutableRawPointer
        let board: PhaseBoard
        init(tallies: Int, slots: Int) {
            let length = PhaseBoard.length(tallies: tallies, slots: slots)
            memory = UnsafeMutableRawPointer.allocate(byteCount: length, alignment: 64)
            memory.initializeMemory(as: UInt8.self, repeating: 0, count: length)
            board = PhaseBoard(base: memory, tallies: tallies, slots: slots)
        }
        deinit { memory.deallocate() }
    }

    /// A clock that returns what the test sets, and counts its reads.
    final class SyntheticClock {
        var now: Int64 = 0
        var reads = 0
        func read() -> Int64 {
            reads += 1
            return now
        }
    }

    static let initiator: [CSGB.Operation] = [.touch, .write, .wakePeer, .waitPeer, .read]
    static let responder: [CSGB.Operation] = [.waitPeer, .read, .touch, .write, .wakePeer]

    @Test func rolesMarkTheFirstSendOfAGroup() {
        typealias R = TimedPhases.Role
        #expect(TimedPhases.roles(Self.initiator) == [R.work, .send, .none, .none, .receive])
        #expect(TimedPhases.roles(Self.responder) == [R.none, .receive, .work, .send, .none])
        // Without work the write follows the read: still the start of the next hand-off.
        #expect(TimedPhases.roles([.write, .wakePeer, .waitPeer, .read]) == [R.send, .none, .none, .receive])
        #expect(TimedPhases.roles([.touch, .yield]) == [R.work, .turn])
        #expect(TimedPhases.roles([.futexAwait(1), .touch, .futexPost(0)]) == [R.receive, .work, .send])
    }

    /// One round trip of a pair, as the two interpreters would call the probes, with
    /// the times set by hand: A works 200 ns, hands off (1,000 ns), B works 300 ns,
    /// hands back (1,000 ns). The tallies must give exactly that, and the two hand-offs
    /// and the work must tile the 2,500 ns of the round trip.
    @Test func aRoundTripOnSyntheticTimestampsTilesTheIteration() {
        let test = TestBoard(tallies: 2, slots: 4)
        let board = test.board
        var a = TimedPhases(script: Self.initiator, board: board, actor: 0, peer: 1, tally: 0, actors: 2, worker: 0)
        var b = TimedPhases(script: Self.responder, board: board, actor: 1, peer: 0, tally: 1, actors: 2, worker: 0)
        let clock = SyntheticClock()
        board.openWindow()
        var start: Int64 = 100
        for _ in 0..<3 {
            clock.now = start
            a.before(0, clock: clock.read)           // touch
            clock.now = start + 200
            a.after(0, clock: clock.read)
            a.before(1, clock: clock.read)           // write: the hand-off to B starts at the work's end
            a.after(1, clock: clock.read)
            a.before(2, clock: clock.read)           // wake
            a.before(3, clock: clock.read)           // wait
            b.before(0, clock: clock.read)
            b.before(1, clock: clock.read)           // read
            clock.now = start + 1_200
            b.after(1, clock: clock.read)
            b.before(2, clock: clock.read)           // touch starts as the read returns
            clock.now = start + 1_500
            b.after(2, clock: clock.read)
            b.before(3, clock: clock.read)           // write
            b.before(4, clock: clock.read)           // wake
            a.after(3, clock: clock.read)
            a.before(4, clock: clock.read)           // read
            clock.now = start + 2_500
            a.after(4, clock: clock.read)
            start += 2_500
        }
        board.closeWindow()
        let totals = board.totals()
        #expect(totals.work == 3 * 500)
        #expect(totals.works == 6)
        #expect(totals.handoffs == 6)
        #expect(totals.handoffSum == 6 * 1_000)
        #expect(totals.handoffMax == 1_000)
        let summary = PhaseSummary(totals, iterations: 3, nanosecondsPerIteration: 2_500, clockRead: 20)
        #expect(summary.workNanosecondsPerIteration == 500)
        #expect(summary.handoffsPerIteration == 2)
        #expect(summary.handoffMean == 1_000)
        #expect(summary.accountedRatio == 1)
        // Adjacent edges share a read: the first round reads the clock for A's touch
        // too; after it, four reads per round trip (two per actor).
        #expect(clock.reads == 5 + 4 + 4)
    }

    @Test func nothingIsTalliedWhileTheWindowIsClosed() {
        let test = TestBoard(tallies: 1, slots: 3)
        var probe = TimedPhases(script: [.touch, .yield], board: test.board, actor: 0, peer: nil, tally: 0, actors: 1, worker: 0)
        let clock = SyntheticClock()
        for open in [false, true, false] {
            if open { test.board.openWindow() } else { test.board.closeWindow() }
            probe.before(0, clock: clock.read)
            clock.now += 50
            probe.after(0, clock: clock.read)
            probe.before(1, clock: clock.read)
            clock.now += 70
            probe.after(1, clock: clock.read)
        }
        let totals = test.board.totals()
        #expect(totals.work == 50)
        #expect(totals.handoffs == 1)
        #expect(totals.handoffSum == 70)
    }

    @Test func bucketsAreAtMostThreePercentWide() {
        for bucket in 0..<PhaseBoard.bucketCount - 1 {
            let low = PhaseBoard.lowerBound(bucket)
            #expect(PhaseBoard.bucket(low) == bucket)
            let next = PhaseBoard.lowerBound(bucket + 1)
            #expect(next > low)
            #expect(PhaseBoard.bucket(next - 1) == bucket)
            if low >= 32 { #expect(Double(next - low) / Double(low) <= 1.0 / 32) }
        }
    }

    @Test func percentilesFollowTheRecordedValues() {
        let test = TestBoard(tallies: 1, slots: 1)
        let tally = test.board.tally(0)
        for value in 1...10_000 { test.board.recordHandoff(tally, UInt64(value)) }
        let totals = test.board.totals()
        for (percent, exact) in [(50.0, 5_000.0), (90, 9_000), (99, 9_900), (99.9, 9_990)] {
            let value = Double(totals.percentile(percent))
            #expect(value >= exact && value <= exact * 1.04, "p\(percent) = \(value)")
        }
        #expect(totals.percentile(100) == 10_000)
        #expect(totals.handoffMax == 10_000)
    }

    /// Every mode and workload it runs: the hand-offs per iteration the script
    /// implies, the work where there is some, and (one pair on one CPU) work and
    /// hand-offs adding up to ns/iteration within 10 %.
    @Test(arguments: Mode.allCases)
    func everyModeReportsItsPhases(_ mode: Mode) throws {
        for (workload, handoffs) in [("socket", 2.0), ("yield", 1.0), ("futex", 2.0)] {
            let n = workload == "yield" ? "2" : "1"
            // --until-passes: on a loaded machine 0.3 s may hold no iteration, and then no phases.
            let result = try CSGBProcess.run([workload, n, "--mode", mode.rawValue, "--cpus", "0", "-d", "0.3", "--phases",
                                              "--work-size", "16K", "--until-passes", "1", "--format", "json"], timeout: 90)
            if result.status == 64 && result.stderr.contains("cannot run \(workload)") { continue }
            #expect(result.status == 0, "\(mode) \(workload): \(result.stderr)")
            let report = try CSGBProcess.json(result.stdout)
            #expect(report["phases"] as? Bool == true)
            let perIteration = try #require(report["phases_handoffs_per_iteration"] as? Double)
            #expect(abs(perIteration - handoffs) < 0.05, "\(mode) \(workload): \(perIteration) hand-offs per iteration")
            let ratio = try #require(report["phases_accounted_ratio"] as? Double)
            #expect(ratio > 0.9 && ratio < 1.1, "\(mode) \(workload): work and hand-offs are \(ratio) of ns/iteration")
            #expect((report["phases_work_ns_per_iteration"] as? Double ?? 0) > 0)
            #expect((report["phases_work_alone_ns_per_iteration"] as? Double ?? 0) > 0)
            let p50 = try #require(report["phases_handoff_p50_ns"] as? Int)
            let max = try #require(report["phases_handoff_max_ns"] as? Int)
            #expect(p50 > 0 && p50 <= max)
        }
    }

    @Test func withoutTheOptionEveryPhaseFieldIsNull() throws {
        let result = try CSGBProcess.run(["socket", "1", "--cpus", "0", "-d", "0.1", "--format", "json"])
        #expect(result.status == 0)
        let report = try CSGBProcess.json(result.stdout)
        #expect(report["phases"] as? Bool == false)
        for (name, _) in PhaseSummary.jsonFields(nil) where name != "phases" {
            #expect(report[name] is NSNull, "\(name)")
        }
    }
}
