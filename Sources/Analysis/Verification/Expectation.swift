import CSGB
/// What ran, as the child's report says: the verification reads the report rather
/// than the command line, so it judges what actually ran. The names are only shown;
/// the rules come from the claims the run stated about itself.
public struct RunTarget: Equatable, Sendable {
    /// `socket 1 (green, dedicated executor) on CPU 0`, for the summary.
    public var description: String
    public var claims: Claims

    public init(description: String, claims: Claims) {
        self.description = description
        self.claims = claims
    }

    /// Reads a `csgb <workload> --format json` report.
    public init?(report: JSON) {
        guard let workload = report["workload"]?.stringValue, let mode = report["mode"]?.stringValue,
              let n = report["n"]?.intValue, let claims = report["claims"].flatMap(Claims.init(json:)) else { return nil }
        let qualifiers = [mode, report["executor"]?.stringValue.map { "\($0) executor" },
                          report["transport"]?.stringValue, report["io"]?.stringValue.map { "io \($0)" }].compactMap { $0 }
        let cpus = report["cpus"]?.stringValue ?? "all"
        self.init(description: "\(workload) \(n) (\(qualifiers.joined(separator: ", "))) " + (cpus == "all" ? "unpinned" : "on CPU\(cpus.contains(",") || cpus.contains("-") ? "s" : "") \(cpus)"),
                  claims: claims)
    }
}

/// One figure's rule, e.g. "context switches per iteration below 0.001".
public struct ExpectationRule: Equatable, Sendable {
    public enum Bound: Equatable, Sendable {
        case below(Double)
        case atLeast(Double)
        case between(Double, Double)
        /// target ± tolerance.
        case exactly(Double, tolerance: Double)
    }

    public var figure: StatFigure
    public var bound: Bound

    public init(_ figure: StatFigure, _ bound: Bound) {
        self.figure = figure
        self.bound = bound
    }

    /// The rule over a window of `iterations` with `inFlight` iterations under way
    /// at once. At each edge every one of them may be cut in the middle, so its
    /// syscalls and switches fall in the window while its iteration does not (or the
    /// other way round): a count per iteration may be off by up to the count of one
    /// whole iteration times inFlight / iterations. At N = 1 over 10⁵ iterations
    /// that is nothing; with 9,968 pairs doing 27 round trips each it is 4 %, and a
    /// rule that ignored it would fail a mode for its own window's edges.
    public func atEdges(inFlight: Int, iterations: UInt64) -> ExpectationRule {
        guard inFlight > 1, iterations > 0 else { return self }
        let share = Double(inFlight) / Double(iterations)
        var widened = self
        switch bound {
        // Zero has nothing under way to cut.
        case .below(let limit): widened.bound = limit <= Expectation.none ? bound : .below(limit * (1 + share))
        case .atLeast(let limit): widened.bound = .atLeast(limit * (1 - share))
        case .between(let low, let high): widened.bound = .between(low - high * share, high * (1 + share))
        case .exactly(let target, let tolerance): widened.bound = .exactly(target, tolerance: tolerance + abs(target) * share)
        }
        return widened
    }

    public func holds(_ value: Double) -> Bool {
        switch bound {
        case .below(let limit): return value < limit
        case .atLeast(let limit): return value >= limit
        case .between(let low, let high): return value >= low && value <= high
        case .exactly(let target, let tolerance): return abs(value - target) <= tolerance
        }
    }

    public var text: String {
        switch bound {
        case .below(let limit): return "< \(Self.shown(limit))"
        case .atLeast(let limit): return ">= \(Self.shown(limit))"
        case .between(let low, let high): return "in [\(Self.shown(low)), \(Self.shown(high))]"
        case .exactly(let target, let tolerance):
            return tolerance == 0 ? "= \(Self.shown(target))" : "= \(Self.shown(target)) ± \(Self.shown(tolerance))"
        }
    }
}

extension ExpectationRule {
    /// A bound to four decimals at most: a widened one is not a round number.
    static func shown(_ value: Double) -> String { Fmt.trimmed((value * 10_000).rounded() / 10_000) }
}

/// Which expectation `csgb stat --expect` checks.
public enum ExpectationChoice: String, CaseIterable, Sendable {
    /// Derived from the mode and the workload (the table in docs/verification.md).
    case auto
    /// The auto rules, with context switches forced below 0.001 per iteration.
    case noSwitches = "no-switches"
    /// The auto rules, with context switches forced to at least 1 per iteration.
    case switching
}

/// The claims a run must satisfy for its mode to have done what it says.
public struct Expectation: Equatable, Sendable {
    /// What is expected, in words, for the report.
    public var summary: String
    public var rules: [ExpectationRule]
    /// Iterations under way at once, as the run states it (`Claims.iterationsInFlight`).
    public var iterationsInFlight = 1

    /// "Zero" for a rate per iteration: a few syscalls or switches at the window's
    /// edges (the coordinator waking, perf's fifo handshake) must not fail a run of
    /// millions of iterations, and a real leak is far above this.
    public static let none = 0.001
    public static let edgeTolerance = Claims.edgeTolerance

    public init(summary: String, rules: [ExpectationRule]) {
        self.summary = summary
        self.rules = rules
    }

    public static func derive(_ choice: ExpectationChoice, for target: RunTarget) -> Expectation {
        let claims = target.claims
        var summary = claims.reasons
        var rules: [ExpectationRule] = []
        var switchRule: ExpectationRule.Bound?
        switch claims.switches {
        case .none?: switchRule = .below(none)
        case let .between(low, high)?: switchRule = .between(low, high)
        case nil: break
        }
        for (name, count) in claims.exactSyscalls.sorted(by: { $0.key < $1.key }) {
            rules.append(ExpectationRule(.syscalls(name), .exactly(count, tolerance: edgeTolerance)))
        }
        for (name, limit) in claims.boundedSyscalls.sorted(by: { $0.key < $1.key }) {
            rules.append(ExpectationRule(.syscalls(name), .below(limit)))
        }
        rules += claims.absentSyscalls.map { ExpectationRule(.syscalls($0), .below(none)) }

        switch choice {
        case .auto: break
        case .noSwitches:
            switchRule = .below(none)
            summary.append("forced: no switches")
        case .switching:
            switchRule = .atLeast(1)
            summary.append("forced: switching")
        }
        // "No switches" is about blocking: a thread that blocked switched
        // voluntarily. A neighbour preempting the run's thread is an involuntary
        // switch, no act of the mode; the report warns about those instead.
        if let switchRule {
            let figure: StatFigure = switchRule == .below(none) ? .voluntarySwitches : .contextSwitches
            rules.insert(ExpectationRule(figure, switchRule), at: 0)
        }
        if claims.noEAGAIN { rules.append(ExpectationRule(.eagain, .exactly(0, tolerance: 0))) }
        // In every mode: an actor whose read or write failed before the stop did not
        // run the window it claims to have run.
        rules.append(ExpectationRule(.failedTransfers, .exactly(0, tolerance: 0)))
        if summary.isEmpty { summary.append("no rules: figures only reported") }
        var expectation = Expectation(summary: "\(target.description): " + summary.joined(separator: "; "), rules: rules)
        expectation.iterationsInFlight = claims.iterationsInFlight
        return expectation
    }
}

/// The outcome of one rule over every run of a `csgb stat`.
public struct ExpectationCheck: Equatable, Sendable {
    public var rule: ExpectationRule
    /// The value judged: the first run that broke the rule, else the median.
    public var value: Double?
    /// Which run broke it (0-based), when one did.
    public var brokenRun: Int?
    public var holds: Bool
    /// Why there is no value, when there is none.
    public var note: String?

    /// One line: `context switches/iteration 2.4981 in [2, 3]: ok`.
    public var text: String {
        let shown = value.map { Fmt.fixed($0, rule.figure.digits) } ?? (note ?? "not measured")
        let run = brokenRun.map { " (run \($0 + 1))" } ?? ""
        return "\(rule.figure.label) \(shown) \(rule.text)\(run): \(holds ? "ok" : "BROKEN")"
    }
}

/// The verdict of a `csgb stat`.
public struct Verification: Equatable, Sendable {
    public var expectation: Expectation
    public var checks: [ExpectationCheck]

    public var holds: Bool { checks.allSatisfy(\.holds) }
    public var broken: [ExpectationCheck] { checks.filter { !$0.holds } }

    /// Checks every rule against every run. A figure nobody could measure breaks
    /// its rule: an unverifiable claim is not a verified one.
    public init(expectation: Expectation, runs: [StatFigures], median: StatFigures) {
        self.expectation = expectation
        let inFlight = expectation.iterationsInFlight
        checks = expectation.rules.map { base in
            for (index, run) in runs.enumerated() {
                let rule = base.atEdges(inFlight: inFlight, iterations: run.iterations)
                guard let value = run.value(rule.figure) else {
                    return ExpectationCheck(rule: rule, value: nil, brokenRun: runs.count > 1 ? index : nil, holds: false,
                                            note: run.missingReason(rule.figure))
                }
                if !rule.holds(value) {
                    return ExpectationCheck(rule: rule, value: value, brokenRun: runs.count > 1 ? index : nil, holds: false)
                }
            }
            let widest = runs.map(\.iterations).min() ?? median.iterations
            return ExpectationCheck(rule: base.atEdges(inFlight: inFlight, iterations: widest), value: median.value(base.figure), holds: true)
        }
    }

    /// The line for stderr and the exit: which figure broke the expectation.
    public var failureMessage: String {
        let parts = broken.map { check in
            "\(check.rule.figure.key) = \(check.value.map { Fmt.fixed($0, check.rule.figure.digits) } ?? check.note ?? "not measured"), expected \(check.rule.text)"
        }
        return "verification failed: " + parts.joined(separator: "; ")
    }

    public var json: JSON {
        .object([
            ("expectation", .string(expectation.summary)),
            ("holds", .bool(holds)),
            ("broken", broken.first.map { .string($0.rule.figure.key) } ?? .null),
            ("checks", .array(checks.map { check in
                .object([
                    ("figure", .string(check.rule.figure.key)),
                    ("rule", .string(check.rule.text)),
                    ("value", .number(check.value)),
                    ("holds", .bool(check.holds)),
                    ("run", .integer(check.brokenRun.map { $0 + 1 })),
                ])
            })),
        ])
    }
}
