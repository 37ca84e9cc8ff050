#if canImport(Glibc)
import Glibc
#endif
import CCSGB

/// Processes that must not outlive the one that made them: each is started with
/// PR_SET_PDEATHSIG, so the kernel kills it when its parent (the thread that
/// forked it) dies, however it dies.
public enum ChildProcess {
    /// How a child ended.
    public enum Exit: Equatable, Sendable, CustomStringConvertible {
        case exited(Int32)
        case signalled(Int32)

        public var description: String {
            switch self {
            case .exited(let code): return "exited with status \(code)"
            case .signalled(let signal): return "was killed by \(ChildProcess.signalName(signal))"
            }
        }
    }

    /// fork + execve of `path` (async-signal-safe steps only between them, so the
    /// caller may run threads), keeping `descriptors` open across the exec and the
    /// stop signals blocked. The child dies with `deathSignal` when this thread ends.
    public static func spawn(path: String, arguments: [String], keeping descriptors: [FileDescriptor],
                             deathSignal: Int32 = SIGKILL) throws(SystemError) -> pid_t {
        let argv = ([path] + arguments).map { strdup($0) }
        defer { for pointer in argv { free(pointer) } }
        let keep = descriptors.map(\.rawValue)
        let pid = (argv + [nil]).withUnsafeBufferPointer { pointers in
            keep.withUnsafeBufferPointer { fds in
                csgb_spawn_with_death_signal(path, pointers.baseAddress!, environ, fds.baseAddress, fds.count, deathSignal)
            }
        }
        if pid < 0 { throw SystemError("fork of \(path)") }
        return pid
    }

    /// fork in a single-threaded process: 0 in the child, which dies with
    /// `deathSignal` when its parent does.
    public static func fork(deathSignal: Int32 = SIGKILL) throws(SystemError) -> pid_t {
        let pid = csgb_fork_with_death_signal(deathSignal)
        if pid < 0 { throw SystemError("fork") }
        return pid
    }

    /// Waits for `pid` (-1: any child); nil with `noHang` when nothing has exited.
    public static func wait(_ pid: pid_t = -1, noHang: Bool = false) throws(SystemError) -> (pid: pid_t, exit: Exit)? {
        var code: Int32 = 0, signal: Int32 = 0
        let rc = csgb_wait_child(pid, noHang ? 1 : 0, &code, &signal)
        if rc < 0 { throw SystemError("waitpid") }
        if rc == 0 { return nil }
        return (rc, code < 0 ? .signalled(signal) : .exited(code))
    }

    /// kill(2); false when the process is already gone.
    @discardableResult
    /// This process is killed when the thread that started it ends: a workload
    /// run under perf dies with perf, however perf ends.
    public static func dieWithParent() { _ = csgb_die_with_parent() }

    public static func send(_ signal: Int32, to pid: pid_t) -> Bool { csgb_send_signal(pid, signal) == 0 }

    /// In a child: the stop signals are the coordinator's business, ignored here.
    public static func ignoreStopSignals() throws(SystemError) {
        _ = try SystemError.check("sigaction", csgb_ignore_stop_signals())
    }

    public static func signalName(_ signal: Int32) -> String {
        switch signal {
        case SIGKILL: return "SIGKILL"
        case SIGTERM: return "SIGTERM"
        case SIGINT: return "SIGINT"
        case SIGSEGV: return "SIGSEGV"
        case SIGABRT: return "SIGABRT"
        case SIGBUS: return "SIGBUS"
        case SIGILL: return "SIGILL"
        case SIGTRAP: return "SIGTRAP"
        case SIGQUIT: return "SIGQUIT"
        case SIGHUP: return "SIGHUP"
        default: return "signal \(signal)"
        }
    }

    /// Names the calling process's thread (`comm`, as ps, pgrep and perf show it).
    public static func setName(_ name: String) { csgb_set_thread_name(name) }

    /// A pipe whose ends are closed on exec, unless a spawn keeps them.
    public static func pipe() throws(SystemError) -> (read: FileDescriptor, write: FileDescriptor) {
        var fds: [Int32] = [-1, -1]
        if csgb_pipe(&fds) != 0 { throw SystemError("pipe2") }
        return (FileDescriptor(rawValue: fds[0]), FileDescriptor(rawValue: fds[1]))
    }

    /// The kernel ids of this process's threads (its /proc/self/task entries).
    public static func threadCount() -> Int { ResourceLimits.currentThreadCount() }
}

/// getrusage(RUSAGE_SELF) of the calling process, in integers (the process mode
/// copies it into shared memory at each window edge).
public struct SelfUsage: Sendable, Equatable {
    public var userMicroseconds: Int64 = 0
    public var systemMicroseconds: Int64 = 0
    public var voluntarySwitches: Int64 = 0
    public var involuntarySwitches: Int64 = 0
    public var maxRSSKiB: Int64 = 0

    public init() {}

    public static func now() -> SelfUsage {
        var usage = SelfUsage()
        _ = csgb_self_usage(&usage.userMicroseconds, &usage.systemMicroseconds, &usage.voluntarySwitches,
                            &usage.involuntarySwitches, &usage.maxRSSKiB)
        return usage
    }
}

extension ProcessUsage {
    /// Several processes' own usage added up (each one's RUSAGE_SELF), with the
    /// largest peak RSS: what a run of one process per actor used.
    public init(summing usages: [SelfUsage]) {
        self.init(userSeconds: 0, systemSeconds: 0, maxRSSBytes: 0, switches: .zero)
        for usage in usages {
            userSeconds += Double(usage.userMicroseconds) / 1e6
            systemSeconds += Double(usage.systemMicroseconds) / 1e6
            maxRSSBytes = max(maxRSSBytes, Int(usage.maxRSSKiB) * 1024)
            switches = switches + ContextSwitches(voluntary: UInt64(usage.voluntarySwitches),
                                                  involuntary: UInt64(usage.involuntarySwitches))
        }
    }
}
