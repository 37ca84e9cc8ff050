import CSGBSystem
import Foundation
import Testing
@testable import CSGB

/// `--sched` and `--spec`: set on every thread or process that carries actors, in
/// every mode, read back and reported; refused with the fix where not permitted.
@Suite(.serialized) struct ThreadSettingsTests {
    static var root: Bool { geteuid() == 0 }
    static var capsh: Bool { FileManager.default.isExecutableFile(atPath: "/usr/sbin/capsh") || FileManager.default.isExecutableFile(atPath: "/sbin/capsh") }

    @Test func policiesParse() {
        #expect(SchedulingPolicy(parsing: "fifo") == .fifo(1))
        #expect(SchedulingPolicy(parsing: "fifo:50") == .fifo(50))
        #expect(SchedulingPolicy(parsing: "rr:98") == .rr(98))
        // 99 is the coordinator's: it must run above real-time actors to stop them.
        #expect(SchedulingPolicy(parsing: "rr:99") == nil)
        #expect(SchedulingPolicy(parsing: "fifo:99") == nil)
        #expect(SchedulingPolicy(parsing: "batch") == .batch)
        for bad in ["fifo:0", "fifo:100", "rr:x", "other:1", "deadline", "", "fifo:"] {
            #expect(SchedulingPolicy(parsing: bad) == nil, "\(bad)")
        }
        for policy in [SchedulingPolicy.other, .batch, .idle, .fifo(7), .rr(99)] {
            #expect(SchedulingPolicy(encoded: policy.encoded) == policy)
        }
    }

    @Test(arguments: [["--sched", "fifo:100"], ["--sched", "deadline"], ["--spec", "meltdown"]])
    func badValuesAreUsageErrors(extra: [String]) throws {
        let result = try CSGBProcess.run(["socket", "1", "-d", "0.1"] + extra, timeout: 20)
        #expect(result.status == 64, "\(result.stderr)")
    }

    @Test func globalExecutorThreadsAreNotOurs() throws {
        let result = try CSGBProcess.run(["socket", "1", "-d", "0.1", "--mode", "async", "--executor", "global", "--sched", "batch"], timeout: 20)
        #expect(result.status == 64)
        #expect(result.stderr.contains("--executor dedicated"), "\(result.stderr)")
    }

    @Test(.enabled(if: root, "real-time policies need root"), arguments: ["thread", "process", "green", "async"])
    func fifoRunsInEveryMode(mode: String) throws {
        let result = try CSGBProcess.run(["socket", "1", "--mode", mode, "--cpus", "0", "-d", "0.3", "--sched", "fifo",
                                          "--until-passes", "1", "--format", "json"], timeout: 90)
        #expect(result.status == 0, "\(result.stderr)")
        let report = try CSGBProcess.json(result.stdout)
        #expect(report["sched"] as? String == "fifo:1")
        #expect(report["coordinator_sched"] as? String == "fifo:2", "the coordinator runs above the actors in the window")
        #expect((report["iterations"] as? Int ?? 0) > 0)
        #expect(ProcessModeChildren.noneLeft().isEmpty)
    }

    /// Without CAP_SYS_NICE and with RLIMIT_RTPRIO 0 the kernel refuses a real-time
    /// policy: exit 69, the fix named, nothing started. The same command with the
    /// capability runs (the test above), so this one can tell the two apart.
    @Test(.enabled(if: root && capsh, "needs root and capsh (libcap2-bin) to drop CAP_SYS_NICE"),
          arguments: ["thread", "process"])
    func realTimeWithoutTheCapabilityIsRefused(mode: String) throws {
        let binary = CSGBProcess.binary.path
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/bin/sh")
        shell.arguments = ["-c", "exec capsh --drop=cap_sys_nice -- -c \"ulimit -r 0; exec '\(binary)' socket 1 --mode \(mode) -d 0.2 --sched rr:5\""]
        let err = Pipe()
        shell.standardError = err
        shell.standardOutput = Pipe()
        try shell.run()
        shell.waitUntilExit()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(shell.terminationStatus == 69, "\(stderr)")
        #expect(stderr.contains("CAP_SYS_NICE") && stderr.contains("ulimit -r 5"), "\(stderr)")
        #expect(ProcessModeChildren.noneLeft().isEmpty)
    }

    /// IBPB where this kernel lets a task ask for it: read back in every actor, and
    /// in thread mode the report says why it changes nothing. Where it does not, one
    /// line names the sysfs file and the boot option, exit 69.
    @Test(arguments: ["thread", "process"])
    func ibpbIsReadBackOrRefusedWithTheFix(mode: String) throws {
        let result = try CSGBProcess.run(["socket", "1", "--mode", mode, "--cpus", "0", "-d", "0.3", "--spec", "ibpb",
                                          "--format", "json"], timeout: 30)
        if SpeculationControl.ibpb.isSelectable() {
            #expect(result.status == 0, "\(result.stderr)")
            let report = try CSGBProcess.json(result.stdout)
            let state = try #require((report["speculation"] as? [String: Any])?["ibpb"] as? String)
            #expect(state.contains("force-disable"), "\(state)")
            let notes = report["thread_settings_notes"] as? String ?? ""
            #expect(notes.contains("changes nothing") == (mode == "thread"), "\(notes)")
        } else {
            #expect(result.status == 69)
            #expect(result.stderr.contains("/sys/devices/system/cpu/vulnerabilities/spectre_v2"), "\(result.stderr)")
            #expect(result.stderr.contains("spectre_v2_user=prctl"))
            #expect(result.stderr.split(separator: "\n").count == 1, "one line")
        }
        #expect(ProcessModeChildren.noneLeft().isEmpty)
    }
}
