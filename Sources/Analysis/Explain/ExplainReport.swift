import CSGB
/// What `csgb explain` found: each mode's ns per iteration by bucket, the
/// difference between the first and second mode by bucket, and whether the rows
/// add up to what the runs measured.
public struct ExplainReport: Sendable {
    public var workload: [String]
    public var modes: [ModeAttribution]
    /// Notes printed once: the sampled event, a missing PMU, unreliable user stacks.
    public var notes: [String] = []
    public var warnings: [String] = []
    /// Files written into the results folder, by role.
    public var files: [(String, String)] = []
    public var timelineMedianWidth: Double?

    public init(workload: [String], modes: [ModeAttribution]) {
        self.workload = workload
        self.modes = modes
    }

    /// first − second, per bucket (thread − green by default).
    public var difference: [TimeBucket: Double] {
        guard modes.count >= 2 else { return [:] }
        var rows: [TimeBucket: Double] = [:]
        for bucket in TimeBucket.allCases { rows[bucket] = (modes[0].rows[bucket] ?? 0) - (modes[1].rows[bucket] ?? 0) }
        return rows
    }

    public var modeChecks: [SumCheck] { modes.map { SumCheck(rowsSum: $0.sampledNs, measured: $0.measuredNs) } }

    /// The rows of the difference against the measured difference: the check the
    /// report states.
    public var differenceCheck: SumCheck? {
        guard modes.count >= 2 else { return nil }
        return SumCheck(rowsSum: TimeBucket.allCases.reduce(0) { $0 + (difference[$1] ?? 0) },
                        measured: modes[0].measuredNs - modes[1].measuredNs)
    }

    public var holds: Bool { differenceCheck?.holds ?? modeChecks.allSatisfy(\.holds) }

    public func rendered(_ format: ReportFormat) -> String {
        format == .json ? json.rendered() : text
    }

    var verdict: String {
        guard let check = differenceCheck else { return "" }
        let deviation = Fmt.fixed(check.deviation * 100, 1)
        if !check.holds {
            return "FLAGGED: rows sum to \(Fmt.fixed(check.rowsSum, 1)) ns, the measured difference is \(Fmt.fixed(check.measured, 1)) ns (\(deviation) %, more than 10 %): read the rows as shares, not as ns"
        }
        let off = zip(modes, modeChecks).filter { !$0.1.holds }.map(\.0.mode)
        if off.isEmpty { return "rows sum to the measured difference within 10 % (\(deviation) %), and each mode's rows to its own time" }
        return "rows sum to the measured difference within 10 % (\(deviation) %), but FLAGGED: \(off.joined(separator: " and ")) rows miss their own measured time by more than 10 % (see rows − measured): the samples saw less CPU time than the wall clock, so something else ran on these CPUs or they idled"
    }

    /// Every check: the difference and each mode's own rows.
    public var allHold: Bool { holds && modeChecks.allSatisfy(\.holds) }

    /// The table and its lines fit `TextTable.width` columns: each column is as wide
    /// as its longest cell, and free lines wrap under their first word.
    public var text: String {
        let title = "csgb explain: \(workload.joined(separator: " ")) — ns per iteration, measured window only"
        let names = modes.map(\.mode)
        let columns = names + (modes.count >= 2 ? ["\(names[0]) − \(names[1])"] : [])
        var table: [(String, [String])] = []
        let difference = self.difference
        for bucket in TimeBucket.allCases {
            var values = modes.map { Fmt.fixed($0.rows[bucket], 1) }
            if modes.count >= 2 { values.append(Fmt.fixed(difference[bucket], 1)) }
            table.append((bucket.title, values))
        }
        let checks = modeChecks
        var sums = modes.map { Fmt.fixed($0.sampledNs, 1) }
        var measured = modes.map { Fmt.fixed($0.measuredNs, 1) }
        var deviations = checks.map { Fmt.fixed($0.deviation * 100, 1) + " %" }
        if let check = differenceCheck {
            sums.append(Fmt.fixed(check.rowsSum, 1))
            measured.append(Fmt.fixed(check.measured, 1))
            deviations.append(Fmt.fixed(check.deviation * 100, 1) + " %")
        }
        table.append(("sum of rows (sampled CPU time)", sums))
        table.append(("measured ns/iteration", measured))
        table.append(("rows − measured", deviations))
        table.append(("samples", modes.map { String($0.samples) }))
        table.append(("iterations", modes.map { String($0.iterations) }))
        let labelWidth = table.map(\.0.count).max() ?? 0
        let widths = columns.indices.map { column in
            ([columns[column]] + table.compactMap { column < $0.1.count ? $0.1[column] : nil }).map(\.count).max() ?? 0
        }
        func row(_ label: String, _ values: [String]) -> String {
            label + String(repeating: " ", count: labelWidth - label.count)
                + zip(values, widths).map { String(repeating: " ", count: $1 - $0.count + 2) + $0 }.joined()
        }
        var lines = [TextTable.wrapped(title, hanging: 4), row("", columns)] + table.map { row($0.0, $0.1) }
        lines.append("")
        lines.append(TextTable.wrapped(verdict, hanging: 2))
        for note in notes { lines.append(TextTable.wrapped("note: " + note, hanging: "note: ".count)) }
        for warning in warnings { lines.append(TextTable.wrapped("warning: " + warning, hanging: "warning: ".count)) }
        if !files.isEmpty {
            lines.append("")
            lines.append(TextTable.keyValues(files))
        }
        return lines.joined(separator: "\n")
    }

    public var json: JSON {
        func rows(_ values: [TimeBucket: Double]) -> JSON {
            .object(TimeBucket.allCases.map { ($0.jsonKey, .number(values[$0])) })
        }
        let checks = modeChecks
        var pairs: [(String, JSON)] = [
            ("workload", .array(workload.map { .string($0) })),
            ("unit", .string("ns per iteration")),
            ("modes", .array(zip(modes, checks).map { mode, check in
                .object([
                    ("mode", .string(mode.mode)),
                    ("event", .string(mode.event)),
                    ("samples", .integer(mode.samples)),
                    ("iterations", .integer(mode.iterations)),
                    ("seconds", .number(mode.seconds)),
                    ("measured_ns_per_iteration", .number(mode.measuredNs)),
                    ("rows_sum_ns_per_iteration", .number(mode.sampledNs)),
                    ("rows_deviation", .number(check.deviation)),
                    ("user_stacks_rooted_share", .number(mode.rootedShare)),
                    ("rows", rows(mode.rows)),
                ])
            })),
        ]
        if let check = differenceCheck {
            pairs.append(("difference", .object([
                ("of", .string("\(modes[0].mode) - \(modes[1].mode)")),
                ("rows", rows(difference)),
                ("rows_sum_ns_per_iteration", .number(check.rowsSum)),
                ("measured_ns_per_iteration", .number(check.measured)),
                ("deviation", .number(check.deviation)),
                ("within_tolerance", .bool(check.holds)),
                ("every_mode_within_tolerance", .bool(modeChecks.allSatisfy(\.holds))),
                ("tolerance", .number(check.tolerance)),
            ])))
        }
        pairs.append(("timeline_median_interval_ms", .number(timelineMedianWidth.map { $0 * 1000 })))
        pairs.append(("notes", .array(notes.map { .string($0) })))
        pairs.append(("warnings", .array(warnings.map { .string($0) })))
        pairs.append(("files", .object(files.map { ($0.0, .string($0.1)) })))
        return .object(pairs)
    }
}
