#if canImport(Glibc)
import Glibc
#endif
import CCSGB

/// What a counter counts. Hardware events need a PMU, which some VMs do not expose;
/// software events are kept by the kernel and work everywhere.
public enum PerfEventKind: String, CaseIterable, Sendable {
    case instructions
    case cycles
    case cacheMisses = "cache-misses"
    case dTLBLoadMisses = "dTLB-load-misses"
    case contextSwitches = "context-switches"
    case cpuMigrations = "cpu-migrations"
    case pageFaults = "page-faults"
    case taskClock = "task-clock"

    var code: Int32 {
        switch self {
        case .instructions: return CSGB_PERF_INSTRUCTIONS
        case .cycles: return CSGB_PERF_CYCLES
        case .cacheMisses: return CSGB_PERF_CACHE_MISSES
        case .dTLBLoadMisses: return CSGB_PERF_DTLB_LOAD_MISSES
        case .contextSwitches: return CSGB_PERF_CONTEXT_SWITCHES
        case .cpuMigrations: return CSGB_PERF_CPU_MIGRATIONS
        case .pageFaults: return CSGB_PERF_PAGE_FAULTS
        case .taskClock: return CSGB_PERF_TASK_CLOCK
        }
    }

    public var isHardware: Bool { csgb_perf_event_is_hardware(code) == 1 }
}

/// Which privilege levels a counter covers.
public enum PerfPrivilege: String, Sendable {
    /// User and kernel. Software events use this: a context switch happens in the
    /// kernel, so with `exclude_kernel` the context-switch counter reads 0.
    case all
    /// `exclude_kernel=1` (perf's `:u`).
    case user
    /// `exclude_user=1` (perf's `:k`).
    case kernel

    var flags: UInt32 {
        switch self {
        case .all: return 0
        case .user: return UInt32(CSGB_PERF_EXCLUDE_KERNEL)
        case .kernel: return UInt32(CSGB_PERF_EXCLUDE_USER)
        }
    }

    /// perf's modifier, so names read as in `perf stat` (`instructions:u`).
    public var suffix: String {
        switch self {
        case .all: return ""
        case .user: return ":u"
        case .kernel: return ":k"
        }
    }
}

/// One counter to open on each thread: an event at a privilege level.
public struct PerfEventSpec: Hashable, Sendable {
    public let kind: PerfEventKind
    public let privilege: PerfPrivilege

    public init(_ kind: PerfEventKind, _ privilege: PerfPrivilege) {
        self.kind = kind
        self.privilege = privilege
    }

    public var name: String { kind.rawValue + privilege.suffix }
}

/// One read of a counter: the count and the kernel's two multiplexing clocks.
public struct PerfReading: Equatable, Sendable {
    public var value: UInt64
    public var timeEnabled: UInt64
    public var timeRunning: UInt64

    public init(value: UInt64, timeEnabled: UInt64, timeRunning: UInt64) {
        self.value = value
        self.timeEnabled = timeEnabled
        self.timeRunning = timeRunning
    }

    /// The counter shared the PMU and ran for only part of the time it was enabled.
    public var multiplexed: Bool { timeRunning < timeEnabled }

    /// The count extrapolated to the whole enabled time, as perf does; nil when the
    /// counter was enabled but never got onto the PMU (nothing to scale).
    public var scaledValue: Double? {
        if timeEnabled == 0 || timeRunning == timeEnabled { return Double(value) }
        if timeRunning == 0 { return nil }
        return Double(value) * Double(timeEnabled) / Double(timeRunning)
    }
}

/// Why a counter could not be opened.
public enum PerfOpenError: Error, Equatable, Sendable {
    /// The machine lacks the event (no PMU in this VM, or the PMU lacks it):
    /// ENOENT, EOPNOTSUPP or ENODEV. Reported as "not supported", never as zero.
    case notSupported(Errno)
    /// perf_event_paranoid or missing capabilities: EACCES or EPERM.
    case notPermitted(Errno)
    /// The thread is gone (ESRCH).
    case noSuchThread
    /// Anything else, e.g. EMFILE.
    case failed(SystemError)
}

/// A perf_event_open descriptor for one event on one thread. A value type: closing
/// is explicit, as for `FileDescriptor`.
public struct PerfEventDescriptor: Sendable {
    public let rawValue: Int32

    /// Opens `spec` on thread `tid`, disabled, on any CPU.
    public static func open(_ spec: PerfEventSpec, thread tid: Int32, inherit: Bool = false) throws(PerfOpenError) -> PerfEventDescriptor {
        let flags = spec.privilege.flags | (inherit ? UInt32(CSGB_PERF_INHERIT) : 0)
        return try open(spec, csgb_perf_open(spec.kind.code, tid, -1, -1, flags), target: "tid \(tid)")
    }

    /// Opens `spec` for every task on `cpu`, disabled, in `group`'s event group (or
    /// leading a new one). Counted on the CPU, so the kernel saves nothing when its
    /// tasks switch.
    public static func open(_ spec: PerfEventSpec, cpu: Int32, group: PerfEventDescriptor?) throws(PerfOpenError) -> PerfEventDescriptor {
        try open(spec, csgb_perf_open(spec.kind.code, -1, cpu, group?.rawValue ?? -1, spec.privilege.flags),
                 target: "cpu \(cpu)")
    }

    private static func open(_ spec: PerfEventSpec, _ fd: Int32, target: String) throws(PerfOpenError) -> PerfEventDescriptor {
        if fd >= 0 { return PerfEventDescriptor(rawValue: fd) }
        let error = Errno.current
        switch error.rawValue {
        case ENOENT, EOPNOTSUPP, ENODEV: throw .notSupported(error)
        case EACCES, EPERM: throw .notPermitted(error)
        case ESRCH: throw .noSuchThread
        default: throw .failed(SystemError("perf_event_open(\(spec.name), \(target))", error))
        }
    }

    public func enable() throws(SystemError) {
        if csgb_perf_enable(rawValue) != 0 { throw SystemError("ioctl(PERF_EVENT_IOC_ENABLE)") }
    }

    public func disable() throws(SystemError) {
        if csgb_perf_disable(rawValue) != 0 { throw SystemError("ioctl(PERF_EVENT_IOC_DISABLE)") }
    }

    public func read() throws(SystemError) -> PerfReading {
        var raw = csgb_perf_reading()
        if csgb_perf_read(rawValue, &raw) != 0 { throw SystemError("read(perf event)") }
        return PerfReading(value: raw.value, timeEnabled: raw.time_enabled, timeRunning: raw.time_running)
    }

    public func close() { _ = Glibc.close(rawValue) }
}

/// Every perf event this process opened, switched together with one prctl each
/// (PR_TASK_PERF_EVENTS_ENABLE/DISABLE), so that thousands of counters start and
/// stop at one instant.
public enum OwnedPerfEvents {
    public static func enableAll() throws(SystemError) {
        if csgb_perf_enable_all_owned() != 0 { throw SystemError("prctl(PR_TASK_PERF_EVENTS_ENABLE)") }
    }

    public static func disableAll() throws(SystemError) {
        if csgb_perf_disable_all_owned() != 0 { throw SystemError("prctl(PR_TASK_PERF_EVENTS_DISABLE)") }
    }
}
