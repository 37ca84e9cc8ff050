import Foundation

/// A csgb started in a process group of its own, as `setsid csgb …` in a shell, so
/// a test can signal the whole group the way a terminal's Ctrl-C does, or the
/// leader alone. Output goes to files: nothing to drain while it runs.
final class GroupProcess {
    let pid: pid_t
    private let directory: URL
    private let started = Date()

    /// Where csgb announces its moments (`--window-file`, when `announcing`).
    var windowFile: String { directory.appendingPathComponent("window").path }

    init(_ arguments: [String], prefix: [String] = [], announcing: Bool = false) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("csgb-group-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let arguments = announcing ? arguments + ["--window-file", directory.appendingPathComponent("window").path] : arguments
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, directory.appendingPathComponent("out").path, O_WRONLY | O_CREAT, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, directory.appendingPathComponent("err").path, O_WRONLY | O_CREAT, 0o600)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setpgroup(&attributes, 0)
        // As a terminal's foreground job: SIGINT and SIGQUIT handled by default, not
        // ignored as a shell's background job would have them.
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGQUIT, SIGTERM, SIGHUP] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF))
        let argv = (prefix + [CSGBProcess.binary.path] + arguments).map { strdup($0) }
        defer { for pointer in argv { free(pointer) } }
        var child: pid_t = 0
        let rc = (argv + [nil]).withUnsafeBufferPointer { pointers in
            posix_spawnp(&child, argv[0]!, &actions, &attributes, pointers.baseAddress!, environ)
        }
        if rc != 0 { throw SpawnFailed(code: rc) }
        pid = child
    }

    struct SpawnFailed: Error { let code: Int32 }
    struct TimedOut: Error {}

    var secondsSinceStart: Double { Date().timeIntervalSince(started) }

    /// Waits until csgb announced `moment`; kills the group and throws if it does not come.
    func waitUntil(_ moment: RunMoment, timeout: Double = 60) throws {
        if !RunMoment.wait(for: moment, at: windowFile, timeout: timeout) {
            kill(-pid, SIGKILL)
            throw TimedOut()
        }
    }

    func signalGroup(_ signal: Int32) { kill(-pid, signal) }
    func signalLeader(_ signal: Int32) { kill(pid, signal) }

    /// Waits for the exit; kills the group and throws after `timeout` seconds.
    func wait(timeout: Double) throws -> CSGBProcess.Result {
        let deadline = Date().addingTimeInterval(timeout)
        let waitingSince = Date()
        var status: Int32 = 0
        while waitpid(pid, &status, WNOHANG) == 0 {
            if Date() > deadline {
                kill(-pid, SIGKILL)
                _ = waitpid(pid, &status, 0)
                throw TimedOut()
            }
            Thread.sleep(forTimeInterval: 0.005)
        }
        let seconds = Date().timeIntervalSince(waitingSince)
        let signal = status & 0x7f
        let code = signal == 0 ? (status >> 8) & 0xff : 128 + signal
        let out = (try? String(contentsOf: directory.appendingPathComponent("out"), encoding: .utf8)) ?? ""
        let err = (try? String(contentsOf: directory.appendingPathComponent("err"), encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(at: directory)
        return CSGBProcess.Result(status: code, stdout: out, stderr: err, seconds: seconds)
    }

    /// The nice value of every thread of the process (field 19 of /proc/…/stat).
    func threadNiceValues() -> [Int] { threadStatField(19) }

    /// Each thread's scheduling policy (0 SCHED_OTHER, 1 SCHED_FIFO, 2 SCHED_RR).
    func threadPolicies() -> [Int] { threadStatField(41) }

    /// Field `number` (as proc(5) counts, from 1) of every thread's stat line.
    func threadStatField(_ number: Int) -> [Int] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        return tasks.compactMap { tid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/task/\(tid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return nil }
            // Fields after the command name start at field 3 (the state).
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > number - 3 ? Int(fields[number - 3]) : nil
        }
    }
}
