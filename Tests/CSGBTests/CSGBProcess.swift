import Foundation

/// Runs the built `csgb` binary as users do, for the end-to-end and error-path tests.
struct CSGBProcess {
    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
        let seconds: Double
    }

    /// The csgb binary built next to this test bundle.
    static var binary: URL {
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var directory = exe.deletingLastPathComponent()
        // The test runner may sit inside a .xctest bundle directory.
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("csgb").path),
              directory.path != "/" {
            directory = directory.deletingLastPathComponent()
        }
        return directory.appendingPathComponent("csgb")
    }

    /// Starts csgb; `signal` (if any) is sent when the run reaches `signalAt` (csgb
    /// announces it through `--window-file`, added to the arguments), or, for a
    /// moment csgb cannot announce, after `signalAfter` seconds.
    static func run(_ arguments: [String], signal: Int32? = nil, signalAt: RunMoment? = nil, signalAfter: Double = 0.5,
                    timeout: Double = 60, shellPrefix: String? = nil) throws -> Result {
        let windowFile = RunMoment.newPath()
        defer { unlink(windowFile) }
        let arguments = signalAt == nil ? arguments : arguments + ["--window-file", windowFile]
        let process = Process()
        if let shellPrefix {
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            let quoted = ([binary.path] + arguments).map { "'\($0)'" }.joined(separator: " ")
            process.arguments = ["-c", "\(shellPrefix) exec \(quoted)"]
        } else {
            process.executableURL = binary
            process.arguments = arguments
        }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let started = Date()
        try process.run()
        var signalledAt: Date?
        if let signal {
            if let signalAt {
                if !RunMoment.wait(for: signalAt, at: windowFile, timeout: timeout) {
                    kill(process.processIdentifier, SIGKILL)
                    process.waitUntilExit()
                    throw TimedOut(arguments: arguments)
                }
            } else {
                Thread.sleep(forTimeInterval: signalAfter)
            }
            kill(process.processIdentifier, signal)
            signalledAt = Date()
        }
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.002) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw TimedOut(arguments: arguments)
        }
        let ended = Date()
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return Result(status: process.terminationStatus, stdout: stdout, stderr: stderr,
                      seconds: ended.timeIntervalSince(signalledAt ?? started))
    }

    struct TimedOut: Error { let arguments: [String] }

    static func json(_ text: String) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(text.utf8))
        guard let dictionary = object as? [String: Any] else { throw NotAnObject() }
        return dictionary
    }

    struct NotAnObject: Error {}
}

/// A moment of a run that a test waits for instead of sleeping: csgb announces it
/// in its hidden `--window-file`.
enum RunMoment: String {
    /// Every actor waits at the gate; the warm-up starts at once.
    case ready
    /// The measured window is open.
    case open

    /// Waits until `path` says this moment (or a later one) came; false after
    /// `timeout` seconds, generous because a loaded machine sets up slowly.
    static func wait(for moment: RunMoment, at path: String, timeout: Double = 60) -> Bool {
        let accepted = moment == .ready ? ["ready", "open"] : ["open"]
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            if accepted.contains(text.trimmingCharacters(in: .whitespacesAndNewlines)) { return true }
            Thread.sleep(forTimeInterval: 0.002)
        }
        return false
    }

    /// A fresh path for one run's announcements.
    static func newPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("csgb-window-\(UUID().uuidString)").path
    }
}
