import CSGB
/// Counts per interval across the measured window, from `perf stat -I 1 -x,`:
/// context switches, syscalls, task clock and, where a PMU exists, instructions and
/// cycles. perf's interval timer fires every millisecond nominally; the actual
/// widths (a little over 1 ms, from timer slack and perf's printing) are kept, and
/// figures are plotted per millisecond of each interval's own width.
public struct Timeline: Sendable {
    public struct Bucket: Sendable, Equatable {
        /// Seconds from the first counted interval's end.
        public var time: Double
        public var width: Double
        public var contextSwitches: Double?
        public var syscalls: Double?
        public var taskClockMs: Double?
        public var instructions: Double?
        public var cycles: Double?

        public var ipc: Double? {
            guard let instructions, let cycles, cycles > 0 else { return nil }
            return instructions / cycles
        }
    }

    public static let events = ["task-clock", "context-switches", "raw_syscalls:sys_enter"]
    public static let hardwareEvents = ["instructions", "cycles"]

    public var buckets: [Bucket] = []
    /// True when perf counted instructions or cycles in some interval; false where
    /// the machine has no hardware PMU (perf says `<not supported>`).
    public var hardwareCounted = false

    public init(buckets: [Bucket], hardwareCounted: Bool) {
        self.buckets = buckets
        self.hardwareCounted = hardwareCounted
    }

    public init(parsing text: String) {
        var order: [String] = []
        var rows: [String: [String: Double]] = [:]
        var seen: Set<String> = []
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.filter { $0 != " " && $0 != "\t" } }
            guard fields.count >= 4, Double(fields[0]) != nil else { continue }
            let time = fields[0]
            if !seen.contains(time) {
                seen.insert(time)
                order.append(time)
                rows[time] = [:]
            }
            if let value = Double(fields[1]) { rows[time]![fields[3]] = value }
        }
        var previous = 0.0
        var start: Double?
        for time in order {
            guard let end = Double(time), let values = rows[time] else { continue }
            defer { previous = end }
            // Intervals while perf was disabled (outside the window) count nothing.
            guard !values.isEmpty else { continue }
            if start == nil { start = previous }
            let instructions = values["instructions"], cycles = values["cycles"]
            if instructions != nil || cycles != nil { hardwareCounted = true }
            buckets.append(Bucket(time: end - start!, width: end - previous, contextSwitches: values["context-switches"],
                                  syscalls: values["raw_syscalls:sys_enter"], taskClockMs: values["task-clock"],
                                  instructions: instructions, cycles: cycles))
        }
    }

    public var medianWidth: Double? {
        let widths = buckets.map(\.width).sorted()
        return widths.isEmpty ? nil : widths[widths.count / 2]
    }

    /// The sentence a report prints once where no PMU exists.
    public static let noPMUNote = "no hardware PMU here: instructions, cycles and IPC are not counted; the timeline plots context switches, syscalls and task clock only"

    public static let csvHeader = "mode,t_ms,width_ms,context_switches,syscalls,task_clock_ms,instructions,cycles,ipc"

    /// Rows for `timeline.csv`: empty cells where a figure was not counted.
    public func csvRows(mode: String) -> [String] {
        func cell(_ value: Double?, _ digits: Int) -> String { value.map { Fmt.fixed($0, digits) } ?? "" }
        return buckets.map { bucket in
            [mode, Fmt.fixed(bucket.time * 1000, 3), Fmt.fixed(bucket.width * 1000, 3), cell(bucket.contextSwitches, 0),
             cell(bucket.syscalls, 0), cell(bucket.taskClockMs, 4), cell(bucket.instructions, 0), cell(bucket.cycles, 0),
             cell(bucket.ipc, 4)].joined(separator: ",")
        }
    }

    /// What the plot shows: the software series always, IPC only where counted.
    public var plottedSeries: [String] {
        ["context_switches", "syscalls", "task_clock_ms"] + (hardwareCounted ? ["ipc"] : [])
    }
}
