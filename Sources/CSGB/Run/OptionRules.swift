import CSGBSystem

/// What an option needs of the rest of the run to mean anything: given without it,
/// the option would be accepted and then do nothing, or something the user did not
/// ask for, so the run refuses it with the reason. The same declaration gives the
/// help its "With …:" and `csgb info` its per-mode facts.
public enum OptionNeed: Sendable {
    /// A work buffer (`--work-size` above 0).
    case workSize
    /// A ring (`--io uring`).
    case ring
    /// Pinned CPUs (`--cpus`).
    case cpus
    /// A mode that gives the option its meaning: asked of the mode's traits.
    case mode(ModeOption)
    /// Every OS thread that carries actors started by the run (not Swift's pool).
    case ownedThreads
    /// The actors inside csgb's own process.
    case actorsInThisProcess

    /// Why the option cannot be given to `configuration`, without the option's name
    /// (the run puts it in front); nil when the need is met.
    public func reason(_ configuration: RunConfiguration) -> String? {
        switch self {
        case .workSize:
            return configuration.workSize == 0 ? "applies to --work-size: without a work size nothing is touched" : nil
        case .ring:
            return configuration.io == .direct ? "applies to --io uring only: --io direct has no ring" : nil
        case .cpus:
            return configuration.placement.cpus == nil ? "needs --cpus LIST" : nil
        case .mode(let option):
            return configuration.mode.traits.refusal(option, configuration)
        case .ownedThreads:
            return configuration.ownsItsThreads ? nil
                : "sets the threads that carry actors, and this run's actors also run on threads csgb does not own (Swift's global executor); use --executor dedicated"
        case .actorsInThisProcess:
            return configuration.actorsInThisProcess ? nil
                : "counts csgb's own threads and getrusage, and the actors of --mode \(configuration.mode.rawValue) are other processes; csgb stat counts the whole process tree"
        }
    }

    /// Whether the need depends on the mode (and so belongs to a mode's facts).
    var isTheMode: Bool {
        switch self {
        case .mode, .ownedThreads, .actorsInThisProcess: return true
        case .workSize, .ring, .cpus: return false
        }
    }
}

/// The rule of one option: what its value may be (for the one-line refusal and the
/// help), its range where it has one, the form check for values the parser would
/// only call "invalid", what it needs of the rest of the run, and the refusals of a
/// whole plan that concern it.
public struct OptionRule: Sendable {
    /// The long name first, then the short one or the inverted flag if any.
    public let names: [String]
    /// What the value may be, as a message ends: "--x takes <accepts>"; empty for a flag.
    public var accepts = ""
    /// The accepted range of a number, checked by validation with this same text.
    public var range: ClosedRange<Double>? = nil
    /// Whether the lower bound itself is refused (`--duration` must be above 0).
    public var excludesLowerBound = false
    /// A number of seconds: the screen refuses what Swift's Double(_:) would read
    /// but a person would not write (hexadecimal, inf, nan).
    public var seconds = false
    /// The value's form; nil where the parser's type decides and says it well.
    public var form: (@Sendable (String) -> Bool)? = nil
    /// What the option needs of the rest of the run when it is given.
    public var needs: [OptionNeed] = []
    /// A refusal that depends on the value given (`--counters cpu`), or nil.
    public var given: (@Sendable (_ value: String, RunConfiguration) -> String?)? = nil
    /// The refusal of a plan that concerns this option, checked for every run before
    /// anything exists (whether or not the option was given on a command line).
    public var plan: (@Sendable (RunConfiguration) -> String?)? = nil

    public var name: String { names[0] }

    /// Refusal of a number outside the range, or nil when it is inside.
    public func outOfRange(_ value: Double) -> String? {
        guard let range else { return nil }
        let inside = range.contains(value) && !(excludesLowerBound && value == range.lowerBound)
        return inside ? nil : "\(name) \(Fmt.trimmed(value)): out of range; \(name) takes \(accepts)"
    }

    /// The refusal of a value of the wrong form.
    public func refusal(_ value: String) -> String { "\(name) \(value): not accepted; \(name) takes \(accepts)" }

    /// `text` as the option's help: what it needs first ("With --io uring: ", and
    /// any condition `also` adds), and the modes that refuse it last, all from the
    /// declaration.
    public func help(also: [String] = [], _ text: String) -> String {
        var prefix: [String] = []
        var suffix = ""
        for need in needs {
            switch need {
            case .workSize: prefix.append("--work-size")
            case .ring: prefix.append("--io uring")
            case .cpus: prefix.append("--cpus")
            case .mode(let option):
                let taking = Mode.allCases.filter { $0.refusal(option) == nil }
                let refusing = Mode.allCases.filter { $0.refusal(option) != nil }
                if refusing.count < taking.count {
                    suffix = " Not with --mode \(Mode.spoken(refusing))."
                } else {
                    prefix.append("--mode \(Mode.spoken(taking))")
                }
            case .ownedThreads, .actorsInThisProcess: break
            }
        }
        prefix += also
        return (prefix.isEmpty ? "" : "With \(prefix.joined(separator: " and ")): ") + text + suffix
    }
}

extension Mode {
    /// "a", "a or b", "a, b or c", for help texts.
    public static func spoken(_ modes: [Mode]) -> String {
        let names = modes.map(\.rawValue)
        guard names.count > 1 else { return names.first ?? "" }
        return names.dropLast().joined(separator: ", ") + " or " + names.last!
    }
}

/// Every option's rule, in one table: the argument screen's messages, the parser's
/// refusals rewritten to name the accepted forms, the validation of ranges, the
/// refusal of an option the rest of the run gives no meaning, the refusals of a
/// plan, the help strings and `csgb info`'s per-mode facts all read it. An option
/// whose meaning is a mode's is refused through that mode's traits
/// (`ModeTraits.refusal(_:_:)`), so nothing here names a mode.
public enum OptionRules {
    static let byteSuffixes = "suffixes K, M, G for KiB, MiB, GiB; a whole number, no KB, MiB, T or fractions"
    static let noTransfers: @Sendable (RunConfiguration) -> Bool = { configuration in
        !configuration.workload.scripts(touches: false).joined().contains { $0 == .read || $0 == .write }
    }

    /// The N csgb accepts at most, whatever the limits.
    public static let countCeiling = 1_000_000

    public static let duration = OptionRule(names: ["--duration", "-d"],
                                            accepts: "a decimal number of seconds above 0 and at most 86400 (one day)",
                                            range: 0...86_400, excludesLowerBound: true, seconds: true)
    public static let warmup = OptionRule(names: ["--warmup"], accepts: "a decimal number of seconds from 0 to 3600",
                                          range: 0...3_600, seconds: true)
    public static let workers = OptionRule(names: ["--workers", "-w"], accepts: "a count of worker threads from 1 to 4096",
                                           range: 1...4_096, needs: [.mode(.workers)], given: { value, configuration in
        // Both ends of a pair share a worker, so a worker beyond the number of pairs
        // (or yielding actors) would carry nothing and only cost its start-up.
        guard let workers = Int(value), workers > configuration.n else { return nil }
        let units = configuration.n, unit = type(of: configuration.workload).command.unit
        return "--workers \(workers) is more than the \(units) \(unit)\(units == 1 ? "" : "s") to spread over them; at most \(units) (the others would sit idle)"
    })
    public static let workSize = OptionRule(names: ["--work-size"],
                                            accepts: "a byte count from 0 to 64G per actor (\(byteSuffixes)), such as 4096, 64K or 1M",
                                            range: 0...Double(1 << 36), form: { ByteSize(parsing: $0) != nil })
    public static let stride = OptionRule(names: ["--stride"], accepts: "a byte count of at least 1 (\(byteSuffixes))",
                                          range: 1...Double(Int.max), form: { ByteSize(parsing: $0) != nil }, needs: [.workSize])
    public static let access = OptionRule(names: ["--access"], needs: [.workSize], plan: { configuration in
        configuration.workSize > 0 ? configuration.access.refusal(size: configuration.workSize, stride: configuration.stride) : nil
    })
    public static let stackSize = OptionRule(names: ["--stack-size"],
                                             accepts: "a byte count, a multiple of 4096 from 16K to 1G (\(byteSuffixes))",
                                             form: { ByteSize(parsing: $0) != nil }, needs: [.mode(.stackSize)])
    public static let executor = OptionRule(names: ["--executor"], needs: [.mode(.executor)])
    public static let latency = OptionRule(names: ["--latency"], needs: [.mode(.latency)])
    public static let io = OptionRule(names: ["--io"], plan: { configuration in
        guard configuration.io == .uring else { return nil }
        // A ring carries reads and writes; a workload without them would run on no
        // ring while its report said "io uring".
        if noTransfers(configuration) {
            return "--io uring puts reads and writes on a ring, and \(configuration.workload.name) makes none; leave out --io uring (and its ring options)"
        }
        // A ring is owned by the thread that submits to it: actors on a runtime's
        // threads (Swift's global executor) have no such thread.
        if !configuration.ownsItsThreads {
            return "--io uring needs worker threads the run owns to carry its rings, and this run's actors run on threads it does not own (--executor global); use --executor dedicated"
        }
        return nil
    })
    public static let syscalls = OptionRule(names: ["--syscalls"], plan: { configuration in
        guard configuration.syscalls == .sendRecv else { return nil }
        guard let transport = configuration.workload.transport else {
            return "--syscalls applies to workloads that move bytes; \(configuration.workload.name) makes no read or write"
        }
        return transport == .pipe
            ? "--syscalls send-recv needs a socket: pipes take read(2) and write(2) only (use --transport unix or tcp)" : nil
    })
    public static let ringEntries = OptionRule(names: ["--ring-entries"],
                                               accepts: "a power of two of submission queue entries from 1 to 32768",
                                               range: 1...32_768, form: { Int($0) != nil }, needs: [.ring])
    public static let sqpoll = OptionRule(names: ["--sqpoll"], needs: [.ring], plan: { configuration in
        guard configuration.pollsSubmissions else { return nil }
        return configuration.mode.traits.pollerRefusal(actors: configuration.workload.actors(n: configuration.n), configuration)
    })
    public static let fixedFiles = OptionRule(names: ["--fixed-files"], needs: [.ring])
    public static let ringSetup = OptionRule(names: ["--ring-setup"], accepts: "none or a list such as single-issuer,defer-taskrun",
                                             needs: [.ring], plan: { configuration in
        configuration.io == .uring ? configuration.ring.setupRefusal() : nil
    })
    public static let ringLink = OptionRule(names: ["--ring-link", "--no-ring-link"], needs: [.ring], plan: { configuration in
        guard configuration.io == .uring, configuration.ring.link == true else { return nil }
        if let reason = configuration.mode.traits.ringLinkRefusal(configuration) { return "--ring-link: \(reason)" }
        if configuration.ring.sqpoll {
            return "--ring-link with --sqpoll: linked write→read chains submitted by the SQ poller fail transfers here (actors stop on a failed read); leave out --ring-link, --sqpoll turns it off"
        }
        return nil
    })
    public static let sched = OptionRule(names: ["--sched"], accepts: SchedulingPolicy.acceptedForms,
                                         form: { SchedulingPolicy(parsing: $0) != nil }, needs: [.ownedThreads])
    public static let spec = OptionRule(names: ["--spec"], needs: [.ownedThreads])
    public static let cpus = OptionRule(names: ["--cpus"], accepts: "a list of CPUs such as 0, 0-3 or 0,2")
    public static let pin = OptionRule(names: ["--pin"], needs: [.cpus])
    public static let counters = OptionRule(names: ["--counters"], needs: [.actorsInThisProcess], given: { value, configuration in
        guard value == "cpu" else { return nil }
        if configuration.placement.cpus == nil {
            return "--counters cpu counts the CPUs the run is pinned to: give them with --cpus LIST"
        }
        return configuration.ownsItsThreads ? nil
            : "--counters cpu needs every thread of the run pinned, and this run's actors also run on threads csgb does not own; use --counters thread"
    })
    public static let injectColdWork = OptionRule(names: ["--inject-cold-work"], plan: { configuration in
        guard configuration.injectColdWork else { return nil }
        if configuration.workSize == 0 { return "--inject-cold-work evicts the work buffer, and there is none: give --work-size" }
        return CacheEviction.isSupported ? nil : "--inject-cold-work needs clflush (x86_64), which this architecture lacks"
    })
    public static let count = OptionRule(names: ["<count>", "N"],
                                         accepts: "a whole number from 1 to \(countCeiling) (no exponent or separators), or max",
                                         range: 1...Double(countCeiling), form: { $0 == "max" || Int($0) != nil })

    /// Every rule, in the order a run checks them.
    public static let all: [OptionRule] = [
        duration, warmup, workers, workSize, stride, access, stackSize, executor, latency, io, syscalls,
        ringEntries, sqpoll, fixedFiles, ringSetup, ringLink, sched, spec, cpus, pin, counters, injectColdWork, count,
        OptionRule(names: ["--seconds"], accepts: "a decimal number of seconds from 0.01 to 600", seconds: true),
        OptionRule(names: ["--timeline-seconds"], accepts: "a decimal number of seconds from 0.01 to 60", seconds: true),
        OptionRule(names: ["--repeat"], accepts: "a count of runs from 1 to 100"),
        OptionRule(names: ["--rounds"], accepts: "a count of rounds from 1 to 50"),
        OptionRule(names: ["--format"], accepts: "text, json or csv (csgb info: text or json)"),
    ]

    public static func rule(_ name: String) -> OptionRule? { all.first { $0.names.contains(name) } }

    /// Options whose value is a number of seconds.
    public static var secondsOptions: Set<String> { Set(all.filter(\.seconds).flatMap(\.names)) }

    /// The first refusal of an option given (`given`: name → the value to quote, ""
    /// for none) that the rest of `configuration` gives no meaning, in table order.
    public static func refusal(given: [String: String], _ configuration: RunConfiguration) -> String? {
        for rule in all {
            for name in rule.names {
                guard let value = given[name] else { continue }
                let spelled = value.isEmpty || rule.given != nil ? name : "\(name) \(value)"
                for need in rule.needs {
                    if let reason = need.reason(configuration) { return "\(spelled) \(reason)" }
                }
                if let check = rule.given, let reason = check(value, configuration) { return reason }
            }
        }
        return nil
    }

    /// The first refusal of the plan, in table order.
    public static func planRefusal(_ configuration: RunConfiguration) -> String? {
        for rule in all {
            if let check = rule.plan, let reason = check(configuration) { return reason }
        }
        return nil
    }

    /// For `csgb info`: each option whose meaning depends on the mode, with the
    /// mode's refusal in a run that gives nothing else (nil: the mode takes it).
    static func modeFacts(_ mode: Mode) -> [(option: String, refusal: String?)] {
        let configuration = mode.plainConfiguration
        return all.filter { $0.needs.contains(where: \.isTheMode) }.map { rule in
            (rule.name, rule.needs.filter(\.isTheMode).lazy.compactMap { $0.reason(configuration) }.first)
        }
    }

    /// What is wrong with a table: an option declared twice, a mode option without
    /// the rule that asks the mode about it (its refusal would never be given).
    public static func declarationProblems(_ rules: [OptionRule]) -> [String] {
        var problems: [String] = []
        var seen = Set<String>()
        for name in rules.flatMap(\.names) where !seen.insert(name).inserted {
            problems.append("\(name) is declared more than once")
        }
        for option in ModeOption.allCases {
            let asking = rules.filter { rule in
                rule.names.contains(option.rawValue)
                    && rule.needs.contains { if case .mode(let o) = $0 { return o == option } else { return false } }
            }
            if asking.count != 1 { problems.append("\(option.rawValue) has \(asking.count) rules asking the mode (one expected)") }
        }
        return problems
    }

    /// The parser's "The value 'X' is invalid for '--opt <name>'" as one line naming
    /// what the option takes; nil for any other message, or an option without a rule.
    public static func rewrite(parserMessage message: String) -> String? {
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
        guard let rule = rule(option), !rule.accepts.isEmpty else { return nil }
        return option == "<count>" ? "N \(value): not accepted; N takes \(rule.accepts)" : rule.refusal(value)
    }
}
