import CSGBSystem
import Testing
@testable import Analysis
@testable import CSGB

func figures(switches: Double?, reads: Double? = 2, writes: Double? = 2, futex: Double? = 0, epoll: Double? = 0,
             yields: Double? = 0, ns: Double = 1_000, eagain: Double = 0, sends: Double? = 0, recvs: Double? = 0) -> StatFigures {
    var values: [StatFigure: Double] = [.nanoseconds: ns, .eagain: eagain, .failedTransfers: 0, .cpuMigrations: 0]
    values[.contextSwitches] = switches
    // As from a run nobody preempted: every switch was the run's own blocking.
    values[.voluntarySwitches] = switches
    values[.involuntarySwitches] = switches.map { _ in 0 }
    values[.syscalls("read")] = reads
    values[.syscalls("write")] = writes
    values[.syscalls("sendto")] = sends
    values[.syscalls("recvfrom")] = recvs
    values[.syscalls("futex")] = futex
    values[.syscalls("epoll_wait")] = epoll
    values[.syscalls("epoll_pwait")] = epoll
    values[.syscalls("sched_yield")] = yields
    return StatFigures(iterations: 100_000, values: values.compactMapValues { $0 })
}

func target(_ mode: Mode, _ workload: any Workload = SocketEcho(), cpus: [Int32]?, executor: ExecutorChoice = .dedicated) -> RunTarget {
    RunTarget(description: "\(mode.rawValue) \(workload.name)", claims: claims(mode, workload, cpus: cpus, executor: executor))
}

/// The rules `csgb stat` derives from what each mode claims for each workload.
@Suite struct ExpectationTests {
    func rules(_ target: RunTarget, _ choice: ExpectationChoice = .auto) -> [String: ExpectationRule.Bound] {
        Dictionary(uniqueKeysWithValues: Expectation.derive(choice, for: target).rules.map { ($0.figure.key, $0.bound) })
    }

    @Test(arguments: [Mode.green, .async], ByteChannel.Kind.allCases)
    func userModeSocketNeitherSwitchesNorPolls(mode: Mode, transport: ByteChannel.Kind) {
        let rules = rules(target(mode, SocketEcho(transport: transport), cpus: [0]))
        #expect(rules["voluntary_switches_per_iteration"] == .below(0.001))
        #expect(rules["context_switches_per_iteration"] == nil)
        #expect(rules["syscalls_per_iteration.read"] == .exactly(2, tolerance: 0.01))
        #expect(rules["syscalls_per_iteration.write"] == .exactly(2, tolerance: 0.01))
        #expect(rules["syscalls_per_iteration.futex"] == .below(0.001))
        #expect(rules["syscalls_per_iteration.epoll_wait"] == .below(0.001))
        #expect(rules["syscalls_per_iteration.epoll_pwait"] == .below(0.001))
        #expect(rules["eagain"] == .exactly(0, tolerance: 0))
    }

    @Test func threadSocketDependsOnPinning() {
        let one = rules(target(.thread, cpus: [0]))
        #expect(one["context_switches_per_iteration"] == .between(2, 3))
        #expect(one["syscalls_per_iteration.read"] == .exactly(2, tolerance: 0.01))
        #expect(one["eagain"] == nil)
        let several = rules(target(.thread, cpus: [0, 1]))
        #expect(several["context_switches_per_iteration"] == nil)
        #expect(several["syscalls_per_iteration.write"] == .exactly(2, tolerance: 0.01))
        #expect(rules(target(.thread, cpus: nil))["context_switches_per_iteration"] == nil)
    }

    @Test func globalExecutorMayHopAndPark() {
        let rules = rules(target(.async, cpus: [0], executor: .global))
        #expect(rules["context_switches_per_iteration"] == nil)
        #expect(rules["syscalls_per_iteration.futex"] == nil)
        #expect(rules["syscalls_per_iteration.read"] == .exactly(2, tolerance: 0.01))
    }

    @Test func yieldAndFutex() {
        #expect(rules(target(.green, YieldLoop(), cpus: [0]))["voluntary_switches_per_iteration"] == .below(0.001))
        #expect(rules(target(.green, YieldLoop(), cpus: [0]))["syscalls_per_iteration.read"] == nil)
        #expect(rules(target(.thread, YieldLoop(), cpus: [0]))["syscalls_per_iteration.sched_yield"] == .exactly(1, tolerance: 0.01))
        // Two futex waits per round trip, each blocking once on one CPU.
        #expect(rules(target(.thread, FutexPingPong(), cpus: [0]))["context_switches_per_iteration"] == .between(2, 3))
        #expect(rules(target(.thread, FutexPingPong(), cpus: [0]))["syscalls_per_iteration.futex"] == nil)
        #expect(rules(target(.thread, FutexPingPong(), cpus: nil))["context_switches_per_iteration"] == nil)
    }

    @Test func forcedExpectationsReplaceTheSwitchRuleOnly() {
        let none = rules(target(.thread, cpus: [0]), .noSwitches)
        #expect(none["voluntary_switches_per_iteration"] == .below(0.001))
        #expect(none["syscalls_per_iteration.read"] == .exactly(2, tolerance: 0.01))
        #expect(rules(target(.green, cpus: [0]), .switching)["context_switches_per_iteration"] == .atLeast(1))
    }

    @Test func readsTheClaimsFromTheChildReport() throws {
        var report = sampleReport()
        report.mode = .thread
        report.claims = claims(.thread, SocketEcho(), cpus: [0])
        let json = try JSON(parsing: report.json.rendered())
        let parsed = try #require(RunTarget(report: json))
        #expect(parsed.claims == report.claims)
        #expect(parsed.description == "socket 2 (thread, unix, io direct) on CPU 0")
        #expect(RunTarget(report: .object([("workload", .string("socket"))])) == nil)
    }

    @Test func aModeRefusesWhatWouldBlockItsWorker() {
        var configuration = RunConfiguration(workload: FutexPingPong(), n: 1)
        configuration.mode = .green
        #expect(throws: CSGBError.usage("--mode green cannot run futex: a futex wait would block the worker thread")) {
            try configuration.validatePlan()
        }
        configuration.mode = .thread
        #expect(throws: Never.self) { try configuration.validatePlan() }
    }
}

@Suite struct VerificationTests {
    let green = Expectation.derive(.auto, for: target(.green, cpus: [0]))
    let thread = Expectation.derive(.auto, for: target(.thread, cpus: [0]))

    @Test func holdsWithinTheEdgeTolerance() {
        let run = figures(switches: 0.0002, reads: 2.004, writes: 1.996, futex: 0.00004)
        let verification = Verification(expectation: green, runs: [run], median: run)
        #expect(verification.holds, "\(verification.checks.map(\.text))")
    }

    @Test func namesTheFigureThatBrokeIt() {
        let run = figures(switches: 2.5)
        let verification = Verification(expectation: green, runs: [run], median: run)
        #expect(!verification.holds)
        #expect(verification.broken.map(\.rule.figure) == [.voluntarySwitches])
        #expect(verification.failureMessage == "verification failed: voluntary_switches_per_iteration = 2.5000, expected < 0.001")
        #expect(verification.checks.first?.text == "voluntary switches/iteration 2.5000 < 0.001: BROKEN")
        #expect(verification.json["broken"] == .string("voluntary_switches_per_iteration"))
    }

    @Test func extraSyscallsBreakExactCounts() {
        let run = figures(switches: 0, reads: 3, epoll: 1)
        let broken = Verification(expectation: green, runs: [run], median: run).broken.map(\.rule.figure.key)
        #expect(broken == ["syscalls_per_iteration.read", "syscalls_per_iteration.epoll_wait", "syscalls_per_iteration.epoll_pwait"])
    }

    @Test func threadModeOnOneCPUSwitchesTwoToThreeTimes() {
        for (switches, holds) in [(2.5, true), (2.0, true), (3.0, true), (1.2, false), (3.6, false)] {
            let run = figures(switches: switches)
            #expect(Verification(expectation: thread, runs: [run], median: run).holds == holds, "\(switches)")
        }
    }

    /// A claim nobody could measure is not a verified claim.
    @Test func aMissingFigureFails() {
        let run = figures(switches: nil)
        let verification = Verification(expectation: green, runs: [run], median: run)
        #expect(!verification.holds)
        #expect(verification.checks.first?.text.contains("not measured") == true)
    }

    /// 9,968 socket pairs each have a round trip under way when an edge falls, so
    /// the counts per iteration may be off by one round trip per pair over the
    /// window's iterations: async measured 1.954 reads over 1 s (90,000 iterations),
    /// which the fixed ±0.01 failed. The widened rule passes that, and still fails a
    /// mode that does more than it claims, and the same counts at N = 1.
    @Test func theWindowsEdgesWidenTheBoundsByTheIterationsUnderWay() {
        var async = Expectation.derive(.auto, for: target(.async, cpus: [0]))
        var threads = thread
        async.iterationsInFlight = 9_968
        threads.iterationsInFlight = 9_968
        func run(_ iterations: UInt64, switches: Double, reads: Double, writes: Double? = nil) -> StatFigures {
            var figures = figures(switches: switches, reads: reads, writes: writes ?? reads)
            figures.iterations = iterations
            return figures
        }
        func verdict(_ expectation: Analysis.Expectation, _ figures: StatFigures) -> Verification {
            Verification(expectation: expectation, runs: [figures], median: figures)
        }
        // Measured: async 1.954 reads over ~90,000 iterations; thread 2.21 reads and
        // 2.18 switches over 87,781.
        #expect(verdict(async, run(90_000, switches: 0, reads: 1.954)).holds)
        #expect(verdict(threads, run(87_781, switches: 2.1754, reads: 2.2095, writes: 2.1248)).holds)
        let widened = verdict(async, run(249_657, switches: 0, reads: 1.9982))
        #expect(widened.checks.first { $0.rule.figure == StatFigure.syscalls("read") }?.rule.text == "= 2 ± 0.0899")
        // Built to violate: an extra read every 8 round trips, a switch per 10 round
        // trips in a mode that claims none, 4 switches in thread mode.
        let extraRead = verdict(async, run(249_657, switches: 0, reads: 2.125, writes: 2))
        #expect(extraRead.broken.map(\.rule.figure) == [.syscalls("read")])
        #expect(verdict(async, run(249_657, switches: 0.1, reads: 2)).broken.map(\.rule.figure) == [.voluntarySwitches])
        #expect(verdict(threads, run(87_781, switches: 4, reads: 2)).broken.map(\.rule.figure) == [.contextSwitches])
        // One pair over the same window: nothing under way to cut, the fixed tolerance.
        async.iterationsInFlight = 1
        #expect(!verdict(async, run(90_000, switches: 0, reads: 1.954)).holds)
        #expect(verdict(async, run(90_000, switches: 0, reads: 1.995)).holds)
    }

    @Test func everyRepeatMustHold() {
        let runs = [figures(switches: 0), figures(switches: 0.5), figures(switches: 0)]
        let summary = RepeatSummary(runs: runs)
        let verification = Verification(expectation: green, runs: runs, median: summary.median)
        #expect(!verification.holds)
        #expect(verification.broken.first?.brokenRun == 1)
        #expect(verification.broken.first?.value == 0.5)
    }
}

@Suite struct RepeatSummaryTests {
    @Test func medianRangeAndCV() throws {
        let runs = [figures(switches: 2.1, ns: 1_000), figures(switches: 2.9, ns: 1_100), figures(switches: 2.5, ns: 900)]
        let summary = RepeatSummary(runs: runs)
        #expect(summary.median.value(.contextSwitches) == 2.5)
        #expect(summary.median.value(.nanoseconds) == 1_000)
        #expect(summary.ranges[.contextSwitches] == 2.1...2.9)
        let cv = try #require(summary.nanosecondsCV)
        #expect(abs(cv - 0.1) < 1e-9)
        #expect(summary.noisy)
    }

    @Test func quietRunsAreNotNoisy() {
        let summary = RepeatSummary(runs: [figures(switches: 0, ns: 1_000), figures(switches: 0, ns: 1_010)])
        #expect(!summary.noisy)
        #expect(summary.median.value(.nanoseconds) == 1_005)
        #expect(RepeatSummary(runs: [figures(switches: 0)]).nanosecondsCV == nil)
    }

    @Test func medianOfNothingIsNothing() {
        #expect(RepeatSummary.median([]) == nil)
        #expect(RepeatSummary.median([3, 1, 2, 10]) == 2.5)
    }
}

@Suite struct StatFiguresTests {
    /// The captured perf run, divided by the child's iterations.
    @Test func perIterationFromPerfAndTheReport() throws {
        let report = try JSON(parsing: #"{"workload":"socket","mode":"thread","n":1,"cpus":"0","iterations":23112,"ns_per_iteration":12980.5,"user_seconds":0.02,"system_seconds":0.28,"eagain":0}"#)
        let figures = StatFigures(perf: try PerfStatOutput(parsing: capturedPerfStat), report: report)
        #expect(figures.iterations == 23112)
        let reads = try #require(figures.value(.syscalls("read")))
        #expect(abs(reads - 46225.0 / 23112) < 1e-9)
        #expect(abs(try #require(figures.value(.contextSwitches)) - 62430.0 / 23112) < 1e-9)
        // task-clock is in msec in perf's output.
        #expect(abs(try #require(figures.value(.taskClock)) - 299.92e6 / 23112) < 1e-6)
        #expect(figures.value(.nanoseconds) == 12980.5)
        #expect(figures.value(.instructions) == nil)
        #expect(figures.missingReason(.instructions) == "not supported")
        #expect(figures.missingReason(.ipc) == "not supported")
        #expect(figures.missingReason(.userShare) == "not supported")
        #expect(abs(try #require(figures.value(.cpuTimeUserShare)) - 0.02 / 0.30) < 1e-9)
        #expect(figures.multiplexed.isEmpty)
    }

    @Test func hardwareFiguresWhereThereIsAPMU() throws {
        let report = try JSON(parsing: #"{"iterations":1000,"ns_per_iteration":100}"#)
        let figures = StatFigures(perf: try PerfStatOutput(parsing: pmuPerfStat), report: report)
        #expect(figures.value(.instructions) == 4_600)
        #expect(figures.value(.cycles) == 5_500)
        #expect(abs(try #require(figures.value(.ipc)) - 4.6 / 5.5) < 1e-9)
        #expect(figures.value(.cacheMisses) == 1.234)
        #expect(abs(try #require(figures.value(.userShare)) - 1.5 / 5.5) < 1e-9)
        #expect(figures.multiplexed.contains("instructions:u"))
    }
}
