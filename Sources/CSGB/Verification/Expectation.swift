/// What ran, as the child's report says: the verification reads the report rather
/// than the command line, so it judges what actually ran.
public struct RunTarget: Equatable, Sendable {
    public var workload: String
    public var mode: String
    /// `dedicated` or `global` in async mode, nil otherwise.
    public var executor: String?
    public var n: Int
    /// The CPUs of `--cpus`; nil when unpinned.
    public var cpus: [Int32]?

    public init(workload: String, mode: String, executor: String? = nil, n: Int, cpus: [Int32]?) {
        self.workload = workload
        self.mode = mode
        self.executor = executor
        self.n = n
        self.cpus = cpus
    }

    /// Reads the fields of a `csgb <workload> --format json` report.
    public init?(report: JSON) {
        guard let workload = report["workload"]?.stringValue, let mode = report["mode"]?.stringValue,
              let n = report["n"]?.intValue else { return nil }
        let cpus = report["cpus"]?.stringValue
        self.init(workload: workload, mode: mode, executor: report["executor"]?.stringValue, n: Int(n),
                  cpus: cpus == nil || cpus == "all" ? nil : CPUList(parsing: cpus!)?.cpus)
    }

    /// Every OS thread of the run shares one CPU, so the kernel must switch to
    /// hand the byte over.
    public var onOneCPU: Bool { cpus?.count == 1 }

    /// Green threads, or tasks on csgb's own one-thread executors: user-mode
    /// switches only, so the kernel should not switch at all.
    public var switchesInUserMode: Bool {
        mode == "green" || mode == "uring" || (mode == "async" && executor != "global")
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
        case .below(let limit): return "< \(Fmt.trimmed(limit))"
        case .atLeast(let limit): return ">= \(Fmt.trimmed(limit))"
        case .between(let low, let high): return "in [\(Fmt.trimmed(low)), \(Fmt.trimmed(high))]"
        case .exactly(let target, let tolerance):
            return tolerance == 0 ? "= \(Fmt.trimmed(target))" : "= \(Fmt.trimmed(target)) ± \(Fmt.trimmed(tolerance))"
        }
    }
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

    /// "Zero" for a rate per iteration: a few syscalls or switches at the window's
    /// edges (the coordinator waking, perf's fifo handshake) must not fail a run of
    /// millions of iterations, and a real leak is far above this.
    public static let none = 0.001
    /// Exact syscall counts per iteration may be off by this much: the window's
    /// edges cut one round trip in the middle, and the coordinator's own fifo
    /// write and read land in the window.
    public static let edgeTolerance = 0.01

    public init(summary: String, rules: [ExpectationRule]) {
        self.summary = summary
        self.rules = rules
    }

    public static func derive(_ choice: ExpectationChoice, for target: RunTarget) -> Expectation {
        var summary: [String] = []
        var rules: [ExpectationRule] = []
        let switches = StatFigure.contextSwitches
        var switchRule: ExpectationRule.Bound?

        switch target.workload {
        case "socket":
            rules += [
                ExpectationRule(.syscalls("read"), .exactly(2, tolerance: edgeTolerance)),
                ExpectationRule(.syscalls("write"), .exactly(2, tolerance: edgeTolerance)),
            ]
            summary.append("2 reads and 2 writes per round trip")
            if target.mode == "async" && !target.switchesInUserMode {
                // Swift's global pool parks its threads on futexes and hops tasks
                // between threads: no claim about switches, epoll or futex.
                summary.append("global executor: switches allowed")
            } else {
                rules += ["epoll_wait", "epoll_pwait", "futex"].map { ExpectationRule(.syscalls($0), .below(none)) }
                summary.append("no epoll, no futex")
                if target.switchesInUserMode {
                    switchRule = .below(none)
                    summary.append("user-mode switches only")
                } else if target.onOneCPU {
                    // Each side blocks in read once per round trip; a preemption
                    // now and then adds a fraction.
                    switchRule = .between(2, 3)
                    summary.append("kernel threads on one CPU: 2 to 3 switches")
                } else {
                    summary.append("kernel threads on several CPUs: switches only reported")
                }
            }
        case "yield":
            if target.switchesInUserMode {
                switchRule = .below(none)
                summary.append("user-mode yields: no switches")
            } else if target.mode == "thread" {
                rules.append(ExpectationRule(.syscalls("sched_yield"), .exactly(1, tolerance: edgeTolerance)))
                summary.append("one sched_yield per iteration; switches only reported")
            } else {
                summary.append("global executor: switches allowed")
            }
        case "futex":
            if target.onOneCPU {
                switchRule = .atLeast(1)
                summary.append("kernel threads on one CPU: switching")
            } else {
                summary.append("futex on several CPUs: switches only reported")
            }
        default:
            summary.append("no rules for this workload: figures only reported")
        }

        switch choice {
        case .auto: break
        case .noSwitches:
            switchRule = .below(none)
            summary.append("forced: no switches")
        case .switching:
            switchRule = .atLeast(1)
            summary.append("forced: switching")
        }
        if let switchRule { rules.insert(ExpectationRule(switches, switchRule), at: 0) }
        if target.mode != "thread" {
            // Green and async read only after the peer wrote: an EAGAIN is a bug.
            rules.append(ExpectationRule(.eagain, .exactly(0, tolerance: 0)))
        }
        let what = "\(target.mode)\(target.executor.map { " (\($0) executor)" } ?? "") \(target.workload) "
            + (target.cpus.map { "on CPU\($0.count == 1 ? "" : "s") \(CPUList(cpus: $0))" } ?? "unpinned")
        return Expectation(summary: "\(what): " + summary.joined(separator: "; "), rules: rules)
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
        checks = expectation.rules.map { rule in
            for (index, run) in runs.enumerated() {
                guard let value = run.value(rule.figure) else {
                    return ExpectationCheck(rule: rule, value: nil, brokenRun: runs.count > 1 ? index : nil, holds: false,
                                            note: run.missingReason(rule.figure))
                }
                if !rule.holds(value) {
                    return ExpectationCheck(rule: rule, value: value, brokenRun: runs.count > 1 ? index : nil, holds: false)
                }
            }
            return ExpectationCheck(rule: rule, value: median.value(rule.figure), holds: true)
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

extension Fmt {
    /// A bound as people write it: 2, 0.001, 2.5.
    static func trimmed(_ value: Double) -> String {
        if value == value.rounded() && abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }
}
