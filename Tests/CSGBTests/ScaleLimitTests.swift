@testable import CSGBSystem
import Foundation
import Testing

/// A run too big for a limit is refused before anything starts, naming the limit,
/// the need and the fix (exit 71); each limit is lowered for one child only: the
/// descriptor limits with `ulimit`, the system settings through a fake /proc/sys
/// (`CSGB_SYSCTL_ROOT`), so no system setting changes.
@Suite(.serialized) struct ScaleLimitTests {
    /// A /proc/sys holding only `settings` (`"kernel/pid_max": "100"`).
    func fakeSysctl(_ settings: [String: String]) throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("csgb-sysctl-\(UUID().uuidString)")
        for (name, value) in settings {
            let file = root.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try (value + "\n").write(to: file, atomically: true, encoding: .utf8)
        }
        return root.path
    }

    func run(_ arguments: [String], sysctl: [String: String], environment: String = "") throws -> CSGBProcess.Result {
        let root = try fakeSysctl(sysctl)
        defer { try? FileManager.default.removeItem(atPath: root) }
        return try CSGBProcess.run(arguments, timeout: 60, shellPrefix: "\(environment) CSGB_SYSCTL_ROOT='\(root)'")
    }

    /// Whether this process may raise hard limits (CAP_SYS_RESOURCE, bit 24 of CapEff).
    static var hasSysResource: Bool {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("CapEff:") }),
              let mask = UInt64(line.dropFirst("CapEff:".count).trimmingCharacters(in: .whitespaces), radix: 16) else { return true }
        return mask & (1 << 24) != 0
    }

    @Test(.enabled(if: !hasSysResource, "needs a process without CAP_SYS_RESOURCE (one with it raises the hard limit itself)"))
    func descriptorHardLimitNamesTheCapability() throws {
        let result = try CSGBProcess.run(["socket", "100", "-d", "0.1"], timeout: 60,
                                         shellPrefix: "ulimit -Sn 150 && ulimit -Hn 200 &&")
        #expect(result.status == 71, "\(result.stderr)")
        #expect(result.stderr.contains("hard limit (RLIMIT_NOFILE) is 200"), "\(result.stderr)")
        #expect(result.stderr.contains("CAP_SYS_RESOURCE") && result.stderr.contains("ulimit -Hn 264"), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
    }

    /// RLIMIT_NPROC bounds the tasks of one user: the refusal counts the user's
    /// tasks, names the limit and gives the fix, the hard limit's too when the soft
    /// one cannot be raised far enough.
    @Test func userTaskLimitNamesTheLimitAndTheFix() throws {
        #expect(ResourceLimits.userTaskShortfall(threads: 10, userTasks: 3, soft: 40, hard: 40) == nil)
        let soft = try #require(ResourceLimits.userTaskShortfall(threads: 40, userTasks: 3, soft: 40, hard: nil))
        #expect(soft.contains("needs 40 threads or processes, 59 tasks with the 3 this user already runs"), "\(soft)")
        #expect(soft.contains("RLIMIT_NPROC (ulimit -u, the tasks one user may run) is 40; raise it with `ulimit -u 118`"), "\(soft)")
        let hard = try #require(ResourceLimits.userTaskShortfall(threads: 40, userTasks: 3, soft: 40, hard: 50))
        #expect(hard.contains("the hard limit is 50") && hard.contains("limits.conf"), "\(hard)")
    }

    static let asNobodyWithTaskLimit = #"exec /usr/bin/setpriv --reuid=65534 --regid=65534 --clear-groups /bin/bash -c 'ulimit -Su 60 && exec "$@"'"#

    /// End to end, in a child run as nobody under `ulimit -Su 60` (root is not held to
    /// RLIMIT_NPROC, and the test runner's own limit stays as it is): a run needing
    /// more threads or processes is refused before anything starts, naming the limit
    /// and the fix; one that fits runs. Before: the check counted every task of the
    /// machine (about 170 here, plus 256 kept free) against the user's limit, so the
    /// 11 processes of `socket 5 --mode process` were refused ("needs 453 threads").
    @Test(.enabled(if: geteuid() == 0 && FileManager.default.fileExists(atPath: "/usr/bin/setpriv"),
                   "needs root to start a child as nobody, who is held to RLIMIT_NPROC"),
          arguments: [["socket", "30", "--mode", "thread"], ["socket", "30", "--mode", "process"], ["socket", "5", "--mode", "process"]])
    func userTaskLimitIsCheckedBeforeTheRun(arguments: [String]) throws {
        let result = try CSGBProcess.run(arguments + ["-d", "0.1", "--warmup", "0"], timeout: 60,
                                         shellPrefix: Self.asNobodyWithTaskLimit, asOtherUser: true)
        if arguments[1] == "5" {
            #expect(result.status == 0, "\(result.stderr)")
            return
        }
        #expect(result.status == 71, "\(result.stderr)")
        #expect(result.stderr.contains("RLIMIT_NPROC (ulimit -u, the tasks one user may run) is 60"), "\(result.stderr)")
        #expect(result.stderr.contains("raise it with `ulimit -u"), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        #expect(result.stdout.isEmpty)
    }

    /// A fork that meets RLIMIT_NPROC mid set-up (tasks started after `max` chose N,
    /// as other programs' may) ends in one line naming the limit and its fix, with no
    /// errno of another call after it. Before: "… or lower N: Invalid argument".
    @Test(.enabled(if: geteuid() == 0 && FileManager.default.fileExists(atPath: "/usr/bin/setpriv"),
                   "needs root to start a child as nobody, who is held to RLIMIT_NPROC"))
    func aForkThatMeetsTheUserTaskLimitNamesIt() throws {
        let result = try CSGBProcess.run(["socket", "max", "--mode", "process", "-d", "0.1", "--warmup", "0"], timeout: 60,
                                         shellPrefix: "CSGB_INJECT_TASKS_AFTER_MAX=20 " + Self.asNobodyWithTaskLimit, asOtherUser: true)
        #expect(result.status == 71, "\(result.stderr)")
        #expect(result.stderr.contains("could not fork actor") && result.stderr.contains("ulimit -u"), "\(result.stderr)")
        #expect(result.stderr.hasSuffix("or lower N\n"), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        #expect(ProcessModeChildren.noneLeft(timeout: 10).isEmpty)
    }

    @Test func theSoftLimitIsRaisedAsFarAsNeededAndReported() throws {
        let result = try CSGBProcess.run(["socket", "60", "-d", "0.1", "--warmup", "0", "--format", "json"], timeout: 60,
                                         shellPrefix: "ulimit -Sn 100 && ulimit -Hn 1000 &&")
        #expect(result.status == 0, "\(result.stderr)")
        let report = try CSGBProcess.json(result.stdout)
        #expect(report["limits"] as? String == "raised RLIMIT_NOFILE soft 100 → 184", "\(report["limits"] ?? "none")")
    }

    @Test func mapCountStopsGreenThreadsBeforeTheyStart() throws {
        let refused = try run(["yield", "2000", "--mode", "green", "-d", "0.1"], sysctl: ["vm/max_map_count": "3000"])
        #expect(refused.status == 71, "\(refused.stderr)")
        #expect(refused.stderr.contains("vm.max_map_count is 3000") && refused.stderr.contains("sysctl -w vm.max_map_count="),
                "\(refused.stderr)")
        #expect(refused.stdout.isEmpty)
        let fits = try run(["yield", "20", "--mode", "green", "-d", "0.1", "--warmup", "0"], sysctl: ["vm/max_map_count": "3000"])
        #expect(fits.status == 0, "\(fits.stderr)")
    }

    @Test(arguments: [("kernel/pid_max", "kernel.pid_max"), ("kernel/threads-max", "kernel.threads-max")])
    func taskLimitsStopThreadMode(file: String, name: String) throws {
        // Whatever the machine already runs counts against these system-wide limits.
        let tasks = try #require(Self.systemTasks())
        let limit = tasks + 700
        let refused = try run(["yield", "1000", "--mode", "thread", "-d", "0.1"], sysctl: [file: "\(limit)"])
        #expect(refused.status == 71, "\(refused.stderr)")
        #expect(refused.stderr.contains("\(name) is \(limit)") && refused.stderr.contains("sysctl -w \(name)="), "\(refused.stderr)")
        let fits = try run(["yield", "20", "--mode", "thread", "-d", "0.1", "--warmup", "0"], sysctl: [file: "\(limit)"])
        #expect(fits.status == 0, "\(fits.stderr)")
    }

    /// `max` chooses N by the task limits; tasks that start after that (here 64
    /// threads csgb itself starts, as a busy machine's programs would) must not make
    /// the run refuse the N it was given.
    @Test func maxDoesNotRefuseItself() throws {
        let tasks = try #require(Self.systemTasks())
        let limit = tasks + 700
        let result = try run(["yield", "max", "--mode", "thread", "-d", "0.1", "--warmup", "0", "--format", "json"],
                             sysctl: ["kernel/pid_max": "\(limit)"], environment: "CSGB_INJECT_TASKS_AFTER_MAX=64")
        #expect(result.status == 0, "\(result.stderr)")
        let report = try CSGBProcess.json(result.stdout)
        let n = try #require(report["n"] as? Int)
        // pid_max less the machine's tasks and the 256 kept free: a few hundred.
        #expect(n > 100 && n < 700, "N = \(n)")
        #expect(report["os_threads"] as? Int == n)
    }

    @Test func portRangeStopsTCP() throws {
        let refused = try run(["socket", "20", "--transport", "tcp", "-d", "0.1"],
                              sysctl: ["net/ipv4/ip_local_port_range": "40000\t40009"])
        #expect(refused.status == 71, "\(refused.stderr)")
        #expect(refused.stderr.contains("20 ephemeral ports") && refused.stderr.contains("ip_local_port_range"), "\(refused.stderr)")
    }

    /// Tasks on the whole machine, from /proc/loadavg's "runnable/total" field.
    static func systemTasks() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return nil }
        let fields = text.split(separator: " ")
        guard fields.count > 3, let total = fields[3].split(separator: "/").last else { return nil }
        return Int(total)
    }
}
