/// What a run must show for its mode to have done what it says, stated by the run
/// itself from its mode and its workload's operations, and carried in its JSON
/// report. `csgb stat` turns these into rules without knowing any mode or workload.
public struct Claims: Equatable, Sendable {
    /// How many context switches one iteration may cost.
    public enum Switches: Equatable, Sendable {
        /// User-mode switching only: the kernel never switches.
        case none
        /// Each blocking call switches once; preemption adds up to one more.
        case between(Double, Double)
    }

    /// Syscalls whose count per iteration is exact (up to the window's edges).
    public var exactSyscalls: [String: Double] = [:]
    /// Syscalls that must not happen at all.
    public var absentSyscalls: [String] = []
    /// Syscalls with an upper bound per iteration (a batch serves many iterations).
    public var boundedSyscalls: [String: Double] = [:]
    /// nil: switches are only reported.
    public var switches: Switches?
    /// Reads only after the peer wrote: an EAGAIN would be a bug.
    public var noEAGAIN = false
    /// Why, in words, for the verification's summary.
    public var reasons: [String] = []
    /// Iterations under way at once: one per actor that counts them (a socket pair's
    /// round trip is counted by one side). Each edge of the window may cut every one
    /// of them in the middle, which `csgb stat` adds to the tolerance of each rule.
    public var iterationsInFlight = 1

    public init() {}

    /// The syscalls `csgb stat` traces in every run, claimed or not, so that each
    /// report shows the transfers, the kernel waits and yields, and the reactors
    /// that must stay unused, side by side.
    public static let alwaysTraced = ["read", "write", "futex", "epoll_wait", "epoll_pwait", "io_uring_enter", "sched_yield"]

    /// Every syscall these claims name, exact, bounded or absent.
    public var namedSyscalls: [String] {
        var names: [String] = []
        for name in exactSyscalls.keys.sorted() + boundedSyscalls.keys.sorted() + absentSyscalls where !names.contains(name) {
            names.append(name)
        }
        return names
    }

    /// What `csgb stat` traces for a run with these claims: the fixed set, then
    /// every other syscall a claim names, so a new claim is traced with no edit here.
    public var tracedSyscalls: [String] {
        Claims.alwaysTraced + namedSyscalls.filter { !Claims.alwaysTraced.contains($0) }
    }

    /// Exact counts per iteration may be off by this much: the window's edges cut one
    /// iteration in the middle, and the coordinator's own fifo write and read land in
    /// the window.
    public static let edgeTolerance = 0.01

    public var json: JSON {
        .object([
            ("syscalls_per_iteration", .object(exactSyscalls.sorted { $0.key < $1.key }.map { ($0.key, .number($0.value)) })),
            ("syscalls_at_most", .object(boundedSyscalls.sorted { $0.key < $1.key }.map { ($0.key, .number($0.value)) })),
            ("absent_syscalls", .array(absentSyscalls.map { .string($0) })),
            ("context_switches_per_iteration", {
                switch switches {
                case nil: return .null
                case .none?: return .string("none")
                case let .between(low, high)?: return .array([.number(low), .number(high)])
                }
            }()),
            ("eagain_zero", .bool(noEAGAIN)),
            ("reasons", .array(reasons.map { .string($0) })),
            ("iterations_in_flight", .integer(iterationsInFlight)),
        ])
    }

    /// Reads `claims` back from a report.
    public init?(json: JSON) {
        guard case .object = json else { return nil }
        for (key, value) in json["syscalls_per_iteration"]?.objectPairs ?? [] { exactSyscalls[key] = value.doubleValue }
        for (key, value) in json["syscalls_at_most"]?.objectPairs ?? [] { boundedSyscalls[key] = value.doubleValue }
        absentSyscalls = json["absent_syscalls"]?.arrayValue?.compactMap(\.stringValue) ?? []
        switch json["context_switches_per_iteration"] {
        case .string("none")?: switches = Claims.Switches.none
        case let .array(bounds)? where bounds.count == 2:
            if let low = bounds[0].doubleValue, let high = bounds[1].doubleValue { switches = .between(low, high) }
        default: switches = nil
        }
        noEAGAIN = json["eagain_zero"]?.boolValue ?? false
        reasons = json["reasons"]?.arrayValue?.compactMap(\.stringValue) ?? []
        iterationsInFlight = max(Int(json["iterations_in_flight"]?.intValue ?? 1), 1)
    }
}
