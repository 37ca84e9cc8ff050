import CSGB
/// One figure `csgb stat` prints per iteration, with its JSON key and text label.
public enum StatFigure: Hashable, Sendable {
    case nanoseconds
    case contextSwitches
    /// Switches because a thread blocked (getrusage's ru_nvcsw over the window):
    /// what a mode that claims no switches must not have.
    case voluntarySwitches
    /// Switches because a thread was preempted (ru_nivcsw): another task took its CPU.
    case involuntarySwitches
    case cpuMigrations
    /// `syscalls:sys_enter_<name>` per iteration.
    case syscalls(String)
    case instructions
    case cycles
    case ipc
    case cacheMisses
    case dTLBLoadMisses
    /// User share of cycles (of instructions when cycles are missing), from
    /// perf's `:u` and `:k` counts.
    case userShare
    /// User share of CPU time, from the run's getrusage: the split that exists
    /// without a PMU.
    case cpuTimeUserShare
    case taskClock
    /// EAGAINs in the window (a count, not a rate): non-zero is a bug in green and async.
    case eagain
    /// Actors whose run ended on a failed or short read or write before the stop.
    case failedTransfers

    /// Every figure of a run that traced `syscalls`, in print order.
    public static func all(syscalls: [String]) -> [StatFigure] {
        [.nanoseconds, .contextSwitches, .voluntarySwitches, .involuntarySwitches, .cpuMigrations] + syscalls.map { .syscalls($0) }
            + [.instructions, .cycles, .ipc, .cacheMisses, .dTLBLoadMisses, .userShare, .cpuTimeUserShare, .taskClock, .eagain,
               .failedTransfers]
    }

    public var key: String {
        switch self {
        case .nanoseconds: return "ns_per_iteration"
        case .contextSwitches: return "context_switches_per_iteration"
        case .voluntarySwitches: return "voluntary_switches_per_iteration"
        case .involuntarySwitches: return "involuntary_switches_per_iteration"
        case .cpuMigrations: return "cpu_migrations_per_iteration"
        case .syscalls(let name): return "syscalls_per_iteration.\(name)"
        case .instructions: return "instructions_per_iteration"
        case .cycles: return "cycles_per_iteration"
        case .ipc: return "ipc"
        case .cacheMisses: return "cache_misses_per_iteration"
        case .dTLBLoadMisses: return "dtlb_load_misses_per_iteration"
        case .userShare: return "user_share"
        case .cpuTimeUserShare: return "cpu_time_user_share"
        case .taskClock: return "task_clock_ns_per_iteration"
        case .eagain: return "eagain"
        case .failedTransfers: return "failed_transfers"
        }
    }

    public var label: String {
        switch self {
        case .nanoseconds: return "ns/iteration"
        case .contextSwitches: return "context switches/iteration"
        case .voluntarySwitches: return "voluntary switches/iteration"
        case .involuntarySwitches: return "involuntary switches/iteration"
        case .cpuMigrations: return "cpu migrations/iteration"
        case .syscalls(let name): return "\(name)/iteration"
        case .instructions: return "instructions/iteration"
        case .cycles: return "cycles/iteration"
        case .ipc: return "ipc"
        case .cacheMisses: return "cache misses/iteration"
        case .dTLBLoadMisses: return "dTLB load misses/iteration"
        case .userShare: return "user share (cycles)"
        case .cpuTimeUserShare: return "user share (cpu time)"
        case .taskClock: return "task clock/iteration (ns)"
        case .eagain: return "eagain"
        case .failedTransfers: return "failed transfers"
        }
    }

    public var digits: Int {
        switch self {
        case .nanoseconds, .instructions, .cycles, .taskClock: return 1
        case .ipc, .userShare, .cpuTimeUserShare: return 3
        case .eagain, .failedTransfers: return 0
        default: return 4
        }
    }

    /// The perf events the figure is computed from, for "not supported" notes.
    var events: [String] {
        switch self {
        case .contextSwitches: return ["context-switches"]
        case .cpuMigrations: return ["cpu-migrations"]
        case .syscalls(let name): return ["syscalls:sys_enter_\(name)"]
        case .instructions: return ["instructions"]
        case .cycles: return ["cycles"]
        case .ipc: return ["instructions", "cycles"]
        case .cacheMisses: return ["cache-misses"]
        case .dTLBLoadMisses: return ["dTLB-load-misses"]
        case .userShare: return ["cycles:u", "cycles:k"]
        case .taskClock: return ["task-clock"]
        case .nanoseconds, .cpuTimeUserShare, .eagain, .failedTransfers, .voluntarySwitches, .involuntarySwitches: return []
        }
    }
}

/// The figures of one `perf stat` run of a workload, per iteration of the child's
/// measured window (perf counted exactly that window through its control fifo).
public struct StatFigures: Sendable {
    public var iterations: UInt64
    /// The syscalls traced, in print order (the tracepoints perf counted).
    public var syscallNames: [String]
    private(set) var values: [StatFigure: Double]
    /// Why a figure has no value: "not supported", "not counted", "not measured".
    private(set) var missing: [StatFigure: String]
    /// Events perf multiplexed (and scaled).
    public var multiplexed: [String]

    public init(iterations: UInt64, syscallNames: [String] = Claims.alwaysTraced, values: [StatFigure: Double],
                missing: [StatFigure: String] = [:], multiplexed: [String] = []) {
        self.iterations = iterations
        self.syscallNames = syscallNames
        self.values = values
        self.missing = missing
        self.multiplexed = multiplexed
    }

    public func value(_ figure: StatFigure) -> Double? { values[figure] }

    public func missingReason(_ figure: StatFigure) -> String? {
        values[figure] == nil ? (missing[figure] ?? "not measured") : nil
    }

    /// Combines perf's counts with the child's report (iterations, time, getrusage).
    public init(perf: PerfStatOutput, report: JSON) {
        let iterations = UInt64(max(report["iterations"]?.intValue ?? 0, 0))
        var values: [StatFigure: Double] = [:]
        var missing: [StatFigure: String] = [:]

        func reason(_ events: [String]) -> String {
            let records = events.map { perf.record($0) }
            if records.contains(where: { $0?.value == .notSupported }) { return "not supported" }
            if records.contains(where: { $0?.value == .notCounted }) { return "not counted" }
            return "not measured"
        }
        func perIteration(_ count: Double?) -> Double? {
            guard let count, iterations > 0 else { return nil }
            return count / Double(iterations)
        }
        func set(_ figure: StatFigure, _ value: Double?) {
            if let value, value.isFinite { values[figure] = value } else { missing[figure] = iterations == 0 ? "no iterations" : reason(figure.events) }
        }
        /// The count of an event at all levels: perf's plain event, or `:u` + `:k`.
        func total(_ event: String) -> Double? {
            if let count = perf.count(event) { return count }
            guard let user = perf.count(event + ":u"), let kernel = perf.count(event + ":k") else { return nil }
            return user + kernel
        }

        set(.nanoseconds, report["ns_per_iteration"]?.doubleValue)
        set(.contextSwitches, perIteration(perf.count("context-switches")))
        set(.cpuMigrations, perIteration(perf.count("cpu-migrations")))
        for (figure, key) in [(StatFigure.voluntarySwitches, "voluntary_switches"), (.involuntarySwitches, "involuntary_switches")] {
            if let count = report[key]?.doubleValue, iterations > 0 {
                values[figure] = count / Double(iterations)
            } else {
                missing[figure] = iterations == 0 ? "no iterations" : "not reported"
            }
        }
        let syscallNames = perf.tracedSyscalls
        for name in syscallNames { set(.syscalls(name), perIteration(perf.syscalls(name))) }
        let instructions = total("instructions"), cycles = total("cycles")
        set(.instructions, perIteration(instructions))
        set(.cycles, perIteration(cycles))
        set(.ipc, instructions.flatMap { i in cycles.flatMap { $0 > 0 ? i / $0 : nil } })
        set(.cacheMisses, perIteration(total("cache-misses")))
        set(.dTLBLoadMisses, perIteration(total("dTLB-load-misses")))
        var share: Double?
        for event in ["cycles", "instructions"] {
            if let user = perf.count(event + ":u"), let kernel = perf.count(event + ":k"), user + kernel > 0 {
                share = user / (user + kernel)
                break
            }
        }
        set(.userShare, share)
        if let user = report["user_seconds"]?.doubleValue, let system = report["system_seconds"]?.doubleValue, user + system > 0 {
            values[.cpuTimeUserShare] = user / (user + system)
        } else {
            missing[.cpuTimeUserShare] = "no cpu time"
        }
        // task-clock is in msec in perf's output.
        let taskClock = perf.record("task-clock").flatMap { record in
            record.count.map { record.unit == "msec" ? $0 * 1e6 : $0 }
        }
        set(.taskClock, perIteration(taskClock))
        if let eagain = report["eagain"]?.doubleValue { values[.eagain] = eagain } else { missing[.eagain] = "not reported" }
        if let failed = report["failed_transfers"]?.doubleValue {
            values[.failedTransfers] = failed
        } else {
            missing[.failedTransfers] = "not reported"
        }
        self.init(iterations: iterations, syscallNames: syscallNames, values: values, missing: missing,
                  multiplexed: perf.records.filter(\.multiplexed).map(\.event))
    }
}
