import CSGBSystem
/// What one counter added up to over the window, summed over the counted threads.
public struct CounterTotal: Equatable, Sendable {
    public enum Status: String, Equatable, Sendable {
        /// Counted; `value` holds the sum.
        case counted
        /// The machine lacks the event (no hardware PMU in this VM, for example).
        case notSupported = "not supported"
        /// Enabled but never on the PMU (multiplexed out on every thread).
        case notCounted = "not counted"
    }

    public var status: Status
    /// The sum over threads, each thread's count scaled by enabled/running time
    /// when it was multiplexed; nil unless `status == .counted`.
    public var value: Double?
    /// Summed over threads, in nanoseconds.
    public var timeEnabled: UInt64
    public var timeRunning: UInt64

    public init(status: Status, value: Double?, timeEnabled: UInt64 = 0, timeRunning: UInt64 = 0) {
        self.status = status
        self.value = value
        self.timeEnabled = timeEnabled
        self.timeRunning = timeRunning
    }

    public static let notSupported = CounterTotal(status: .notSupported, value: nil)

    /// Sums per-thread readings. A thread whose counter never ran contributes
    /// nothing to the value; if no thread's counter ran (or there was no thread),
    /// the total is "not counted", not 0.
    public init(readings: [PerfReading]) {
        var sum = 0.0
        var anyCounted = false
        var enabled: UInt64 = 0, running: UInt64 = 0
        for reading in readings {
            enabled &+= reading.timeEnabled
            running &+= reading.timeRunning
            if let scaled = reading.scaledValue {
                sum += scaled
                anyCounted = true
            }
        }
        self.init(status: anyCounted ? .counted : .notCounted, value: anyCounted ? sum : nil,
                  timeEnabled: enabled, timeRunning: running)
    }

    /// The kernel time-shared the PMU, so the value is an extrapolation.
    public var multiplexed: Bool { timeRunning < timeEnabled }

    /// The share of the enabled time the counter really counted (1 = not multiplexed).
    public var runningShare: Double? {
        guard status == .counted else { return nil }
        return timeEnabled == 0 ? 1 : Double(timeRunning) / Double(timeEnabled)
    }
}

/// The window's per-thread perf counters, summed over threads (`--counters`).
/// Turned into per-iteration figures by the report, which knows the iterations.
public struct Counters: Sendable {
    /// Which threads were counted, as the report explains it.
    public enum Scope: String, Sendable {
        /// The OS threads that carry the run's actors (the default).
        case runThreads = "run threads"
        /// Every thread of the process at the window's opening except the
        /// coordinator: for Swift's global executor, whose threads csgb does not own.
        case processThreads = "process threads"
        /// `--counters cpu`: the CPUs of `--cpus`, whatever runs on them (other
        /// processes and the kernel's own threads too).
        case listedCPUs = "listed CPUs"
    }

    public var scope: Scope
    /// Threads counted, or CPUs with `.listedCPUs`.
    public var threads: Int
    public var totals: [PerfEventSpec: CounterTotal]
    /// Wall time from enabling the counters to disabling them; nil when unknown.
    public var countingSeconds: Double?
    /// The CPUs counted with `.listedCPUs`.
    public var cpus: [Int32]
    /// Kinds whose totals are getrusage differences, not perf counts.
    public var fromUsage: [PerfEventKind]
    /// perf descriptors that were open over the window.
    public var opened: Int

    public init(scope: Scope, threads: Int, totals: [PerfEventSpec: CounterTotal], countingSeconds: Double? = nil,
                cpus: [Int32] = [], fromUsage: [PerfEventKind] = [], opened: Int = 0) {
        self.scope = scope
        self.threads = threads
        self.totals = totals
        self.countingSeconds = countingSeconds
        self.cpus = cpus
        self.fromUsage = fromUsage
        self.opened = opened
    }

    /// How the counting was done, for the report: where perf counted, and where the
    /// software figures came from.
    var sourceDescription: String {
        scope == .listedCPUs ? "perf_event_open per CPU" : "perf_event_open per thread"
    }

    var cpuListDescription: String { cpus.map(String.init).joined(separator: ",") }

    /// The counters run from their enable to their disable, which starts a little
    /// after the report's window opens (opening them takes time). Per-iteration
    /// figures divide by the iterations of the part of the window they covered,
    /// assuming a steady rate, and say so. Below this share the counts no longer
    /// describe the window and are withheld (null, with the reason): with
    /// thousands of threads, opening their counters can take longer than the
    /// window, and the rate meanwhile is not the window's rate.
    public static let minimumCoverage = 0.95
    /// Coverage above this is the edges' microseconds: nothing to scale.
    static let fullCoverage = 0.999

    /// The share of the measured window the counters ran, at most 1.
    public func coverage(windowSeconds: Double?) -> Double? {
        guard let countingSeconds, let windowSeconds, windowSeconds > 0 else { return nil }
        return min(1, countingSeconds / windowSeconds)
    }

    /// The iterations the counts stand for; nil when the counters missed too
    /// much of the window.
    func basis(_ iterations: UInt64, windowSeconds: Double?) -> Double? {
        let coverage = coverage(windowSeconds: windowSeconds) ?? 1
        if coverage < Self.minimumCoverage { return nil }
        return Double(iterations) * (coverage < Self.fullCoverage ? coverage : 1)
    }

    func coversWindow(_ windowSeconds: Double?) -> Bool {
        (coverage(windowSeconds: windowSeconds) ?? 1) >= Self.minimumCoverage
    }

    public func total(_ kind: PerfEventKind, _ privilege: PerfPrivilege) -> CounterTotal {
        totals[PerfEventSpec(kind, privilege)] ?? .notSupported
    }

    /// The counters that make up `kind` at all levels: the all-levels counter of a
    /// software event, or the user and kernel halves of a hardware one.
    func parts(_ kind: PerfEventKind) -> [CounterTotal] {
        if let all = totals[PerfEventSpec(kind, .all)] { return [all] }
        return [total(kind, .user), total(kind, .kernel)]
    }

    /// The count at all levels; nil when a part is missing, because half a count
    /// is not the count.
    public func value(_ kind: PerfEventKind) -> Double? {
        var sum = 0.0
        for part in parts(kind) {
            guard let value = part.value else { return nil }
            sum += value
        }
        return sum
    }

    public func value(_ kind: PerfEventKind, _ privilege: PerfPrivilege) -> Double? {
        privilege == .all ? value(kind) : total(kind, privilege).value
    }

    /// Whether the machine counted any hardware event at all.
    public var hardwareSupported: Bool {
        totals.contains { $0.key.kind.isHardware && $0.value.status != .notSupported }
    }

    public var multiplexed: Bool { totals.values.contains { $0.status == .counted && $0.multiplexed } }

    /// The smallest share of time a counter really ran, when some were multiplexed.
    public var smallestRunningShare: Double? {
        totals.values.compactMap(\.runningShare).min()
    }

    /// Events listed in perf's order (hardware first, user then kernel).
    var orderedSpecs: [PerfEventSpec] {
        let order: [PerfPrivilege] = [.all, .user, .kernel]
        return totals.keys.sorted {
            let a = PerfEventKind.allCases.firstIndex(of: $0.kind)!, b = PerfEventKind.allCases.firstIndex(of: $1.kind)!
            return a != b ? a < b : order.firstIndex(of: $0.privilege)! < order.firstIndex(of: $1.privilege)!
        }
    }

    // MARK: Per-iteration figures

    public func perIteration(_ kind: PerfEventKind, _ privilege: PerfPrivilege = .all, iterations: UInt64,
                             windowSeconds: Double? = nil) -> Double? {
        guard let value = value(kind, privilege), let basis = basis(iterations, windowSeconds: windowSeconds), basis > 0
        else { return nil }
        return value / basis
    }

    /// Instructions per cycle; nil without both counts.
    public func ipc(_ privilege: PerfPrivilege = .all) -> Double? {
        guard let instructions = value(.instructions, privilege), let cycles = value(.cycles, privilege), cycles > 0
        else { return nil }
        return instructions / cycles
    }

    /// The user share of cycles (instructions when cycles are missing): where the
    /// CPU time went, user code against the kernel.
    public var userShare: Double? {
        for kind in [PerfEventKind.cycles, .instructions] {
            if let user = value(kind, .user), let kernel = value(kind, .kernel), user + kernel > 0 {
                return user / (user + kernel)
            }
        }
        return nil
    }

    // MARK: Rendering

    /// The JSON `counters` object. Hardware figures the machine lacks are null,
    /// never 0, and `multiplexed`/`scaled` say whether any value is an extrapolation.
    public func json(iterations: UInt64, windowSeconds: Double? = nil) -> JSON {
        func split(_ privilege: PerfPrivilege) -> JSON {
            .object([
                ("ipc", .number(ipc(privilege))),
                ("instructions_per_iteration", .number(perIteration(.instructions, privilege, iterations: iterations, windowSeconds: windowSeconds))),
                ("cycles_per_iteration", .number(perIteration(.cycles, privilege, iterations: iterations, windowSeconds: windowSeconds))),
                ("cache_misses_per_iteration", .number(perIteration(.cacheMisses, privilege, iterations: iterations, windowSeconds: windowSeconds))),
                ("dtlb_load_misses_per_iteration", .number(perIteration(.dTLBLoadMisses, privilege, iterations: iterations, windowSeconds: windowSeconds))),
            ])
        }
        let events: [(String, JSON)] = orderedSpecs.map { spec in
            let total = totals[spec]!
            return (spec.name, .object([
                ("status", .string(total.status.rawValue)),
                ("count", .number(total.value)),
                ("running_share", .number(total.runningShare)),
            ]))
        }
        let taskClock = perIteration(.taskClock, iterations: iterations, windowSeconds: windowSeconds)
        var pairs: [(String, JSON)] = [
            ("source", .string(sourceDescription)),
            ("scope", .string(scope.rawValue)),
            ("threads", scope == .listedCPUs ? .null : .integer(threads)),
            ("cpus", scope == .listedCPUs ? .string(cpuListDescription) : .null),
            ("perf_descriptors", .integer(opened)),
            ("software_source", .string(fromUsage.isEmpty ? "perf_event_open" : "getrusage")),
            ("hardware", .string(hardwareSupported ? "supported" : "not supported")),
            ("multiplexed", .bool(multiplexed)),
            ("scaled", .bool(multiplexed)),
            ("window_coverage", .number(coverage(windowSeconds: windowSeconds))),
            ("window_scaled", .bool((coverage(windowSeconds: windowSeconds) ?? 1) < Self.fullCoverage)),
            ("ipc", .number(ipc())),
            ("instructions_per_iteration", .number(perIteration(.instructions, iterations: iterations, windowSeconds: windowSeconds))),
            ("cycles_per_iteration", .number(perIteration(.cycles, iterations: iterations, windowSeconds: windowSeconds))),
            ("cache_misses_per_iteration", .number(perIteration(.cacheMisses, iterations: iterations, windowSeconds: windowSeconds))),
            ("dtlb_load_misses_per_iteration", .number(perIteration(.dTLBLoadMisses, iterations: iterations, windowSeconds: windowSeconds))),
            ("context_switches_per_iteration", .number(perIteration(.contextSwitches, iterations: iterations, windowSeconds: windowSeconds))),
            ("task_clock_ns_per_iteration", .number(taskClock)),
            ("user_share", .number(userShare)),
            ("user", split(.user)),
            ("kernel", split(.kernel)),
        ]
        // Optional kinds appear only when counted, so a null keeps meaning "the
        // machine lacks it".
        if totals[PerfEventSpec(.cpuMigrations, .all)] != nil {
            pairs.append(("cpu_migrations_per_iteration", .number(perIteration(.cpuMigrations, iterations: iterations, windowSeconds: windowSeconds))))
        }
        if totals[PerfEventSpec(.pageFaults, .all)] != nil {
            pairs.append(("page_faults_per_iteration", .number(perIteration(.pageFaults, iterations: iterations, windowSeconds: windowSeconds))))
        }
        pairs.append(("events", .object(events)))
        return .object(pairs)
    }

    /// Text rows for the run report: "not supported" where the machine lacks an
    /// event, and a note when values were scaled.
    public func textRows(iterations: UInt64, windowSeconds: Double? = nil) -> [(String, String)] {
        func figure(_ kind: PerfEventKind, digits: Int = 1) -> String {
            if let reason = missingReason(kind) { return reason }
            if !coversWindow(windowSeconds) { return "not measured (counter window incomplete)" }
            let all = Fmt.fixed(perIteration(kind, iterations: iterations, windowSeconds: windowSeconds), digits)
            let user = perIteration(kind, .user, iterations: iterations, windowSeconds: windowSeconds)
            let kernel = perIteration(kind, .kernel, iterations: iterations, windowSeconds: windowSeconds)
            guard user != nil || kernel != nil else { return all }
            return "\(all) (user \(Fmt.fixed(user, digits)), kernel \(Fmt.fixed(kernel, digits)))"
        }
        let scaling: String
        if multiplexed {
            let share = smallestRunningShare.map { Fmt.fixed($0 * 100, 0) } ?? "?"
            scaling = "multiplexed: hardware counts scaled by enabled/running time (lowest running share \(share) %)"
        } else {
            scaling = "not multiplexed"
        }
        let hardware = hardwareSupported ? "hardware counters available" : "hardware counters not supported (no PMU exposed)"
        let target = scope == .listedCPUs
            ? "per CPU on CPU\(cpus.count == 1 ? "" : "s") \(cpuListDescription) (whatever ran there, other processes too)"
            : "per thread on \(threads) OS thread\(threads == 1 ? "" : "s") (\(scope.rawValue))"
        let software = fromUsage.isEmpty ? "" : "; context switches and task clock from getrusage"
        var rows: [(String, String)] = [
            ("counters", "perf_event_open \(target), \(opened) descriptor\(opened == 1 ? "" : "s"); \(hardware); \(scaling)\(software)"),
        ]
        if let coverage = coverage(windowSeconds: windowSeconds), coverage < Self.fullCoverage {
            let consequence = coverage < Self.minimumCoverage
                ? "per-iteration figures withheld" : "per-iteration figures divide by the iterations of that share"
            rows.append(("counter window", "\(Fmt.fixed(coverage * 100, 1)) % of the measured window (opening \(threads) threads' counters took the rest); \(consequence)"))
        }
        rows += [
            ("instructions/iter", figure(.instructions)),
            ("cycles/iter", figure(.cycles)),
        ]
        if let ipc = ipc() {
            let user = self.ipc(.user), kernel = self.ipc(.kernel)
            rows.append(("ipc", Fmt.fixed(ipc, 3) + (user != nil || kernel != nil ? " (user \(Fmt.fixed(user, 3)), kernel \(Fmt.fixed(kernel, 3)))" : "")))
        } else {
            rows.append(("ipc", hardwareSupported ? "not counted" : "not supported"))
        }
        rows.append(("cache misses/iter", figure(.cacheMisses, digits: 2)))
        rows.append(("dTLB misses/iter", figure(.dTLBLoadMisses, digits: 2)))
        if let share = userShare {
            rows.append(("user/kernel", "\(Fmt.fixed(share * 100, 1)) % / \(Fmt.fixed((1 - share) * 100, 1)) % of cycles"))
        } else {
            rows.append(("user/kernel", hardwareSupported ? "not counted" : "not supported (see cpu time for the split)"))
        }
        rows.append(("ctx switches/iter", figure(.contextSwitches, digits: 4)))
        for kind in [PerfEventKind.cpuMigrations, .pageFaults] where totals[PerfEventSpec(kind, .all)] != nil {
            rows.append((kind == .cpuMigrations ? "migrations/iter" : "page faults/iter", figure(kind, digits: 4)))
        }
        let taskClock = figure(.taskClock)
        rows.append(("task clock/iter", perIteration(.taskClock, iterations: iterations, windowSeconds: windowSeconds) == nil ? taskClock : taskClock + " ns"))
        return rows
    }

    /// "not supported" / "not counted" for a figure that has no value.
    private func missingReason(_ kind: PerfEventKind) -> String? {
        let parts = self.parts(kind)
        if parts.contains(where: { $0.status == .notSupported }) { return "not supported" }
        if parts.contains(where: { $0.status == .notCounted }) { return "not counted (multiplexed out)" }
        return nil
    }
}
