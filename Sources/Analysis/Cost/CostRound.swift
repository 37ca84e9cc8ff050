import CSGB

/// The figures `csgb cost` takes from one run's JSON report (`--phases --format json`).
public struct RunFigures: Equatable, Sendable {
    public var nsPerIteration: Double
    /// Context switches (voluntary + involuntary, getrusage) per iteration.
    public var switchesPerIteration: Double
    /// `phases_work_ns_per_iteration`: time in `touch` per iteration.
    public var workNsPerIteration: Double
    /// `phases_work_alone_ns_per_iteration`: the same work timed before the gate, warm.
    public var workAloneNsPerIteration: Double?
    public var handoffMeanNs: Double?
    public var handoffP50Ns: Double?
    public var handoffP99Ns: Double?
    public var handoffsPerIteration: Double?
    public var accountedRatio: Double?

    public init(nsPerIteration: Double, switchesPerIteration: Double, workNsPerIteration: Double,
                workAloneNsPerIteration: Double? = nil, handoffMeanNs: Double? = nil, handoffP50Ns: Double? = nil,
                handoffP99Ns: Double? = nil, handoffsPerIteration: Double? = nil, accountedRatio: Double? = nil) {
        self.nsPerIteration = nsPerIteration
        self.switchesPerIteration = switchesPerIteration
        self.workNsPerIteration = workNsPerIteration
        self.workAloneNsPerIteration = workAloneNsPerIteration
        self.handoffMeanNs = handoffMeanNs
        self.handoffP50Ns = handoffP50Ns
        self.handoffP99Ns = handoffP99Ns
        self.handoffsPerIteration = handoffsPerIteration
        self.accountedRatio = accountedRatio
    }

    /// Reads a report; throws a one-line reason when a figure the split needs is
    /// missing (a run without `--phases`, or one that counted no iteration).
    public init(report: JSON) throws(CSGBError) {
        func number(_ key: String) -> Double? { report[key]?.doubleValue }
        guard let ns = number("ns_per_iteration"), ns > 0 else {
            throw .limit("a run of csgb cost measured no iteration (ns_per_iteration is null): \(Self.describe(report)): "
                + "\(report["iterations"]?.intValue ?? 0) iterations in \(report["seconds"]?.doubleValue ?? 0) s, stopped by "
                + "\(report["stopped_by"]?.stringValue ?? "?"), warm-up \(report["warmup_seconds"]?.doubleValue ?? 0) s"
                + (report["warmup_note"]?.stringValue.map { " (\($0))" } ?? "") + (report["suspension"]?.stringValue.map { "; \($0)" } ?? ""))
        }
        guard report["phases"]?.boolValue == true, let work = number("phases_work_ns_per_iteration") else {
            throw .limit("a run of csgb cost has no --phases figures (phases_work_ns_per_iteration): \(Self.describe(report))")
        }
        self.init(nsPerIteration: ns,
                  switchesPerIteration: (number("voluntary_switches_per_iteration") ?? 0) + (number("involuntary_switches_per_iteration") ?? 0),
                  workNsPerIteration: work,
                  workAloneNsPerIteration: number("phases_work_alone_ns_per_iteration"),
                  handoffMeanNs: number("phases_handoff_mean_ns"),
                  handoffP50Ns: number("phases_handoff_p50_ns"),
                  handoffP99Ns: number("phases_handoff_p99_ns"),
                  handoffsPerIteration: number("phases_handoffs_per_iteration"),
                  accountedRatio: number("phases_accounted_ratio"))
    }

    static func describe(_ report: JSON) -> String {
        "\(report["workload"]?.stringValue ?? "?") \(report["n"]?.intValue.map(String.init) ?? "?") --mode \(report["mode"]?.stringValue ?? "?")"
    }
}

/// One round of `csgb cost`: a run of the kernel-switching mode K and one of the
/// comparison mode U, next to each other in time, so their differences pair up.
public struct CostRound: Equatable, Sendable {
    public var kernel: RunFigures
    public var user: RunFigures

    public init(kernel: RunFigures, user: RunFigures) {
        self.kernel = kernel
        self.user = user
    }

    /// (ns/iteration K − U) ÷ K's switches per iteration: everything K's switching
    /// adds, per switch. nil when K did not switch.
    public var total: Double? {
        guard kernel.switchesPerIteration > 0 else { return nil }
        return (kernel.nsPerIteration - user.nsPerIteration) / kernel.switchesPerIteration
    }

    /// (work ns/iteration K − U) ÷ the same switches: how much slower the actors' own
    /// work ran after K's switches than after U's (cold caches and TLB), per switch.
    public var indirect: Double? {
        guard kernel.switchesPerIteration > 0 else { return nil }
        return (kernel.workNsPerIteration - user.workNsPerIteration) / kernel.switchesPerIteration
    }

    /// total − indirect: the switch path itself (scheduler, wake-up, the switch, and
    /// the slower syscalls around it), per switch.
    public var direct: Double? {
        guard let total, let indirect else { return nil }
        return total - indirect
    }
}

/// The split of rounds into total, direct and indirect ns per switch, each with its
/// interval (PairedEstimate), and which part dominates.
public struct CostSplit: Sendable {
    public let rounds: [CostRound]
    public let total: PairedEstimate
    public let direct: PairedEstimate
    public let indirect: PairedEstimate
    /// indirect − direct per round: positive when the indirect part is the larger.
    public let indirectMinusDirect: PairedEstimate

    public init(_ rounds: [CostRound]) {
        self.rounds = rounds
        let usable = rounds.filter { $0.total != nil }
        total = PairedEstimate(usable.compactMap(\.total))
        indirect = PairedEstimate(usable.compactMap(\.indirect))
        direct = PairedEstimate(usable.compactMap(\.direct))
        indirectMinusDirect = PairedEstimate(usable.compactMap { round in
            round.indirect.flatMap { indirect in round.direct.map { indirect - $0 } }
        })
    }

    /// "indirect" or "direct" when the interval of their per-round difference
    /// excludes 0, nil when it does not (or there are too few rounds).
    public var dominant: String? {
        guard indirectMinusDirect.resolved else { return nil }
        return indirectMinusDirect.estimate > 0 ? "indirect" : "direct"
    }

    /// The three estimates are each the Hodges–Lehmann estimate of their own
    /// per-round values, which is not linear: direct + indirect may miss total by a
    /// little. This is by how much.
    public var additivityGap: Double { direct.estimate + indirect.estimate - total.estimate }
}
