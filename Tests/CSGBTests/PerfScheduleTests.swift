import Foundation
import Testing

/// Under csgb stat the run gives perf SCHED_FIFO and moves it onto the run's CPUs
/// before its window, so perf acts on the window's edges at once; the workload
/// keeps the default policy and timer slack. Where the kernel refuses, the report
/// says perf was left at SCHED_OTHER and what grants the policy.
extension PerfProcessTests { @Suite(.serialized) struct PerfScheduleTests {
    static var perfUsable: Bool { StatCommandTests.perfUsable }
    static var capsh: Bool { FileManager.default.isExecutableFile(atPath: "/usr/sbin/capsh") || FileManager.default.isExecutableFile(atPath: "/sbin/capsh") }

    static func children(_ pid: pid_t) -> [pid_t] {
        let text = (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? ""
        return text.split(separator: " ").compactMap { pid_t($0) }
    }

    static func statField(_ pid: pid_t, _ tid: String? = nil, _ number: Int) -> Int? {
        let path = tid.map { "/proc/\(pid)/task/\($0)/stat" } ?? "/proc/\(pid)/stat"
        guard let stat = try? String(contentsOfFile: path, encoding: .utf8), let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > number - 3 ? Int(fields[number - 3]) : nil
    }

    static func status(_ pid: pid_t, _ key: String) -> String? {
        let text = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").first { $0.hasPrefix(key + ":") }
            .map { $0.dropFirst(key.count + 1).trimmingCharacters(in: .whitespaces) }
    }

    @Test(.enabled(if: perfUsable, "needs root and perf"))
    func perfRunsAtFIFOOnTheRunsCPUsAndTheWorkloadDoesNot() throws {
        let run = try GroupProcess(["stat", "--format", "json", "--", "socket", "1", "--mode", "thread", "--cpus", "0",
                                    "--duration", "1"], announcing: true)
        try run.waitUntil(.open)
        let perf = try #require(Self.children(run.pid).first, "csgb stat has no child")
        let workload = try #require(Self.children(perf).first, "perf has no child")
        let perfPolicy = Self.statField(perf, nil, 41)
        let perfCPUs = Self.status(perf, "Cpus_allowed_list")
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(workload)/task")) ?? []
        let policies = tasks.compactMap { Self.statField(workload, $0, 41) }
        let result = try run.wait(timeout: 60)
        // The verdict is not this test's subject: on a loaded CPU 0 a neighbour's
        // preemptions can push thread mode past 3 switches per iteration (exit 3).
        #expect(result.status == 0 || result.status == 3, "\(result.stderr)\n\(result.stdout)")
        #expect(perfPolicy == 1, "perf's policy in the window: \(perfPolicy.map(String.init) ?? "unread")")
        #expect(perfCPUs == "0", "perf's CPUs in the window: \(perfCPUs ?? "unread")")
        // Only the coordinator is real-time in the window; the actors kept the default
        // policy (and its timer slack: aModeForcedToBlockFailsItsExpectation fails
        // when they inherit a real-time task's 0, as their 1 µs sleeps stop blocking).
        #expect(policies.count >= 3 && policies.filter { $0 == 1 }.count == 1, "workload thread policies: \(policies)")
        let report = try CSGBProcess.json(result.stdout)
        #expect(report["perf_sched"] as? String == "fifo:1")
        let child = try #require(report["report"] as? [String: Any])
        #expect(child["coordinator_sched"] as? String == "fifo:1", "the coordinator takes the edges at SCHED_FIFO")
    }

    /// Built to be refused: no CAP_SYS_NICE and RLIMIT_RTPRIO 0. The run goes on,
    /// and both perf's line and a warning say what was not granted and how to grant it.
    /// A 1.5 s window: perf left at SCHED_OTHER starts and stops counting a few
    /// milliseconds off csgb's window, which over 0.3 s came to 2.014 reads per
    /// iteration, outside the ± 0.01 that stat allows, and failed the run.
    @Test(.enabled(if: perfUsable && capsh, "needs root, perf and capsh (libcap2-bin) to drop CAP_SYS_NICE"))
    func aRefusedPolicyIsReportedWithTheFix() throws {
        let binary = CSGBProcess.binary.path
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/bin/sh")
        shell.arguments = ["-c", "exec capsh --drop=cap_sys_nice -- -c \"ulimit -r 0; exec '\(binary)' stat --format json -- socket 1 --cpus 0 -d 1.5\""]
        let out = Pipe(), err = Pipe()
        shell.standardOutput = out
        shell.standardError = err
        try shell.run()
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        shell.waitUntilExit()
        #expect(shell.terminationStatus == 0, "\(stderr)")
        let report = try CSGBProcess.json(stdout)
        #expect(report["perf_sched"] is NSNull, "\(report["perf_sched"] ?? "missing")")
        let note = try #require(report["perf_sched_note"] as? String)
        #expect(note.hasPrefix("left at SCHED_OTHER"), "\(note)")
        #expect(note.contains("CAP_SYS_NICE") && note.contains("ulimit -r 1"), "\(note)")
        let warnings = try #require(report["warnings"] as? [String])
        #expect(warnings.contains { $0.hasPrefix("perf left at SCHED_OTHER") }, "\(warnings)")
        let child = try #require(report["report"] as? [String: Any])
        #expect(child["coordinator_sched"] is NSNull)
    }
} }
