#if canImport(Glibc)
import Glibc
#endif
import CSGB
import CSGBSystem

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
    public static func run(_ request: StatRequest) throws(CSGBError) -> StatReport {
        let (events, absent) = StatEvents.resolve(user: request.events, syscalls: request.syscalls)
        let perf = try PerfRunner(perfPath: request.perfPath, executable: request.executable)
        let perfEvents = StatEvents.perfArguments(events)

        var runs: [StatFigures] = []
        var last: (output: PerfStatOutput, report: JSON)?
        var interruption: StatInterruption?
        let requested = max(request.repeatCount, 1)
        for run in 1...requested {
            // A stop before this run: the remaining runs are skipped, not started.
            if StopRequest.isRequested {
                interruption = StatInterruption(signal: StopSignal.received ?? "a stop request", run: run, requested: requested, cutShort: false)
                break
            }
            let outcome = try perf.measure(["stat", "-x,", "-o", perf.file("stat.csv")] + perfEvents.arguments,
                                           workload: request.workloadArguments)
            let report = try? JSON(parsing: outcome.stdout)
            // A window cut short (a stop during the warm-up, or before its duration)
            // is not judged: perf and the report may not cover the same iterations,
            // and its edges weigh too much in a short window.
            let complete = report?["stopped_by"]?.stringValue == "duration" && report?["warmup_complete"] == .bool(true)
            if outcome.stopped && (outcome.status != 0 || !complete) {
                interruption = StatInterruption(signal: StopSignal.received ?? "a stop request", run: run, requested: requested, cutShort: true)
                break
            }
            // Exit 3 with a report is a run that broke its claims (a failed transfer,
            // a lost actor): it is judged like any other, and its rules fail.
            let brokenRun = outcome.status == 3 && report?["broken_claims"]?.stringValue != nil
            if outcome.status != 0 && !brokenRun {
                throw PerfRunner.diagnose(status: outcome.status, stderr: outcome.stderr, tool: "perf stat", userEvents: request.events)
            }
            let output: PerfStatOutput
            do {
                output = try PerfStatOutput(parsing: perf.read("stat.csv")).naming(rawRecords: perfEvents.rawRecordNames)
            } catch {
                throw .unavailable("csgb stat: \(perf.perfPath) wrote output that is not perf stat's: \(error.description)")
            }
            guard let report else {
                throw .unavailable("csgb stat: the workload's report could not be read; perf said: \(PerfRunner.firstLine(outcome.stderr) ?? "nothing")")
            }
            if !output.records.contains(where: { $0.count != nil }) {
                throw .unavailable("csgb stat: perf counted nothing in the window (\(PerfRunner.firstLine(outcome.stderr) ?? "no message")); is perf's --control supported (perf 5.9 or later)?")
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
        if !verification.holds && !StopRequest.isRequested {
            do {
                let seconds = recordDuration(switchesPerIteration: summary.median.value(.contextSwitches),
                                             iterations: summary.median.iterations,
                                             windowSeconds: last.report["seconds"]?.doubleValue,
                                             longest: min(request.recordSeconds, duration(in: request.workloadArguments) ?? request.recordSeconds))
                stacks = try recordSwitches(request, seconds: seconds, perf: perf)
            } catch {
                stacksNote = "switch stacks not recorded: \(error.description)"
            }
        }
        return StatReport(
            command: request.workloadArguments, events: events, absentEvents: absent, summary: summary,
            output: last.output, report: last.report, verification: verification, stacks: stacks, stacksNote: stacksNote,
            interruption: interruption)
    }

    /// Runs the workload again for a short window under
    /// `perf record -e sched:sched_switch -g` (kernel call chains, the same fifo
    /// control) and folds the stacks.
    static func recordSwitches(_ request: StatRequest, seconds: Double, perf: PerfRunner) throws(CSGBError) -> SwitchStacks {
        let data = perf.file("switches.data")
        let recorded = try perf.measure(["record", "-q"] + PerfRunner.recordOptions + ["-e", "sched:sched_switch", "-g", "--kernel-callchains", "-o", data],
                                        workload: request.workloadArguments, duration: seconds)
        if recorded.stopped { throw .interrupted("stopped by \(StopSignal.received ?? "a stop request")") }
        if recorded.status != 0 {
            throw PerfRunner.diagnose(status: recorded.status, stderr: recorded.stderr, tool: "perf record")
        }
        let script = try perf.run(["script", "-i", data, "-F", "comm,tid,event,ip,sym,dso", "--no-demangle"])
        if script.stopped { throw .interrupted("stopped by \(StopSignal.received ?? "a stop request")") }
        if script.status != 0 {
            throw PerfRunner.diagnose(status: script.status, stderr: script.stderr, tool: "perf script")
        }
        var stacks = SwitchStacks(perfScript: script.stdout)
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
