import Foundation
import Testing

/// What a newcomer reads first: a misspelt command, the defaults in the help, and
/// refusals that name what to change.
@Suite struct NewcomerMessageTests {
    /// Before: "2 unexpected arguments: 'sockt', '1'".
    @Test(arguments: [("sockt", "socket"), ("yeld", "yield"), ("fuetx", "futex"), ("inf", "info")])
    func aMisspeltCommandGetsTheNearest(typed: String, meant: String) throws {
        let result = try CSGBProcess.run([typed, "1"], timeout: 10)
        #expect(result.status == 64)
        #expect(result.stderr.contains("unknown command '\(typed)'; did you mean '\(meant)'?"), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1)
    }

    @Test func theHelpShowsTheDefaultModeAndInfoFormats() throws {
        let socket = try CSGBProcess.run(["help", "socket"], timeout: 10)
        #expect(socket.stdout.contains("(default: thread)"), "\(socket.stdout)")
        let info = try CSGBProcess.run(["info", "--help"], timeout: 10)
        #expect(info.stdout.contains("text or json (csv is not accepted"), "\(info.stdout)")
    }

    /// Before: exit 0, as if --cpus 0 had been given.
    @Test func infoCheckRefusesACPUTheMachineLacks() throws {
        let result = try CSGBProcess.run(["info", "--check", "--cpus", "4095"], timeout: 10)
        #expect(result.status == 64, "\(result.stderr)")
        #expect(result.stderr.contains("--cpus 4095: CPU 4095 is not available"), "\(result.stderr)")
    }

    /// Before: "mkdtemp …: Read-only file system", which does not say TMPDIR is the fix.
    @Test func anUnusableTMPDIRIsNamed() throws {
        let result = try CSGBProcess.run(["stat", "--", "socket", "1", "-d", "0.1"], timeout: 30,
                                         shellPrefix: "TMPDIR=/proc/csgb-no-such-folder")
        #expect(result.status != 0)
        #expect(result.stderr.contains("set TMPDIR to a writable folder") && result.stderr.contains("TMPDIR (/proc/csgb-no-such-folder)"),
                "\(result.stderr)")
    }

    /// Only a person at a terminal is told that a run without --duration waits for
    /// the stop; a pipe or a log gets nothing extra.
    @Test func theNoDurationNoticeIsForTerminalsOnly() throws {
        let piped = try GroupProcess(["socket", "1", "--cpus", "0"], announcing: true)
        try piped.waitUntil(.open)
        piped.signalLeader(SIGINT)
        let result = try piped.wait(timeout: 30)
        #expect(!result.stderr.contains("no --duration"), "\(result.stderr)")
        // script(1) gives the run a terminal.
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/script"),
              FileManager.default.isExecutableFile(atPath: "/usr/bin/timeout") else { return }
        let terminal = try CSGBProcess.run([], timeout: 60, shellPrefix: "exec /usr/bin/script -qec '/usr/bin/timeout -s INT 1 \(CSGBProcess.binary.path) socket 1 --cpus 0' /dev/null; :")
        #expect(terminal.stdout.components(separatedBy: "no --duration: running until SIGINT (Ctrl-C) or SIGTERM").count == 2,
                "\(terminal.stdout)")
    }
}
