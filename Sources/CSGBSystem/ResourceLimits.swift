#if canImport(Glibc)
import Glibc
#endif

/// A limit of the machine that would stop the run, with how to raise it.
public struct LimitError: Error, Equatable, Sendable, CustomStringConvertible {
    public let description: String
}

/// What a run takes from the machine's limits besides its workload's descriptors,
/// known before anything exists: OS threads (or processes), memory mappings beyond
/// the thread stacks, and descriptors of its own (io_uring rings).
public struct RunNeeds: Equatable, Sendable {
    public var threads: Int
    public var mappings: Int
    public var descriptors: Int

    public init(threads: Int, mappings: Int = 0, descriptors: Int = 0) {
        self.threads = threads
        self.mappings = mappings
        self.descriptors = descriptors
    }
}

/// A per-process limit csgb raised for the run, which the report names.
public struct RaisedLimit: Equatable, Sendable {
    public let name: String
    public let from: UInt64
    public let to: UInt64

    public var text: String { "\(name) \(from) → \(to)" }
}

/// Checks the limits a run needs before anything starts, so a run never dies
/// half-started because descriptor 1,021 or thread 30,000 could not be had.
public enum ResourceLimits {
    /// Descriptors kept free for the runtime, perf's control fifo, /proc reads.
    static let descriptorHeadroom = 64
    /// Task ids kept free for the machine's other processes (pid_max, threads-max).
    static let taskHeadroom = 256

    /// Makes room for `descriptors` more open files, raising the soft limit (and,
    /// with CAP_SYS_RESOURCE, the hard one up to fs.nr_open) only as far as needed;
    /// returns what it raised.
    @discardableResult
    public static func ensureOpenFiles(_ descriptors: Int) throws(LimitError) -> [RaisedLimit] {
        var limit = rlimit()
        getrlimit(RLIMIT_NOFILE_VALUE, &limit)
        let needed = rlim_t(descriptors + descriptorHeadroom)
        if limit.rlim_cur >= needed { return [] }
        var raised = limit
        raised.rlim_cur = needed
        raised.rlim_max = max(limit.rlim_max, needed)
        let nrOpen = readSetting("fs/nr_open")
        if let nrOpen, needed > nrOpen {
            throw LimitError(description: "this run needs \(needed) open files but fs.nr_open (the most any process may have) is \(nrOpen); raise it with `sysctl -w fs.nr_open=\(needed)`, then the hard limit with `ulimit -Hn \(needed)` (root with CAP_SYS_RESOURCE), or lower N")
        }
        if setrlimit(RLIMIT_NOFILE_VALUE, &raised) == 0 {
            var done = [RaisedLimit(name: "RLIMIT_NOFILE soft", from: UInt64(limit.rlim_cur), to: UInt64(needed))]
            if raised.rlim_max > limit.rlim_max {
                done.append(RaisedLimit(name: "RLIMIT_NOFILE hard", from: UInt64(limit.rlim_max), to: UInt64(raised.rlim_max)))
            }
            return done
        }
        throw LimitError(description: "this run needs \(needed) open files but the hard limit (RLIMIT_NOFILE) is \(limit.rlim_max) and csgb may not raise it (that takes CAP_SYS_RESOURCE, which this process lacks); an administrator can raise it with `ulimit -Hn \(needed)` (at most fs.nr_open\(nrOpen.map { ", now \($0)" } ?? "")), LimitNOFILE= in a systemd unit or /etc/security/limits.conf; or lower N")
    }

    /// Checks that `connections` loopback connections find an ephemeral port each
    /// (net.ipv4.ip_local_port_range).
    public static func ensureEphemeralPorts(_ connections: Int) throws(LimitError) {
        let root = SystemIdentity.environmentVariable("CSGB_SYSCTL_ROOT") ?? "/proc/sys"
        guard let text = try? ProcFile.read("\(root)/net/ipv4/ip_local_port_range") else { return }
        let bounds = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).compactMap { Int($0) }
        guard bounds.count == 2 else { return }
        let available = bounds[1] - bounds[0] + 1
        if connections > available {
            throw LimitError(description: "this run needs \(connections) ephemeral ports (one per TCP pair) but net.ipv4.ip_local_port_range \(bounds[0])–\(bounds[1]) has \(available); widen it with `sysctl -w net.ipv4.ip_local_port_range=\"1024 65535\"`, or lower N")
        }
    }

    /// Checks that `threads` more OS threads can exist, against the kernel-wide and
    /// cgroup limits and the memory-map count their stacks need.
    public static func ensureThreads(_ threads: Int) throws(LimitError) {
        // pid_max and threads-max bound every task of the machine, not only ours;
        // the headroom is for tasks others start while this run sets up (a thread
        // refused by pthread_create then would fail the run half-started).
        let running = (systemTaskCount() ?? currentThreadCount()) + taskHeadroom
        let needed = threads + running
        if let max = readSetting("kernel/threads-max"), needed > max {
            throw LimitError(description: "this run needs \(threads) threads, \(needed) with the \(running) tasks already on this machine, but kernel.threads-max is \(max); raise it with `sysctl -w kernel.threads-max=\(needed * 2)`, or lower N")
        }
        // PIDs run from 1 to pid_max - 1.
        if let max = readSetting("kernel/pid_max"), needed > max - 1 {
            throw LimitError(description: "this run needs \(threads) threads, \(needed) task ids with the \(running) tasks already on this machine, but kernel.pid_max is \(max); raise it with `sysctl -w kernel.pid_max=\(min(needed * 2, 4_194_304))` (at most 4194304), or lower N")
        }
        if let max = cgroupPidsMax(), needed > max {
            throw LimitError(description: "this run needs \(needed) threads but the cgroup's pids.max is \(max); raise it (systemd: TasksMax=) or run outside that cgroup")
        }
        try ensureMappings(threads * 2)
        try ensureAddressSpace(threads: threads)
        try ensureUserTasks(threads)
    }

    /// Tasks kept free under RLIMIT_NPROC for what starts beside the run's own
    /// threads: the Swift runtime's and Dispatch's threads, perf under csgb stat.
    static let userTaskHeadroom = 16

    /// Checks RLIMIT_NPROC (`ulimit -u`) for `threads` more threads or processes.
    /// It bounds the tasks of this process's real user, all of its processes
    /// together, so the user's tasks are counted, not the machine's; the kernel does
    /// not hold root to it.
    public static func ensureUserTasks(_ threads: Int) throws(LimitError) {
        guard getuid() != 0 else { return }
        var limit = rlimit()
        getrlimit(RLIMIT_NPROC_VALUE, &limit)
        guard limit.rlim_cur != rlim_t.max else { return }
        let hard = limit.rlim_max == rlim_t.max ? nil : UInt64(limit.rlim_max)
        if let message = userTaskShortfall(threads: threads, userTasks: userTaskCount(uid: getuid()) ?? currentThreadCount(),
                                           soft: UInt64(limit.rlim_cur), hard: hard) {
            throw LimitError(description: message)
        }
    }

    /// The refusal for `threads` more tasks when the user already runs `userTasks`
    /// and RLIMIT_NPROC is `soft` (`hard`, nil when unlimited); nil when they fit.
    static func userTaskShortfall(threads: Int, userTasks: Int, soft: UInt64, hard: UInt64?) -> String? {
        let needed = UInt64(threads + userTasks + userTaskHeadroom)
        guard needed > soft else { return nil }
        let wanted = needed * 2
        let fix = hard.map { wanted > $0 } == true
            ? "the hard limit is \(hard!), so an administrator raises it (LimitNPROC= in a systemd unit, nproc in /etc/security/limits.conf), then `ulimit -u \(wanted)`"
            : "raise it with `ulimit -u \(wanted)`"
        return "this run needs \(threads) threads or processes, \(needed) tasks with the \(userTasks) this user already runs and \(userTaskHeadroom) for the runtime, but RLIMIT_NPROC (ulimit -u, the tasks one user may run) is \(soft); \(fix), or lower N"
    }

    /// Tasks (threads) of every process whose real user is `uid`, as RLIMIT_NPROC
    /// counts them; nil when /proc cannot be read.
    static func userTaskCount(uid: uid_t) -> Int? {
        guard let entries = try? ProcFile.listDirectory("/proc") else { return nil }
        var tasks = 0
        for entry in entries where entry.first?.isNumber == true {
            // A process that ended meanwhile has no status: it holds no task either.
            guard let status = try? ProcFile.read("/proc/\(entry)/status") else { continue }
            var real: uid_t?
            var threads = 1
            for line in status.split(separator: "\n") {
                if line.hasPrefix("Uid:") {
                    real = line.dropFirst(4).split(whereSeparator: { $0 == "\t" || $0 == " " }).first.flatMap { uid_t($0) }
                } else if line.hasPrefix("Threads:") {
                    threads = Int(line.dropFirst(8).trimming(.blanks)) ?? 1
                }
            }
            if real == uid { tasks += threads }
        }
        return tasks
    }

    /// Checks the threads and mappings of `needs` (its descriptors are counted with
    /// the workload's, in `ensureOpenFiles`).
    public static func check(_ needs: RunNeeds) throws(LimitError) {
        if needs.threads > 0 { try ensureThreads(needs.threads) }
        if needs.mappings > 0 { try ensureMappings(needs.mappings) }
    }

    /// Checks vm.max_map_count for `mappings` more memory maps (a stack and its guard
    /// page are two).
    public static func ensureMappings(_ mappings: Int) throws(LimitError) {
        guard let max = readSetting("vm/max_map_count") else { return }
        let needed = mappings + currentMappingCount() + 1_000
        if needed > max {
            throw LimitError(description: "this run needs about \(needed) memory mappings but vm.max_map_count is \(max); raise it with `sysctl -w vm.max_map_count=\(needed * 2)`")
        }
    }

    /// Address space a thread takes beyond its stack: the guard page, its TLS and
    /// glibc's per-thread bookkeeping, rounded up.
    static let perThreadOverhead = 128 * 1024
    /// What must stay free for the allocator after the stacks: with less, a malloc
    /// deep in the Swift runtime fails and the process dies of SIGSEGV. Two of
    /// glibc's 64 MiB thread arenas.
    static let allocatorReserve = 128 * 1024 * 1024

    /// Under an address-space limit (`ulimit -v`), checks that `threads` more stacks
    /// fit with room left for the allocator, so the run is refused with the limit's
    /// name instead of crashing half-started.
    public static func ensureAddressSpace(threads: Int, stackSize: Int = OSThread.defaultStackSize) throws(LimitError) {
        var limit = rlimit()
        getrlimit(RLIMIT_AS_VALUE, &limit)
        guard limit.rlim_cur != rlim_t.max else { return }
        if let message = addressSpaceShortfall(threads: threads, stackSize: stackSize, limitBytes: UInt64(limit.rlim_cur),
                                               inUseBytes: virtualSize()) {
            throw LimitError(description: message)
        }
    }

    /// The refusal for `threads` stacks under a limit of `limitBytes` with
    /// `inUseBytes` already mapped, nil when they fit.
    static func addressSpaceShortfall(threads: Int, stackSize: Int, limitBytes: UInt64, inUseBytes: UInt64) -> String? {
        let needed = inUseBytes + UInt64(threads) * UInt64(stackSize + perThreadOverhead) + UInt64(allocatorReserve)
        guard needed > limitBytes else { return nil }
        return "this run needs about \(needed / 1024) KiB of address space (\(inUseBytes / 1024) KiB in use, \(threads) thread stacks of \(stackSize / 1024) KiB, \(allocatorReserve / 1024 / 1024) MiB for the allocator) but the address-space limit (ulimit -v, RLIMIT_AS) is \(limitBytes / 1024) KiB; raise it with `ulimit -v \(needed / 1024 * 2)` or `ulimit -v unlimited`, or lower N"
    }

    /// Checks that work buffers of `total` bytes (`asked` says what was asked, as the
    /// command line put it), each process mapping `perProcess` of them, can be had
    /// and faulted in before the window: under the address-space limit, under the
    /// commit limit of strict overcommit, and within the memory available now (every
    /// page is touched, and a buffer paged to swap would be measured as paging).
    public static func ensureWorkMemory(total: UInt64, perProcess: UInt64, asked: String) throws(LimitError) {
        guard total > 0 else { return }
        let need = "\(asked) needs \(bytesText(total)) of work buffers, all faulted in before the window"
        var limit = rlimit()
        getrlimit(RLIMIT_AS_VALUE, &limit)
        if limit.rlim_cur != rlim_t.max {
            let inUse = virtualSize()
            if inUse + perProcess + UInt64(allocatorReserve) > UInt64(limit.rlim_cur) {
                let wanted = (inUse + perProcess + UInt64(allocatorReserve)) / 1024 * 2
                throw LimitError(description: "\(need), \(bytesText(perProcess)) of them in one process, but the address-space limit (ulimit -v, RLIMIT_AS) is \(bytesText(UInt64(limit.rlim_cur))) with \(bytesText(inUse)) in use; raise it with `ulimit -v \(wanted)` or `ulimit -v unlimited`, or lower --work-size or N")
            }
        }
        let memory = memoryInfo()
        if readSetting("vm/overcommit_memory") == 2, let commitLimit = memory["CommitLimit"], let committed = memory["Committed_AS"] {
            let free = commitLimit > committed ? commitLimit - committed : 0
            if total > free {
                throw LimitError(description: "\(need) but vm.overcommit_memory is 2 (strict) and only \(bytesText(free)) can still be committed (CommitLimit \(bytesText(commitLimit)) less Committed_AS \(bytesText(committed)) in /proc/meminfo); lower --work-size or N, raise vm.overcommit_ratio, or set `sysctl -w vm.overcommit_memory=0`")
            }
        }
        if let available = memory["MemAvailable"], total > available {
            throw LimitError(description: "\(need) but this machine has \(bytesText(available)) available (MemAvailable in /proc/meminfo, of \(bytesText(memory["MemTotal"] ?? 0)) in all); lower --work-size or N to fit, or free memory")
        }
    }

    /// /proc/meminfo's figures in bytes, by name ("MemAvailable").
    static func memoryInfo() -> [String: UInt64] {
        (try? ProcFile.read("/proc/meminfo")).map(ProcFile.sizeFields) ?? [:]
    }

    /// 64 GiB, 512 MiB, 12 KiB: the unit that keeps the figure readable.
    static func bytesText(_ bytes: UInt64) -> String {
        for (unit, shift) in [("GiB", 30), ("MiB", 20), ("KiB", 10)] where bytes >= UInt64(1) << UInt64(shift) {
            let tenths = Int((Double(bytes) / Double(UInt64(1) << UInt64(shift)) * 10).rounded())
            return tenths % 10 == 0 ? "\(tenths / 10) \(unit)" : "\(tenths / 10).\(tenths % 10) \(unit)"
        }
        return "\(bytes) bytes"
    }

    /// The process's mapped address space now (VmSize).
    static func virtualSize() -> UInt64 {
        (try? ProcFile.read("/proc/self/status")).flatMap { ProcFile.sizeFields($0)["VmSize"] } ?? 0
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

    /// A sysctl under /proc/sys (`kernel/pid_max`). `CSGB_SYSCTL_ROOT` replaces
    /// /proc/sys, so tests can try a limit lower than this machine's without
    /// changing a system setting.
    public static func readSetting(_ name: String) -> Int? {
        let root = SystemIdentity.environmentVariable("CSGB_SYSCTL_ROOT") ?? "/proc/sys"
        return readInteger("\(root)/\(name)")
    }

    public static func readInteger(_ path: String) -> Int? {
        guard let text = try? ProcFile.read(path) else { return nil }
        return Int(text.trimming(.blanks))
    }

    /// Every task (thread) on the machine, from /proc/loadavg's "runnable/total".
    static func systemTaskCount() -> Int? {
        guard let text = try? ProcFile.read("/proc/loadavg") else { return nil }
        let fields = text.split(separator: " ")
        guard fields.count > 3, let total = fields[3].split(separator: "/").last else { return nil }
        return Int(total)
    }

    /// Descriptors this process has open now.
    public static func openDescriptorCount() -> Int {
        (try? ProcFile.listDirectory("/proc/self/fd").count) ?? 0
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
