#if canImport(Glibc)
import Glibc
#endif
import CSGB
import CSGBSystem

/// What `csgb explain` was asked to do.
public struct ExplainRequest: Sendable {
    /// The workload and its options, without `--mode` and `--duration` (explain sets both).
    public var workloadArguments: [String]
    public var modes: [String]
    /// Measured seconds of each recorded run.
    public var seconds: Double
    /// Measured seconds of each timeline run (1 ms intervals).
    public var timelineSeconds: Double
    public var outputPath: String
    public var executable: String
    public var perfPath: String
    /// Samples per second of the recorded event.
    public var frequency = 4999

    public init(workloadArguments: [String], modes: [String], seconds: Double, timelineSeconds: Double,
                outputPath: String, executable: String, perfPath: String) {
        self.workloadArguments = workloadArguments
        self.modes = modes
        self.seconds = seconds
        self.timelineSeconds = timelineSeconds
        self.outputPath = outputPath
        self.executable = executable
        self.perfPath = perfPath
    }
}

/// Runs each mode twice: once under `perf record -g` (call chains of the measured
/// window only, through the same control fifo `csgb stat` uses) for the attribution
/// and the flame graphs, once under `perf stat -I 1` for the timeline, so that the
/// timeline's counting does not disturb the attribution's ns per iteration.
public enum ExplainSession {
    /// User stacks reach a thread's first frame in at least this share of
    /// user-space samples when frame pointers are kept.
    static let rootedShareWarning = 0.5

    public static func run(_ request: ExplainRequest) throws(CSGBError) -> ExplainReport {
        // Proven writable before anything is measured: a full disk found after
        // minutes of recording would waste them.
        let folder = try ResultsFolder(request.outputPath)
        do {
            let report = try run(request, into: folder)
            folder.finish()
            return report
        } catch {
            folder.discard()
            throw error
        }
    }

    static func run(_ request: ExplainRequest, into folder: ResultsFolder) throws(CSGBError) -> ExplainReport {
        let perf = try PerfRunner(perfPath: request.perfPath, executable: request.executable)
        let pmu = Environment.hasHardwarePMU()
        let event = pmu ? "cycles" : "cpu-clock"
        let executableName = request.executable.split(separator: "/").last.map(String.init) ?? "csgb"
        /// A stop ends explain with nothing written: one mode's graphs without the
        /// other's cannot be compared, and a cut window's figures would mislead.
        func checkStop(_ outcome: PerfRunner.Outcome, _ what: String) throws(CSGBError) {
            if outcome.stopped {
                throw .interrupted("stopped by \(StopSignal.received ?? "a stop request") during \(what); nothing was written")
            }
        }

        var modes: [ModeAttribution] = []
        var folds: [(String, FoldedStacks, Double)] = []
        var timelines: [(String, Timeline)] = []
        var demangler = SymbolDemangler()
        for mode in request.modes {
            if StopRequest.isRequested {
                throw .interrupted("stopped by \(StopSignal.received ?? "a stop request") before the \(mode) mode ran; nothing was written")
            }
            let workload = request.workloadArguments + ["--mode", mode]
            // The attribution run.
            let data = perf.file("perf-\(mode).data")
            let recorded = try perf.measure(["record", "-q"] + PerfRunner.recordOptions + ["-e", event, "-F", String(request.frequency), "-g", "-o", data],
                                            workload: workload, duration: request.seconds)
            try checkStop(recorded, "the \(mode) mode's recorded run")
            if recorded.status != 0 {
                throw PerfRunner.diagnose(status: recorded.status, stderr: recorded.stderr, tool: "perf record", command: "explain")
            }
            let report = try PerfRunner.workloadReport(recorded, tool: "perf record")
            let script = try perf.run(["script", "-i", data, "-F", "comm,tid,time,period,event,ip,sym,dso", "--no-demangle"])
            try checkStop(script, "perf script of the \(mode) mode")
            if script.status != 0 {
                throw PerfRunner.diagnose(status: script.status, stderr: script.stderr, tool: "perf script", command: "explain")
            }
            let samples = PerfScriptSamples(parsing: script.stdout).samples
            FileDescriptor.remove(data)
            if samples.isEmpty {
                throw .unavailable("csgb explain: perf record took no samples of \(mode) mode in the window; is perf's --control supported (perf 5.9 or later)?")
            }
            let attribution = Attribution(samples: samples, executable: executableName)
            let iterations = UInt64(max(0, report["iterations"]?.intValue ?? 0))
            guard iterations > 0, let measured = report["ns_per_iteration"]?.doubleValue else {
                throw .unavailable("csgb explain: the \(mode) run completed no iterations in its window")
            }
            let cpuSeconds = (report["user_seconds"]?.doubleValue ?? 0) + (report["system_seconds"]?.doubleValue ?? 0)
            let modeAttribution = ModeAttribution(mode: mode, iterations: iterations, seconds: report["seconds"]?.doubleValue ?? 0,
                                                  measuredNs: measured, attribution: attribution, cpuSeconds: cpuSeconds)
            modes.append(modeAttribution)
            let folded = FoldedStacks(samples: samples, executable: executableName, demangler: &demangler)
            // Weights become ns per iteration with the same factor as the rows.
            let scale = attribution.total > 0 ? modeAttribution.sampledNs / Double(attribution.total) : 0
            folds.append((mode, folded, scale))

            // The timeline run.
            let intervals = perf.file("intervals-\(mode).csv")
            let events = Timeline.events + (pmu ? Timeline.hardwareEvents : [])
            let counted = try perf.measure(["stat", "-I", "1", "-x,", "-o", intervals, "-e", events.joined(separator: ",")],
                                           workload: workload, duration: request.timelineSeconds)
            try checkStop(counted, "the \(mode) mode's timeline run")
            if counted.status != 0 {
                throw PerfRunner.diagnose(status: counted.status, stderr: counted.stderr, tool: "perf stat", command: "explain")
            }
            _ = try PerfRunner.workloadReport(counted, tool: "perf stat")
            timelines.append((mode, Timeline(parsing: perf.read("intervals-\(mode).csv"))))
            FileDescriptor.remove(intervals)
        }

        var result = ExplainReport(workload: request.workloadArguments, modes: modes)
        if let requested = folder.requested {
            result.notes.append("\(requested) \(folder.besideReason ?? "already held files, kept as they were"): this report is in \(folder.path)")
        }
        result.notes.append(pmu
            ? "sampled event: cycles at \(request.frequency) Hz, turned into ns with each run's CPU time"
            : "sampled event: cpu-clock at \(request.frequency) Hz (no hardware PMU here); a sample's period is CPU ns")
        let fix = "build with `make record` (swift build -c release -Xswiftc -Xcc -Xswiftc -fno-omit-frame-pointer -Xcc -fno-omit-frame-pointer)"
        if let check = FramePointerCheck.of(executable: request.executable), let share = check.share {
            if share < FramePointerCheck.threshold {
                result.warnings.append("only \(check.withFramePointer) of \(check.functions) of csgb's Swift functions set up a frame pointer: perf's user call chains skip the others' callers, so the user-space parts of the flame graphs are unreliable (the rows, decided by kernel frames and the leaf, are not); \(fix)")
            }
        } else {
            result.notes.append("could not read \(request.executable)'s symbol table to check for frame pointers (stripped?): user call chains may be unreliable")
        }
        for mode in modes {
            if let share = mode.rootedShare, share < rootedShareWarning {
                result.warnings.append("\(mode.mode): only \(Fmt.fixed(share * 100, 0)) % of user-space stacks reach a thread's first frame: user call chains are broken; \(fix)")
            }
        }
        do {
            try writeFiles(request: request, folder: folder, folds: folds, timelines: timelines, pmu: pmu,
                           plotStderr: perf.file("plot-stderr"), report: &result)
        } catch {
            throw .lostOutput("the report could not be written into \(folder.path): \(error.description); nothing was kept")
        }
        return result
    }

    static func writeFiles(request: ExplainRequest, folder: ResultsFolder, folds: [(String, FoldedStacks, Double)],
                           timelines: [(String, Timeline)], pmu: Bool, plotStderr: String,
                           report: inout ExplainReport) throws(SystemError) {
        let command = request.workloadArguments.joined(separator: " ")
        for (mode, folded, scale) in folds {
            try folder.write("\(mode).folded", folded.text)
            let svg = FlameGraphSVG(title: "\(mode) mode: \(command)",
                                    subtitle: "perf record -g, measured window, ns per iteration (total \(Fmt.fixed(Double(folded.total) * scale, 0)) ns)")
            try folder.write("\(mode).svg", svg.render(FlameGraph.tree(folded, scale: scale)))
            report.files.append(("flame graph \(mode)", folder.file("\(mode).svg")))
            report.files.append(("folded stacks \(mode)", folder.file("\(mode).folded")))
        }
        if folds.count >= 2 {
            let (a, foldedA, scaleA) = folds[0], (b, foldedB, scaleB) = folds[1]
            let name = "diff-\(a)-\(b).svg"
            let svg = FlameGraphSVG(title: "\(a) vs \(b): \(command)",
                                    subtitle: "differential flame graph, ns per iteration; stacks cut at the call that entered the kernel, so both modes' kernel paths line up",
                                    differential: (a, b))
            try folder.write(name, svg.render(FlameGraph.differentialTree(foldedA.cutAtKernelEntry(), scale: scaleA,
                                                                          foldedB.cutAtKernelEntry(), scale: scaleB)))
            report.files.append(("flame graph \(a) vs \(b)", folder.file(name)))
        }
        let rows = timelines.flatMap { $0.1.csvRows(mode: $0.0) }
        try folder.write("timeline.csv", ([Timeline.csvHeader] + rows).joined(separator: "\n") + "\n")
        report.files.append(("timeline data", folder.file("timeline.csv")))
        let widths = timelines.compactMap { $0.1.medianWidth }.sorted()
        report.timelineMedianWidth = widths.isEmpty ? nil : widths[widths.count / 2]
        let hardware = timelines.contains { $0.1.hardwareCounted }
        if !hardware { report.notes.append(Timeline.noPMUNote) }
        if let width = report.timelineMedianWidth {
            report.notes.append("timeline: perf stat -I 1 intervals, median width \(Fmt.fixed(width * 1000, 3)) ms, \(Fmt.trimmed(request.timelineSeconds)) s per mode in separate runs")
        }
        if let failure = TimelinePlot.draw(csv: folder.file("timeline.csv"), png: folder.file("timeline.png"),
                                           note: hardware ? "" : "no hardware PMU: software counters only",
                                           stderrPath: plotStderr) {
            report.warnings.append(failure)
        } else {
            folder.adopt("timeline.png")
            report.files.append(("timeline plot", folder.file("timeline.png")))
        }
        report.files.append(("report", folder.file("report.txt") + ", " + folder.file("report.json")))
        try folder.write("report.json", report.json.rendered() + "\n")
        try folder.write("report.txt", report.text + "\n")
    }
}
