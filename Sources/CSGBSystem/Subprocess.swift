#if canImport(Glibc)
import Glibc
#endif
import CCSGB

/// Runs a program to completion with its stdout and stderr in files, which keeps
/// it simple (no pipes to drain, no deadlock when both fill) and leaves the
/// output for an error message. Used for `perf stat`, `perf record`, `perf script`.
public struct Subprocess {
    public struct Outcome {
        /// The exit status, or 128 + the signal that ended it.
        public let status: Int32
        public let signalled: Bool
    }

    public let path: String
    public let arguments: [String]
    public var stdoutPath = "/dev/null"
    public var stderrPath = "/dev/null"
    /// Starts the program in a process group of its own and passes csgb's stop
    /// signals on to that group as SIGINT, so a stop reaches perf and the workload
    /// whether it was sent to csgb stat alone or to the terminal's whole group; a
    /// stop before the spawn is passed on too, and repeated until the group ends.
    public var forwardsStop = false

    public init(path: String, arguments: [String], stdoutPath: String = "/dev/null", stderrPath: String = "/dev/null",
                forwardsStop: Bool = false) {
        self.path = path
        self.arguments = arguments
        self.stdoutPath = stdoutPath
        self.stderrPath = stderrPath
        self.forwardsStop = forwardsStop
    }

    /// Starts the program and waits for it. A stop signal meant for csgb stat does
    /// not abandon the child: the wait goes on, so perf can still write its counts.
    /// The program gets PR_SET_PDEATHSIG(SIGKILL): killed with csgb (even by
    /// SIGKILL), it never runs on alone, at a real-time priority or not.
    public func run() throws(SystemError) -> Outcome {
        let argv = ([path] + arguments).map { strdup($0) }
        defer { for pointer in argv { free(pointer) } }
        let pid = (argv + [nil]).withUnsafeBufferPointer { pointers in
            csgb_spawn_dying_with_parent(path, pointers.baseAddress!, environ, stdoutPath, stderrPath, forwardsStop ? 1 : 0)
        }
        if pid < 0 { throw SystemError("spawn \(path)") }
        var status: Int32 = 0
        if csgb_wait_forwarding_stop(pid, forwardsStop ? 1 : 0, &status) != 0 { throw SystemError("waitpid") }
        // WIFEXITED / WEXITSTATUS are macros Swift does not import.
        let signal = status & 0x7f
        if signal == 0 { return Outcome(status: (status >> 8) & 0xff, signalled: false) }
        return Outcome(status: 128 + signal, signalled: true)
    }
}

/// A private directory for the fifos and files of one `csgb stat`, removed at the end.
public final class ScratchDirectory {
    public let path: String

    public init() throws(SystemError) {
        let base = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        var template = Array("\(base)/csgb-stat.XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        if made == nil {
            let variable = getenv("TMPDIR") == nil ? "/tmp (TMPDIR is not set)" : "TMPDIR (\(base))"
            // TMPDIR first: the fix is to set it, whatever mkdtemp's errno says.
            throw SystemError("set TMPDIR to a writable folder: csgb needs a scratch folder in \(variable), and mkdtemp failed")
        }
        path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    public func file(_ name: String) -> String { "\(path)/\(name)" }

    public func makeFifo(_ name: String) throws(SystemError) -> String {
        let fifo = file(name)
        unlink(fifo)
        if mkfifo(fifo, 0o600) != 0 { throw SystemError("mkfifo \(fifo)") }
        return fifo
    }

    public func read(_ name: String) -> String { (try? ProcFile.read(file(name))) ?? "" }

    deinit {
        if let names = try? ProcFile.listDirectory(path) {
            for name in names { unlink(file(name)) }
        }
        rmdir(path)
    }
}
