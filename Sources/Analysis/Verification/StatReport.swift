import CSGB
/// What `csgb stat` found: per-iteration figures (the median over the runs), their
/// spread, the verdict, and on a failure where the switches came from.
public struct StatReport: Sendable {
    public var command: [String]
    public var events: [String]
    /// Syscall tracepoints this kernel lacks, left out of the count.
    public var absentEvents: [String]
    public var summary: RepeatSummary
    /// perf's records and the child's report of the last run.
    public var output: PerfStatOutput
    public var report: JSON
    public var verification: Verification
    public var stacks: SwitchStacks?
    public var stacksNote: String?
    /// A stop signal ended the session early; only complete windows were judged.
    public var interruption: StatInterruption? = nil

    /// Why `ns` here is not the workload's own figure.
    public static let tracedNote = "ns under perf's syscall tracepoints, which slow every syscall: for the untraced figure run the workload itself (csgb <workload> …) and read ns/iteration"

    public var holds: Bool { verification.holds }

    /// What the verdict does not judge but the reader must know: preemption by other
    /// tasks (which inflates ns/iteration without being the mode's switches) and a
    /// window in which the workload did not run.
    public var warnings: [String] {
        var warnings: [String] = []
        let judgesBlocking = verification.expectation.rules.contains { $0.figure == .voluntarySwitches }
        if judgesBlocking, let involuntary = summary.median.value(.involuntarySwitches), involuntary >= Expectation.none {
            let count = report["involuntary_switches"]?.intValue.map { " (\($0) in the last window)" } ?? ""
            warnings.append("preempted: \(Fmt.fixed(involuntary, 4)) involuntary switches/iteration\(count): other tasks took the run's CPUs; not counted against the mode (it did not block), but ns/iteration includes their time")
        }
        if let suspension = report["suspension"]?.stringValue { warnings.append(suspension) }
        // The run sets perf's policy at its gate (PerfControl) and says how it went.
        if report["perf_sched"] == .null, let note = report["perf_sched_note"]?.stringValue, note.hasPrefix("left at SCHED_OTHER") {
            warnings.append("perf " + note)
        }
        return warnings
    }

    /// How far the window's edges widen the bounds, when more than one iteration is
    /// under way at a time.
    var edgeText: String? {
        let inFlight = verification.expectation.iterationsInFlight
        let iterations = summary.runs.map(\.iterations).min() ?? 0
        guard inFlight > 1, iterations > 0 else { return nil }
        let share = Double(inFlight) / Double(iterations)
        return "bounds include the window's edges: \(Fmt.whole(Double(inFlight))) iterations under way at once over \(Fmt.whole(Double(iterations))) in the window, so each may be off by its own size × \(Fmt.fixed(share, 4))"
    }

    public func rendered(_ format: ReportFormat) -> String {
        switch format {
        case .json: return json.rendered()
        case .text, .csv: return text
        }
    }

    // MARK: Text

    public var text: String {
        let median = summary.median
        let runs = summary.runs.count
        func show(_ figure: StatFigure) -> String {
            guard let value = median.value(figure) else { return median.missingReason(figure) ?? "n/a" }
            var text = Fmt.fixed(value, figure.digits)
            if runs > 1, let range = summary.ranges[figure] {
                let low = Fmt.fixed(range.lowerBound, figure.digits), high = Fmt.fixed(range.upperBound, figure.digits)
                // A range that prints as one number says nothing.
                if low != high { text += " (\(low)–\(high))" }
            }
            return text
        }
        func share(_ figure: StatFigure) -> String? {
            median.value(figure).map { "\(Fmt.fixed($0 * 100, 1)) % user / \(Fmt.fixed((1 - $0) * 100, 1)) % kernel" }
        }
        var nanoseconds = show(.nanoseconds)
        if let cv = summary.nanosecondsCV {
            nanoseconds += ", cv \(Fmt.fixed(cv * 100, 1)) %" + (summary.noisy ? " (NOISY: above \(Fmt.fixed(RepeatSummary.noisyCV * 100, 0)) %)" : "")
        }
        let syscalls = median.syscallNames.compactMap { name -> String? in
            let figure = StatFigure.syscalls(name)
            if absentEvents.contains("syscalls:sys_enter_\(name)") { return nil }
            return "\(name) \(show(figure))"
        }.joined(separator: ", ")
        let heading: [(String, String)] = [
            ("workload", "csgb " + command.joined(separator: " ")),
            ("runs", (runs == 1 ? "1 (perf stat over the measured window)" : "\(runs) (median, min–max in brackets)")
                + (interruption.map { "; \($0.reportText)" } ?? "")),
            ("iterations", Fmt.whole(Double(median.iterations))),
        ] + (report["perf_sched_note"]?.stringValue.map { [("perf", $0)] } ?? [])
        var rows: [(String, String)] = [
            ("ns (traced)", nanoseconds),
            ("context switches", show(.contextSwitches)
                + (median.value(.voluntarySwitches) == nil ? "" : " (voluntary \(show(.voluntarySwitches)), involuntary \(show(.involuntarySwitches)))")),
            ("cpu migrations", show(.cpuMigrations)),
            ("syscalls", syscalls),
            ("instructions", show(.instructions)),
            ("cycles", show(.cycles)),
            ("ipc", show(.ipc)),
            ("cache misses", show(.cacheMisses)),
            ("dTLB load misses", show(.dTLBLoadMisses)),
            ("user/kernel", [share(.userShare).map { "\($0) of cycles" }, share(.cpuTimeUserShare).map { "\($0) of cpu time" }]
                .compactMap { $0 }.joined(separator: "; ")),
            ("task clock", median.value(.taskClock) != nil ? "\(show(.taskClock)) ns" : show(.taskClock)),
        ]
        if !median.multiplexed.isEmpty {
            rows.append(("multiplexed", "scaled by perf: " + median.multiplexed.joined(separator: ", ")))
        }
        let indented = TextTable.keyValues(rows, width: TextTable.width - 2).split(separator: "\n").map { "  " + $0 }.joined(separator: "\n")
        var lines = [TextTable.keyValues(heading), "per iteration:", indented, "  " + Self.tracedNote]
        lines.append("")
        lines.append("verification: \(verification.holds ? "PASS" : "FAIL") (\(verification.expectation.summary))")
        for check in verification.checks { lines.append("  " + check.text) }
        if verification.checks.isEmpty { lines.append("  no rules: figures only reported") }
        if let edges = edgeText { lines.append("  " + edges) }
        if !absentEvents.isEmpty {
            lines.append("  not on this kernel, not checked: " + absentEvents.joined(separator: ", "))
        }
        for warning in warnings { lines.append("  warning: " + warning) }
        if let stacks {
            lines.append("")
            lines.append(stacks.text)
        } else if let stacksNote {
            lines.append("")
            lines.append(stacksNote)
        }
        // Free lines wrap under their text: "  warning: …" under the word after the label.
        return lines.map { line in
            let lead = line.prefix { $0 == " " }.count
            let label = line.dropFirst(lead).firstIndex(of: " ").map { line.distance(from: line.startIndex, to: $0) + 1 } ?? lead
            return TextTable.wrapped(line, hanging: line.hasPrefix("verification:") ? 2 : min(label, lead + 10))
        }.joined(separator: "\n")
    }

    // MARK: JSON

    public var json: JSON {
        let median = summary.median
        func value(_ figure: StatFigure) -> JSON { .number(median.value(figure)) }
        var pairs: [(String, JSON)] = [
            ("command", .string(command.joined(separator: " "))),
            ("runs", .integer(summary.runs.count)),
            ("iterations", .integer(median.iterations)),
            ("runs_requested", .integer(interruption?.requested ?? summary.runs.count)),
            ("interrupted", interruption.map { .string($0.signal) } ?? .null),
            ("ns_per_iteration", value(.nanoseconds)),
            ("ns_per_iteration_traced", .bool(true)),
            ("context_switches_per_iteration", value(.contextSwitches)),
            ("cpu_migrations_per_iteration", value(.cpuMigrations)),
            ("syscalls_per_iteration", .object(summary.median.syscallNames.map { ($0, value(.syscalls($0))) })),
            ("instructions_per_iteration", value(.instructions)),
            ("cycles_per_iteration", value(.cycles)),
            ("ipc", value(.ipc)),
            ("cache_misses_per_iteration", value(.cacheMisses)),
            ("dtlb_load_misses_per_iteration", value(.dTLBLoadMisses)),
            ("user_share", value(.userShare)),
            ("cpu_time_user_share", value(.cpuTimeUserShare)),
            ("task_clock_ns_per_iteration", value(.taskClock)),
            ("eagain", value(.eagain)),
            ("multiplexed", .bool(!median.multiplexed.isEmpty)),
            ("scaled_events", .string(median.multiplexed.joined(separator: " "))),
            ("not_supported", .string(output.records.filter { $0.value == .notSupported }.map(\.event).joined(separator: " "))),
            ("ns_per_iteration_cv", .number(summary.nanosecondsCV)),
            ("noisy", .bool(summary.noisy)),
            ("spread", .object(StatFigure.all(syscalls: summary.median.syscallNames).compactMap { figure in
                summary.ranges[figure].map { (figure.key, .object([("min", .number($0.lowerBound)), ("max", .number($0.upperBound))])) }
            })),
            ("voluntary_switches_per_iteration", value(.voluntarySwitches)),
            ("involuntary_switches_per_iteration", value(.involuntarySwitches)),
            ("verification", verification.json),
            ("iterations_in_flight", .integer(verification.expectation.iterationsInFlight)),
            ("warnings", .array(warnings.map { .string($0) })),
            ("perf_sched", report["perf_sched"] ?? .null),
            ("perf_sched_note", report["perf_sched_note"] ?? .null),
        ]
        if let stacks { pairs.append(("switch_stacks", stacks.json)) }
        if let stacksNote { pairs.append(("switch_stacks_note", .string(stacksNote))) }
        pairs.append(("events", .array(output.records.map { record in
            let status: String
            switch record.value {
            case .counted: status = "counted"
            case .notSupported: status = "not supported"
            case .notCounted: status = "not counted"
            }
            return .object([
                ("event", .string(record.event)),
                ("status", .string(status)),
                ("value", .number(record.count)),
                ("unit", .string(record.unit)),
                ("running_percent", .number(record.runningPercent)),
            ])
        })))
        pairs.append(("report", report))
        return .object(pairs)
    }
}
