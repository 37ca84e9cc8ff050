import CSGBSystem
import Foundation
import Testing

/// Real-time actors never keep the coordinator from stopping them, and no real-time
/// task outlives the command that started it.
@Suite(.serialized) struct RealTimeStopTests {
    /// At 99 the coordinator could not run above the actors: green yield on its CPU
    /// at fifo:99 ran until SIGKILL. 99 is the coordinator's, so it is refused.
    @Test(arguments: ["fifo:99", "rr:99"])
    func theTopPriorityIsRefused(policy: String) throws {
        let result = try CSGBProcess.run(["yield", "1", "--mode", "green", "--cpus", "0", "--sched", policy, "-d", "1"],
                                         timeout: 30)
        #expect(result.status == 64, "\(result.stderr)")
        #expect(result.stderr.contains("1 to 98") && result.stderr.contains("coordinator"), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
    }

    static var realTimePermitted: Bool { SchedulingPolicy.fifo(2).refusal() == nil }

    /// Actors that never block at the highest priority they may have, on the
    /// coordinator's CPU: a stop signal still ends the run with its report, and no
    /// task of it is left.
    @Test(.enabled(if: realTimePermitted, "needs root or CAP_SYS_NICE for SCHED_FIFO"),
          arguments: ["green", "async", "thread"])
    func realTimeActorsAreStopped(mode: String) throws {
        let csgb = try GroupProcess(["yield", mode == "thread" ? "1" : "2", "--mode", mode, "--cpus", "0",
                                     "--sched", "fifo:98", "--format", "json"], announcing: true)
        try csgb.waitUntil(.open)
        csgb.signalLeader(SIGTERM)
        let result = try csgb.wait(timeout: 30)
        #expect(result.status == 0, "\(result.stderr)")
        let report = try CSGBProcess.json(result.stdout)
        #expect(report["stopped_by"] as? String == "SIGTERM")
        #expect(report["sched"] as? String == "fifo:98")
        #expect(report["coordinator_sched"] as? String == "fifo:99")
    }

    /// The processes whose command line holds `marker`.
    static func processes(holding marker: String) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> pid_t? in
            guard let pid = pid_t(entry), pid != getpid(),
                  let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return nil }
            if let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
               let close = stat.lastIndex(of: ")"), stat[stat.index(close, offsetBy: 2)] == "Z" { return nil }
            return String(decoding: data, as: UTF8.self).contains(marker) ? pid : nil
        }
    }

    /// csgb stat killed with SIGKILL (no handler runs) takes perf and the workload
    /// with it. Before: both went on in their own process group, the workload
    /// spinning (at FIFO 99 in the probe) until killed by hand.
    @Test(.enabled(if: PerfProcessTests.StatCommandTests.perfUsable, "needs root and perf"))
    func killingStatKillsPerfAndTheWorkload() throws {
        let marker = RunMoment.newPath()
        let csgb = try GroupProcess(["stat", "--", "yield", "1", "--cpus", "0", "--duration", "600", "--window-file", marker])
        #expect(RunMoment.wait(for: .open, at: marker, timeout: 60), "the workload never opened its window")
        defer { unlink(marker) }
        // perf and the workload (perf's child) both name the marker.
        #expect(Self.processes(holding: marker).count >= 2)
        csgb.signalLeader(SIGKILL)
        _ = try? csgb.wait(timeout: 10)
        let deadline = Date().addingTimeInterval(10)
        var left = Self.processes(holding: marker)
        while !left.isEmpty && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.01)
            left = Self.processes(holding: marker)
        }
        for pid in left { kill(pid, SIGKILL) }
        #expect(left.isEmpty, "left behind: \(left.map { ProcessModeChildren.name($0) ?? "?" })")
    }
}
