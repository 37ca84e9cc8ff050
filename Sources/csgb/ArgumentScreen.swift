import CSGB
import CSGBSystem

/// Catches argument shapes the parser would misread before it sees them: a negative
/// number looks like an option to swift-argument-parser ("Missing value for
/// '--duration'"), and Swift's Double(_:) takes hexadecimal ("0x10" is 16 s), "inf"
/// and "nan". Both get one line saying what is wrong and what the option accepts.
enum ArgumentScreen {
    /// What a value-taking option accepts, for the message (OptionRules holds it).
    static func accepts(_ option: String) -> String? { OptionRules.rule(option).flatMap { $0.accepts.isEmpty ? nil : $0.accepts } }

    /// Options whose value is a number of seconds, parsed as Double.
    static let seconds = OptionRules.secondsOptions

    /// Options that take no value: a number after one of them is N.
    static let flags: Set<String> = ["-s", "--sync", "--latency", "--phases", "--counters", "--inject-blocking-sleep",
                                     "--inject-closed-channel", "--inject-cold-work", "--sqpoll", "--ring-link", "--no-ring-link",
                                     "--fixed-files", "--switch-probe", "--no-switch-probe", "--"]

    /// `--counters` takes an optional value, which swift-argument-parser cannot
    /// express: a bare `--counters` becomes `--counters=thread`, and `--counters cpu`
    /// (or `thread`) one `--counters=cpu` token.
    static func normalize(_ arguments: [String]) -> [String] {
        var result: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            guard argument == "--counters" else {
                result.append(argument)
                continue
            }
            if index < arguments.count, let choice = CounterChoice(rawValue: arguments[index]) {
                result.append("--counters=\(choice.rawValue)")
                index += 1
            } else {
                result.append("--counters=thread")
            }
        }
        return result
    }

    static func check(_ arguments: [String]) throws(CSGBError) {
        for (index, argument) in arguments.enumerated() {
            let previous = index > 0 ? arguments[index - 1] : nil
            let option = previous.flatMap { $0.hasPrefix("-") && !flags.contains($0) && !isNegativeNumber($0) ? $0 : nil }
            if isNegativeNumber(argument) {
                if let option {
                    throw .usage("\(option) \(argument): negative values are not accepted; \(option) takes \(accepts(option) ?? "a value of 0 or more")")
                }
                throw .usage("N \(argument): not accepted; N takes \(OptionRules.count.accepts)")
            }
            var name = option, value = argument
            // `--duration=0x1`, and the short form `-d=0x1` the parser also takes.
            if option == nil, argument.hasPrefix("-"), let equals = argument.firstIndex(of: "=") {
                name = String(argument[..<equals])
                value = String(argument[argument.index(after: equals)...])
            }
            if let name, seconds.contains(name), !isDecimal(value) {
                throw .usage("\(name) \(value): not a decimal number; \(name) takes \(accepts(name) ?? "a decimal number")")
            }
            if let name, let rule = OptionRules.rule(name), let form = rule.form, !form(value) {
                throw .usage(rule.refusal(value))
            }
            if name == "--cpus", CPUList(parsing: value) == nil {
                throw .usage("--cpus \(value): not a CPU list; give CPU numbers and ascending ranges separated by commas (0, 0-3, 0,2) from this machine's CPUs \(machineCPUs)")
            }
        }
    }

    /// The machine's online CPUs and those this process may use, for a message.
    static var machineCPUs: String {
        let online = (try? ProcFile.read("/sys/devices/system/cpu/online"))?.trimming(.blanks) ?? "unknown"
        let allowed = (try? CPUList.allowed().description) ?? "unknown"
        return online == allowed ? online : "\(online) (this process may use \(allowed))"
    }

    /// "-1", "-0.5", "-.5", "-1e3": what a user means as a negative number. No csgb
    /// option starts with a digit, so this never hides an option.
    static func isNegativeNumber(_ text: String) -> Bool {
        let rest = text.utf8.dropFirst()
        guard text.utf8.first == UInt8(ascii: "-"), let first = rest.first else { return false }
        return (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first)
            || (first == UInt8(ascii: ".") && rest.count > 1)
    }

    /// Digits with at most one point and an optional decimal exponent: "2", "0.5",
    /// ".5", "1e-3". Not "0x10", "inf", "nan", "1_000".
    static func isDecimal(_ text: String) -> Bool {
        var mantissa = Substring(text)
        var exponent: Substring?
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = text[..<e]
            var tail = text[text.index(after: e)...]
            if tail.first == "+" || tail.first == "-" { tail = tail.dropFirst() }
            exponent = tail
        }
        if let exponent, exponent.isEmpty || !exponent.allSatisfy(\.isASCIIDigit) { return false }
        let parts = mantissa.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, parts.contains(where: { !$0.isEmpty }) else { return false }
        return parts.allSatisfy { $0.allSatisfy(\.isASCIIDigit) }
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
