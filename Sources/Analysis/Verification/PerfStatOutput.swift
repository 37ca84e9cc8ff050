import CSGB
import CSGBSystem
/// One line of `perf stat -x,` output, typed.
///
/// perf's CSV fields are: value, unit, event, run time (ns), percentage of the
/// run time the counter ran (below 100 when multiplexed; perf has then already
/// scaled the value), and optionally a metric value and its unit
/// (`0.85,insn per cycle`). The value is a number, `<not supported>` or
/// `<not counted>`.
public struct PerfStatRecord: Equatable, Sendable {
    public enum Value: Equatable, Sendable {
        case counted(Double)
        /// The machine lacks the event (no PMU, for example).
        case notSupported
        /// The event was never enabled or never ran (e.g. the window never opened).
        case notCounted
    }

    public var value: Value
    public var unit: String
    /// As perf prints it, modifiers included: `instructions:u`, `syscalls:sys_enter_read`.
    public var event: String
    public var runTimeNanoseconds: UInt64?
    /// The share of the run the counter was on the PMU, in percent.
    public var runningPercent: Double?
    public var metricValue: Double?
    public var metricUnit: String

    public var count: Double? {
        if case .counted(let v) = value { return v }
        return nil
    }

    /// perf multiplexed the counter and scaled its value.
    public var multiplexed: Bool {
        guard case .counted = value, let runningPercent else { return false }
        return runningPercent < 100
    }

    /// The event without perf's `:u`/`:k`-style modifier. Tracepoints keep their
    /// `subsystem:` prefix: `syscalls:sys_enter_read` stays whole.
    public var baseEvent: String { PerfEventName(event).base }
    public var modifiers: String { PerfEventName(event).modifiers }
}

/// Splits `instructions:u` into base `instructions` and modifiers `u`, and leaves
/// tracepoints (`syscalls:sys_enter_read`, `sched:sched_switch:k`) whole up to their
/// own modifiers.
public struct PerfEventName: Equatable, Sendable {
    public let base: String
    public let modifiers: String

    /// The modifier letters perf accepts after a colon.
    static let modifierLetters = Set("ukhGHpPISDWeb")

    public init(_ name: String) {
        let parts = name.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        if parts.count >= 2, let last = parts.last, !last.isEmpty,
           last.allSatisfy({ Self.modifierLetters.contains($0) }),
           // `sched:sched_switch` has two parts and no modifier: a tracepoint's
           // event name is never all modifier letters, but guard the two-part
           // case by requiring a short modifier.
           parts.count > 2 || last.count <= 3 {
            base = parts.dropLast().joined(separator: ":")
            modifiers = last
        } else {
            base = name
            modifiers = ""
        }
    }
}

/// Everything `perf stat -x, -o FILE` wrote, parsed.
public struct PerfStatOutput: Equatable, Sendable {
    public var records: [PerfStatRecord]

    public init(records: [PerfStatRecord]) { self.records = records }

    /// Parses perf's CSV text. Comment lines (`#`), blank lines and perf's
    /// `Events enabled`/`Events disabled` chatter are skipped; every other line must
    /// be a record whose third field names an event and whose first is a count
    /// (decimal digits, perhaps a fraction) or `<not …>`. Anything else means the
    /// file is not perf's, and a figure read from it would be a guess: an error that
    /// quotes the line.
    public init(parsing text: String, separator: Character = ",") throws(PerfOutputError) {
        var records: [PerfStatRecord] = []
        // `isNewline`: Swift reads "\r\n" as one Character, equal to neither "\r" nor "\n".
        for (index, rawLine) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let line = rawLine.trimming([" ", "\t", "\r"])
            if line.isEmpty || line.hasPrefix("#") || line == "Events enabled" || line == "Events disabled" { continue }
            let fields = line.split(separator: separator, omittingEmptySubsequences: false).map {
                $0.trimming([" ", "\t"])
            }
            guard let record = Self.record(fields) else { throw PerfOutputError(line: index + 1, text: line) }
            records.append(record)
        }
        self.records = records
    }

    static func record(_ fields: [String]) -> PerfStatRecord? {
        guard fields.count >= 3, !fields[2].isEmpty else { return nil }
        let value: PerfStatRecord.Value
        switch fields[0] {
        case "<not supported>": value = .notSupported
        case "<not counted>": value = .notCounted
        default:
            guard let number = count(fields[0]) else { return nil }
            value = .counted(number)
        }
        func field(_ i: Int) -> String { i < fields.count ? fields[i] : "" }
        return PerfStatRecord(
            value: value,
            unit: fields[1],
            event: fields[2],
            runTimeNanoseconds: UInt64(field(3)),
            runningPercent: Double(field(4)),
            metricValue: Double(field(5)),
            metricUnit: field(6))
    }

    /// perf prints a count as decimal digits with at most one fraction (`299.92`
    /// msec): a sign, hexadecimal or an exponent is not a count it wrote.
    static func count(_ text: String) -> Double? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count),
              parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } }) else { return nil }
        return Double(text)
    }

    /// The record of `event` exactly as perf printed it (`instructions:u`).
    public func record(_ event: String) -> PerfStatRecord? {
        records.first { $0.event == event }
    }

    /// The count of an event, nil when absent, not supported or not counted.
    public func count(_ event: String) -> Double? { record(event)?.count }

    /// The count of syscall tracepoint `sys_enter_<name>`.
    public func syscalls(_ name: String) -> Double? { count("syscalls:sys_enter_\(name)") }

    /// The syscalls whose tracepoints perf printed, in its order.
    public var tracedSyscalls: [String] {
        var names: [String] = []
        for record in records {
            let prefix = "syscalls:sys_enter_"
            guard record.event.hasPrefix(prefix) else { continue }
            let name = String(record.event.dropFirst(prefix.count))
            if !names.contains(name) { names.append(name) }
        }
        return names
    }

    public var multiplexed: Bool { records.contains { $0.multiplexed } }

    /// The same records, the `raw_syscalls:sys_enter` ones renamed, in perf's order,
    /// to the events they were asked for (`StatEvents.perfArguments`). A count of
    /// them other than the one asked for cannot be matched to the syscalls: an
    /// error. None at all is a perf that printed none of those rows, read as any
    /// missing row is (its figures not measured).
    public func naming(rawRecords names: [String]) throws(PerfOutputError) -> PerfStatOutput {
        let raw = records.indices.filter { records[$0].event == StatEvents.rawSyscallEntry }
        if raw.isEmpty { return self }
        guard raw.count == names.count else {
            throw PerfOutputError(reason: "perf printed \(raw.count) \(StatEvents.rawSyscallEntry) records where \(names.count) were asked for (one per traced syscall)")
        }
        var renamed = self
        for (index, name) in zip(raw, names) { renamed.records[index].event = name }
        return renamed
    }
}

/// A line of `perf stat -x,` output that cannot be perf's.
public struct PerfOutputError: Error, Equatable, Sendable, CustomStringConvertible {
    public let line: Int
    public let text: String
    /// Set when the file as a whole, not one line, cannot be perf's.
    public var reason: String?

    public init(line: Int, text: String) {
        self.line = line
        self.text = text
    }

    public init(reason: String) {
        line = 0
        text = ""
        self.reason = reason
    }

    public var description: String {
        if let reason { return reason }
        let shown = text.count > 120 ? String(text.prefix(120)) + "…" : text
        return "line \(line) is not a perf stat record (value,unit,event,… with a decimal count): \"\(shown)\""
    }
}
