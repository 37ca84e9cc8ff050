import CSGBSystem
import Foundation
import Glibc
import Testing

/// `--ring-setup`, `--ring-link` and `--syscalls`: what each ring is made with, the
/// write→read chains and their failure path, and send/recv in every mode.
@Suite(.serialized) struct URingSetupTests {
    func run(_ arguments: [String]) throws -> [String: Any] {
        let result = try CSGBProcess.run(arguments + EndToEndTests.passing, timeout: 90)
        #expect(result.status == 0, "\(arguments): \(result.stderr)")
        return try CSGBProcess.json(result.stdout)
    }

    static let eachOption: [String] = RingSetup.catalogue.map(\.name)

    /// Each option makes a ring on this kernel, or is refused naming the kernel it
    /// needs. Made and adopted on this thread, as a worker does.
    @Test(arguments: eachOption)
    func eachOptionMakesARingOrNamesItsKernel(name: String) throws {
        guard case .success(var setup) = RingSetup.parse(name) else { Issue.record("\(name) does not parse"); return }
        if setup == .deferTaskrun { setup.insert(.singleIssuer) }
        let ring: URing
        do throws(URing.CreationError) {
            ring = try URing(entries: 4, setup: setup)
        } catch {
            let entry = try #require(RingSetup.catalogue.first { $0.name == name })
            #expect(error.description.contains(entry.since), "\(error)")
            #expect(error.description.contains("--ring-setup \(name)"), "\(error)")
            return
        }
        try ring.adopt()
        #expect(ring.setup == setup)
        ring.release()
    }

    /// The kernel refuses defer-taskrun without single-issuer: the error names the
    /// option and what it needs (a refusal this kernel really makes).
    @Test func deferredTaskWorkAloneIsRefusedWithItsRequirement() throws {
        #expect(throws: URing.CreationError.self) { _ = try URing(entries: 4, setup: [.deferTaskrun]) }
        do {
            _ = try URing(entries: 4, setup: [.deferTaskrun])
        } catch {
            #expect(error.errno == .invalidArgument)
            #expect(error.description.contains("--ring-setup defer-taskrun"), "\(error)")
            #expect(error.description.contains("Linux 6.1"), "\(error)")
            #expect(error.description.contains("single-issuer"), "\(error)")
        }
    }

    @Test(arguments: ["thread", "green", "async", "process"], eachOption + ["none", "single-issuer,defer-taskrun"])
    func everyModeReportsWhatItsRingsWereMadeWith(mode: String, setup: String) throws {
        let arguments = ["socket", "2", "--mode", mode, "--io", "uring", "--cpus", "0", "--ring-setup",
                         setup == "defer-taskrun" ? "single-issuer,defer-taskrun" : setup]
        let report = try run(arguments)
        #expect((report["iterations"] as? Int ?? 0) > 0)
        #expect(report["failed_transfers"] as? Int == 0)
        let expected = setup == "defer-taskrun" ? "single-issuer,defer-taskrun" : setup
        #expect(report["ring_setup"] as? String == expected)
    }

    @Test func theDefaultIsReportedInTextAndJSON() throws {
        let report = try run(["socket", "1", "--mode", "green", "--io", "uring", "--cpus", "0"])
        #expect(report["ring_setup"] as? String == RingSettingsNames.defaultNames)
        let text = try CSGBProcess.run(["socket", "1", "--mode", "green", "--io", "uring", "-d", "0.2"], timeout: 30)
        let lines = text.stdout.split(separator: "\n").filter { $0.hasPrefix("ring setup:") }
        #expect(lines.count == 1, "\(text.stdout)")
        #expect(lines.first?.contains(RingSettingsNames.defaultNames) == true)
    }

    @Test func badSetupsAreRefusedBeforeAnythingStarts() throws {
        let cases: [([String], String)] = [
            (["--io", "uring", "--ring-setup", "bogus"], "unknown option 'bogus'"),
            (["--io", "uring", "--ring-setup", "defer-taskrun"], "needs single-issuer"),
            (["--io", "uring", "--sqpoll", "--ring-setup", "single-issuer,defer-taskrun"], "--sqpoll"),
            (["--ring-setup", "none"], "--io uring"),
            (["--ring-link"], "--io uring"),
            (["--io", "uring", "--ring-link"], "its own ring"),
            (["--syscalls", "send-recv", "--transport", "pipe"], "needs a socket"),
        ]
        for (options, message) in cases {
            let result = try CSGBProcess.run(["socket", "1", "-d", "0.1"] + options, timeout: 20)
            #expect(result.status == 64, "\(options): \(result.stderr)")
            #expect(result.stderr.contains(message), "\(options): \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
            #expect(!result.stdout.contains("total iterations"))
        }
        let yield = try CSGBProcess.run(["yield", "1", "--syscalls", "send-recv", "-d", "0.1"], timeout: 20)
        #expect(yield.status == 64, "\(yield.stderr)")
    }

    /// SIGINT while every actor waits in io_uring_enter on a DEFER_TASKRUN ring
    /// (thread mode waits with no timeout): the run stops, reports, exits 0.
    @Test(arguments: [(["socket", "4", "--mode", "thread"], SIGINT), (["socket", "1", "--mode", "thread"], SIGTERM),
                      (["socket", "1", "--mode", "green"], SIGINT), (["socket", "200", "--mode", "async"], SIGINT)])
    func stopsWhileWaitingOnADeferredTaskWorkRing(arguments: [String], signal: Int32) throws {
        let result = try CSGBProcess.run(arguments + ["--io", "uring", "--ring-setup", "single-issuer,defer-taskrun",
                                                      "--format", "json"],
                                         signal: signal, signalAt: .open, timeout: 60)
        #expect(result.status == 0, "\(result.stderr)")
        let report = try CSGBProcess.json(result.stdout)
        #expect(report["stopped_by"] as? String == (signal == SIGINT ? "SIGINT" : "SIGTERM"))
        #expect(report["ring_setup"] as? String == "single-issuer,defer-taskrun")
        #expect(report["failed_transfers"] as? Int == 0)
        #expect(result.seconds < 10)
    }

    /// A lone pair: with the chains, each round trip is 2 enters (a write and the
    /// peer's read in each); without, 4 (each transfer waits alone), as claimed.
    @Test(arguments: ["green", "async"], [true, false])
    func aLonePairEntersAsClaimed(mode: String, link: Bool) throws {
        let report = try run(["socket", "1", "--mode", mode, "--io", "uring", "--cpus", "0", link ? "--ring-link" : "--no-ring-link"])
        let enters = try #require(report["io_uring_enter_per_iteration"] as? Double)
        let claims = try #require(report["claims"] as? [String: Any])
        let claimed = try #require((claims["syscalls_per_iteration"] as? [String: Any])?["io_uring_enter"] as? Double)
        #expect(claimed == (link ? 2 : 4))
        #expect(abs(enters - claimed) < 0.01, "\(enters)")
        #expect(report["ring_link"] as? Bool == link)
        let links = try #require(report["ring_links_per_iteration"] as? Double)
        #expect(link ? abs(links - 2) < 0.01 : links == 0, "\(links)")
    }

    /// The chain's failure path: the first pair's channel closes as the window
    /// opens, its write fails, the kernel cancels the read linked to it, and both
    /// actors are counted as failed. Without the link nothing is cancelled.
    @Test(arguments: ["green", "async"], [true, false])
    func aFailedLinkedWriteCancelsTheRead(mode: String, link: Bool) throws {
        let result = try CSGBProcess.run(["socket", "1", "--mode", mode, "--io", "uring", "--cpus", "0", "--inject-closed-channel",
                                          link ? "--ring-link" : "--no-ring-link"] + EndToEndTests.short, timeout: 30)
        #expect(result.status == 3, "\(result.stderr)")
        let report = try CSGBProcess.json(result.stdout)
        #expect(report["failed_transfers"] as? Int == 2)
        let cancelled = try #require(report["ring_cancelled"] as? Int)
        if link { #expect(cancelled >= 1) } else { #expect(cancelled == 0) }
    }

    /// send/recv in every mode and io path: the claims name sendto and recvfrom and
    /// the run uses nothing else.
    @Test(arguments: ["thread", "green", "async", "process"], ["direct", "uring"])
    func sendRecvClaims(mode: String, io: String) throws {
        let report = try run(["socket", "2", "--mode", mode, "--io", io, "--syscalls", "send-recv", "--cpus", "0"])
        #expect(report["syscalls"] as? String == "send-recv")
        #expect((report["iterations"] as? Int ?? 0) > 0)
        #expect(report["failed_transfers"] as? Int == 0)
        let claims = try #require(report["claims"] as? [String: Any])
        let exact = try #require(claims["syscalls_per_iteration"] as? [String: Any])
        let absent = try #require(claims["absent_syscalls"] as? [String])
        if io == "direct" {
            #expect(exact["sendto"] as? Double == 2)
            #expect(exact["recvfrom"] as? Double == 2)
            #expect(exact["read"] == nil && exact["write"] == nil)
        } else {
            #expect(absent.contains("sendto") && absent.contains("recvfrom"))
        }
        #expect(absent.contains("read") && absent.contains("write"))
    }

    @Test func readWriteClaimsSendAndRecvAbsent() throws {
        let report = try run(["socket", "1", "--mode", "green", "--cpus", "0"])
        #expect(report["syscalls"] as? String == "read-write")
        let claims = try #require(report["claims"] as? [String: Any])
        let absent = try #require(claims["absent_syscalls"] as? [String])
        #expect(absent.contains("sendto") && absent.contains("recvfrom"))
    }
}

enum RingSettingsNames {
    static let defaultNames = "single-issuer,defer-taskrun,register-ring-fd,submit-all"
}

/// `csgb stat` counts the syscalls the claims name: exactly at N = 1.
extension PerfProcessTests { @Suite struct URingStatTests {
    static var perfUsable: Bool { geteuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/perf") }

    func stat(_ arguments: [String]) throws -> [String: Any] {
        let result = try CSGBProcess.run(["stat", "--format", "json", "--"] + arguments + ["--cpus", "0", "--duration", "1"],
                                         timeout: 90)
        #expect(result.status == 0 || result.status == 3, "\(result.stderr)")
        return try CSGBProcess.json(result.stdout)
    }

    func syscalls(_ report: [String: Any]) throws -> [String: Double] {
        try #require(report["syscalls_per_iteration"] as? [String: Any]).compactMapValues { $0 as? Double }
    }

    /// The switch rule is left to the machine's noise; the syscall counts are not.
    @Test(.enabled(if: perfUsable, "needs root and perf"), arguments: ["thread", "green", "async", "process"])
    func sendRecvIsTracedInEveryMode(mode: String) throws {
        let calls = try syscalls(stat(["socket", "1", "--mode", mode, "--syscalls", "send-recv"]))
        #expect(abs(try #require(calls["sendto"]) - 2) <= 0.01, "\(calls)")
        #expect(abs(try #require(calls["recvfrom"]) - 2) <= 0.01, "\(calls)")
        #expect(try #require(calls["read"]) < 0.001, "\(calls)")
        #expect(try #require(calls["write"]) < 0.001, "\(calls)")
    }

    @Test(.enabled(if: perfUsable, "needs root and perf"), arguments: ["green", "async"])
    func linkedEntersAreCountedExactly(mode: String) throws {
        let report = try stat(["socket", "1", "--mode", mode, "--io", "uring"])
        let calls = try syscalls(report)
        #expect(abs(try #require(calls["io_uring_enter"]) - 2) <= 0.01, "\(calls)")
        let verification = try #require(report["verification"] as? [String: Any])
        let checks = try #require(verification["checks"] as? [[String: Any]])
        let enter = checks.first { ($0["figure"] as? String)?.contains("io_uring_enter") == true }
        #expect(enter?["holds"] as? Bool == true, "\(checks)")
    }
} }
