import Foundation
import Testing

/// Bad input: one line naming the problem, exit 64, nothing started.
@Suite struct UsageErrorTests {
    @Test(arguments: [
        ["socket", "abc"], ["socket", "0"], ["socket", "-3"], ["socket", "1", "--mode", "nope"],
        ["socket", "1", "--cpus", "99999"], ["socket", "1", "--cpus", "a-b"], ["socket", "1", "--work-size=-5"],
        ["socket", "1", "--stride", "0"], ["socket", "1", "--duration", "0"], ["socket", "1", "--warmup=-1"],
        ["socket", "1", "--workers", "2"], ["socket", "1", "--sync", "--mode", "green"],
        ["futex", "1", "--mode", "green"], ["socket", "1", "--pin", "each"], ["socket", "1", "--format", "xml"],
        ["socket", "1", "--stack-size", "1000"], ["socket", "1", "--executor", "global"], ["nope"],
        ["info", "--format", "csv"], ["socket", "1", "--counters", "cpu"], ["socket", "1", "--counters=gpu"],
        ["socket", "1", "--counters", "gpu"],
        ["socket", "1", "--mode", "async", "--executor", "global", "--cpus", "0", "--counters", "cpu"],
        ["socket", "1", "--access", "li"], ["socket", "1", "--work-size", "4K", "--access", "zigzag"],
        ["socket", "1", "--work-size", "4K", "--stride", "12", "--access", "li"],
        ["socket", "1", "--work-size", "4100", "--access", "li"], ["socket", "1", "--inject-cold-work"],
        // csgb cost: pairs that are not comparable, or that a mode cannot run.
        ["cost", "--", "yield", "2"], ["cost", "--modes", "green,thread", "--", "socket", "1"],
        ["cost", "--", "futex", "1"], ["cost", "--", "socket", "1", "--io", "uring"],
        ["cost", "--", "socket", "1", "--mode", "green"], ["cost", "--rounds", "0", "--", "socket", "1"],
        ["cost", "--modes", "thread", "--", "socket", "1"], ["cost"],
    ])
    func badInputExits64WithOneLine(arguments: [String]) throws {
        let result = try CSGBProcess.run(arguments, timeout: 20)
        #expect(result.status == 64, "\(arguments): \(result.stderr)")
        #expect(result.stdout.isEmpty)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(arguments): \(result.stderr)")
        #expect(lines.first?.hasPrefix("csgb: ") == true)
    }

    @Test func namesTheOptionAndTheAcceptedValues() throws {
        let mode = try CSGBProcess.run(["socket", "1", "--mode", "nope"])
        #expect(mode.stderr.contains("--mode") && mode.stderr.contains("thread"))
        let cpus = try CSGBProcess.run(["socket", "1", "--cpus", "99999"])
        #expect(cpus.stderr.contains("--cpus") && cpus.stderr.contains("allowed"))
    }

    @Test func helpTeachesTheTool() throws {
        let help = try CSGBProcess.run(["socket", "--help"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("--work-size"))
        #expect(help.stdout.contains("--cpus"))
    }

    /// A descriptor limit that cannot be raised is reported with how to raise it,
    /// before anything starts.
    @Test func tooFewOpenFilesSaysHowToRaiseTheLimit() throws {
        let result = try CSGBProcess.run(["socket", "500", "--duration", "1"], shellPrefix: "ulimit -n 200 &&")
        #expect(result.status == 71)
        #expect(result.stderr.contains("ulimit -Hn 1064"))
        #expect(result.stdout.isEmpty)
    }
}

@Suite struct InfoTests {
    @Test func textAndJSON() throws {
        let text = try CSGBProcess.run(["info"])
        #expect(text.status == 0)
        #expect(text.stdout.contains("kernel:"))
        #expect(text.stdout.contains("hardware counters:"))
        let json = try CSGBProcess.json(CSGBProcess.run(["info", "--format", "json"]).stdout)
        #expect((json["online_cpus"] as? Int ?? 0) >= 1)
        #expect(json["perf_event_paranoid"] != nil)
        #expect(json["io_uring"] is String)
    }
}

/// `--counters [thread|cpu]`: an option whose value may be left out.
@Suite struct CounterOptionTests {
    @Test(arguments: [
        (["socket", "1", "--counters"], "perf_event_open per thread"),
        (["socket", "--counters", "1"], "perf_event_open per thread"),
        (["socket", "1", "--counters", "thread"], "perf_event_open per thread"),
        (["socket", "1", "--counters=thread"], "perf_event_open per thread"),
        (["socket", "1", "--cpus", "0", "--counters", "cpu"], "perf_event_open per CPU"),
        (["socket", "1", "--counters=cpu", "--cpus", "0"], "perf_event_open per CPU"),
    ])
    func spellingsReachTheirScope(arguments: [String], source: String) throws {
        guard geteuid() == 0 else { return }  // kernel counting needs root here
        let result = try CSGBProcess.run(arguments + ["--duration", "0.2", "--warmup", "0.05", "--format", "json"])
        #expect(result.status == 0, "\(arguments): \(result.stderr)")
        let report = try CSGBProcess.json(result.stdout)
        let counters = try #require(report["counters"] as? [String: Any])
        #expect(counters["source"] as? String == source, "\(arguments)")
        #expect(counters["software_source"] as? String == "getrusage")
    }

    /// Per CPU, the switch and CPU-time figures are still the process's own
    /// (getrusage over the counting window), so they agree with the report's.
    @Test(.enabled(if: geteuid() == 0, "kernel counting needs root"))
    func perCPURunAgreesWithTheReport() throws {
        let result = try CSGBProcess.run(["socket", "1", "--cpus", "0", "--duration", "0.4", "--warmup", "0.05",
                                          "--counters", "cpu", "--format", "json"])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try CSGBProcess.json(result.stdout)
        let counters = try #require(report["counters"] as? [String: Any])
        #expect(counters["cpus"] as? String == "0")
        #expect(counters["scope"] as? String == "listed CPUs")
        let ours = try #require(counters["context_switches_per_iteration"] as? Double)
        let rusage = try #require(report["voluntary_switches_per_iteration"] as? Double)
            + (try #require(report["involuntary_switches_per_iteration"] as? Double))
        #expect(abs(ours - rusage) <= 0.05 * rusage, "counters \(ours) vs report \(rusage)")
    }
}
