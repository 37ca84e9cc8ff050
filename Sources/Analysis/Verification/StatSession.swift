#if canImport(Glibc)
import Glibc
#endif
import CSGB
import CSGBSystem
import CCSGB

/// What `csgb stat` was asked to do.
public struct StatRequest: Sendable {
    /// The workload and its options, as after `csgb stat --`; a duration included.
    public var workloadArguments: [String]
    /// `--events`, split; nil for the defaults.
    public var events: [String]?
    public var repeatCount: Int
    public var expectation: ExpectationChoice
    /// The csgb binary to run under perf (this one, from /proc/self/exe).
    public var executable: String
    public var perfPath: String
    /// The syscalls to trace: the fixed set and every one the run's claims name.
    public var syscalls: [String] = Claims.alwaysTraced
    /// The window of the `perf record` run that explains a failure.
    public var recordSeconds: Double = 1

    public init(workloadArguments: [String], events: [String]?, repeatCount: Int, expectation: ExpectationChoice,
                executable: String, perfPath: String) {
        self.workloadArguments = workloadArguments
        self.events = events
        self.repeatCount = repeatCount
        self.expectation = expectation
        self.executable = executable
        self.perfPath = perfPath
    }
}

/// Runs a workload under `perf stat`, counting exactly its measured window: perf
/// starts with events disabled (`-D -1`), and the child csgb enables and disables
/// them through perf's control fifo (`--perf-control`) at the window's edges.
public enum StatSession {
    /// The line for a machine without perf.
    public static let perfMissing = "perf not found: install it with `apt-get install linux-perf` (Ubuntu: linux-tools-$(uname -r)), or put perf on PATH"

    public static func run(_ request: StatRequest) throws(CSGBError) -> StatReport {
        let (events, absent) = StatEvents.resolve(user: request.events, syscalls: request.syscalls)
        let scratch: ScratchDirectory
        let control: String, ack: String
        do {
            scratch = try ScratchDirectory()
            control = try scratch.makeFifo("control")
            ack = try scratch.makeFifo("ack")
        } catch {
            throw .system(error)
        }
        let childArguments = Self.childArguments(request.workloadArguments, control: control, ack: ack)

        var runs: [StatFigures] = []
        var last: (output: PerfStatOutput, report: JSON)?
        var interruption: StatInterruption?
        let requested = max(request.repeatCount, 1)
        for run in 1...requested {
            // A stop before this run: the remaining runs are skipped, not started.
            if csgb_stop_requested() != 0 {
                interruption = StatInterruption(signal: StopSignal.received ?? "a stop request", run: run, requested: requested, cutShort: false)
                break
            }
            let perfArguments = ["stat", "-x,", "-o", scratch.file("stat.csv"),
                                 "--control", "fifo:\(control),\(ack)", "-D", "-1",
                                 "-e", events.joined(separator: ","),
                                 "--", request.executable] + childArguments
            let outcome = try spawn(request.perfPath, perfArguments, scratch: scratch, forwardsStop: true)
            let stopped = csgb_stop_requested() != 0
            let report = try? JSON(parsing: scratch.read("stdout"))
            // A window cut short (a stop during the warm-up, or before its duration)
            // is not judged: perf and the report may not cover the same iterations,
            // and its edges weigh too much in a short window.
            let complete = report?["stopped_by"]?.stringValue == "duration" && report?["warmup_complete"] == .bool(true)
            if stopped && (outcome.status != 0 || !complete) {
                interruption = StatInterruption(signal: StopSignal.received ?? "a stop request", run: run, requested: requested, cutShort: true)
                break
            }
            if outcome.status != 0 {
                throw diagnose(status: outcome.status, stderr: scratch.read("stderr"), tool: "perf stat", userEvents: request.events)
            }
            let output = PerfStatOutput(parsing: scratch.read("stat.csv"))
            guard let report else {
                throw .unavailable("csgb stat: the workload's report could not be read; perf said: \(firstLine(scratch.read("stderr")) ?? "nothing")")
            }
            if !output.records.contains(where: { $0.count != nil }) {
                throw .unavailable("csgb stat: perf counted nothing in the window (\(firstLine(scratch.read("stderr")) ?? "no message")); is perf's --control supported (perf 5.9 or later)?")
            }
            runs.append(StatFigures(perf: output, report: report))
            last = (output, report)
        }
        if let interruption, runs.isEmpty {
            throw .interrupted(interruption.text + "; nothing was judged")
        }
        guard let last else { throw .system(SystemError("csgb stat: no run", .invalidArgument)) }

        let summary = RepeatSummary(runs: runs)
        guard let target = RunTarget(report: last.report) else {
            throw .unavailable("csgb stat: the workload's report lacks workload, mode or n")
        }
        var expectation = Expectation.derive(request.expectation, for: target)
        // A tracepoint this kernel lacks cannot be checked; say so rather than fail.
        expectation.rules.removeAll { rule in
            if case .syscalls(let name) = rule.figure { return absent.contains("syscalls:sys_enter_\(name)") }
            return false
        }
        let verification = Verification(expectation: expectation, runs: summary.runs, median: summary.median)

        var stacks: SwitchStacks?
        var stacksNote: String?
        if !verification.holds && csgb_stop_requested() == 0 {
            do {
                let seconds = recordDuration(switchesPerIteration: summary.median.value(.contextSwitches),
                                             iterations: summary.median.iterations,
                                             windowSeconds: last.report["seconds"]?.doubleValue,
                                             longest: min(request.recordSeconds, duration(in: request.workloadArguments) ?? request.recordSeconds))
                stacks = try recordSwitches(request, seconds: seconds, scratch: scratch, control: control, ack: ack)
            } catch {
                stacksNote = "switch stacks not recorded: \(error.description)"
            }
        }
        return StatReport(
            command: request.workloadArguments, events: events, absentEvents: absent, summary: summary,
            output: last.output, report: last.report, verification: verification, stacks: stacks, stacksNote: stacksNote,
            interruption: interruption)
    }

    /// The workload's arguments for the child: its own, then JSON output and the
    /// control fifos. A later option wins in csgb, so the user's `--format` is
    /// overridden rather than rejected.
    static func childArguments(_ workload: [String], control: String, ack: String, duration: Double? = nil) -> [String] {
        workload + (duration.map { ["--duration", Fmt.trimmed($0)] } ?? [])
            + ["--format", "json", "--perf-control", "\(control),\(ack)"]
    }

    static func spawn(_ path: String, _ arguments: [String], scratch: ScratchDirectory,
                      forwardsStop: Bool = false) throws(CSGBError) -> Subprocess.Outcome {
        let process = Subprocess(path: path, arguments: arguments,
                                 stdoutPath: scratch.file("stdout"), stderrPath: scratch.file("stderr"),
                                 forwardsStop: forwardsStop)
        do {
            return try process.run()
        } catch {
            throw .unavailable("cannot run \(path): \(error)")
        }
    }

    /// Turns a failed perf run into one line with the right exit code: the child's
    /// own error when it failed (bad workload arguments stay exit 64), a
    /// permission hint when perf was refused, perf's first complaint otherwise.
    static func diagnose(status: Int32, stderr: String, tool: String, userEvents: [String]? = nil) -> CSGBError {
        let lines = stderr.split(separator: "\n").map { $0.trimming([" ", "\t"]) }
        // A typo in --events is bad usage, not a missing perf. The default events
        // are checked against this machine's tracepoints, so only the user's can be unknown.
        if let userEvents, lines.contains(where: { $0.contains("event syntax error") || $0.contains("unknown tracepoint") }) {
            return .usage("--events \(userEvents.joined(separator: ",")): perf does not know an event of this list (\(firstLine(stderr) ?? "event syntax error")); `perf list` shows the events of this machine")
        }
        if let child = lines.first(where: { $0.hasPrefix("csgb: ") }) {
            let message = String(child.dropFirst("csgb: ".count))
            switch status {
            case 64: return .usage(message)
            case 69: return .unavailable(message)
            case 3: return .verificationFailed(message)
            default: return .limit(message)
            }
        }
        // Most telling first: "No permissions to read /sys/kernel/tracing/…" names the file.
        let permission = ["No permission", "Permission denied", "perf_event_paranoid", "Access to performance monitoring",
                          "can't access trace events", "not permitted"]
        if let refusal = permission.lazy.compactMap({ keyword in lines.first { $0.contains(keyword) } }).first {
            let paranoid = ResourceLimits.readInteger("/proc/sys/kernel/perf_event_paranoid").map(String.init) ?? "unknown"
            let detail = refusal.hasPrefix("Error:") ? refusal.dropFirst("Error:".count).trimming([" ", "\t"]) : refusal
            return .unavailable("\(tool) is not permitted here (\(detail)): run csgb stat as root, or grant perf CAP_PERFMON and read access to /sys/kernel/tracing, or `sysctl -w kernel.perf_event_paranoid=-1` (now \(paranoid))")
        }
        return .unavailable("\(tool) failed (exit \(status)): \(firstLine(stderr) ?? "no message")")
    }

    /// perf's first line that says something (not its enable/disable chatter),
    /// with the reason perf draws under an event syntax error (`\___ unknown tracepoint`).
    static func firstLine(_ text: String) -> String? {
        let lines = text.split(separator: "\n")
            .map { $0.trimming([" ", "\t"]) }
            .filter { !$0.isEmpty && !$0.hasPrefix("Events enabled") && !$0.hasPrefix("Events disabled") && $0 != "Error:" && !$0.hasPrefix("#") }
        guard let first = lines.first else { return nil }
        if let marker = lines.first(where: { $0.hasPrefix("\\___") }) {
            return first + " (" + marker.dropFirst(4).trimming([" "]) + ")"
        }
        return first
    }

    /// Runs the workload again for a short window under
    /// `perf record -e sched:sched_switch -g` (kernel call chains, the same fifo
    /// control) and folds the stacks.
    static func recordSwitches(_ request: StatRequest, seconds: Double, scratch: ScratchDirectory, control: String, ack: String) throws(CSGBError) -> SwitchStacks {
        let data = scratch.file("switches.data")
        let arguments = ["record", "-q", "-e", "sched:sched_switch", "-g", "--kernel-callchains", "-o", data,
                         "--control", "fifo:\(control),\(ack)", "-D", "-1",
                         "--", request.executable]
            + childArguments(request.workloadArguments, control: control, ack: ack, duration: seconds)
        let recorded = try spawn(request.perfPath, arguments, scratch: scratch)
        if recorded.status != 0 {
            throw diagnose(status: recorded.status, stderr: scratch.read("stderr"), tool: "perf record")
        }
        let script = try spawn(request.perfPath, ["script", "-i", data, "-F", "comm,tid,event,ip,sym,dso", "--no-demangle"],
                               scratch: scratch)
        if script.status != 0 {
            throw diagnose(status: script.status, stderr: scratch.read("stderr"), tool: "perf script")
        }
        var stacks = SwitchStacks(perfScript: scratch.read("stdout"))
        stacks.seconds = seconds
        return stacks
    }

    /// About this many samples rank five stacks well and fold in well under a
    /// second. perf takes every sched_switch of a tracepoint (it ignores a sample
    /// period there), so the window is what bounds them.
    static let targetSamples = 20_000.0
    static let shortestRecord = 0.1

    /// The record window: `longest` (about 1 s) when switches are rare, shorter for
    /// a run that switches hundreds of thousands of times a second.
    static func recordDuration(switchesPerIteration: Double?, iterations: UInt64, windowSeconds: Double?, longest: Double) -> Double {
        guard let perIteration = switchesPerIteration, let windowSeconds, windowSeconds > 0 else { return longest }
        let rate = perIteration * Double(iterations) / windowSeconds
        guard rate > 0 else { return longest }
        let seconds = (targetSamples / rate * 100).rounded(.up) / 100
        return min(longest, max(shortestRecord, seconds))
    }

    /// The last `--duration`/`-d` value in workload arguments.
    static func duration(in arguments: [String]) -> Double? {
        var result: Double?
        for (index, argument) in arguments.enumerated() {
            if argument == "--duration" || argument == "-d", index + 1 < arguments.count {
                result = Double(arguments[index + 1]) ?? result
            } else if argument.hasPrefix("--duration=") {
                result = Double(argument.dropFirst("--duration=".count)) ?? result
            }
        }
        return result
    }
}
