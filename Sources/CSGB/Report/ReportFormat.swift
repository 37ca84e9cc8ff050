/// The three ways a run report is printed.
public enum ReportFormat: String, CaseIterable, Sendable {
    case text, json, csv
}

extension RunReport {
    public func rendered(_ format: ReportFormat) -> String {
        switch format {
        case .text: return text
        case .json: return json.rendered()
        case .csv: return CSV.render(json)
        }
    }

    /// The human report. The first line is the original csgb's, so scripts that
    /// grep it keep working.
    public var text: String {
        let fairness = self.fairness
        var rows: [(String, String)] = [
            ("workload", "\(workload) \(n) (\(actors) actors)" + (transport.map { " over \($0.rawValue)" } ?? "")),
            ("mode", mode.rawValue + (executor.map { " (\($0.rawValue) executor)" } ?? "")
                + (workers.map { ", \($0) worker\($0 == 1 ? "" : "s")" } ?? "")
                + ", \(osThreads) \(mode.traits.carrier)\(osThreads == 1 ? "" : (mode.traits.carrier.hasSuffix("s") ? "es" : "s"))"),
            ("io", io == .direct ? "direct (\(syscalls == .sendRecv ? "send/recv" : "read/write") syscalls)"
                : "uring" + (syscalls == .sendRecv ? " (send/recv entries)" : "")
                + (ring.map { ", \($0.entries.map { "\($0) entries" } ?? "entries sized per ring")\($0.sqpoll ? ", sqpoll" : "")\($0.fixedFiles ? ", fixed files" : "")" } ?? "")
                + (ringEntersPerIteration.map { ", \(Fmt.fixed($0, 4)) io_uring_enter/iteration" } ?? "")
                + (entriesPerEnter.map { ", \(Fmt.fixed($0, 1)) entries/enter" } ?? "")
                + (pollerSeconds.map { seconds in
                    ", " + (pollerThreads.map { "\($0) SQ poller\($0 == 1 ? "" : "s")" } ?? "SQ pollers") + " \(Fmt.fixed(seconds, 3)) s cpu"
                } ?? "")),
        ]
        if let ring {
            rows.append(("ring setup", ring.effectiveSetup.names
                + (ringLinked ? "; write→read linked, \(Fmt.fixed(ringLinksPerIteration, 4)) links/iteration, \(ringCancelled) cancelled"
                    : "; not linked")))
        }
        rows += [
            ("cpus", cpus == "all" ? "not pinned" : "\(cpus) (pin \(pinning.rawValue))"),
            ("work size", workSize == 0 ? "none" : "\(ByteSize(bytes: workSize)) per actor, stride \(stride), access \(access.rawValue) (\(access.summary))"),
            ("numa", numa == .off ? "off (kernel default placement)" : "\(numa.rawValue) (buffers and green stacks)"),
            ("measured", "\(Fmt.fixed(seconds, 3)) s after \(Fmt.fixed(warmupSeconds, 2)) s warm-up"
                + (warmupNote.map { " (\($0))" } ?? "")
                + (warmupComplete ? "" : " (stopped during warm-up: window = gate to stop)")
                + ", stopped by \(stoppedBy)"),
            ("iterations/s", Fmt.whole(iterationsPerSecond)),
            ("ns/iteration", Fmt.fixed(nanosecondsPerIteration, 1)),
            ("fairness", "min \(fairness.min), max \(fairness.max), cv \(Fmt.fixed(fairness.cv, 4)) (passes per actor)"),
            ("switches/iteration", "voluntary \(Fmt.fixed(voluntarySwitchesPerIteration, 4)), involuntary \(Fmt.fixed(involuntarySwitchesPerIteration, 4))"
                + (usageMissed.flatMap { $0 == 0 ? nil : "; \($0) of \(actors) actors missed an edge, so these and the cpu time leave out part of their window" } ?? "")),
            ("cpu time", "user \(Fmt.fixed(userSeconds, 3)) s, system \(Fmt.fixed(systemSeconds, 3)) s"),
            ("peak RSS", Fmt.bytes(maxRSSBytes)),
        ] + (setup?.textRows ?? []) + [
            ("priority", (priority?.text ?? "not recorded") + (coordinatorSchedule?.text.map { "; " + $0 } ?? "")),
            ("eagain", eagain == 0 ? "0" : "\(eagain) (a bug: a read found no byte)"),
            ("failed transfers", failedTransfers == 0 ? "0"
                : "\(failedTransfers) actor\(failedTransfers == 1 ? "" : "s") stopped on a failed or short read or write before the stop"),
        ]
        rows += threadSettingsRows
        if let latency { rows.append(("latency", latency.text)) }
        if let phases { rows += phases.textRows }
        if let counters { rows += counters.textRows(iterations: iterations, windowSeconds: seconds) }
        if let suspension { rows.append(("warning", suspension)) }
        if let noise { rows.append(("warning", noise)) }
        for broken in brokenClaims { rows.append(("failed", broken + ": not the run it claims to be")) }
        if environment.build != "release" {
            rows.append(("warning", "\(environment.build) build: figures are not representative"))
        }
        return "total iterations: \(iterations)\n" + TextTable.keyValues(rows)
    }
}

/// One header line and one row, ready to append to a sweep's table. The header is
/// `CSVColumns.all` whatever the report holds; an unmeasured figure is an empty cell.
public enum CSV {
    public static func render(_ json: JSON, columns: [String] = CSVColumns.all) -> String {
        var values: [String: JSON] = [:]
        for (key, value) in json.flattened() { values[key] = value }
        let header = columns.map(escape).joined(separator: ",")
        let row = columns.map { column -> String in
            switch values[column] ?? .null {
            case .null: return ""
            case .string(let s): return escape(s)
            // Arrays (the vulnerability lines) hold commas: quoted like any text.
            case let value: return escape(value.rendered(indent: nil))
            }
        }.joined(separator: ",")
        return header + "\n" + row
    }

    static func escape(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) else { return s }
        return "\"" + s.replacingAll("\"", with: "\"\"") + "\""
    }
}

/// Number formatting without Foundation.
public enum Fmt {
    /// A bound as people write it: 2, 0.001, 2.5.
    public static func trimmed(_ value: Double) -> String {
        if value == value.rounded() && abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }

    public static func fixed(_ value: Double?, _ digits: Int) -> String {
        guard let value, value.isFinite else { return "n/a" }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let rounded = (abs(value) * scale).rounded()
        let whole = Int64(rounded / scale)
        let fraction = Int64(rounded - Double(whole) * scale)
        var text = String(whole)
        if digits > 0 {
            let f = String(fraction)
            text += "." + String(repeating: "0", count: max(0, digits - f.count)) + f
        }
        return (value < 0 && rounded != 0 ? "-" : "") + text
    }

    /// A whole number as the report's first line prints it (`total iterations:
    /// 179546`): digits only, no thousands separators, so every count in a report
    /// reads and parses one way.
    public static func whole(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "n/a" }
        return String(Int64(value.rounded()))
    }

    public static func bytes(_ bytes: Int) -> String {
        if bytes >= 1 << 30 { return fixed(Double(bytes) / Double(1 << 30), 2) + " GiB" }
        if bytes >= 1 << 20 { return fixed(Double(bytes) / Double(1 << 20), 1) + " MiB" }
        if bytes >= 1 << 10 { return fixed(Double(bytes) / Double(1 << 10), 1) + " KiB" }
        return "\(bytes) B"
    }
}

extension String {
    func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        for c in self { if c == target { out += replacement } else { out.append(c) } }
        return out
    }
}
