import CSGB
import CSGBSystem

/// The expectations `csgb stat` checks, for every workload, mode and io path this
/// build has, pinned to one CPU and unpinned: generated from the same claims the
/// runs state, so the documentation's table cannot drift from the code
/// (`csgb stat --explain-rules`).
public enum RulesTable {
    public static func markdown() -> String {
        var lines = [
            "| workload | mode | io | N | CPUs | context switches / iteration | syscalls / iteration | other rules |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for workload in WorkloadRegistry.defaults {
            for mode in Mode.allCases {
                for executor in ExecutorChoice.allCases {
                    for io in IOChoice.allCases {
                        for cpus in [CPUList(parsing: "0"), nil] {
                            var configuration = RunConfiguration(workload: workload, n: 1)
                            configuration.mode = mode
                            configuration.executor = executor
                            configuration.io = io
                            configuration.placement = Placement(cpus: cpus, pinning: .set)
                            guard (try? configuration.validatePlan()) != nil else { continue }
                            if executor != ExecutorChoice.allCases[0],
                               (try? configuration.checkOptions(given: [.executor])) == nil { continue }
                            lines += rows(configuration)
                        }
                    }
                }
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// One row, or one per range of N whose rules differ: a lone pair on a
    /// worker's ring enters an exact number of times, batched enters are bounded
    /// only from N = 100, in between they are reported.
    static func rows(_ configuration: RunConfiguration) -> [String] {
        var two = configuration, large = configuration
        two.n = 2
        large.n = 100
        let one = row(configuration), some = row(two), many = row(large)
        if one == some && some == many { return [line(configuration, n: "any", one)] }
        if one == some { return [line(configuration, n: "1–99", one), line(large, n: "≥ 100", many)] }
        if some == many { return [line(configuration, n: "1", one), line(large, n: "≥ 2", many)] }
        return [line(configuration, n: "1", one), line(two, n: "2–99", some), line(large, n: "≥ 100", many)]
    }

    static func line(_ configuration: RunConfiguration, n: String, _ rules: [String]) -> String {
        let executor = configuration.reportedExecutor.map { " (\($0.rawValue) executor)" } ?? ""
        let cells = [configuration.workload.name, configuration.mode.rawValue + executor, configuration.io.rawValue, n,
                     configuration.placement.cpus.map { "one (\($0))" } ?? "unpinned"] + rules
        return "| " + cells.joined(separator: " | ") + " |"
    }

    /// The rule cells: switches, syscalls, the rest.
    static func row(_ configuration: RunConfiguration) -> [String] {
        let target = RunTarget(description: "", claims: configuration.claims)
        let rules = Expectation.derive(.auto, for: target).rules
        // A claim of no switches is judged on voluntary ones (blocking); preemption by
        // other tasks is reported, not held against the mode.
        let isSwitchRule = { (rule: ExpectationRule) in rule.figure == .contextSwitches || rule.figure == .voluntarySwitches }
        let switches = rules.first(where: isSwitchRule)
            .map { ($0.figure == .voluntarySwitches ? "voluntary " : "") + text($0.bound) } ?? "reported"
        let syscalls = rules.compactMap { rule -> String? in
            guard case .syscalls(let name) = rule.figure else { return nil }
            return "\(name) \(text(rule.bound))"
        }
        let others = rules.filter { rule in
            if case .syscalls = rule.figure { return false }
            return !isSwitchRule(rule)
        }.map { "\($0.figure.key) \(text($0.bound))" }
        return [switches, syscalls.joined(separator: ", "), others.joined(separator: ", ")]
    }

    /// A bound as the table prints it: `= 2`, `< 0.001`, `2 to 3`.
    static func text(_ bound: ExpectationRule.Bound) -> String {
        switch bound {
        case .below(let limit): return "< \(Fmt.trimmed(limit))"
        case .atLeast(let limit): return "≥ \(Fmt.trimmed(limit))"
        case .between(let low, let high): return "\(Fmt.trimmed(low)) to \(Fmt.trimmed(high))"
        case .exactly(let target, _): return "= \(Fmt.trimmed(target))"
        }
    }
}
