import CSGBSystem
import Foundation
import Glibc
import Testing

/// `--io uring` in every mode and on every transport: the same scripts, with the
/// reads and writes as ring entries.
@Suite(.serialized) struct URingTests {
    func run(_ arguments: [String]) throws -> [String: Any] {
        let result = try CSGBProcess.run(arguments + EndToEndTests.passing, timeout: 90)
        #expect(result.status == 0, "\(arguments): \(result.stderr)")
        return try CSGBProcess.json(result.stdout)
    }

    @Test(arguments: ["thread", "green", "async"], ["unix", "pipe", "tcp"])
    func everyModeOnEveryTransport(mode: String, transport: String) throws {
        let report = try run(["socket", "3", "--mode", mode, "--io", "uring", "--transport", transport, "--cpus", "0"])
        #expect(report["io"] as? String == "uring")
        #expect((report["iterations"] as? Int ?? 0) > 0)
        let fairness = try #require(report["fairness"] as? [String: Any])
        #expect((fairness["min"] as? Int ?? 0) > 0, "an actor starved: \(fairness)")
        #expect(report["eagain"] as? Int == 0)
        let enters = try #require(report["io_uring_enter_per_iteration"] as? Double)
        // Two reads and two writes per round trip: thread mode enters once for each,
        // the others batch the three pairs of a worker into fewer enters.
        if mode == "thread" {
            #expect(abs(enters - 4) < 0.05, "\(enters)")
        } else {
            #expect(enters > 0 && enters < 4, "\(enters)")
            #expect((report["sqes_per_enter"] as? Double ?? 0) > 1)
        }
    }

    /// One enter serves many round trips when many pairs share a worker.
    @Test(arguments: ["green", "async"])
    func manyPairsBatchTheirEntries(mode: String) throws {
        let report = try run(["socket", "100", "--mode", mode, "--io", "uring", "--cpus", "0"])
        let enters = try #require(report["io_uring_enter_per_iteration"] as? Double)
        #expect(enters < 0.1, "\(enters)")
    }

    @Test(arguments: [["--fixed-files"], ["--ring-entries", "64"], ["--sqpoll"]])
    func ringOptionsAreReported(options: [String]) throws {
        let report = try run(["socket", "10", "--mode", "green", "--io", "uring", "--cpus", "0"] + options)
        #expect((report["iterations"] as? Int ?? 0) > 0)
        #expect(report["fixed_files"] as? Bool == options.contains("--fixed-files"))
        #expect(report["sqpoll"] as? Bool == options.contains("--sqpoll"))
        if options.contains("--ring-entries") { #expect(report["ring_entries"] as? Int == 64) }
        if options.contains("--sqpoll") { #expect(report["sqpoll_cpu_seconds"] is Double) }
    }

    @Test(arguments: [(["socket", "20"], SIGINT), (["socket", "20", "--transport", "pipe"], SIGTERM),
                      (["socket", "20", "--transport", "tcp"], SIGINT),
                      (["socket", "200", "--mode", "green"], SIGTERM), (["socket", "200", "--mode", "async"], SIGINT)])
    func stopsWhileActorsWaitOnCompletions(arguments: [String], signal: Int32) throws {
        let result = try CSGBProcess.run(arguments + ["--io", "uring"], signal: signal, signalAt: .open, timeout: 60)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains(signal == SIGINT ? "stopped by SIGINT" : "stopped by SIGTERM"))
        #expect(result.seconds < 5)
    }

    @Test func ringOptionsNeedURing() throws {
        for options in [["--sqpoll"], ["--fixed-files"], ["--ring-entries", "8"]] {
            let result = try CSGBProcess.run(["socket", "1", "-d", "0.1"] + options)
            #expect(result.status == 64, "\(options)")
            #expect(result.stderr.contains("--io uring"), "\(result.stderr)")
        }
        let global = try CSGBProcess.run(["socket", "1", "--mode", "async", "--executor", "global", "--io", "uring", "-d", "0.1"])
        #expect(global.status == 64)
        #expect(global.stderr.contains("--executor dedicated"), "\(global.stderr)")
    }

    /// A ring the kernel refuses: one line naming the cause and the fix, exit 69,
    /// nothing started. Forced with kernel.io_uring_disabled (root only; restored).
    @Test(.enabled(if: getuid() == 0 && FileManager.default.isWritableFile(atPath: "/proc/sys/kernel/io_uring_disabled")),
          arguments: ["thread", "green", "async"])
    func refusedRingSaysHowToFixIt(mode: String) throws {
        let path = "/proc/sys/kernel/io_uring_disabled"
        let before = try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        try "2".write(toFile: path, atomically: false, encoding: .utf8)
        defer { try? before.write(toFile: path, atomically: false, encoding: .utf8) }
        let result = try CSGBProcess.run(["socket", "1", "--mode", mode, "--io", "uring", "-d", "0.2"])
        #expect(result.status == 69, "\(result.stdout) \(result.stderr)")
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(result.stderr)")
        #expect(result.stderr.contains("io_uring_disabled"))
        #expect(!result.stdout.contains("total iterations"))
    }
}
