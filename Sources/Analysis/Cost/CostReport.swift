import CSGB

/// What `csgb cost` prints: per switch of the kernel mode, total, direct and
/// indirect ns with their intervals; each mode's medians; and, in JSON, every
/// child run's report as it printed it.
public struct CostReport {
    public let request: CostRequest
    public let split: CostSplit
    /// ns per iteration of the user-mode switch probe, one per round that ran it.
    public let switchProbeNs: [Double]
    public let reports: [(round: Int, mode: String, report: JSON)]
    /// The signal that ended csgb cost early, nil when every round ran.
    public let stoppedBy: String?
    /// The round a stop cut (not used), nil when none was cut.
    public let cutRound: Int?

    public init(request: CostRequest, split: CostSplit, switchProbeNs: [Double],
                reports: [(round: Int, mode: String, report: JSON)], stoppedBy: String?, cutRound: Int?) {
        self.request = request
        self.split = split
        self.switchProbeNs = switchProbeNs
        self.reports = reports
        self.stoppedBy = stoppedBy
        self.cutRound = cutRound
    }

    /// The median of one figure of one side over the rounds.
    func median(_ side: KeyPath<CostRound, RunFigures>, _ figure: (RunFigures) -> Double?) -> Double? {
        let values = split.rounds.compactMap { figure($0[keyPath: side]) }
        return values.isEmpty ? nil : PairedEstimate.median(values)
    }

    public var userSwitchNs: Double? { switchProbeNs.isEmpty ? nil : PairedEstimate.median(switchProbeNs) }

    static let figures: [(key: String, label: String, value: @Sendable (RunFigures) -> Double?)] = [
        ("ns_per_iteration", "ns/iteration", { $0.nsPerIteration }),
        ("switches_per_iteration", "switches/iteration", { $0.switchesPerIteration }),
        ("work_ns_per_iteration", "work ns/iteration", { $0.workNsPerIteration }),
        ("work_alone_ns_per_iteration", "work alone ns/iteration", { $0.workAloneNsPerIteration }),
        ("handoffs_per_iteration", "hand-offs/iteration", { $0.handoffsPerIteration }),
        ("handoff_mean_ns", "hand-off mean ns", { $0.handoffMeanNs }),
        ("handoff_p50_ns", "hand-off p50 ns", { $0.handoffP50Ns }),
        ("handoff_p99_ns", "hand-off p99 ns", { $0.handoffP99Ns }),
        ("accounted_ratio", "accounted ratio", { $0.accountedRatio }),
    ]

    func medians(_ side: KeyPath<CostRound, RunFigures>) -> JSON {
        .object(Self.figures.map { ($0.key, .number(median(side, $0.value))) })
    }

    static func estimateJSON(_ name: String, _ estimate: PairedEstimate) -> [(String, JSON)] {
        [(name, .number(estimate.estimate)), (name + "_ci_low", .number(estimate.low)),
         (name + "_ci_high", .number(estimate.high)), (name + "_resolved", .bool(estimate.resolved))]
    }

    public var json: JSON {
        var pairs: [(String, JSON)] = [
            ("command", .string("csgb cost --modes \(request.kernel.rawValue),\(request.user.rawValue) --rounds \(request.rounds) -- "
                + request.workloadArguments.joined(separator: " "))),
            ("kernel_mode", .string(request.kernel.rawValue)),
            ("user_mode", .string(request.user.rawValue)),
            ("rounds_requested", .integer(request.rounds)),
            ("rounds_done", .integer(split.rounds.count)),
            ("stopped_by", stoppedBy.map { .string($0) } ?? .null),
            ("cut_round", .integer(cutRound)),
            ("interval_method", .string(PairedEstimate.method)),
            ("interval_coverage", .number(split.total.coverage)),
            ("switches_per_iteration", .number(median(\.kernel, { $0.switchesPerIteration }))),
        ]
        pairs += Self.estimateJSON("total_ns_per_switch", split.total)
        pairs += Self.estimateJSON("direct_ns_per_switch", split.direct)
        pairs += Self.estimateJSON("indirect_ns_per_switch", split.indirect)
        pairs += Self.estimateJSON("indirect_minus_direct_ns_per_switch", split.indirectMinusDirect)
        pairs += [
            ("dominant", split.dominant.map { .string($0) } ?? .null),
            ("additivity_gap_ns", .number(split.additivityGap)),
            ("user_switch_ns", .number(userSwitchNs)),
            ("user_switch_source", request.switchProbe.map { .string("csgb " + $0.joined(separator: " ")) } ?? .null),
            ("medians", .object([(request.kernel.rawValue, medians(\.kernel)), (request.user.rawValue, medians(\.user))])),
            ("per_round", .array(split.rounds.enumerated().map { index, round in
                .object([("round", .integer(index + 1)), ("total_ns_per_switch", .number(round.total)),
                         ("direct_ns_per_switch", .number(round.direct)), ("indirect_ns_per_switch", .number(round.indirect))])
            })),
            ("reports", .array(reports.map { .object([("round", .integer($0.round)), ("mode", .string($0.mode)), ("report", $0.report)]) })),
        ]
        return .object(pairs)
    }

    /// Whole nanoseconds, digits only, as every count in a report prints.
    static func whole(_ value: Double) -> String { Fmt.whole(value) }

    static func line(_ label: String, _ estimate: PairedEstimate) -> String {
        let value = whole(estimate.estimate).padded(to: 8)
        guard let low = estimate.low, let high = estimate.high else {
            return "\(label.padded(to: 10))\(value) ns   (no interval: \(estimate.count) rounds, \(PairedEstimate.minimumCount) needed)"
        }
        return "\(label.padded(to: 10))\(value) ns   [\(whole(low)), \(whole(high))]"
            + (estimate.resolved ? "" : "  not resolved (the interval includes 0)")
    }

    public var text: String {
        let k = request.kernel.rawValue, u = request.user.rawValue
        var lines = [
            "csgb cost: \(k) against \(u), \(request.workloadArguments.joined(separator: " "))",
            "rounds: \(split.rounds.count) of \(request.rounds)" + (stoppedBy.map { ", stopped by \($0)" + (cutRound.map { " in round \($0) (not used)" } ?? "") } ?? ""),
            "per switch of \(k) (\(Fmt.fixed(median(\.kernel, { $0.switchesPerIteration }), 3)) switches/iteration):",
            "  " + Self.line("total", split.total),
            "  " + Self.line("direct", split.direct),
            "  " + Self.line("indirect", split.indirect),
        ]
        if let dominant = split.dominant {
            lines.append("  dominant: \(dominant) (indirect − direct \(Self.whole(split.indirectMinusDirect.estimate)) ns, interval excludes 0)")
        } else {
            lines.append("  dominant: not resolved (the interval of indirect − direct includes 0, or too few rounds)")
        }
        if let ns = userSwitchNs {
            lines.append("  \(u) switch alone: \(Fmt.fixed(ns, 1)) ns (median of \(switchProbeNs.count): csgb \(request.switchProbe?.joined(separator: " ") ?? ""))")
        }
        lines.append("total = (ns/iteration \(k) − \(u)) ÷ \(k)'s switches/iteration; indirect = (work ns/iteration \(k) − \(u)) ÷ the same; direct = total − indirect per round")
        lines.append("interval: " + PairedEstimate.method + (split.total.coverage.map { " (exact coverage \(Fmt.fixed($0 * 100, 1)) % with \(split.total.count) rounds)" } ?? ""))
        if abs(split.additivityGap) >= 0.5 {
            lines.append("note: each estimate is taken on its own per-round values; direct + indirect − total = \(Fmt.fixed(split.additivityGap, 1)) ns")
        }
        lines.append("")
        lines.append("medians".padded(to: 26) + k.padded(to: 14) + u)
        for figure in Self.figures {
            let a = median(\.kernel, figure.value), b = median(\.user, figure.value)
            let digits = figure.key.contains("per_iteration") && figure.key.hasPrefix("switches") || figure.key.hasPrefix("handoffs") || figure.key == "accounted_ratio" ? 3 : 1
            lines.append("  " + figure.label.padded(to: 24) + Fmt.fixed(a, digits).padded(to: 14) + Fmt.fixed(b, digits))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    public func rendered(_ format: ReportFormat) -> String {
        format == .json ? json.rendered() + "\n" : text
    }
}

extension String {
    func padded(to width: Int) -> String {
        count >= width ? self + " " : self + String(repeating: " ", count: width - count)
    }
}
