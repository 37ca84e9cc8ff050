import CSGB
import CSGBSystem

/// The rule of one value-taking option: what its value may be (for the one-line
/// refusal and the help), its range where it has one (for validation), and the
/// form check for values the parser would only call "invalid".
struct OptionRule: Sendable {
    /// The long name first, then the short one if any.
    let names: [String]
    /// What the value may be, as a message ends: "--x takes <accepts>".
    let accepts: String
    /// The accepted range of a number, checked by validation with this same text.
    var range: ClosedRange<Double>? = nil
    /// Whether the lower bound itself is refused (`--duration` must be above 0).
    var excludesLowerBound = false
    /// The value's form; nil where the parser's type decides and says it well.
    var form: (@Sendable (String) -> Bool)? = nil

    var name: String { names[0] }

    /// Refusal of a number outside the range, or nil when it is inside.
    func outOfRange(_ value: Double) -> String? {
        guard let range else { return nil }
        let inside = range.contains(value) && !(excludesLowerBound && value == range.lowerBound)
        return inside ? nil : "\(name) \(Fmt.trimmed(value)): out of range; \(name) takes \(accepts)"
    }

    /// The refusal of a value of the wrong form.
    func refusal(_ value: String) -> String { "\(name) \(value): not accepted; \(name) takes \(accepts)" }
}

/// Every value-taking option's rule, in one table: ArgumentScreen's messages, the
/// parser's refusals rewritten to name the accepted forms, the validation of ranges,
/// and the help strings that state a limit all read it.
enum OptionRules {
    static let byteSuffixes = "suffixes K, M, G for KiB, MiB, GiB; a whole number, no KB, MiB, T or fractions"

    static let duration = OptionRule(names: ["--duration", "-d"],
                                     accepts: "a decimal number of seconds above 0 and at most 86400 (one day)",
                                     range: 0...86_400, excludesLowerBound: true)
    static let warmup = OptionRule(names: ["--warmup"], accepts: "a decimal number of seconds from 0 to 3600", range: 0...3_600)
    static let workers = OptionRule(names: ["--workers", "-w"], accepts: "a count of worker threads from 1 to 4096",
                                    range: 1...4_096)
    static let workSize = OptionRule(names: ["--work-size"],
                                     accepts: "a byte count from 0 to 64G per actor (\(byteSuffixes)), such as 4096, 64K or 1M",
                                     range: 0...Double(1 << 36), form: { ByteSize(parsing: $0) != nil })
    static let stride = OptionRule(names: ["--stride"], accepts: "a byte count of at least 1 (\(byteSuffixes))",
                                   range: 1...Double(Int.max), form: { ByteSize(parsing: $0) != nil })
    static let stackSize = OptionRule(names: ["--stack-size"],
                                      accepts: "a byte count, a multiple of 4096 from 16K to 1G (\(byteSuffixes))",
                                      form: { ByteSize(parsing: $0) != nil })
    static let ringEntries = OptionRule(names: ["--ring-entries"],
                                        accepts: "a power of two of submission queue entries from 1 to 32768",
                                        range: 1...32_768, form: { Int($0) != nil })
    static let sched = OptionRule(names: ["--sched"], accepts: SchedulingPolicy.acceptedForms,
                                  form: { SchedulingPolicy(parsing: $0) != nil })
    static let cpus = OptionRule(names: ["--cpus"], accepts: "a list of CPUs such as 0, 0-3 or 0,2")
    static let count = OptionRule(names: ["<count>", "N"],
                                  accepts: "a whole number from 1 to \(WorkloadCount.ceiling) (no exponent or separators), or max",
                                  range: 1...Double(WorkloadCount.ceiling), form: { WorkloadCount(argument: $0) != nil })

    static let all: [OptionRule] = [
        duration, warmup, workers, workSize, stride, stackSize, ringEntries, sched, cpus, count,
        OptionRule(names: ["--seconds"], accepts: "a decimal number of seconds from 0.01 to 600"),
        OptionRule(names: ["--timeline-seconds"], accepts: "a decimal number of seconds from 0.01 to 60"),
        OptionRule(names: ["--repeat"], accepts: "a count of runs from 1 to 100"),
        OptionRule(names: ["--rounds"], accepts: "a count of rounds from 1 to 50"),
        OptionRule(names: ["--ring-setup"], accepts: "none or a list such as single-issuer,defer-taskrun"),
        OptionRule(names: ["--format"], accepts: "text, json or csv (csgb info: text or json)"),
    ]

    static func rule(_ name: String) -> OptionRule? { all.first { $0.names.contains(name) } }

    /// The parser's "The value 'X' is invalid for '--opt <name>'" as one line naming
    /// what the option takes; nil for any other message, or an option without a rule.
    static func rewrite(parserMessage message: String) -> String? {
        let head = "The value '", middle = "' is invalid for '"
        guard message.hasPrefix(head) else { return nil }
        let rest = message.dropFirst(head.count)
        var split: Substring.Index?
        var index = rest.startIndex
        while index < rest.endIndex {
            if rest[index...].hasPrefix(middle) { split = index }
            index = rest.index(after: index)
        }
        guard let split else { return nil }
        let value = String(rest[..<split])
        let tail = rest[rest.index(split, offsetBy: middle.count)...]
        guard let close = tail.firstIndex(of: "'") else { return nil }
        let option = String(tail[..<close].split(separator: " ").first ?? "")
        guard let rule = rule(option) else { return nil }
        return option == "<count>" ? "N \(value): not accepted; N takes \(rule.accepts)" : rule.refusal(value)
    }
}
