#if canImport(Glibc)
import Glibc
#endif

/// A limit of the machine that would stop the run, with how to raise it.
public struct LimitError: Error, Equatable, Sendable, CustomStringConvertible {
    public let description: String
}

/// Checks the limits a run needs before anything starts, so a run never dies
/// half-started because descriptor 1,021 or thread 30,000 could not be had.
public enum ResourceLimits {
    /// Descriptors kept free for the runtime, perf's control fifo, /proc reads.
    static let descriptorHeadroom = 64

    /// Makes room for `descriptors` more open files, raising the soft limit (and, for
    /// root, the hard one) when needed.
    public static func ensureOpenFiles(_ descriptors: Int) throws(LimitError) {
        var limit = rlimit()
        getrlimit(RLIMIT_NOFILE_VALUE, &limit)
        let needed = rlim_t(descriptors + descriptorHeadroom)
        if limit.rlim_cur >= needed { return }
        var raised = limit
        raised.rlim_cur = needed
        // Above the hard limit only root (CAP_SYS_RESOURCE) may go, up to fs.nr_open.
        raised.rlim_max = max(limit.rlim_max, needed)
        if setrlimit(RLIMIT_NOFILE_VALUE, &raised) == 0 { return }
        throw LimitError(description: "this run needs \(needed) open files but the hard limit (RLIMIT_NOFILE) is \(limit.rlim_max) and could not be raised; raise it with `ulimit -Hn \(needed)` as root (at most fs.nr_open), or LimitNOFILE= / /etc/security/limits.conf")
    }

    /// Checks that `threads` more OS threads can exist, against the kernel-wide and
    /// cgroup limits and the memory-map count their stacks need.
    public static func ensureThreads(_ threads: Int) throws(LimitError) {
        let running = currentThreadCount()
        let needed = threads + running
        if let max = readInteger("/proc/sys/kernel/threads-max"), needed > max {
            throw LimitError(description: "this run needs \(needed) threads but kernel.threads-max is \(max); raise it with `sysctl -w kernel.threads-max=\(needed * 2)`")
        }
        if let max = readInteger("/proc/sys/kernel/pid_max"), needed > max {
            throw LimitError(description: "this run needs \(needed) threads but kernel.pid_max is \(max); raise it with `sysctl -w kernel.pid_max=\(needed * 2)`")
        }
        if let max = cgroupPidsMax(), needed > max {
            throw LimitError(description: "this run needs \(needed) threads but the cgroup's pids.max is \(max); raise it (systemd: TasksMax=) or run outside that cgroup")
        }
        try ensureMappings(threads * 2)
        if getuid() != 0 {
            var limit = rlimit()
            getrlimit(RLIMIT_NPROC_VALUE, &limit)
            if limit.rlim_cur != rlim_t.max && rlim_t(needed) > limit.rlim_cur {
                throw LimitError(description: "this run needs \(needed) threads but RLIMIT_NPROC is \(limit.rlim_cur); raise it with `ulimit -u \(needed * 2)`")
            }
        }
    }

    /// Checks vm.max_map_count for `mappings` more memory maps (a stack and its guard
    /// page are two).
    public static func ensureMappings(_ mappings: Int) throws(LimitError) {
        guard let max = readInteger("/proc/sys/vm/max_map_count") else { return }
        let needed = mappings + currentMappingCount() + 1_000
        if needed > max {
            throw LimitError(description: "this run needs about \(needed) memory mappings but vm.max_map_count is \(max); raise it with `sysctl -w vm.max_map_count=\(needed * 2)`")
        }
    }

    /// The message for an OS thread that could not start. pthread_create says EAGAIN
    /// both when a thread limit is reached and when the stack cannot be mapped; with
    /// an address-space limit (`ulimit -v`) set, the stack is the likely cause.
    public static func threadStartFailure(_ error: SystemError) -> String {
        var limit = rlimit()
        getrlimit(RLIMIT_AS_VALUE, &limit)
        if limit.rlim_cur != rlim_t.max && (error.errno == .wouldBlock || error.errno == Errno(ENOMEM)) {
            return "could not start OS thread: \(error); the address-space limit (ulimit -v, RLIMIT_AS) is \(limit.rlim_cur / 1024) KiB and each thread reserves address space for its \(OSThread.defaultStackSize / 1024) KiB stack and, in glibc, up to 64 MiB of malloc arena: raise it with `ulimit -v unlimited`, or lower N"
        }
        return "could not start OS thread: \(error); raise the thread limits (ulimit -u, kernel.threads-max) or lower N"
    }

    public static func readInteger(_ path: String) -> Int? {
        guard let text = try? ProcFile.read(path) else { return nil }
        return Int(text.trimming(.blanks))
    }

    public static func currentThreadCount() -> Int {
        (try? ProcFile.listDirectory("/proc/self/task").count) ?? 1
    }

    static func currentMappingCount() -> Int {
        guard let text = try? ProcFile.read("/proc/self/maps") else { return 0 }
        return text.utf8.reduce(0) { $1 == UInt8(ascii: "\n") ? $0 + 1 : $0 }
    }

    static func cgroupPidsMax() -> Int? {
        guard let cgroup = try? ProcFile.read("/proc/self/cgroup") else { return nil }
        // cgroup v2: a single line "0::/path".
        guard let line = cgroup.split(separator: "\n").first(where: { $0.hasPrefix("0::") }) else { return nil }
        let path = line.dropFirst(3)
        return readInteger("/sys/fs/cgroup\(path)/pids.max")
    }
}

// Glibc imports these as enum-typed constants whose type differs between versions.
private let RLIMIT_NOFILE_VALUE = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
private let RLIMIT_AS_VALUE = __rlimit_resource_t(RLIMIT_AS.rawValue)
private let RLIMIT_NPROC_VALUE = __rlimit_resource_t(__RLIMIT_NPROC.rawValue)
