#if canImport(Glibc)
import Glibc
#endif
import CCSGB

/// `--sched`: the kernel scheduling policy of every OS thread that carries actors.
public enum SchedulingPolicy: Equatable, Hashable, Sendable, CustomStringConvertible {
    case other, batch, idle
    case fifo(Int32)
    case rr(Int32)

    /// The real-time priority `fifo` and `rr` get without `:P`.
    public static let defaultPriority: Int32 = 1

    /// The highest real-time priority actors may have. The kernel's top one, 99, is
    /// kept for the coordinator: it must preempt the actors to take the window's
    /// edges and to stop them, and a FIFO thread never yields to an equal priority,
    /// so actors at 99 that never block (green yield on the coordinator's CPU) would
    /// hold the CPU until SIGKILL.
    public static let highestActorPriority: Int32 = 98

    /// The forms `--sched` accepts, for messages and help.
    public static let acceptedForms = "other, batch, idle, fifo[:P] or rr[:P] with P from 1 to \(highestActorPriority) (99 is kept for csgb's coordinator, so that it can always stop the actors)"

    /// `other`, `batch`, `idle`, `fifo`, `fifo:P`, `rr`, `rr:P` (P from 1 to
    /// `highestActorPriority`); nil for anything else.
    public init?(parsing text: String) {
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        var priority: Int32?
        if parts.count == 2 {
            guard let p = Int32(parts[1]), (1...Self.highestActorPriority).contains(p) else { return nil }
            priority = p
        }
        switch parts[0] {
        case "other" where priority == nil: self = .other
        case "batch" where priority == nil: self = .batch
        case "idle" where priority == nil: self = .idle
        case "fifo": self = .fifo(priority ?? Self.defaultPriority)
        case "rr": self = .rr(priority ?? Self.defaultPriority)
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .other: return "other"
        case .batch: return "batch"
        case .idle: return "idle"
        case .fifo(let p): return "fifo:\(p)"
        case .rr(let p): return "rr:\(p)"
        }
    }

    public var isRealTime: Bool {
        switch self {
        case .fifo, .rr: return true
        default: return false
        }
    }

    public var priority: Int32 {
        switch self {
        case .fifo(let p), .rr(let p): return p
        default: return 0
        }
    }

    var code: Int32 {
        switch self {
        case .other: return CSGB_SCHED_OTHER
        case .batch: return CSGB_SCHED_BATCH
        case .idle: return CSGB_SCHED_IDLE
        case .fifo: return CSGB_SCHED_FIFO
        case .rr: return CSGB_SCHED_RR
        }
    }

    /// A number for shared memory (the process mode's plan), and back.
    public var encoded: UInt64 { UInt64(code) << 8 | UInt64(priority) }
    public init?(encoded: UInt64) {
        let priority = Int32(encoded & 0xff)
        switch Int32(encoded >> 8) {
        case CSGB_SCHED_OTHER: self = .other
        case CSGB_SCHED_BATCH: self = .batch
        case CSGB_SCHED_IDLE: self = .idle
        case CSGB_SCHED_FIFO: self = .fifo(priority)
        case CSGB_SCHED_RR: self = .rr(priority)
        default: return nil
        }
    }

    /// Applies the policy to the calling thread.
    public func applyToCurrentThread() throws(SystemError) {
        _ = try SystemError.check("sched_setscheduler(\(description))", csgb_set_scheduler(code, priority))
    }

    /// Applies the policy to a task (0: the calling thread) with SCHED_RESET_ON_FORK:
    /// the threads and processes it starts from then on get the default policy.
    public func applyResettingOnFork(toTask pid: Int32 = 0) throws(SystemError) {
        _ = try SystemError.check("sched_setscheduler(\(description), reset on fork)",
                                  csgb_set_scheduler_resetting_on_fork(pid, code, priority))
    }

    /// The calling thread's policy, as the kernel reports it.
    public static func ofCurrentThread() -> SchedulingPolicy? {
        var priority: Int32 = 0
        let code = csgb_get_scheduler(&priority)
        return code < 0 ? nil : SchedulingPolicy(encoded: UInt64(code) << 8 | UInt64(priority))
    }

    /// Whether this process may give a thread the policy: tried on a thread started
    /// for the purpose, which then ends (a real-time policy, once given, cannot be
    /// handed back to the coordinator without a trace). nil when permitted.
    public func refusal() -> SystemError? {
        final class Outcome: @unchecked Sendable { var error: SystemError? }
        let outcome = Outcome()
        let policy = self
        guard let probe = try? OSThread(name: "csgb-sched-probe", body: {
            do throws(SystemError) { try policy.applyToCurrentThread() } catch { outcome.error = error }
        }) else { return nil }
        probe.join()
        return outcome.error
    }

    /// The message for a policy the kernel refused, with what grants it.
    public func refusalMessage(_ error: SystemError) -> String {
        "--sched \(description): \(error); \(grant)"
    }

    /// What lets this process give a thread the policy.
    public var grant: String {
        if isRealTime {
            let limit = csgb_rtprio_limit()
            return "real-time policies need root or CAP_SYS_NICE (setcap cap_sys_nice+ep on the csgb binary), or a real-time priority limit of at least \(priority) (`ulimit -r \(priority)`, RLIMIT_RTPRIO is \(limit < 0 ? "unlimited" : String(limit)); LimitRTPRIO= in systemd, rtprio in /etc/security/limits.conf)"
        }
        return "leaving SCHED_IDLE or SCHED_BATCH for another policy needs root or CAP_SYS_NICE"
    }

    /// `kernel.sched_rt_runtime_us` and `kernel.sched_rt_period_us`: how much of each
    /// period real-time threads may use before the kernel throttles them.
    public static func realTimeBudget() -> (runtime: Int, period: Int)? {
        guard let runtime = ResourceLimits.readInteger("/proc/sys/kernel/sched_rt_runtime_us"),
              let period = ResourceLimits.readInteger("/proc/sys/kernel/sched_rt_period_us") else { return nil }
        return (runtime, period)
    }
}
