import Testing
@testable import Analysis
@testable import CSGB
import CSGBSystem

/// `csgb cost`'s arithmetic and statistics on synthetic figures, and its refusals.
@Suite struct CostArithmeticTests {
    static func figures(ns: Double, switches: Double, work: Double) -> RunFigures {
        RunFigures(nsPerIteration: ns, switchesPerIteration: switches, workNsPerIteration: work)
    }

    @Test func oneRoundSplitsAsDefined() throws {
        // K: 10,000 ns and 2.5 switches per iteration, 3,000 ns of it work; U: 5,000
        // ns, 2,000 of it work. Total (10,000 − 5,000) / 2.5 = 2,000 per switch;
        // indirect (3,000 − 2,000) / 2.5 = 400; direct 1,600.
        let round = CostRound(kernel: Self.figures(ns: 10_000, switches: 2.5, work: 3_000),
                              user: Self.figures(ns: 5_000, switches: 0.0001, work: 2_000))
        #expect(round.total == 2_000)
        #expect(round.indirect == 400)
        #expect(round.direct == 1_600)
        // No switch in K: nothing to divide by, no figure rather than infinity.
        let still = CostRound(kernel: Self.figures(ns: 10_000, switches: 0, work: 3_000),
                              user: Self.figures(ns: 5_000, switches: 0, work: 2_000))
        #expect(still.total == nil && still.direct == nil)
    }

    @Test func hodgesLehmannAndItsExactInterval() throws {
        let estimate = PairedEstimate([1, 2, 3, 4, 5, 6, 7])
        #expect(estimate.estimate == 4)
        // n = 7: P(T+ <= 2) = 3/128 <= 0.025 < P(T+ <= 3) = 5/128, so the interval
        // runs from the 3rd to the 26th of the 28 Walsh averages.
        #expect(estimate.low == 2 && estimate.high == 6)
        #expect(estimate.coverage == 1 - 6.0 / 128)
        #expect(estimate.resolved)
        // The tabled critical value of the signed-rank test at n = 10 (two-sided
        // 0.05) is 8: the interval starts at the 9th Walsh average.
        #expect(PairedEstimate.orderStatistic(n: 10, confidence: 0.95)?.index == 9)
        #expect(PairedEstimate.orderStatistic(n: 6, confidence: 0.95)?.index == 1)
        // Five rounds cannot reach 95 %: the widest interval covers 1 − 2/32.
        #expect(PairedEstimate.orderStatistic(n: 5, confidence: 0.95) == nil)
        let five = PairedEstimate([1, 2, 3, 4, 5])
        #expect(five.low == nil && !five.resolved)
        // One wild value moves the estimate little (a mean would move by 1,000/7).
        let wild = PairedEstimate([1, 2, 3, 4, 5, 6, 1_000])
        #expect(wild.estimate < 5)
        // An interval straddling 0 is not resolved.
        #expect(!PairedEstimate([-3, -1, 0.5, 1, 2, -2, 3]).resolved)
    }

    /// Seven rounds whose switch path costs about 2,000 ns and whose work does not
    /// change: direct resolved and dominant, indirect not resolved.
    @Test func splitsRoundsAndNamesTheDominantPart() throws {
        let noise: [Double] = [0, 37, -21, 55, -48, 12, -30]
        let rounds = noise.map { n in
            CostRound(kernel: Self.figures(ns: 10_000 + n * 2.5, switches: 2.5, work: 2_000 + n / 4),
                      user: Self.figures(ns: 5_000, switches: 0, work: 2_000))
        }
        let split = CostSplit(rounds)
        #expect(abs(split.total.estimate - 2_000) < 60)
        #expect(split.total.resolved && split.direct.resolved)
        #expect(!split.indirect.resolved)
        #expect(split.dominant == "direct")
        // The same rounds with K's work 1,500 ns slower per switch: the slowdown is
        // indirect, and the direct part does not move.
        let cold = noise.map { n in
            CostRound(kernel: Self.figures(ns: 10_000 + n * 2.5 + 3_750, switches: 2.5, work: 2_000 + n / 4 + 3_750),
                      user: Self.figures(ns: 5_000, switches: 0, work: 2_000))
        }
        let coldSplit = CostSplit(cold)
        #expect(abs(coldSplit.indirect.estimate - 1_500) < 20)
        #expect(abs(coldSplit.direct.estimate - split.direct.estimate) < 1)
        #expect(coldSplit.dominant == nil || coldSplit.dominant == "direct")
    }

    @Test func readsAReportAndRefusesOneWithoutPhases() throws {
        let report = JSON.object([
            ("workload", .string("socket")), ("n", .int(1)), ("mode", .string("thread")),
            ("ns_per_iteration", .double(10_000)), ("voluntary_switches_per_iteration", .double(2)),
            ("involuntary_switches_per_iteration", .double(0.5)), ("phases", .bool(true)),
            ("phases_work_ns_per_iteration", .double(3_000)), ("phases_handoff_mean_ns", .double(3_400)),
        ])
        let figures = try RunFigures(report: report)
        #expect(figures.switchesPerIteration == 2.5 && figures.workNsPerIteration == 3_000 && figures.handoffMeanNs == 3_400)
        let withoutPhases = JSON.object((report.objectPairs ?? []).filter { !$0.0.hasPrefix("phases") } + [("phases", .bool(false))])
        #expect(throws: CSGBError.self) { try RunFigures(report: withoutPhases) }
        let empty = JSON.object((report.objectPairs ?? []).map { $0.0 == "ns_per_iteration" ? ($0.0, JSON.null) : $0 })
        #expect(throws: CSGBError.self) { try RunFigures(report: empty) }
    }
}

/// Which pairs of modes `csgb cost` accepts, from the modes' declarations only.
@Suite struct CostPlanTests {
    static func configuration(_ workload: any Workload, _ mode: Mode, io: IOChoice = .direct) -> RunConfiguration {
        var configuration = RunConfiguration(workload: workload, n: 1)
        configuration.mode = mode
        configuration.io = io
        configuration.placement = Placement(cpus: CPUList(parsing: "0"), pinning: .set)
        return configuration
    }

    @Test func acceptsAKernelModeAgainstOneWithTheSameSyscalls() {
        let echo = SocketEcho()
        let kernel = Mode.allCases.filter(\.kernelSwitching)
        let user = Mode.allCases.filter { !$0.kernelSwitching }
        #expect(!kernel.isEmpty && !user.isEmpty)
        for k in kernel {
            for u in Mode.allCases where u != k {
                #expect(CostPlan.refusal(kernel: Self.configuration(echo, k), user: Self.configuration(echo, u)) == nil, "\(k),\(u)")
            }
        }
        #expect(CostPlan.validPairs(Self.configuration(echo, Mode.default)).count == kernel.count * (Mode.allCases.count - 1))
    }

    @Test func refusesAUserModeFirst() {
        let echo = SocketEcho()
        for u in Mode.allCases where !u.kernelSwitching {
            let reason = CostPlan.refusal(kernel: Self.configuration(echo, u), user: Self.configuration(echo, Mode.default))
            #expect(reason?.contains("must switch through the kernel") == true)
        }
    }

    /// A kernel yield is a sched_yield, a user-mode one no syscall: not comparable.
    /// io_uring without links differs too (one enter per transfer against fewer).
    @Test func refusesDifferentSyscalls() {
        let k = Mode.defaultComparison.kernel, u = Mode.defaultComparison.user
        let yielding = YieldLoop(WorkloadParameters())
        #expect(CostPlan.refusal(kernel: Self.configuration(yielding, k), user: Self.configuration(yielding, u))?.contains("not comparable") == true)
        let echo = SocketEcho()
        #expect(CostPlan.refusal(kernel: Self.configuration(echo, k, io: .uring), user: Self.configuration(echo, u, io: .uring))?.contains("not comparable") == true)
        #expect(CostPlan.refusal(kernel: Self.configuration(echo, k), user: Self.configuration(echo, k))?.contains("two different") == true)
    }
}
