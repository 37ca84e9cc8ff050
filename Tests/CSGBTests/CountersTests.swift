import CSGBSystem
import Foundation
import Synchronization
import Testing
@testable import CCSGB
@testable import CSGB

/// The arithmetic of `--counters`: scaling, sums, nulls for what the machine lacks.
@Suite struct CounterArithmeticTests {
    @Test func scalesMultiplexedReadings() {
        #expect(PerfReading(value: 100, timeEnabled: 10, timeRunning: 10).scaledValue == 100)
        #expect(PerfReading(value: 100, timeEnabled: 10, timeRunning: 5).scaledValue == 200)
        #expect(PerfReading(value: 100, timeEnabled: 10, timeRunning: 5).multiplexed)
        // Enabled but never on the PMU: nothing to scale, and not a zero.
        #expect(PerfReading(value: 0, timeEnabled: 10, timeRunning: 0).scaledValue == nil)
        // Never enabled while its thread ran: a true zero.
        #expect(PerfReading(value: 0, timeEnabled: 0, timeRunning: 0).scaledValue == 0)
    }

    @Test func sumsThreads() {
        let total = CounterTotal(readings: [
            PerfReading(value: 100, timeEnabled: 10, timeRunning: 10),
            PerfReading(value: 50, timeEnabled: 10, timeRunning: 5),
        ])
        #expect(total.status == .counted)
        #expect(total.value == 200)
        #expect(total.multiplexed)
        #expect(total.runningShare == 0.75)
        let starved = CounterTotal(readings: [PerfReading(value: 0, timeEnabled: 10, timeRunning: 0)])
        #expect(starved.status == .notCounted)
        #expect(starved.value == nil)
        #expect(CounterTotal(readings: []).status == .notCounted)
    }

    static func pmuCounters() -> Counters {
        func counted(_ value: Double, running: UInt64 = 100) -> CounterTotal {
            CounterTotal(status: .counted, value: value, timeEnabled: 100, timeRunning: running)
        }
        return Counters(scope: .runThreads, threads: 2, totals: [
            PerfEventSpec(.instructions, .user): counted(3_000, running: 60),
            PerfEventSpec(.instructions, .kernel): counted(9_000, running: 60),
            PerfEventSpec(.cycles, .user): counted(2_000, running: 60),
            PerfEventSpec(.cycles, .kernel): counted(8_000, running: 60),
            PerfEventSpec(.cacheMisses, .user): counted(10),
            PerfEventSpec(.cacheMisses, .kernel): counted(30),
            PerfEventSpec(.dTLBLoadMisses, .user): counted(1),
            PerfEventSpec(.dTLBLoadMisses, .kernel): counted(3),
            PerfEventSpec(.contextSwitches, .all): counted(25),
            PerfEventSpec(.taskClock, .all): counted(50_000),
        ], opened: 20)
    }

    static func noPMUCounters() -> Counters {
        var totals: [PerfEventSpec: CounterTotal] = [:]
        for spec in PerfCounters.defaultEvents { totals[spec] = .notSupported }
        for spec in PerfCounters.usageEvents { totals[spec] = CounterTotal(status: .counted, value: 250) }
        return Counters(scope: .runThreads, threads: 2, totals: totals, fromUsage: PerfCounters.usageEvents.map(\.kind))
    }

    /// The path machines with a PMU take: per-iteration figures, IPC, the split,
    /// and the multiplexing flag.
    @Test func pmuFigures() throws {
        let counters = Self.pmuCounters()
        #expect(counters.hardwareSupported)
        #expect(counters.perIteration(.instructions, iterations: 10) == 1_200)
        #expect(counters.perIteration(.instructions, .kernel, iterations: 10) == 900)
        #expect(counters.ipc() == 1.2)
        #expect(counters.ipc(.user) == 1.5)
        #expect(counters.userShare == 0.2)
        #expect(counters.multiplexed)
        let json = counters.json(iterations: 10)
        #expect(json["ipc"] == .double(1.2))
        #expect(json["instructions_per_iteration"] == .double(1_200))
        #expect(json["cycles_per_iteration"] == .double(1_000))
        #expect(json["cache_misses_per_iteration"] == .double(4))
        #expect(json["dtlb_load_misses_per_iteration"] == .double(0.4))
        #expect(json["context_switches_per_iteration"] == .double(2.5))
        #expect(json["user"]?["ipc"] == .double(1.5))
        #expect(json["kernel"]?["instructions_per_iteration"] == .double(900))
        #expect(json["multiplexed"] == .bool(true))
        #expect(json["scaled"] == .bool(true))
        #expect(json["events"]?["cycles:u"]?["running_share"] == .double(0.6))
        let text = TextTable.keyValues(counters.textRows(iterations: 10))
        #expect(text.contains("multiplexed"))
        #expect(text.contains("1200.0 (user 300.0, kernel 900.0)"))
        #expect(text.contains("ipc:") && text.contains("1.200 (user 1.500, kernel 1.125)"))
        #expect(text.contains("20.0 % / 80.0 % of cycles"))
    }

    /// The path this VM takes: hardware figures are null and "not supported",
    /// never 0; software ones still count.
    @Test func noPMUFigures() throws {
        let counters = Self.noPMUCounters()
        #expect(!counters.hardwareSupported)
        let json = counters.json(iterations: 100)
        for key in ["ipc", "instructions_per_iteration", "cycles_per_iteration", "cache_misses_per_iteration",
                    "dtlb_load_misses_per_iteration", "user_share"] {
            #expect(json[key] == .null, "\(key)")
        }
        #expect(json["user"]?["instructions_per_iteration"] == .null)
        #expect(json["context_switches_per_iteration"] == .double(2.5))
        #expect(json["hardware"] == .string("not supported"))
        #expect(json["multiplexed"] == .bool(false))
        #expect(json["events"]?["instructions:u"]?["status"] == .string("not supported"))
        let rows = Dictionary(uniqueKeysWithValues: counters.textRows(iterations: 100))
        for label in ["instructions/iter", "cycles/iter", "ipc", "cache misses/iter", "dTLB misses/iter"] {
            #expect(rows[label] == "not supported", "\(label): \(rows[label] ?? "missing")")
        }
        #expect(rows["ctx switches/iter"] == "2.5000")
    }

    /// Counters that ran for part of the window stand for that part's iterations;
    /// ones that missed most of it say so instead of printing a wrong rate.
    @Test func windowCoverage() {
        var counters = Self.noPMUCounters()
        counters.countingSeconds = 0.98
        #expect(counters.coverage(windowSeconds: 1) == 0.98)
        #expect(counters.perIteration(.contextSwitches, iterations: 100, windowSeconds: 1) == 250 / 98.0)
        #expect(counters.json(iterations: 100, windowSeconds: 1)["window_scaled"] == .bool(true))
        counters.countingSeconds = 1.0005
        #expect(counters.perIteration(.contextSwitches, iterations: 100, windowSeconds: 1) == 2.5)
        #expect(counters.json(iterations: 100, windowSeconds: 1)["window_scaled"] == .bool(false))
        counters.countingSeconds = 0.3
        #expect(counters.perIteration(.contextSwitches, iterations: 100, windowSeconds: 1) == nil)
        let json = counters.json(iterations: 100, windowSeconds: 1)
        #expect(json["context_switches_per_iteration"] == .null)
        #expect(json["window_coverage"] == .double(0.3))
        let rows = Dictionary(uniqueKeysWithValues: counters.textRows(iterations: 100, windowSeconds: 1))
        #expect(rows["ctx switches/iter"] == "not measured (counter window incomplete)")
        #expect(rows["counter window"]?.contains("withheld") == true)
    }

    @Test func reportCarriesCountersOnlyWhenAskedFor() throws {
        var report = sampleReport()
        #expect(report.json["counters"] == nil)
        #expect(!report.rendered(.text).contains("instructions/iter"))
        report.counters = Self.noPMUCounters()
        let object = try #require(try JSONSerialization.jsonObject(with: Data(report.rendered(.json).utf8)) as? [String: Any])
        let counters = try #require(object["counters"] as? [String: Any])
        #expect(counters["ipc"] is NSNull)
        #expect(counters["context_switches_per_iteration"] as? Double == 0.25)
        #expect(report.rendered(.text).contains("instructions/iter:  not supported"))
        let csv = report.rendered(.csv).split(separator: "\n")
        #expect(csv[0].contains("counters_context_switches_per_iteration"))
        #expect(csvFields(String(csv[1])).count == csv[0].split(separator: ",").count)
    }
}

/// The tests that run perf or pinned workloads, one at a time: run side by side
/// they would steal each other's CPU and blur the switch counts they check.
@Suite(.serialized) struct PerfProcessTests {}

/// Real counters on this machine: two threads ping-pong a byte through a pipe
/// pair, so they block and switch, while PerfCounters watches them.
extension PerfProcessTests { @Suite struct LivePerfCounterTests {
    final class PingPong: @unchecked Sendable {
        var forward: [Int32] = [0, 0]
        var backward: [Int32] = [0, 0]
        let tids = Mutex<[Int32]>([])
        let stop = Mutex(false)

        init() {
            pipe(&forward)
            pipe(&backward)
        }

        func start() -> [Thread] {
            let a = Thread { [self] in
                tids.withLock { $0.append(csgb_gettid()) }
                var byte: UInt8 = 0
                while !stop.withLock({ $0 }) {
                    if write(forward[1], &byte, 1) != 1 || read(backward[0], &byte, 1) != 1 { break }
                }
                close(forward[1])
            }
            let b = Thread { [self] in
                tids.withLock { $0.append(csgb_gettid()) }
                var byte: UInt8 = 0
                while read(forward[0], &byte, 1) == 1 { _ = write(backward[1], &byte, 1) }
                close(backward[1])
            }
            a.start()
            b.start()
            while tids.withLock({ $0.count }) < 2 { usleep(1_000) }
            return [a, b]
        }
    }

    @Test(.enabled(if: geteuid() == 0, "perf_event_paranoid is 2: kernel counting needs root"))
    func softwareCountersCountAndHardwareOnesSaySo() throws {
        let pingPong = PingPong()
        _ = pingPong.start()
        let counters = PerfCounters()
        try counters.windowWillOpen(threads: pingPong.tids.withLock { $0 })
        usleep(200_000)
        counters.windowDidClose()
        pingPong.stop.withLock { $0 = true }
        let result = try counters.counters()
        #expect(result.threads == 2)
        let switches = try #require(result.value(.contextSwitches))
        #expect(switches > 100, "two blocking threads must switch: \(switches)")
        let taskClock = try #require(result.value(.taskClock))
        #expect(taskClock > 1_000_000, "task clock in ns: \(taskClock)")
        if Environment.hasHardwarePMU() {
            #expect((result.value(.instructions) ?? 0) > 0)
            #expect(result.ipc() != nil)
        } else {
            for kind in [PerfEventKind.instructions, .cycles, .cacheMisses, .dTLBLoadMisses] {
                #expect(result.total(kind, .user).status == .notSupported)
                #expect(result.total(kind, .kernel).status == .notSupported)
                #expect(result.value(kind) == nil)
            }
        }
    }

    /// perf opens only what the PMU counts: a software event per thread would make
    /// every context switch dearer, and getrusage already has switches and CPU time.
    /// Those come at all privilege levels (a switch happens in the kernel).
    @Test func perfOpensOnlyWhatThePMUCounts() {
        #expect(PerfCounters.defaultEvents.allSatisfy { $0.kind.isHardware })
        #expect(PerfCounters.usageEvents == [PerfEventSpec(.contextSwitches, .all), PerfEventSpec(.taskClock, .all)])
        for kind in [PerfEventKind.instructions, .cycles, .cacheMisses, .dTLBLoadMisses] {
            #expect(PerfCounters.defaultEvents.contains(PerfEventSpec(kind, .user)))
            #expect(PerfCounters.defaultEvents.contains(PerfEventSpec(kind, .kernel)))
        }
    }

    /// `--counters cpu` on any machine: a software event stands in for the PMU, one
    /// group per listed CPU, counted whatever runs there. Task clock still comes from
    /// getrusage; the switch count asked of perf comes from perf.
    @Test(.enabled(if: geteuid() == 0, "per-CPU counting needs root (perf_event_paranoid)"))
    func perCPUGroupsCountTheListedCPUs() throws {
        let cpus = try CPUList.allowed().cpus
        let counters = PerfCounters(events: [PerfEventSpec(.contextSwitches, .all), PerfEventSpec(.pageFaults, .all),
                                             PerfEventSpec(.pageFaults, .user)],
                                    scope: .listedCPUs, cpus: cpus)
        try counters.runWillStart()
        try counters.windowWillOpen(threads: [])
        for _ in 0..<20 { usleep(2_000) }  // each sleep switches away on some listed CPU
        counters.windowDidClose()
        let result = try counters.counters()
        #expect(result.scope == .listedCPUs)
        #expect(result.cpus == cpus)
        #expect(result.opened == 3 * cpus.count)
        // One group per CPU and privilege level.
        #expect(counters.groupCount == 2 * cpus.count)
        #expect(result.fromUsage == [.taskClock])
        #expect(result.total(.contextSwitches, .all).status == .counted)
        #expect((result.value(.contextSwitches) ?? 0) >= 20, "\(String(describing: result.value(.contextSwitches)))")
        #expect((result.value(.taskClock) ?? -1) >= 0)
        let json = result.json(iterations: 10)
        #expect(json["source"] == .string("perf_event_open per CPU"))
        #expect(json["software_source"] == .string("getrusage"))
        #expect(json["threads"] == .null)
    }

    /// On a machine without a PMU, `--counters` opens no descriptor at all.
    @Test(.enabled(if: geteuid() == 0 && !Environment.hasHardwarePMU(), "needs root and a machine without a PMU"))
    func nothingIsOpenedWithoutAPMU() throws {
        for counters in [PerfCounters(), PerfCounters(scope: .listedCPUs, cpus: [0])] {
            try counters.runWillStart()
            try counters.windowWillOpen(threads: [csgb_gettid()])
            usleep(10_000)
            counters.windowDidClose()
            let result = try counters.counters()
            #expect(result.opened == 0)
            #expect(!result.hardwareSupported)
            #expect(result.total(.contextSwitches, .all).status == .counted)
        }
    }

    @Test func aGoneThreadIsAnError() {
        let counters = PerfCounters(events: [PerfEventSpec(.contextSwitches, .all)])
        #expect(throws: CSGBError.self) { try counters.windowWillOpen(threads: [Int32.max - 1]) }
    }

    @Test func processScopeListsOtherThreads() {
        let threads = PerfCounters.processThreads(besides: [])
        #expect(!threads.contains(csgb_gettid()))
        #expect(Set(threads).count == threads.count)
    }
} }

/// `--counters` end to end, against the report's own getrusage figures.
extension PerfProcessTests { @Suite struct CountersEndToEndTests {
    /// A shell prefix that runs csgb as nobody (CSGBProcess appends `exec 'csgb' …`,
    /// which `sh -c 'exec "$@"'` turns back into csgb's own argv).
    static let asNobody = #"exec /usr/bin/setpriv --reuid=65534 --regid=65534 --clear-groups /bin/sh -c 'exec "$@"'"#

    @Test(.enabled(if: geteuid() == 0, "perf_event_paranoid is 2: kernel counting needs root"))
    func contextSwitchesAgreeWithGetrusage() throws {
        let result = try CSGBProcess.run(["socket", "1", "--cpus", "0", "--duration", "0.5", "--warmup", "0.05",
                                          "--counters", "--format", "json"])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try CSGBProcess.json(result.stdout)
        let counters = try #require(report["counters"] as? [String: Any])
        let perf = try #require(counters["context_switches_per_iteration"] as? Double)
        let rusage = try #require(report["voluntary_switches_per_iteration"] as? Double)
            + (try #require(report["involuntary_switches_per_iteration"] as? Double))
        #expect(abs(perf - rusage) <= 0.1 * rusage, "perf \(perf) vs getrusage \(rusage)")
        #expect((counters["task_clock_ns_per_iteration"] as? Double ?? 0) > 0)
        if !(Environment.hasHardwarePMU()) {
            #expect(counters["ipc"] is NSNull)
            #expect(counters["instructions_per_iteration"] is NSNull)
            #expect(counters["hardware"] as? String == "not supported")
        } else {
            #expect(counters["instructions_per_iteration"] is Double)
        }
        #expect(counters["multiplexed"] is Bool)
    }

    @Test(.enabled(if: geteuid() == 0, "perf_event_paranoid is 2: kernel counting needs root"))
    func textSaysNotSupportedRatherThanZero() throws {
        let result = try CSGBProcess.run(["socket", "1", "--duration", "0.3", "--counters"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("ctx switches/iter:"))
        if !Environment.hasHardwarePMU() {
            #expect(result.stdout.contains("instructions/iter:  not supported"))
            #expect(result.stdout.contains("ipc:                not supported"))
        }
    }

    /// Without the permission perf_event_paranoid=2 withholds: one line, exit 69.
    /// On a machine without a PMU there is nothing to permit: the hardware figures
    /// are "not supported", as root gets them (before: exit 69 asking to lower
    /// perf_event_paranoid, although nothing would have been opened).
    @Test(.enabled(if: geteuid() == 0 && FileManager.default.fileExists(atPath: "/usr/bin/setpriv"), "needs root to drop to nobody"))
    func notPermittedExits69WithOneLine() throws {
        let result = try CSGBProcess.run(["socket", "1", "--duration", "0.2", "--counters"],
                                         shellPrefix: Self.asNobody, asOtherUser: true)
        guard (ResourceLimits.readInteger("/proc/sys/kernel/perf_event_paranoid") ?? 0) >= 2 else { return }
        if !(Environment.hasHardwarePMU()) {
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.contains("instructions/iter:  not supported"), "\(result.stdout)")
            return
        }
        #expect(result.status == 69, "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1)
        #expect(result.stderr.contains("perf_event_paranoid"))
        #expect(result.stderr.contains("CAP_PERFMON"))
        #expect(result.stderr.contains("root"))
    }
} }
