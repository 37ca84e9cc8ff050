import CSGBSystem
import Foundation
import Glibc
import Testing

/// `--sqpoll`: the rings of a run share one kernel poller thread. One poller per
/// ring spun a CPU each; at a few hundred rings the window, the edges and the stop
/// took seconds to minutes.
@Suite(.serialized) struct SQPollTests {
    /// Why this machine cannot make an SQPOLL ring (io_uring disabled or absent, or
    /// SQPOLL not permitted), or nil.
    static let unavailable: String? = {
        do {
            _ = try URing(entries: 2, sqpoll: true)
            return nil
        } catch {
            return "an SQPOLL ring cannot be made here: \(error)"
        }
    }()

    /// The `iou-sqp-*` threads of process `pid`, as /proc lists them.
    static func pollerThreads(of pid: pid_t) -> Int {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        return tasks.filter { tid in
            ((try? String(contentsOfFile: "/proc/\(pid)/task/\(tid)/comm", encoding: .utf8)) ?? "").hasPrefix("iou-sqp")
        }.count
    }

    /// 16 rings in thread mode (one per actor), 2 in green mode with 2 workers: one
    /// poller thread in the process while the window is open, and the report says so.
    @Test(.enabled(if: unavailable == nil, "skipped: \(unavailable ?? "")"),
          arguments: [["socket", "8", "--mode", "thread"], ["socket", "8", "--mode", "green", "--workers", "2"]])
    func ringsShareOnePoller(arguments: [String]) throws {
        let run = try GroupProcess(arguments + ["--io", "uring", "--sqpoll", "-d", "30", "--format", "json"], announcing: true)
        try run.waitUntil(.open)
        let counted = Self.pollerThreads(of: run.pid)
        run.signalLeader(SIGINT)
        let result = try run.wait(timeout: 60)
        #expect(counted == 1, "\(counted) SQ poller threads in /proc/\(run.pid)/task for \(arguments)")
        #expect(result.status == 0, "\(result.stderr)")
        let report = try CSGBProcess.json(result.stdout)
        #expect(report["sqpoll_pollers"] as? Int == 1, "\(report["sqpoll_pollers"] ?? "missing")")
        #expect(report["stopped_by"] as? String == "SIGINT")
    }

    /// The text report names the pollers.
    @Test(.enabled(if: unavailable == nil, "skipped: \(unavailable ?? "")"))
    func textReportCountsThePollers() throws {
        let result = try CSGBProcess.run(["socket", "4", "--io", "uring", "--sqpoll", "-d", "0.2"], timeout: 60)
        #expect(result.status == 0, "\(result.stderr)")
        // The io row, with the lines it wraps onto.
        let lines = result.stdout.split(separator: "\n").map(String.init)
        let start = lines.firstIndex { $0.hasPrefix("io:") } ?? lines.count
        let io = lines[start...].prefix { $0 == lines[start] || $0.hasPrefix(" ") }
            .map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
        #expect(io.contains("1 SQ poller "), "\(io)")
    }

    /// Process mode cannot share a poller between processes: more actor processes
    /// than CPUs under --sqpoll is refused before anything starts, in one line.
    @Test func processModeRefusesMorePollersThanCPUs() throws {
        let result = try CSGBProcess.run(["socket", "2", "--mode", "process", "--io", "uring", "--sqpoll", "--cpus", "0", "-d", "0.2"])
        #expect(result.status == 64, "\(result.status): \(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        #expect(result.stderr.contains("SQ poller") && result.stderr.contains("1 CPU"), "\(result.stderr)")
        #expect(!result.stdout.contains("total iterations"))
    }
}
