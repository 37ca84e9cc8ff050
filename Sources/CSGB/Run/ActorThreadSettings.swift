import CSGBSystem
import Synchronization

/// `--sched` and `--spec`: what every OS thread (or process) that carries actors
/// gets before the gate, in every mode, and what the kernel says it got.
public struct ActorThreadSettings: Sendable, Equatable {
    public var sched: SchedulingPolicy?
    public var speculation: [SpeculationControl] = []

    public init(sched: SchedulingPolicy? = nil, speculation: [SpeculationControl] = []) {
        self.sched = sched
        self.speculation = speculation
    }

    public var isEmpty: Bool { sched == nil && speculation.isEmpty }

    /// What one actor thread read back after applying the settings.
    public struct Readback: Sendable, Equatable {
        public var sched: SchedulingPolicy?
        /// PR_GET_SPECULATION_CTRL's bits per requested control.
        public var speculation: [SpeculationControl: Int32] = [:]
    }

    /// Before anything exists: a policy the kernel would refuse, or a control its
    /// mode does not let a task choose, stops the run with the fix (exit 69).
    func check() throws(CSGBError) {
        if let sched, let error = sched.refusal() { throw .unavailable(sched.refusalMessage(error)) }
        for control in speculation where !control.isSelectable() {
            throw .unavailable(control.unavailableMessage())
        }
    }

    /// On the actor's own thread: the controls first (they are per task), then the
    /// policy; then what the kernel says.
    func apply() throws(SystemError) -> Readback {
        var readback = Readback()
        for control in speculation {
            try control.request()
            readback.speculation[control] = control.state() ?? -1
        }
        if let sched {
            try sched.applyToCurrentThread()
            readback.sched = SchedulingPolicy.ofCurrentThread()
        }
        return readback
    }

    /// Shared memory form (the process mode's plan).
    var speculationMask: UInt64 { speculation.reduce(0) { $0 | $1.bit } }

    init(sched encodedSched: UInt64, speculationMask: UInt64) {
        sched = encodedSched == 0 ? nil : SchedulingPolicy(encoded: encodedSched - 1)
        speculation = SpeculationControl.allCases.filter { speculationMask & $0.bit != 0 }
    }

    var encodedSched: UInt64 { sched.map { $0.encoded + 1 } ?? 0 }
}

/// While the window is open the coordinator runs at SCHED_FIFO, above the actors
/// (one real-time priority above real-time actors, else priority 1). It sleeps
/// through the window, so this costs the actors nothing; but when its timer fires,
/// or perf acknowledges a window edge, it runs at once and takes the edge on time.
/// At SCHED_OTHER, even at nice −20, it queues behind thousands of runnable actor
/// threads (a second and more with 20,000 on one CPU), and behind real-time actors
/// it would wait for them to sleep or for the kernel's real-time throttling.
/// SCHED_RESET_ON_FORK: a thread it starts in the window does not inherit the policy.
public struct CoordinatorSchedule: Sendable, Equatable {
    /// The coordinator's policy in the window, nil when it was left alone.
    public let inWindow: SchedulingPolicy?
    /// Why it was left at SCHED_OTHER although SCHED_FIFO was wanted, nil otherwise.
    public let refusal: String?

    /// The policy the window's edges are taken at (csgb stat runs perf at it too).
    public static func windowPolicy(above sched: SchedulingPolicy?) -> SchedulingPolicy {
        .fifo(min((sched.flatMap { $0.isRealTime ? $0.priority : nil } ?? 0) + 1, 99))
    }

    /// Raises the calling thread, unless the caller lowered csgb's priority
    /// (`nice -n 19 csgb …` asks for the opposite) and the actors are not real-time.
    static func raise(above sched: SchedulingPolicy?, niceAtStart: Int32) -> CoordinatorSchedule {
        if niceAtStart > 0 && sched?.isRealTime != true { return CoordinatorSchedule(inWindow: nil, refusal: nil) }
        let policy = windowPolicy(above: sched)
        do {
            try policy.applyResettingOnFork()
            return CoordinatorSchedule(inWindow: policy, refusal: nil)
        } catch {
            return CoordinatorSchedule(inWindow: nil, refusal: "\(error); \(policy.grant)")
        }
    }

    func restore() {
        guard inWindow != nil else { return }
        // Only a privileged thread may clear SCHED_RESET_ON_FORK; one raised through
        // RLIMIT_RTPRIO keeps it, which changes nothing for SCHED_OTHER at nice 0.
        do throws(SystemError) { try SchedulingPolicy.other.applyToCurrentThread() } catch {
            try? SchedulingPolicy.other.applyResettingOnFork()
        }
    }

    /// The report's words for it, after the nice value's.
    public var text: String? {
        if let inWindow { return "and SCHED_FIFO priority \(inWindow.priority) in the window, so it takes the edges on time" }
        return refusal.map { "left at SCHED_OTHER, so among many runnable actors its edges may be late: \($0)" }
    }
}

/// The first readback of a run's actor threads, and whether every other agreed.
final class ReadbackRecord: @unchecked Sendable {
    private let state = Mutex<(first: ActorThreadSettings.Readback?, disagreements: Int)>((nil, 0))

    func record(_ readback: ActorThreadSettings.Readback) {
        state.withLock { state in
            if let first = state.first {
                if first != readback { state.disagreements += 1 }
            } else {
                state.first = readback
            }
        }
    }

    var first: ActorThreadSettings.Readback? { state.withLock { $0.first } }
    var disagreements: Int { state.withLock { $0.disagreements } }
}

extension RunReport {
    /// Fills the `--sched`/`--spec` fields and their notes.
    mutating func describeThreadSettings(_ configuration: RunConfiguration, readback: ActorThreadSettings.Readback?,
                                         schedule: CoordinatorSchedule) {
        let settings = configuration.threadSettings
        guard !settings.isEmpty else { return }
        threadSettings = settings
        self.readback = readback
        coordinatorSchedule = schedule
        if settings.speculation.contains(.ibpb) && !configuration.mode.traits.switchesAddressSpace {
            threadSettingsNotes.append("IBPB is issued only when the kernel switches between address spaces; the actors of --mode \(configuration.mode.rawValue) share one, so --spec ibpb changes nothing in this run")
        }
        if let sched = settings.sched, sched.isRealTime, let budget = SchedulingPolicy.realTimeBudget(), budget.runtime >= 0,
           budget.runtime < budget.period {
            threadSettingsNotes.append("kernel.sched_rt_runtime_us is \(budget.runtime) of \(budget.period): a real-time thread that never sleeps is stopped for \((budget.period - budget.runtime) / 1000) ms of every \(budget.period / 1000) ms")
        }
    }

    /// The text report's rows for `--sched` and `--spec`.
    var threadSettingsRows: [(String, String)] {
        guard let settings = threadSettings else { return [] }
        var rows: [(String, String)] = []
        if let sched = settings.sched {
            rows.append(("sched", "\(readback?.sched?.description ?? "unknown") on every actor \(mode.traits.carrier) (asked \(sched))"
                + (coordinatorSchedule?.inWindow.map { "; coordinator \($0) while the window was open" } ?? "")))
        }
        if !settings.speculation.isEmpty {
            rows.append(("speculation", settings.speculation.map { control in
                "\(control.rawValue): \(readback?.speculation[control].map { SpeculationControl.describe($0) } ?? "unknown")"
            }.joined(separator: ", ") + " (PR_GET_SPECULATION_CTRL on the actors)"))
        }
        rows += threadSettingsNotes.map { ("note", $0) }
        return rows
    }
}
