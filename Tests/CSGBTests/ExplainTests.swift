import CSGBSystem
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import Analysis
@testable import CSGB

/// Recorded `perf script` and `perf stat -I` text under Tests/Fixtures/explain:
/// nothing here needs perf.
enum ExplainFixture {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/explain").path

    static func path(_ name: String) -> String { directory + "/" + name }

    static func text(_ name: String) throws -> String {
        try String(contentsOfFile: path(name), encoding: .utf8)
    }

    /// `csgb explain` through a fake perf that runs each mode's workload for real and
    /// hands back the recorded `perf script` and `perf stat -I` output: the whole
    /// command, its notes and its files, with no perf, root or PMU.
    static func explain(_ arguments: [String], perf: FakePerf) throws -> CSGBProcess.Result {
        try CSGBProcess.run(["explain", "--seconds", "0.2", "--timeline-seconds", "0.1"] + arguments, timeout: 120,
                            shellPrefix: perf.shellPrefix(["FAKE_PERF_SCRIPT_DIR": directory,
                                                           "FAKE_PERF_CSV": path("perf-stat-intervals-nopmu.csv")]))
    }

    /// Sample headers in the text: lines that start neither with a tab nor blank.
    static func headerCount(_ text: String) -> Int {
        text.split(separator: "\n").filter { !$0.hasPrefix("\t") && !$0.hasPrefix(" ") && !$0.isEmpty }.count
    }
}

@Suite struct ExplainFoldingTests {
    @Test func parsesEverySampleOfRecordedText() throws {
        for mode in ["thread", "green"] {
            let text = try ExplainFixture.text("perf-script-\(mode).txt")
            let parsed = PerfScriptSamples(parsing: text)
            #expect(parsed.unreadableLines == 0)
            #expect(parsed.samples.count == ExplainFixture.headerCount(text))
            #expect(parsed.samples.count >= 20)
            #expect(parsed.samples.allSatisfy { $0.period > 0 && !$0.frames.isEmpty && $0.event == "cpu-clock" })
        }
    }

    @Test func headerWithSpacesInTheThreadName() {
        let text = "socket pair 0 1234 355.665967:    1001001 cpu-clock: \n\tffffffff82260fe7 __schedule ([kernel.kallsyms])\n\t  2724a __libc_start_call_main (/usr/lib/x86_64-linux-gnu/libc.so.6)\n"
        let parsed = PerfScriptSamples(parsing: text)
        #expect(parsed.samples.count == 1)
        #expect(parsed.samples.first?.comm == "socket pair 0")
        #expect(parsed.samples.first?.tid == 1234)
        #expect(parsed.samples.first?.period == 1_001_001)
        #expect(parsed.samples.first?.frames.map(\.dso) == ["[kernel.kallsyms]", "/usr/lib/x86_64-linux-gnu/libc.so.6"])
    }

    @Test func foldingKeepsEveryPeriodRootFirst() throws {
        let samples = PerfScriptSamples(parsing: try ExplainFixture.text("perf-script-thread.txt")).samples
        var demangler = SymbolDemangler()
        let folded = FoldedStacks(samples: samples, executable: "csgb", demangler: &demangler)
        #expect(folded.total == samples.reduce(0) { $0 + $1.period })
        let lines = folded.text.split(separator: "\n")
        #expect(lines.count == folded.weights.count)
        for line in lines {
            let weight = line.split(separator: " ").last.flatMap { UInt64($0) }
            #expect(weight != nil && weight! > 0, "\(line)")
        }
        // Root first: a thread's stack starts at start_thread, and a kernel leaf ends it.
        #expect(lines.contains { $0.hasPrefix("start_thread;") && $0.contains("__schedule_[k] ") })
        // Swift names are demangled.
        #expect(folded.text.contains("CSGB.ThreadMode"))
        #expect(!folded.text.contains("$s4CSGB"))
    }

    @Test func demanglerShortensSwiftNames() {
        var demangler = SymbolDemangler()
        #expect(demangler.readable("$s4CSGB10ThreadModeO3run33_0123456789ABCDEF0123456789ABCDEFLL6script4slot7contextyAA6ScriptV_AA10ActorSlotsCAA10RunContextCtFZ").hasPrefix("static CSGB.ThreadMode.run"))
        #expect(demangler.readable("__schedule") == "__schedule")
        #expect(SymbolDemangler.shortened("closure #1 () -> () in CSGB.(OSThread in _6A2F).start(a: Swift.Int) -> ()")
                == "closure #1 (...) -> (...) in CSGB.OSThread.start(...)")
    }
}

@Suite struct ExplainAttributionTests {
    typealias Frame = PerfSample.Frame
    static let kernel = "[kernel.kallsyms]"

    @Test func classifiesByTheWholeChain() {
        let exe = "csgb"
        func bucket(_ frames: [Frame]) -> TimeBucket { TimeBucket.classify(frames, executable: exe) }
        #expect(bucket([Frame(symbol: "_raw_spin_unlock_irq", dso: Self.kernel), Frame(symbol: "finish_task_switch.isra.0", dso: Self.kernel),
                        Frame(symbol: "__schedule", dso: Self.kernel), Frame(symbol: "unix_stream_read_generic", dso: Self.kernel)]) == .scheduler)
        #expect(bucket([Frame(symbol: "_raw_spin_unlock_irqrestore", dso: Self.kernel), Frame(symbol: "try_to_wake_up", dso: Self.kernel),
                        Frame(symbol: "sock_def_readable", dso: Self.kernel), Frame(symbol: "unix_stream_sendmsg", dso: Self.kernel)]) == .wakeUps)
        #expect(bucket([Frame(symbol: "entry_SYSCALL_64_after_hwframe", dso: Self.kernel)]) == .syscallEntry)
        #expect(bucket([Frame(symbol: "__libc_write", dso: "/usr/lib/x86_64-linux-gnu/libc.so.6")]) == .syscallEntry)
        #expect(bucket([Frame(symbol: "__GI___pthread_disable_asynccancel", dso: "/usr/lib/x86_64-linux-gnu/libc.so.6")]) == .syscallEntry)
        #expect(bucket([Frame(symbol: "skb_release_head_state", dso: Self.kernel), Frame(symbol: "unix_stream_read_generic", dso: Self.kernel),
                        Frame(symbol: "ksys_read", dso: Self.kernel), Frame(symbol: "do_syscall_64", dso: Self.kernel)]) == .socket)
        #expect(bucket([Frame(symbol: "swift_retain", dso: "/opt/swift/usr/lib/swift/linux/libswiftCore.so")]) == .swiftRuntime)
        #expect(bucket([Frame(symbol: "$s4CSGB10GreenModeO3run", dso: "/work/.build-fp/release/csgb")]) == .csgb)
        #expect(bucket([Frame(symbol: "asm_sysvec_apic_timer_interrupt", dso: Self.kernel)]) == .other)
        #expect(bucket([Frame(symbol: "memcpy", dso: "/usr/lib/x86_64-linux-gnu/libc.so.6")]) == .other)
    }

    @Test func recordedThreadModeSchedulesAndGreenDoesNot() throws {
        let thread = Attribution(samples: PerfScriptSamples(parsing: try ExplainFixture.text("perf-script-thread.txt")).samples, executable: "csgb")
        let green = Attribution(samples: PerfScriptSamples(parsing: try ExplainFixture.text("perf-script-green.txt")).samples, executable: "csgb")
        #expect((thread.perBucket[.scheduler] ?? 0) > 0)
        #expect((green.perBucket[.scheduler] ?? 0) == 0)
        #expect(thread.perBucket.values.reduce(0, +) == thread.total)
        // The fixture comes from a frame-pointer build: user stacks reach their root.
        #expect((thread.rootedShare ?? 0) >= ExplainSession.rootedShareWarning)
        #expect((green.rootedShare ?? 0) >= ExplainSession.rootedShareWarning)
    }

    @Test func truncatedUserStacksAreNoticed() {
        // What a build without frame pointers gives: user leaves with no way back.
        let samples = (0..<10).map { _ in
            PerfSample(comm: "csgb", tid: 1, time: 0, period: 1000, event: "cpu-clock",
                       frames: [Frame(symbol: "$s4CSGB10ThreadModeO3run", dso: "/x/csgb"), Frame(symbol: "[unknown]", dso: "[unknown]")])
        }
        let attribution = Attribution(samples: samples, executable: "csgb")
        #expect(attribution.rootedShare == 0)
    }

    @Test func rowsAreCPUNanosecondsPerIteration() {
        let samples = [
            PerfSample(comm: "c", tid: 1, time: 0, period: 3_000, event: "cpu-clock", frames: [Frame(symbol: "__schedule", dso: Self.kernel)]),
            PerfSample(comm: "c", tid: 1, time: 0, period: 1_000, event: "cpu-clock", frames: [Frame(symbol: "swift_retain", dso: "libswiftCore.so")]),
        ]
        let mode = ModeAttribution(mode: "thread", iterations: 2, seconds: 1, measuredNs: 2_000,
                                   attribution: Attribution(samples: samples, executable: "csgb"), cpuSeconds: nil)
        #expect(mode.rows[.scheduler] == 1_500)
        #expect(mode.rows[.swiftRuntime] == 500)
        #expect(mode.sampledNs == 2_000)
    }
}

@Suite struct ExplainSumCheckTests {
    static func report(threadRows: Double, threadMeasured: Double, greenRows: Double, greenMeasured: Double) -> ExplainReport {
        func rows(_ total: Double) -> [TimeBucket: Double] { [.scheduler: total * 0.5, .socket: total * 0.3, .other: total * 0.2] }
        return ExplainReport(workload: ["socket", "1"], modes: [
            ModeAttribution(mode: "thread", iterations: 1, seconds: 1, measuredNs: threadMeasured, rows: rows(threadRows)),
            ModeAttribution(mode: "green", iterations: 1, seconds: 1, measuredNs: greenMeasured, rows: rows(greenRows)),
        ])
    }

    /// The report's text with its wrapped lines joined again, so a test can find a
    /// sentence wherever the 80-column wrap broke it.
    static func unwrapped(_ text: String) -> String {
        text.split(separator: "\n").map { $0.drop { $0 == " " } }.joined(separator: " ")
    }

    @Test func holdsWithinTenPerCent() {
        #expect(SumCheck(rowsSum: 95, measured: 100).holds)
        #expect(SumCheck(rowsSum: 110, measured: 100).holds)
        #expect(!SumCheck(rowsSum: 89, measured: 100).holds)
        #expect(!SumCheck(rowsSum: -5, measured: 100).holds)
        #expect(!SumCheck(rowsSum: 1, measured: 0).holds)
    }

    @Test func reportSaysSoWhenRowsAddUp() {
        let report = Self.report(threadRows: 9_000, threadMeasured: 9_200, greenRows: 3_300, greenMeasured: 3_400)
        #expect(report.holds)
        #expect(report.allHold)
        #expect(Self.unwrapped(report.text).contains("rows sum to the measured difference within 10 % (-1.7 %), and each mode's rows to its own time"))
        #expect(report.json["difference"]?["within_tolerance"] == .bool(true))
    }

    /// Built so that the difference adds up while each mode misses its own time by
    /// 20 % and 67 % (both shared their CPU with the same other process): the report must not call that a clean result.
    @Test func reportFlagsModesThatMissTheirOwnTime() {
        let report = Self.report(threadRows: 8_000, threadMeasured: 10_000, greenRows: 1_000, greenMeasured: 3_000)
        #expect(report.holds)
        #expect(!report.allHold)
        #expect(Self.unwrapped(report.text).contains("but FLAGGED: thread and green rows miss their own measured time"))
        #expect(report.json["difference"]?["every_mode_within_tolerance"] == .bool(false))
    }

    /// Built to violate the check: green's wall time is far above its sampled CPU
    /// time (a busy machine), so the rows overstate the difference.
    @Test func reportFlagsRowsThatDoNotAddUp() {
        let report = Self.report(threadRows: 9_000, threadMeasured: 9_200, greenRows: 3_000, greenMeasured: 5_000)
        #expect(!report.holds)
        #expect(report.text.contains("FLAGGED"))
        #expect(report.json["difference"]?["within_tolerance"] == .bool(false))
        let difference = report.difference
        #expect(difference[.scheduler] == 3_000)
    }
}

@Suite struct ExplainFlameGraphTests {
    static func folds() throws -> (FoldedStacks, Double, FoldedStacks, Double) {
        var demangler = SymbolDemangler()
        let thread = FoldedStacks(samples: PerfScriptSamples(parsing: try ExplainFixture.text("perf-script-thread.txt")).samples,
                                  executable: "csgb", demangler: &demangler)
        let green = FoldedStacks(samples: PerfScriptSamples(parsing: try ExplainFixture.text("perf-script-green.txt")).samples,
                                 executable: "csgb", demangler: &demangler)
        return (thread, 1.0 / 1000, green, 1.0 / 1000)
    }

    struct Rect { let x: Double, y: Double, width: Double, title: String, fill: String }

    /// Collects elements, their attributes and text with XMLParser, which fails on
    /// a document that is not well-formed.
    final class Collector: NSObject, XMLParserDelegate {
        struct Element { let name: String; let attributes: [String: String]; var text = ""; let depth: Int }
        var elements: [Element] = []
        var open: [Int] = []
        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            open.append(elements.count)
            elements.append(Element(name: name, attributes: attributes, depth: open.count))
        }
        func parser(_ parser: XMLParser, foundCharacters string: String) {
            if let last = open.last { elements[last].text += string }
        }
        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            open.removeLast()
        }
    }

    /// Parses the SVG as XML (it must be well-formed) and returns its frames: each
    /// `<g class="frame">` holds a title and a rect.
    static func frames(_ svg: String) throws -> [Rect] {
        let parser = XMLParser(data: Data(svg.utf8))
        let collector = Collector()
        parser.delegate = collector
        #expect(parser.parse(), "not well-formed: \(String(describing: parser.parserError))")
        let elements = collector.elements
        #expect(elements.first?.name == "svg")
        #expect(elements.first?.attributes["width"] == "1200")
        var rects: [Rect] = []
        for (index, element) in elements.enumerated() where element.name == "g" {
            #expect(element.attributes["class"] == "frame")
            let inside = elements[(index + 1)...].prefix { $0.depth > element.depth }
            let title = try #require(inside.first { $0.name == "title" }?.text)
            let rect = try #require(inside.first { $0.name == "rect" })
            func number(_ name: String) -> Double { Double(rect.attributes[name] ?? "") ?? .nan }
            rects.append(Rect(x: number("x"), y: number("y"), width: number("width"), title: title, fill: rect.attributes["fill"] ?? ""))
        }
        return rects
    }

    /// Every frame sits on a frame one row below it that spans it: the shape of a
    /// flame graph, whatever the data.
    static func checkNesting(_ rects: [Rect]) {
        let bottom = rects.map(\.y).max() ?? 0
        for rect in rects where rect.y < bottom {
            let below = rects.filter { abs($0.y - (rect.y + 16)) < 0.01 }
            #expect(below.contains { $0.x <= rect.x + 0.11 && $0.x + $0.width >= rect.x + rect.width - 0.21 }, "\(rect.title)")
        }
        // Frames in one row do not overlap.
        for row in Dictionary(grouping: rects, by: { $0.y }).values {
            let sorted = row.sorted { $0.x < $1.x }
            for (a, b) in zip(sorted, sorted.dropFirst()) { #expect(a.x + a.width <= b.x + 0.21, "\(a.title) / \(b.title)") }
        }
    }

    @Test func flameGraphStructure() throws {
        let (thread, scale, _, _) = try Self.folds()
        let tree = FlameGraph.tree(thread, scale: scale)
        #expect(abs(tree.value - Double(thread.total) * scale) < 1e-6)
        let rects = try Self.frames(FlameGraphSVG(title: "thread", subtitle: "test").render(tree))
        #expect(rects.count > 10)
        let root = try #require(rects.first { $0.title.hasPrefix("all:") })
        #expect(abs(root.x - 10) < 0.01 && abs(root.width - 1180) < 0.01)
        #expect(rects.allSatisfy { $0.x >= 10 - 0.01 && $0.x + $0.width <= 1190.2 && $0.title.contains("ns per iteration") })
        #expect(rects.contains { $0.title.hasPrefix("__schedule [k]:") })
        Self.checkNesting(rects)
    }

    @Test func differentialColoursByWhoSpendsMore() throws {
        let (thread, a, green, b) = try Self.folds()
        let tree = FlameGraph.differentialTree(thread, scale: a, green, scale: b)
        #expect(abs(tree.width - (Double(thread.total) * a + Double(green.total) * b)) < 1e-6)
        let rects = try Self.frames(FlameGraphSVG(title: "diff", subtitle: "test", differential: ("thread", "green")).render(tree))
        Self.checkNesting(rects)
        // Only thread mode runs on kernel threads' start_thread; only green on our trampoline.
        let threadOnly = try #require(rects.first { $0.title.hasPrefix("start_thread:") })
        #expect(threadOnly.fill == FlameGraphSVG.differenceColour(first: 1, second: 0))
        #expect(threadOnly.fill.hasPrefix("#ff"))
        let greenOnly = try #require(rects.first { $0.title.hasPrefix("csgb_context_trampoline:") })
        #expect(greenOnly.fill == FlameGraphSVG.differenceColour(first: 0, second: 1))
        #expect(greenOnly.fill.hasSuffix("ff") && !greenOnly.fill.hasPrefix("#ff"))
        #expect(FlameGraphSVG.differenceColour(first: 2, second: 2) == "#ffffff")
    }

    /// Cut at the kernel entry, both modes' `read` paths share frames: the
    /// differential then compares the same kernel code.
    @Test func cutStacksLineUpAcrossModes() throws {
        let (thread, a, green, b) = try Self.folds()
        let cutThread = thread.cutAtKernelEntry(), cutGreen = green.cutAtKernelEntry()
        #expect(cutThread.total == thread.total && cutGreen.total == green.total)
        let tree = FlameGraph.differentialTree(cutThread, scale: a, cutGreen, scale: b)
        let read = try #require(tree.children[FrameKey(name: "read", kind: .libc)])
        #expect(read.value > 0 && read.other > 0)
        #expect(tree.children.keys.allSatisfy { $0.name != "start_thread" && $0.name != "csgb_context_trampoline" })
        let rects = try Self.frames(FlameGraphSVG(title: "diff", subtitle: "t", differential: ("thread", "green")).render(tree))
        Self.checkNesting(rects)
        #expect(rects.contains { $0.title.hasPrefix("__schedule [k]:") && $0.fill.hasPrefix("#ff") })
    }

    /// The structure checks catch a frame that floats over nothing and two that overlap.
    @Test func nestingCheckFailsOnABrokenGraph() {
        let floating = [Rect(x: 10, y: 100, width: 100, title: "root", fill: ""), Rect(x: 200, y: 84, width: 50, title: "orphan", fill: "")]
        withKnownIssue { Self.checkNesting(floating) }
        let overlapping = [Rect(x: 10, y: 100, width: 100, title: "a", fill: ""), Rect(x: 50, y: 100, width: 100, title: "b", fill: "")]
        withKnownIssue { Self.checkNesting(overlapping) }
    }

    @Test func namesAreEscaped() throws {
        var folded = FoldedStacks()
        folded.weights[[FrameKey(name: "Array<Int> & \"x\"", kind: .csgb)]] = 10
        let rects = try Self.frames(FlameGraphSVG(title: "<t>", subtitle: "&").render(FlameGraph.tree(folded, scale: 1)))
        #expect(rects.contains { $0.title.hasPrefix("Array<Int> & \"x\":") })
    }
}

@Suite(.serialized) struct ExplainCommandTests {
    @Test func perfMissingExits69WithTheFix() throws {
        let result = try CSGBProcess.run(["explain", "--out", NSTemporaryDirectory() + "csgb-explain-noperf", "--", "socket", "1", "--cpus", "0"],
                                         shellPrefix: "PATH=/nonexistent")
        #expect(result.status == 69)
        #expect(result.stderr.contains("perf not found") && result.stderr.contains("apt-get install linux-perf"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: NSTemporaryDirectory() + "csgb-explain-noperf"))
    }

    /// The whole pipeline with perf: both modes recorded, rows in JSON adding up
    /// to their stated sums, three SVGs and the timeline PNG written. Whether the
    /// rows match the wall clock depends on the machine being quiet, so that is
    /// read, not asserted, here.
    @Test(.enabled(if: PerfProcessTests.StatCommandTests.perfUsable && TimelinePlot.python() != nil,
                   "needs root, perf and python3-matplotlib"))
    func explainWritesGraphsAndTimeline() throws {
        let out = NSTemporaryDirectory() + "csgb-explain-e2e-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: out) }
        let result = try CSGBProcess.run(["explain", "--seconds", "0.3", "--timeline-seconds", "0.1", "--out", out, "--format", "json",
                                          "--", "socket", "1", "--cpus", "0"], timeout: 120)
        #expect(result.status == 0, "\(result.stderr)")
        let report = try CSGBProcess.json(result.stdout)
        let modes = try #require(report["modes"] as? [[String: Any]])
        #expect(modes.map { $0["mode"] as? String } == ["thread", "green"])
        for mode in modes {
            let rows = try #require(mode["rows"] as? [String: Double])
            #expect(Set(rows.keys) == ["scheduler", "wake_ups", "syscall_entry_exit", "socket", "swift_runtime", "csgb", "other"])
            let sum = try #require(mode["rows_sum_ns_per_iteration"] as? Double)
            #expect(abs(rows.values.reduce(0, +) - sum) < 0.01)
            #expect((mode["samples"] as? Int ?? 0) > 100)
        }
        let thread = try #require(modes[0]["rows"] as? [String: Double]), green = try #require(modes[1]["rows"] as? [String: Double])
        // Kernel threads spend time in the scheduler at every round trip, green threads none.
        #expect(thread["scheduler"]! > green["scheduler"]!)
        let difference = try #require(report["difference"] as? [String: Any])
        #expect(difference["within_tolerance"] is Bool)
        for file in ["thread.svg", "green.svg", "diff-thread-green.svg", "timeline.png", "timeline.csv", "thread.folded", "report.json"] {
            #expect(FileManager.default.fileExists(atPath: out + "/" + file), "\(file)")
        }
        let svg = try String(contentsOfFile: out + "/diff-thread-green.svg", encoding: .utf8)
        #expect(svg.contains("__schedule [k]"))
    }

    @Test(arguments: [
        ["explain", "--modes", "thread,thread", "--", "socket", "1"],
        ["explain", "--modes", "thread", "--", "socket", "1"],
        ["explain", "--", "socket", "1", "--mode", "green"],
        ["explain", "--", "socket", "1", "--duration", "1"],
        ["explain", "--seconds", "0", "--", "socket", "1"],
        ["explain"],
        ["explain", "--", "socket", "0"],
    ])
    func badInputExits64(arguments: [String]) throws {
        let result = try CSGBProcess.run(arguments)
        #expect(result.status == 64, "\(arguments): \(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        #expect(result.stdout.isEmpty)
    }
}

@Suite struct ExplainTimelineTests {
    @Test func noPMUTimelineHasSoftwareSeriesOnly() throws {
        let timeline = Timeline(parsing: try ExplainFixture.text("perf-stat-intervals-nopmu.csv"))
        #expect(!timeline.hardwareCounted)
        #expect(timeline.buckets.count >= 20)
        #expect(timeline.plottedSeries == ["context_switches", "syscalls", "task_clock_ms"])
        #expect(timeline.buckets.allSatisfy { $0.instructions == nil && $0.ipc == nil && $0.taskClockMs != nil && $0.syscalls != nil })
        // Intervals outside the window (perf disabled: `<not counted>`) are left out.
        #expect(timeline.buckets.allSatisfy { $0.width > 0 && $0.width < 0.005 })
        let row = try #require(timeline.csvRows(mode: "thread").first)
        #expect(row.hasSuffix(",,,"))
    }

    @Test func noPMUNoteIsSaidOnceAndThePlotIsDrawn() throws {
        let folder = try ResultsFolder(NSTemporaryDirectory() + "csgb-explain-test-\(getpid())")
        defer { try? FileManager.default.removeItem(atPath: folder.path) }
        let scratch = try ScratchDirectory()
        let timeline = Timeline(parsing: try ExplainFixture.text("perf-stat-intervals-nopmu.csv"))
        var report = ExplainSumCheckTests.report(threadRows: 9_000, threadMeasured: 9_200, greenRows: 3_300, greenMeasured: 3_400)
        let request = ExplainRequest(workloadArguments: ["socket", "1"], modes: ["thread", "green"], seconds: 1, timelineSeconds: 0.2,
                                     outputPath: folder.path, executable: "/x/csgb", perfPath: "/usr/bin/perf")
        try ExplainSession.writeFiles(request: request, folder: folder, folds: [], timelines: [("thread", timeline), ("green", timeline)],
                                      pmu: false, plotStderr: scratch.file("plot-stderr"), report: &report)
        #expect(report.notes.filter { $0 == Timeline.noPMUNote }.count == 1)
        #expect(ExplainSumCheckTests.unwrapped(report.text).components(separatedBy: "no hardware PMU here").count == 2)
        #expect(report.warnings.isEmpty, "\(report.warnings)")
        let png = try Data(contentsOf: URL(fileURLWithPath: folder.file("timeline.png")))
        #expect(png.starts(with: [0x89, 0x50, 0x4e, 0x47]))
        let csv = try String(contentsOfFile: folder.file("timeline.csv"), encoding: .utf8)
        #expect(csv.hasPrefix(Timeline.csvHeader))
    }

    /// Counts in the format perf prints where a PMU exists (these VMs have none, so
    /// the fixture was written in that format by hand): IPC is computed and plotted.
    @Test func pmuTimelineAddsIPC() throws {
        let timeline = Timeline(parsing: try ExplainFixture.text("perf-stat-intervals-pmu.csv"))
        #expect(timeline.hardwareCounted)
        #expect(timeline.plottedSeries.last == "ipc")
        let first = try #require(timeline.buckets.first)
        let instructions = try #require(first.instructions), cycles = try #require(first.cycles)
        #expect(first.ipc == instructions / cycles)
    }
}

@Suite struct FramePointerCheckTests {
    @Test func prologues() {
        #expect(FramePointerCheck.setsUpFramePointer([0x55, 0x48, 0x89, 0xe5, 0x41, 0x57, 0, 0][...]))
        #expect(FramePointerCheck.setsUpFramePointer([0xf3, 0x0f, 0x1e, 0xfa, 0x55, 0x48, 0x89, 0xe5][...]))
        // -fomit-frame-pointer: rbp pushed as a callee-saved register, or not at all.
        #expect(!FramePointerCheck.setsUpFramePointer([0x55, 0x41, 0x57, 0x41, 0x56, 0x53, 0, 0][...]))
        #expect(!FramePointerCheck.setsUpFramePointer([0x48, 0x83, 0xec, 0x08, 0, 0, 0, 0][...]))
    }

    /// A hand-built ELF: one of our functions with a frame pointer, one without,
    /// and a foreign one that must not count.
    @Test func scansTheSymbolTable() throws {
        var image = [UInt8](repeating: 0, count: 512)
        func put(_ bytes: [UInt8], at offset: Int) { image.replaceSubrange(offset..<(offset + bytes.count), with: bytes) }
        func le(_ value: Int, _ width: Int) -> [UInt8] { (0..<width).map { UInt8((value >> (8 * $0)) & 0xff) } }
        put([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], at: 0)
        put(le(256, 8), at: 0x28)
        put(le(64, 2), at: 0x3a)
        put(le(4, 2), at: 0x3c)
        put([0x55, 0x48, 0x89, 0xe5, 0x90, 0x90, 0x90, 0xc3], at: 64)                   // with a frame pointer
        put([0x48, 0x83, 0xec, 0x08, 0x90, 0x90, 0x90, 0xc3], at: 80)                   // without
        put(Array("\0$s4CSGB1aF\0$s4CSGB1bF\0other\0".utf8), at: 96)
        func symbol(_ index: Int, name: Int, value: Int) {
            let base = 128 + index * 24
            put(le(name, 4), at: base)
            put([0x12, 0], at: base + 4)
            put(le(1, 2), at: base + 6)
            put(le(value, 8), at: base + 8)
            put(le(16, 8), at: base + 16)
        }
        symbol(1, name: 1, value: 0x1000)
        symbol(2, name: 12, value: 0x1010)
        symbol(3, name: 23, value: 0x1000)
        func section(_ index: Int, type: Int, address: Int, offset: Int, size: Int, link: Int, entrySize: Int) {
            let base = 256 + index * 64
            put(le(type, 4), at: base + 4)
            put(le(address, 8), at: base + 16)
            put(le(offset, 8), at: base + 24)
            put(le(size, 8), at: base + 32)
            put(le(link, 4), at: base + 40)
            put(le(entrySize, 8), at: base + 56)
        }
        section(1, type: 1, address: 0x1000, offset: 64, size: 32, link: 0, entrySize: 0)
        section(2, type: 2, address: 0, offset: 128, size: 96, link: 3, entrySize: 24)
        section(3, type: 3, address: 0, offset: 96, size: 32, link: 0, entrySize: 0)
        let check = try #require(FramePointerCheck(elf: image, prefixes: ["$s4CSGB"]))
        #expect(check.functions == 2)
        #expect(check.withFramePointer == 1)
        #expect(FramePointerCheck(elf: Array("not an elf file at all, just text padding it out".utf8) + image, prefixes: ["$s4CSGB"]) == nil)
    }

    /// The csgb these tests run keeps frame pointers (debug builds always do; a
    /// release build may not, which `csgb explain` itself reports).
    @Test(.enabled(if: Environment.buildKind == "debug", "needs a debug build of csgb"))
    func builtBinaryKeepsFramePointers() throws {
        let check = try #require(FramePointerCheck.of(executable: CSGBProcess.binary.path))
        #expect(check.functions > 500)
        #expect((check.share ?? 0) >= FramePointerCheck.threshold)
    }
}
