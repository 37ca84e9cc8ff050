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
    public func run() throws(SystemError) -> Outcome {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // The child starts with default dispositions and nothing blocked, whatever
        // csgb set up for itself.
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGPIPE] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var flags = POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK
        if forwardsStop {
            posix_spawnattr_setpgroup(&attributes, 0)
            flags |= POSIX_SPAWN_SETPGROUP
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))

        let argv = ([path] + arguments).map { strdup($0) }
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let rc = (argv + [nil]).withUnsafeBufferPointer { pointers in
            posix_spawn(&pid, path, &actions, &attributes, pointers.baseAddress!, environ)
        }
        if rc != 0 { throw SystemError("posix_spawn \(path)", Errno(rc)) }
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
        if made == nil { throw SystemError("mkdtemp \(base)") }
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
