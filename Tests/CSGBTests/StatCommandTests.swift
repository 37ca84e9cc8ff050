import Foundation
import Testing

/// `csgb stat` end to end: real perf, real runs of about a second each.
extension PerfProcessTests { @Suite struct StatCommandTests {
    static var perfUsable: Bool {
        geteuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/perf")
    }

    /// Whether a mode runs in this build (green and async landed after stat).
    static func modeWorks(_ mode: String) -> Bool {
        (try? CSGBProcess.run(["socket", "1", "--mode", mode, "--duration", "0.05", "--warmup", "0"], timeout: 20).status) == 0
    }

    func stat(_ arguments: [String]) throws -> (CSGBProcess.Result, [String: Any]?) {
        let result = try CSGBProcess.run(["stat", "--format", "json"] + arguments, timeout: 90)
        return (result, try? CSGBProcess.json(result.stdout))
    }

    func syscalls(_ report: [String: Any]?) throws -> [String: Double] {
        let object = try #require(report?["syscalls_per_iteration"] as? [String: Any])
        return object.compactMapValues { $0 as? Double }
    }

    @Test(.enabled(if: perfUsable, "needs root and perf"))
    func threadSocketOnOneCPUPasses() throws {
        let (result, report) = try stat(["--", "socket", "1", "--mode", "thread", "--cpus", "0", "--duration", "1"])
        #expect(result.status == 0, "\(result.stderr)\n\(result.stdout)")
        let calls = try syscalls(report)
        #expect(abs(try #require(calls["read"]) - 2) <= 0.01)
        #expect(abs(try #require(calls["write"]) - 2) <= 0.01)
        #expect(try #require(calls["epoll_wait"]) < 0.001)
        #expect(try #require(calls["futex"]) < 0.001)
        let switches = try #require(report?["context_switches_per_iteration"] as? Double)
        #expect(switches >= 2 && switches <= 3)
        let verification = try #require(report?["verification"] as? [String: Any])
        #expect(verification["holds"] as? Bool == true)
        #expect((report?["ns_per_iteration"] as? Double ?? 0) > 0)
        #expect(report?["report"] is [String: Any])
    }

    /// Blocking thread mode cannot avoid the kernel: `--expect no-switches` must
    /// fail with exit 3, name the figure, and show where the switches came from.
    @Test(.enabled(if: perfUsable, "needs root and perf"))
    func noSwitchesOnBlockingThreadsFails() throws {
        let result = try CSGBProcess.run(["stat", "--expect", "no-switches", "--",
                                          "socket", "1", "--mode", "thread", "--cpus", "0", "--duration", "1"], timeout: 90)
        #expect(result.status == 3, "\(result.stderr)")
        #expect(result.stderr.hasPrefix("csgb: verification failed: voluntary_switches_per_iteration"))
        #expect(result.stderr.split(separator: "\n").count == 1)
        #expect(result.stdout.contains("verification: FAIL"))
        #expect(result.stdout.contains("voluntary switches/iteration"))
        #expect(result.stdout.contains("BROKEN"))
        #expect(result.stdout.contains("where the switches came from"))
        #expect(result.stdout.contains("__schedule"))
        // Still 2 reads per round trip (2.0000 or 1.9999 after the edges).
        #expect(result.stdout.contains("read 2.00") || result.stdout.contains("read 1.99"))
    }

    /// A green or async run forced to block in the kernel (1 µs nanosleep per
    /// iteration) must fail its own expectation, and the stacks must show the sleep.
    @Test(.enabled(if: perfUsable, "needs root and perf"), arguments: ["green", "async"])
    func aModeForcedToBlockFailsItsExpectation(mode: String) throws {
        let result = try CSGBProcess.run(["stat", "--", "socket", "1", "--mode", mode, "--cpus", "0",
                                          "--duration", "1", "--inject-blocking-sleep"], timeout: 90)
        #expect(result.status == 3, "\(result.stderr)")
        #expect(result.stderr.hasPrefix("csgb: verification failed: voluntary_switches_per_iteration"))
        #expect(result.stdout.contains("BROKEN"))
        #expect(result.stdout.contains("nanosleep"), "the switch stacks should name the sleep")
        // The same run without the fault passes: the failure is the fault's, not the mode's.
        let clean = try CSGBProcess.run(["stat", "--", "socket", "1", "--mode", mode, "--cpus", "0", "--duration", "1"],
                                        timeout: 90)
        #expect(clean.status == 0, "\(clean.stderr)")
    }

    @Test(.enabled(if: perfUsable && modeWorks("green"), "needs root, perf and green mode"))
    func greenSocketPasses() throws {
        let (result, report) = try stat(["--", "socket", "1", "--mode", "green", "--cpus", "0", "--duration", "1"])
        #expect(result.status == 0, "\(result.stderr)\n\(result.stdout)")
        let calls = try syscalls(report)
        #expect(abs(try #require(calls["read"]) - 2) <= 0.01)
        #expect(abs(try #require(calls["write"]) - 2) <= 0.01)
        #expect(try #require(report?["voluntary_switches_per_iteration"] as? Double) < 0.001)
    }

    @Test(.enabled(if: perfUsable && modeWorks("async"), "needs root, perf and async mode"))
    func asyncSocketPasses() throws {
        let (result, report) = try stat(["--", "socket", "1", "--mode", "async", "--cpus", "0", "--duration", "1"])
        #expect(result.status == 0, "\(result.stderr)\n\(result.stdout)")
        let calls = try syscalls(report)
        #expect(abs(try #require(calls["read"]) - 2) <= 0.01)
        #expect(abs(try #require(calls["write"]) - 2) <= 0.01)
        #expect(try #require(report?["voluntary_switches_per_iteration"] as? Double) < 0.001)
    }

    @Test(.enabled(if: perfUsable && modeWorks("green"), "needs root, perf and green mode"))
    func greenYieldPasses() throws {
        let (result, _) = try stat(["--", "yield", "2", "--mode", "green", "--cpus", "0", "--duration", "0.5"])
        #expect(result.status == 0, "\(result.stderr)\n\(result.stdout)")
    }

    @Test(.enabled(if: perfUsable, "needs root and perf"))
    func threadYieldCallsSchedYieldOncePerIteration() throws {
        let (result, report) = try stat(["--", "yield", "1", "--cpus", "0", "--duration", "0.5"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(abs(try #require(try syscalls(report)["sched_yield"]) - 1) <= 0.01)
    }

    @Test(.enabled(if: perfUsable, "needs root and perf"))
    func repeatReportsMedianRangeAndCV() throws {
        let (result, report) = try stat(["--repeat", "2", "--", "socket", "1", "--cpus", "0", "--duration", "0.3"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(report?["runs"] as? Int == 2)
        #expect(report?["ns_per_iteration_cv"] is Double)
        #expect(report?["noisy"] is Bool)
        let spread = try #require(report?["spread"] as? [String: Any])
        let ns = try #require(spread["ns_per_iteration"] as? [String: Double])
        #expect(try #require(ns["min"]) <= (try #require(ns["max"])))
        let text = try CSGBProcess.run(["stat", "--repeat", "2", "--", "socket", "1", "--cpus", "0", "--duration", "0.3"], timeout: 90)
        #expect(text.stdout.contains("cv "))
        #expect(text.stdout.contains("runs:       2"))
    }

    /// Hardware figures are "not supported" on a VM without a PMU, never zero.
    @Test(.enabled(if: perfUsable, "needs root and perf"))
    func textNamesUnsupportedHardware() throws {
        let result = try CSGBProcess.run(["stat", "--", "socket", "1", "--cpus", "0", "--duration", "0.3"], timeout: 90)
        #expect(result.status == 0, "\(result.stderr)")
        for label in ["ns (traced):", "context switches:", "cpu migrations:", "syscalls:", "instructions:", "cycles:", "ipc:",
                      "cache misses:", "dTLB load misses:", "user/kernel:"] {
            #expect(result.stdout.contains(label), "missing \(label)")
        }
        if !FileManager.default.fileExists(atPath: "/sys/bus/event_source/devices/cpu") {
            #expect(result.stdout.contains("instructions:     not supported"))
        }
    }

    /// A cross-check: the child's per-thread counters and perf stat saw
    /// the same window and agree within 5 %.
    @Test(.enabled(if: perfUsable, "needs root and perf"))
    func countersAgreeWithPerfStat() throws {
        let (result, report) = try stat(["--expect", "switching", "--",
                                         "socket", "1", "--cpus", "0", "--duration", "0.5", "--counters"])
        #expect(result.status == 0, "\(result.stderr)")
        let perf = try #require(report?["context_switches_per_iteration"] as? Double)
        let child = try #require(report?["report"] as? [String: Any])
        let counters = try #require(child["counters"] as? [String: Any])
        let ours = try #require(counters["context_switches_per_iteration"] as? Double)
        #expect(abs(ours - perf) <= 0.05 * perf, "--counters \(ours) vs perf stat \(perf)")
        let taskClock = try #require(report?["task_clock_ns_per_iteration"] as? Double)
        let ourClock = try #require(counters["task_clock_ns_per_iteration"] as? Double)
        #expect(abs(ourClock - taskClock) <= 0.05 * taskClock, "--counters \(ourClock) vs perf stat \(taskClock)")
    }

    @Test func perfMissingExits69() throws {
        let result = try CSGBProcess.run(["stat", "--", "socket", "1", "--duration", "0.2"], timeout: 30,
                                         shellPrefix: "PATH=/nonexistent")
        #expect(result.status == 69)
        #expect(result.stderr.contains("apt-get install linux-perf"))
        #expect(result.stderr.split(separator: "\n").count == 1)
    }

    @Test(.enabled(if: perfUsable && FileManager.default.fileExists(atPath: "/usr/bin/setpriv"), "needs root to drop to nobody"))
    func perfNotPermittedExits69() throws {
        let result = try CSGBProcess.run(["stat", "--", "socket", "1", "--duration", "0.2"], timeout: 30,
                                         shellPrefix: PerfProcessTests.CountersEndToEndTests.asNobody, asOtherUser: true)
        #expect(result.status == 69, "\(result.stderr)")
        #expect(result.stderr.contains("not permitted"))
        #expect(result.stderr.contains("perf_event_paranoid"))
        #expect(result.stderr.split(separator: "\n").count == 1)
    }

    @Test(arguments: [
        ["stat"], ["stat", "--", "socket", "0"], ["stat", "--", "socket", "1", "--mode", "nope"],
        ["stat", "--", "info"], ["stat", "--repeat", "0", "--", "socket", "1"], ["stat", "--format", "csv", "--", "socket", "1"],
        ["stat", "--expect", "never", "--", "socket", "1"], ["stat", "--", "socket", "1", "--perf-control", "a,b"],
    ])
    func badArgumentsExit64BeforePerfStarts(arguments: [String]) throws {
        let result = try CSGBProcess.run(arguments, timeout: 20)
        #expect(result.status == 64, "\(arguments): \(result.stderr)")
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.split(separator: "\n").count == 1)
        #expect(result.seconds < 5)
    }

    @Test func perfControlWithoutPerfIsAUsageError() throws {
        let result = try CSGBProcess.run(["socket", "1", "--duration", "0.1", "--perf-control", "/nonexistent/c,/nonexistent/a"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("--perf-control"))
        let help = try CSGBProcess.run(["socket", "--help"])
        #expect(!help.stdout.contains("--perf-control"))
        #expect(help.stdout.contains("--counters"))
    }
} }
