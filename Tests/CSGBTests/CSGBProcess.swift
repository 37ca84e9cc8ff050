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

    /// The binary where another user can run it, for the tests whose `shellPrefix`
    /// drops to nobody: the build's own when every folder above it lets others in,
    /// otherwise a copy in a folder of its own that does (a clone in a `mktemp -d`
    /// folder is 0700, and nobody's exec then fails with 126 before csgb starts).
    /// The copy goes when the test process exits.
    static let binaryForOtherUsers: URL = {
        let built = binary
        if othersCanRun(built.path) { return built }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("csgb-tests-\(getpid())")
        try? FileManager.default.removeItem(at: folder)
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: false,
                                                    attributes: [.posixPermissions: 0o755])
            try FileManager.default.copyItem(at: built, to: folder.appendingPathComponent("csgb"))
        } catch {
            fatalError("cannot copy \(built.path) where other users can run it: \(error)")
        }
        chmod(folder.appendingPathComponent("csgb").path, 0o755)
        copiedBinaryFolder = folder.path
        atexit { if let folder = CSGBProcess.copiedBinaryFolder { try? FileManager.default.removeItem(atPath: folder) } }
        return folder.appendingPathComponent("csgb")
    }()

    nonisolated(unsafe) private static var copiedBinaryFolder: String?

    /// Whether a user other than the owner may execute `path`: it and every folder
    /// above it must give others the x bit.
    static func othersCanRun(_ path: String) -> Bool {
        var current = path
        while true {
            var info = stat()
            guard stat(current, &info) == 0, info.st_mode & S_IXOTH != 0 else { return false }
            if current == "/" { return true }
            current = (current as NSString).deletingLastPathComponent
            if current.isEmpty { return true }
        }
    }

    /// Starts csgb (`asOtherUser`: from where the user `shellPrefix` drops to can
    /// run it); `signal` (if any) is sent when the run reaches `signalAt` (csgb
    /// announces it through `--window-file`, added to the arguments), or, for a
    /// moment csgb cannot announce, after `signalAfter` seconds.
    static func run(_ arguments: [String], signal: Int32? = nil, signalAt: RunMoment? = nil, signalAfter: Double = 0.5,
                    timeout: Double = 60, shellPrefix: String? = nil, asOtherUser: Bool = false) throws -> Result {
        let windowFile = RunMoment.newPath()
        defer { unlink(windowFile) }
        let arguments = signalAt == nil ? arguments : arguments + ["--window-file", windowFile]
        let process = Process()
        if let shellPrefix {
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            let quoted = ([(asOtherUser ? binaryForOtherUsers : binary).path] + arguments).map { "'\($0)'" }.joined(separator: " ")
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
