@testable import CSGBSystem
import Foundation
import Testing
@testable import Analysis
@testable import CSGB

/// Stops that must never be lost, verdicts that must never be false, files that
/// must never be lost or unreadable: each case is one a hostile user found.

@Suite struct LostStopTests {
    /// perf's forked child catches a SIGINT with perf's own handler in the moment
    /// before it execs the workload, so the one forwarded stop was lost and the run
    /// went on to its end (and PASS). The stop is sent again until perf's group is gone.
    @Test func aStopSwallowedBeforeTheWorkloadExecsIsSentAgain() throws {
        let perf = try FakePerf()
        let swallow = perf.file("swallowed")
        let stat = try GroupProcess(["stat", "--", "socket", "1", "--duration", "60"],
                                    prefix: perf.environment(["FAKE_PERF_SWALLOW_INT": swallow]))
        #expect(FakePerf.await(swallow + ".ready"), "the fake perf never started")
        stat.signalLeader(SIGINT)
        let result = try stat.wait(timeout: 30)
        #expect(FileManager.default.fileExists(atPath: swallow), "the first SIGINT should have been swallowed")
        #expect(result.status == 130, "\(result.stderr)")
        #expect(result.stderr.contains("stopped by SIGINT"), "\(result.stderr)")
    }

    /// A Ctrl-C (the terminal's whole group) or a SIGINT to csgb explain alone: exit
    /// 130 with one line, nothing written, no folder left. Before: exit 69 "perf
    /// record failed (exit 130)", or the stop ignored and exit 0.
    @Test(arguments: [true, false])
    func explainStoppedExits130AndLeavesNoFolder(toGroup: Bool) throws {
        let perf = try FakePerf()
        let started = perf.file("started")
        let out = perf.file("results")
        let explain = try GroupProcess(["explain", "--seconds", "30", "--out", out, "--", "socket", "1"],
                                       prefix: perf.environment(["FAKE_PERF_STARTED": started]))
        #expect(FakePerf.await(started), "the fake perf never started")
        if toGroup { explain.signalGroup(SIGINT) } else { explain.signalLeader(SIGINT) }
        let result = try explain.wait(timeout: 60)
        #expect(result.status == 130, "\(result.stderr)")
        #expect(result.stderr.hasPrefix("csgb: stopped by SIGINT during"), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out), "the results folder was left behind")
    }

    /// A set-up call interrupted by the stop (connect or accept of 2,000 TCP pairs
    /// returning EINTR) is the stop, exit 130, not a failed system call (exit 71).
    @Test func aSetUpCallInterruptedByTheStopIsTheStop() {
        let eintr = SystemError("connect 127.0.0.1:4000", .interrupted)
        let stopped = StopBeforeStart.failure(eintr, while: "opening 2000 tcp channel sets", stopRequested: true)
        #expect(stopped.exitCode == 130)
        #expect(stopped.description.contains("before the run started (while opening 2000 tcp channel sets)"))
        let failed = StopBeforeStart.failure(eintr, while: "opening 2000 tcp channel sets", stopRequested: false)
        #expect(failed == .system(eintr))
    }

    @Test func theSetUpStageNamesTheWork() {
        var configuration = RunConfiguration(workload: SocketEcho(transport: .tcp), n: 2000)
        #expect(StopBeforeStart.setUpStage(configuration) == "opening 2000 tcp channel sets")
        configuration.workSize = 1 << 20
        #expect(StopBeforeStart.setUpStage(configuration) == "opening 2000 tcp channel sets and faulting in 1M buffers")
    }

    /// A stop signal that is already pending when csgb starts (blocked by the
    /// parent, so it waits for the first moment csgb unblocks it) is caught by the
    /// handlers csgb installs before its main runs: a command that never ends work
    /// on a stop (--version) dies of it as it would have without handlers, a
    /// workload stops before it starts. Before, the handlers came after Swift's start
    /// and the argument parser, and `--version` ran on with the signal still blocked.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/python3"), "needs python3"))
    func aStopPendingAtStartIsHonoured() throws {
        let version = try Self.runWithPendingSignal(SIGINT, ["--version"])
        #expect(version.contains("signal 2"), "\(version)")
        let workload = try Self.runWithPendingSignal(SIGTERM, ["socket", "1", "--duration", "60"])
        #expect(workload.contains("exit 130"), "\(workload)")
        #expect(workload.contains("stopped by SIGTERM before the run started"), "\(workload)")
    }

    /// Runs csgb from a child that blocked `signal`, sent it to itself, and exec'd.
    static func runWithPendingSignal(_ signal: Int32, _ arguments: [String]) throws -> String {
        let script = """
            import os, signal, sys
            pid = os.fork()
            if pid == 0:
                signal.pthread_sigmask(signal.SIG_BLOCK, {\(signal)})
                os.kill(os.getpid(), \(signal))
                os.execv(sys.argv[1], sys.argv[1:])
            _, status = os.waitpid(pid, 0)
            print("signal %d" % os.WTERMSIG(status) if os.WIFSIGNALED(status) else "exit %d" % os.WEXITSTATUS(status))
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", script, CSGBProcess.binary.path] + arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return text
    }
}

/// A window in which the process did not run is flagged, not reported as the
/// workload's figure.
@Suite struct SuspendedWindowTests {
    /// SIGSTOP then SIGCONT in the window: before, "stopped by duration" and a
    /// ns/iteration inflated by the pause, nothing said.
    @Test func stopAndContinueInTheWindowIsFlagged() throws {
        let run = try GroupProcess(["socket", "1", "--duration", "8", "--format", "json"])
        // Past the 0.1 s warm-up for certain: half a second of CPU time spent.
        #expect(Self.awaitCPUSeconds(run.pid, 0.5), "the run never used half a second of CPU")
        kill(run.pid, SIGSTOP)
        #expect(Self.awaitState(run.pid, { $0 == "T" }), "the process never stopped")
        kill(run.pid, SIGCONT)
        // The run ends on its duration: a SIGINT now, pending beside SIGCONT, could
        // be handled on another thread and close the window before the continue is.
        let result = try run.wait(timeout: 30)
        #expect(result.status == 0, "\(result.stderr)")
        let report = try CSGBProcess.json(result.stdout)
        let suspension = try #require(report["suspension"] as? String, "\(result.stdout)")
        #expect(suspension.contains("stopped and continued"))
    }

    /// GNU `timeout -s INT` sends SIGCONT right after its signal: the README's own
    /// example got "stopped and continued 2 times" on every run. A continue that
    /// follows the stop signal is no pause; the run's report has no warning.
    @Test(arguments: [SIGINT, SIGTERM])
    func theContinueAfterAStopSignalIsNotAPause(signal: Int32) throws {
        let run = try GroupProcess(["socket", "1", "--cpus", "0", "--format", "json"], announcing: true)
        try run.waitUntil(.open)
        // As timeout(1) does: the signal, then SIGCONT to the same process.
        kill(run.pid, signal)
        kill(run.pid, SIGCONT)
        let result = try run.wait(timeout: 30)
        #expect(result.status == 0, "\(result.stderr)")
        let report = try CSGBProcess.json(result.stdout)
        #expect(report["suspension"] is NSNull, "\(report["suspension"] ?? "")")
    }

    /// The same through timeout(1) itself, as the README runs it.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/timeout"), "needs GNU timeout"))
    func timeoutGivesNoStopWarning() throws {
        let run = try GroupProcess(["socket", "1", "--cpus", "0"], prefix: ["/usr/bin/timeout", "-s", "INT", "2"])
        let result = try run.wait(timeout: 60)
        // timeout(1) exits 124 when it had to stop its command.
        #expect(result.status == 124, "\(result.stderr)")
        #expect(result.stdout.contains("stopped by SIGINT"), "\(result.stdout)")
        #expect(!result.stdout.contains("stopped and continued"), "\(result.stdout)")
    }

    @Test func aWindowFarPastItsPlannedEndIsFlagged() {
        let open = WindowSuspension.open()
        #expect(open.note(windowSeconds: 1.789, plannedSeconds: 1)?.contains("0.789 s past its planned 1 s") == true)
        #expect(open.note(windowSeconds: 1.05, plannedSeconds: 1) == nil)
        #expect(open.note(windowSeconds: 30, plannedSeconds: nil) == nil)
    }

    static func awaitCPUSeconds(_ pid: pid_t, _ seconds: Double, timeout: Double = 60) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        while Date() < deadline {
            if let fields = statFields(pid), fields.count > 12,
               let user = Double(fields[11]), let system = Double(fields[12]), (user + system) / ticks >= seconds {
                return true
            }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return false
    }

    static func awaitState(_ pid: pid_t, _ state: (String) -> Bool, timeout: Double = 30) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let current = statFields(pid)?.first, state(current) { return true }
            Thread.sleep(forTimeInterval: 0.005)
        }
        return false
    }

    /// Fields of /proc/PID/stat after the command name: state first.
    static func statFields(_ pid: pid_t) -> [String]? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return nil }
        return text[text.index(after: close)...].split(separator: " ").map(String.init)
    }
}

/// perf's output that cannot be perf's, and preemption by a neighbour, are never a verdict.
@Suite struct VerdictTests {
    /// A green run preempted by a spinning neighbour on its CPU: every switch an
    /// involuntary one. Before: FAIL (exit 3) at 0.0018 switches per iteration.
    @Test func preemptionByANeighbourIsAWarningNotAFailure() throws {
        let iterations = 1_000_000
        let csv = "1800,,context-switches,1000000000,100.00,,\n2000000,,syscalls:sys_enter_read,1000000000,100.00,,\n"
            + "2000000,,syscalls:sys_enter_write,1000000000,100.00,,\n"
            + ["futex", "epoll_wait", "epoll_pwait", "io_uring_enter", "sched_yield", "sendto", "recvfrom"]
                .map { "0,,syscalls:sys_enter_\($0),1000000000,100.00,," }.joined(separator: "\n")
        var report = sampleReport()
        report.mode = .green
        report.iterations = UInt64(iterations)
        report.switches = ContextSwitches(voluntary: 0, involuntary: 1800)
        report.claims = claims(.green, SocketEcho(), cpus: [0])
        let json = try JSON(parsing: report.json.rendered())
        let figures = StatFigures(perf: try PerfStatOutput(parsing: csv), report: json)
        let target = try #require(RunTarget(report: json))
        let expectation = Expectation.derive(.auto, for: target)
        let verification = Verification(expectation: expectation, runs: [figures], median: figures)
        #expect(verification.holds, "\(verification.failureMessage)")
        let stat = StatReport(command: ["socket", "1"], events: [], absentEvents: [], summary: RepeatSummary(runs: [figures]),
                              output: try PerfStatOutput(parsing: csv), report: json, verification: verification)
        #expect(stat.warnings.contains { $0.hasPrefix("preempted: 0.0018 involuntary switches/iteration (1800 in the last window)") },
                "\(stat.warnings)")
        #expect(stat.text.contains("warning: preempted"))
        // The same count of switches, voluntary: the mode blocked, which fails.
        report.switches = ContextSwitches(voluntary: 1800, involuntary: 0)
        let blocked = try JSON(parsing: report.json.rendered())
        let blockedFigures = StatFigures(perf: try PerfStatOutput(parsing: csv), report: blocked)
        #expect(!Verification(expectation: expectation, runs: [blockedFigures], median: blockedFigures).holds)
    }

    /// A fake perf whose CSV cannot be perf's: exit 69 naming what was read, never
    /// PASS or FAIL. CRLF endings are still perf's CSV and are read as such.
    @Test(arguments: [("-5", true), ("0x0", true), ("garbage", true), ("crlf", false)])
    func outputThatCannotBePerfsIsAnError(value: String, refused: Bool) throws {
        let perf = try FakePerf()
        let csvPath = perf.file("stat.csv")
        let lines = value == "crlf"
            ? ["# started", "10,,context-switches,1000,100.00,,", "20,,syscalls:sys_enter_read,1000,100.00,,"]
            : value == "garbage" ? ["this is not perf output"] : ["\(value),,context-switches,1000,100.00,,"]
        try lines.joined(separator: value == "crlf" ? "\r\n" : "\n").write(toFile: csvPath, atomically: true, encoding: .utf8)
        let result = try CSGBProcess.run(["stat", "--", "socket", "1", "--duration", "0.3"], timeout: 60,
                                         shellPrefix: perf.shellPrefix(["FAKE_PERF_CSV": csvPath]))
        if refused {
            #expect(result.status == 69, "\(result.stderr)\n\(result.stdout)")
            #expect(result.stderr.contains("not perf stat's"), "\(result.stderr)")
            #expect(result.stderr.contains(value == "garbage" ? "this is not perf output" : value), "\(result.stderr)")
            #expect(!result.stdout.contains("verification"))
        } else {
            #expect(result.status == 0 || result.status == 3, "\(result.stderr)")
            #expect(!result.stderr.contains("--control"), "\(result.stderr)")
            #expect(result.stdout.contains("verification:"))
        }
    }
}

/// Options that would make a run claim what it does not do are refused before anything starts.
@Suite struct RefusedPlanTests {
    /// yield and futex make no reads or writes: no ring would carry anything while
    /// the report said "io uring".
    @Test(arguments: [["yield", "1", "--io", "uring", "--sqpoll", "--fixed-files", "--ring-entries", "8"],
                      ["futex", "1", "--io", "uring"], ["stat", "--", "yield", "1", "--io", "uring"]])
    func aRingWithoutTransfersIsRefused(arguments: [String]) throws {
        let result = try CSGBProcess.run(arguments + ["--duration", "0.2"], timeout: 60)
        #expect(result.status == 64, "\(result.stderr)")
        #expect(result.stderr.contains("--io uring puts reads and writes on a ring"), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
    }

    /// A mode's refusal comes before perf starts: before, 5.9 s of thread mode
    /// under perf record, then exit 64.
    @Test func explainRefusesAWorkloadAModeCannotRunAtOnce() throws {
        let perf = try FakePerf()
        let started = perf.file("started")
        let result = try CSGBProcess.run(["explain", "--", "futex", "1"], timeout: 60,
                                         shellPrefix: perf.shellPrefix(["FAKE_PERF_STARTED": started]))
        #expect(result.status == 64, "\(result.stderr)")
        #expect(result.stderr.contains("cannot run futex"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: started), "perf was started")
    }
}

/// Results are readable by others, never written into / or over an earlier
/// report, and never lost without an exit code that says so.
@Suite struct ResultFileTests {
    func temporary(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("csgb-\(name)-\(UUID().uuidString)").path
    }

    /// Before: open(O_CREAT) without a mode gave files of mode 000.
    @Test func writtenFilesAreReadableByAll() throws {
        let path = temporary("mode")
        defer { unlink(path) }
        let saved = umask(0o022)
        defer { umask(saved) }
        try FileDescriptor.writeFile(path, "x\n")
        var info = stat()
        #expect(lstat(path, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o644)
    }

    @Test func anEmptyOutIsBadUsage() throws {
        let result = try CSGBProcess.run(["explain", "--out", "", "--", "socket", "1"], timeout: 30)
        #expect(result.status == 64, "\(result.stderr)")
        #expect(result.stderr.contains("--out"))
    }

    /// A folder that holds an earlier report keeps it; the new one goes beside.
    @Test func anEarlierReportIsNeverOverwritten() throws {
        let base = temporary("out")
        defer { for path in [base, base + "-2", base + "-3"] { try? FileManager.default.removeItem(atPath: path) } }
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        try "earlier".write(toFile: base + "/report.txt", atomically: true, encoding: .utf8)
        let second = try ResultsFolder(base)
        #expect(second.path == base + "-2")
        #expect(second.requested == base)
        try second.write("report.txt", "second")
        let third = try ResultsFolder(base)
        #expect(third.path == base + "-3")
        #expect(try String(contentsOfFile: base + "/report.txt", encoding: .utf8) == "earlier")
        // An empty folder made beforehand is used as it is.
        let empty = temporary("empty")
        defer { try? FileManager.default.removeItem(atPath: empty) }
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        #expect(try ResultsFolder(empty).path == empty)
    }

    /// Two explains given the same --out at once both find it missing (or empty):
    /// the claim lets one have it and sends the other beside it. Two claims in one
    /// process stand for the two runs, with nothing written between them, as when
    /// both start before either writes. Before: both took the folder, and the second
    /// report overwrote the first.
    @Test func twoClaimsOfOneFolderGetTwoFolders() throws {
        let base = temporary("claimed")
        defer { for path in [base, base + "-2", base + "-3"] { try? FileManager.default.removeItem(atPath: path) } }
        let first = try ResultsFolder(base)
        let second = try ResultsFolder(base)
        #expect(first.path == base)
        #expect(second.path == base + "-2")
        #expect(second.requested == base)
        #expect(second.besideReason?.contains("claimed by another run (csgb explain, pid \(getpid()))") == true, "\(second.besideReason ?? "nil")")
        // An empty folder made beforehand and claimed by a third run: the same.
        let empty = base + "-3"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        let third = try ResultsFolder(empty)
        #expect(third.path == empty)
        #expect(try ResultsFolder(empty).path == empty + "-2")
        try? FileManager.default.removeItem(atPath: empty + "-2")
        // A finished report's folder holds its files and no claim.
        try first.write("report.txt", "first")
        first.finish()
        #expect(try FileManager.default.contentsOfDirectory(atPath: base) == ["report.txt"])
        // A discarded one is taken back with its claim.
        second.discard()
        #expect(!FileManager.default.fileExists(atPath: base + "-2"))
    }

    /// End to end: a folder another explain holds (its claim file, as a run killed
    /// mid-way leaves it) is left as it is and the report goes beside it, saying why.
    @Test func explainGoesBesideAClaimedFolder() throws {
        let perf = try FakePerf()
        let out = perf.file("out")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        try "csgb explain, pid 99999\n".write(toFile: out + "/.claimed", atomically: false, encoding: .utf8)
        let result = try ExplainFixture.explain(["--out", out, "--format", "json", "--", "socket", "1", "--cpus", "0"], perf: perf)
        #expect(result.status == 0, "\(result.stderr)")
        let report = try CSGBProcess.json(result.stdout)
        let files = try #require(report["files"] as? [String: String])
        #expect(files["report"]?.hasPrefix(out + "-2/report.txt") == true, "\(files)")
        let notes = report["notes"] as? [String] ?? []
        #expect(notes.contains { $0.contains("\(out) was claimed by another run (csgb explain, pid 99999)") }, "\(notes)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: out) == [".claimed"])
        #expect(try String(contentsOfFile: out + "/.claimed", encoding: .utf8) == "csgb explain, pid 99999\n")
        let beside = try FileManager.default.contentsOfDirectory(atPath: out + "-2")
        #expect(beside.contains("report.txt") && !beside.contains(".claimed"), "\(beside)")
    }

    /// A folder without room is refused before anything is measured (exit 74), and
    /// what the run made is taken back.
    @Test func aFolderWithoutRoomIsRefusedBeforeMeasuring() throws {
        let base = temporary("full") + "/a/b"
        #expect(throws: CSGBError.self) { try ResultsFolder(base, minimumFreeBytes: UInt64.max / 2) }
        do {
            _ = try ResultsFolder(base, minimumFreeBytes: UInt64.max / 2)
        } catch {
            #expect(error.exitCode == 74)
            #expect(error.description.contains("KiB free"))
        }
        #expect(!FileManager.default.fileExists(atPath: base))
        #expect(!FileManager.default.fileExists(atPath: (base as NSString).deletingLastPathComponent))
    }

    /// End to end: a folder that cannot be made or written ends explain at once
    /// with 74, before perf ran. Before: 71 after the whole measurement.
    @Test func explainChecksItsFolderBeforePerfRuns() throws {
        let perf = try FakePerf()
        let started = perf.file("started")
        let result = try CSGBProcess.run(["explain", "--out", "/proc/csgb-cannot-be-here", "--", "socket", "1"], timeout: 60,
                                         shellPrefix: perf.shellPrefix(["FAKE_PERF_STARTED": started]))
        #expect(result.status == 74, "\(result.stderr)")
        #expect(result.stderr.contains("/proc/csgb-cannot-be-here"))
        #expect(!FileManager.default.fileExists(atPath: started), "perf was started")
    }

    @Test func aDiscardTakesBackWhatTheRunWrote() throws {
        let base = temporary("discard") + "/inner"
        let folder = try ResultsFolder(base)
        try folder.write("one.svg", "<svg/>")
        folder.discard()
        #expect(!FileManager.default.fileExists(atPath: base))
        #expect(!FileManager.default.fileExists(atPath: (base as NSString).deletingLastPathComponent))
    }

    /// Standard output closed: explain would lose its report, so it refuses (74)
    /// before anything starts. Before: exit 0, the report gone.
    @Test func explainWithStandardOutputClosedExits74() throws {
        let result = try CSGBProcess.run(["explain", "--out", temporary("closed"), "--", "socket", "1"], timeout: 60,
                                         shellPrefix: "exec >&-;")
        #expect(result.status == 74, "\(result.stderr)")
        #expect(result.stderr.contains("standard output is closed"))
    }

    /// A report explain cannot write to standard output (a full device): exit 74
    /// naming the cause. Before: exit 0, the report silently lost.
    @Test(.enabled(if: PerfProcessTests.StatCommandTests.perfUsable, "needs root and perf"))
    func explainIntoAFullDeviceExits74() throws {
        let out = temporary("full-device")
        defer { try? FileManager.default.removeItem(atPath: out) }
        let result = try CSGBProcess.run(["explain", "--seconds", "0.2", "--timeline-seconds", "0.1", "--out", out, "--", "socket", "1"],
                                         timeout: 120, shellPrefix: "exec >/dev/full;")
        #expect(result.status == 74, "\(result.stderr)")
        #expect(result.stderr.contains("No space left on device"), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
    }

    /// A reader that went away (`| true`, `| head -1`): exit 74 with a line, not a
    /// silent death by SIGPIPE (141).
    @Test func statIntoAClosedPipeExits74() throws {
        let perf = try FakePerf()
        let csvPath = perf.file("stat.csv")
        try "10,,context-switches,1000,100.00,,\n".write(toFile: csvPath, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "\(perf.shellPrefix(["FAKE_PERF_CSV": csvPath])) exec '\(CSGBProcess.binary.path)' stat -- socket 1 --duration 0.3"]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try out.fileHandleForReading.close()
        try process.run()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationReason == .exit, "killed by signal \(process.terminationStatus)")
        #expect(process.terminationStatus == 74, "\(stderr)")
        #expect(stderr.contains("could not be written"), "\(stderr)")
    }
}

/// Limits are checked with everything the run will open or map, and named.
@Suite struct LimitTests {
    /// With `--io uring` each thread-mode actor opens a ring descriptor of its own;
    /// the descriptor check counted only the channels, so 400 pairs under a soft
    /// limit of 1,024 ended in "io_uring_setup failed: Too many open files" (69).
    @Test(.enabled(if: URing.probe() == nil, "needs io_uring"))
    func ringDescriptorsAreCountedAgainstTheOpenFilesLimit() throws {
        let result = try CSGBProcess.run(["socket", "400", "--io", "uring", "-d", "0.3"], timeout: 120,
                                         shellPrefix: "ulimit -Sn 1024 &&")
        #expect(result.status == 0, "\(result.stderr)")
    }

    /// Under `ulimit -v` the stacks must fit with room left for the allocator: the
    /// run is refused with the limit's name, never a SIGSEGV in the Swift runtime.
    @Test func addressSpaceTooSmallForTheStacksIsRefusedBeforeTheyStart() throws {
        for _ in 0..<3 {
            let result = try CSGBProcess.run(["socket", "100", "-d", "0.3"], timeout: 60, shellPrefix: "ulimit -v 200000 &&")
            #expect(result.status == 71, "\(result.stderr.prefix(300))")
            #expect(result.stderr.hasPrefix("csgb: this run needs about"), "\(result.stderr.prefix(300))")
            #expect(result.stderr.contains("ulimit -v"))
            #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr.prefix(300))")
        }
    }

    @Test func theAddressSpaceEstimateCountsStacksAndTheAllocatorReserve() {
        let mib: UInt64 = 1 << 20
        #expect(ResourceLimits.addressSpaceShortfall(threads: 200, stackSize: 256 * 1024, limitBytes: 195 * mib, inUseBytes: 100 * mib) != nil)
        #expect(ResourceLimits.addressSpaceShortfall(threads: 2, stackSize: 256 * 1024, limitBytes: 195 * mib, inUseBytes: 50 * mib) == nil)
    }
}

/// Values explain and the workloads refuse, each with one line saying what is accepted.
@Suite struct SecondsValueTests {
    @Test(arguments: [["socket", "1", "-d=0x1"], ["explain", "--seconds", "0x0.4p0", "--", "socket", "1"],
                      ["explain", "--seconds", "1e-9", "--", "socket", "1"], ["explain", "--seconds", "-1", "--", "socket", "1"],
                      ["explain", "--timeline-seconds", "0", "--", "socket", "1"]])
    func refusedWithWhatIsAccepted(arguments: [String]) throws {
        let result = try CSGBProcess.run(arguments, timeout: 30)
        #expect(result.status == 64, "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        #expect(!result.stderr.contains("a value of 0 or more"), "\(result.stderr)")
        #expect(result.stderr.contains("0.01") || result.stderr.contains("decimal"), "\(result.stderr)")
    }

    /// `stat -- socket 1 --help` asked the workload for help and got "…not socket".
    @Test func helpAfterTheTerminatorPointsToTheWorkloadsHelp() throws {
        let result = try CSGBProcess.run(["stat", "--", "socket", "1", "--help"], timeout: 30)
        #expect(result.status == 64, "\(result.stderr)")
        #expect(result.stderr.contains("csgb socket --help"), "\(result.stderr)")
        #expect(!result.stderr.contains("not socket"))
    }

    /// perf refused although perf_event_paranoid is already -1: the hint must not
    /// tell the user to set it to -1.
    @Test func theParanoidHintIsNotGivenWhenAlreadySet() {
        #expect(PerfRunner.paranoidHint(-1).contains("already -1"))
        #expect(!PerfRunner.paranoidHint(-1).contains("sysctl -w"))
        #expect(PerfRunner.paranoidHint(2).contains("sysctl -w kernel.perf_event_paranoid=-1` (now 2)"))
        let refused = PerfRunner.diagnose(status: 255, stderr: "Error: No permission to enable cpu-clock", tool: "perf record", command: "explain")
        #expect(refused.description.contains("run csgb explain as root"))
    }
}

/// A stop while the workload waits for perf's acknowledgement at the window's edge:
/// perf, stopped by the same signal, may never answer. Before, the workload waited
/// out the 5 s timeout and failed (71, "perf did not acknowledge"); now it ends on
/// the stop with its report.
@Suite struct StopDuringPerfHandshakeTests {
    @Test func aStopEndsTheWaitForPerfsAck() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("csgb-ack-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let control = directory + "/control", ack = directory + "/ack"
        #expect(mkfifo(control, 0o600) == 0 && mkfifo(ack, 0o600) == 0)
        // Held open read-write as perf holds them, so neither side's open blocks; nobody answers.
        let controlFD = open(control, O_RDWR | O_NONBLOCK), ackFD = open(ack, O_RDWR | O_NONBLOCK)
        defer { close(controlFD); close(ackFD) }
        let run = try GroupProcess(["socket", "1", "--duration", "60", "--format", "json", "--perf-control", "\(control),\(ack)"])
        // The workload wrote "enable" and now waits for the ack.
        var received = [UInt8](repeating: 0, count: 64)
        let deadline = Date().addingTimeInterval(30)
        var got = 0
        while got <= 0 && Date() < deadline {
            got = read(controlFD, &received, received.count)
            if got <= 0 { Thread.sleep(forTimeInterval: 0.005) }
        }
        #expect(got > 0, "the workload never asked perf to enable")
        #expect(String(decoding: received[0..<max(got, 0)], as: UTF8.self).hasPrefix("enable"))
        run.signalLeader(SIGINT)
        let result = try run.wait(timeout: 30)
        #expect(!result.stderr.contains("did not acknowledge"), "\(result.stderr)")
        #expect(result.status == 0 || result.status == 130, "\(result.stderr)")
    }
}

/// Messages that say what is accepted and how to fix what stops the run.
@Suite struct MessageTests {
    /// `csgb help bogus` printed the overview and exited 0, as if the topic existed.
    @Test(arguments: [["help", "bogus"], ["help", "sockets"]])
    func helpOnACommandThatDoesNotExistIsBadUsage(arguments: [String]) throws {
        let result = try CSGBProcess.run(arguments, timeout: 30)
        #expect(result.status == 64, "\(result.status): \(result.stdout.prefix(200)) \(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        #expect(result.stderr.contains(arguments[1]) && result.stderr.contains("socket"), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
    }

    @Test func helpOnACommandStillWorks() throws {
        let result = try CSGBProcess.run(["help", "socket"], timeout: 30)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("--work-size"))
    }

    /// A CPU list csgb cannot read: the accepted form and this machine's CPUs, not
    /// "The value '0-2000000000' is invalid".
    @Test(arguments: ["0-2000000000", "3-1", "zero", "0,,1"])
    func anUnreadableCPUListSaysWhatIsAccepted(list: String) throws {
        let result = try CSGBProcess.run(["socket", "1", "--cpus", list, "-d", "0.2"], timeout: 30)
        #expect(result.status == 64, "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        #expect(result.stderr.contains("0-3") && result.stderr.contains("this machine's CPUs"), "\(result.stderr)")
        let online = try String(contentsOfFile: "/sys/devices/system/cpu/online", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(result.stderr.contains(online), "\(result.stderr)")
        #expect(!result.stderr.contains("is invalid"), "\(result.stderr)")
    }

    /// Work buffers larger than the memory available: before, "mmap of … bytes: Cannot
    /// allocate memory" with no size asked and no fix. Refused before anything
    /// starts, exit 71, naming the size, the figure that stops it and the fix.
    @Test func workBuffersBeyondTheAvailableMemoryAreRefusedWithTheFix() throws {
        let result = try CSGBProcess.run(["socket", "1", "--work-size", "64G", "-d", "0.2"], timeout: 30)
        #expect(result.status == 71, "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        #expect(result.stderr.contains("--work-size 64G for 2 actors needs 128 GiB"), "\(result.stderr)")
        #expect(result.stderr.contains("MemAvailable") && result.stderr.contains("lower --work-size or N"), "\(result.stderr)")
        #expect(!result.stderr.contains("mmap"), "\(result.stderr)")
    }

    /// Under `ulimit -v` the refusal names the address-space limit and how to raise it.
    @Test func workBuffersBeyondTheAddressSpaceLimitNameIt() throws {
        let result = try CSGBProcess.run(["socket", "1", "--work-size", "3G", "-d", "0.2"], timeout: 30,
                                         shellPrefix: "ulimit -v 4000000 &&")
        #expect(result.status == 71, "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        #expect(result.stderr.contains("RLIMIT_AS") && result.stderr.contains("ulimit -v"), "\(result.stderr)")
        #expect(result.stderr.contains("6 GiB"), "\(result.stderr)")
    }

    /// The estimate itself: what fits, what does not, in readable units.
    @Test func byteFiguresAreReadable() {
        #expect(ResourceLimits.bytesText(64 << 30) == "64 GiB")
        #expect(ResourceLimits.bytesText(3 << 29) == "1.5 GiB")
        #expect(ResourceLimits.bytesText(4096) == "4 KiB")
        #expect(throws: LimitError.self) { try ResourceLimits.ensureWorkMemory(total: 1 << 62, perProcess: 1 << 62, asked: "x") }
        #expect(throws: Never.self) { try ResourceLimits.ensureWorkMemory(total: 1 << 20, perProcess: 1 << 20, asked: "x") }
    }

    /// The kernel rounds a ring up to a power of two: 3 entries asked were reported
    /// as 3 while the ring had 4. A count that is not a power of two is refused.
    @Test(arguments: [("3", "4"), ("5", "8"), ("1000", "1024")])
    func ringEntriesThatAreNoPowerOfTwoAreRefused(entries: String, rounded: String) throws {
        let result = try CSGBProcess.run(["socket", "1", "--io", "uring", "--ring-entries", entries, "-d", "0.2"], timeout: 30)
        #expect(result.status == 64, "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        #expect(result.stderr.contains("power of two") && result.stderr.contains("would make \(rounded)"), "\(result.stderr)")
    }

    /// A ring with fewer entries than the actors it serves has no room for every
    /// actor's transfer: before, `socket 1 --mode async --ring-entries 1` hung in
    /// io_uring_enter until SIGKILL, and `socket 4 --mode green --ring-entries 2` exited 0
    /// with 6 of 8 actors never passing. Refused before anything runs, naming the
    /// entries a pass needs; a ring of exactly that many runs.
    @Test(.enabled(if: URing.probe() == nil, "needs io_uring"), arguments: [
        (["socket", "1", "--mode", "async", "--transport", "pipe"], "1", "2"),
        (["socket", "1", "--mode", "async", "--syscalls", "send-recv", "--ring-setup", "none"], "1", "2"),
        (["socket", "1", "--mode", "green"], "1", "2"),
        (["socket", "4", "--mode", "green"], "2", "8"),
        (["socket", "4", "--mode", "async", "--workers", "2"], "2", "4"),
    ])
    func ringsTooSmallForAPassAreRefused(arguments: [String], entries: String, needed: String) throws {
        let base = arguments + ["--io", "uring", "-d", "0.2", "--format", "json"]
        let refused = try CSGBProcess.run(base + ["--ring-entries", entries], timeout: 30)
        #expect(refused.status == 64, "\(refused.stderr)")
        #expect(refused.stderr.contains("a pass needs \(needed) entries"), "\(refused.stderr)")
        #expect(refused.stdout.isEmpty)
        let enough = try CSGBProcess.run(base + ["--ring-entries", needed], timeout: 30)
        #expect(enough.status == 0, "\(enough.stderr)")
        #expect(try CSGBProcess.json(enough.stdout)["failed_transfers"] as? Int == 0)
    }

    /// The entries the report gives are the kernel's (io_uring_params.sq_entries).
    @Test(.enabled(if: URing.probe() == nil, "needs io_uring"))
    func theRingHasTheEntriesReported() throws {
        for asked in [1, 4, 64] {
            let ring = try URing(entries: asked)
            #expect(ring.entries == asked)
            #expect(ring.completionEntries == 2 * asked)
        }
        let result = try CSGBProcess.run(["socket", "1", "--io", "uring", "--ring-entries", "4", "-d", "0.2", "--format", "json"], timeout: 30)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try CSGBProcess.json(result.stdout)["ring_entries"] as? Int == 4)
    }
}
