import CSGB
import CSGBSystem
import Foundation
import Testing

/// Every line of every text report fits a terminal of 80 columns: long values wrap
/// under their label. Before: `priority:` 174 characters, `memory/actor` 91, stat's
/// `syscalls:` 173 and `verification: PASS (…` 181, `csgb info` up to 139.
@Suite(.serialized) struct ReportWidthTests {
    static func longLines(_ text: String) -> [String] {
        text.split(separator: "\n").map(String.init).filter { $0.count > TextTable.width }
    }

    static var realTime: [String] { SchedulingPolicy.fifo(2).refusal() == nil ? ["--sched", "fifo:5"] : [] }

    @Test(arguments: [
        ["socket", "2", "--mode", "thread", "--latency", "--counters"],
        ["socket", "2", "--mode", "process", "--spec", "ssbd"],
        ["socket", "2", "--mode", "green", "--io", "uring", "--latency"],
        ["yield", "4", "--mode", "async", "--workers", "2"],
        ["futex", "1", "--mode", "thread", "--work-size", "64K"],
    ])
    func runReportsFit(arguments: [String]) throws {
        let result = try CSGBProcess.run(arguments + ["--cpus", "0", "-d", "0.2"] + Self.realTime, timeout: 60)
        #expect(result.status == 0 || result.status == 69, "\(result.stderr)")
        #expect(Self.longLines(result.stdout).isEmpty, "\(Self.longLines(result.stdout))")
        #expect(Self.longLines(result.stderr).isEmpty || result.status != 0)
    }

    @Test(arguments: [["info"], ["info", "--check"], ["info", "--check", "--cpus", "0"]])
    func infoFits(arguments: [String]) throws {
        let result = try CSGBProcess.run(arguments, timeout: 30)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(Self.longLines(result.stdout).isEmpty, "\(Self.longLines(result.stdout))")
    }

    /// csgb stat's report, through a fake perf whose counts name every traced
    /// syscall, so the `syscalls:` row is as long as it gets.
    @Test func statReportFits() throws {
        let perf = try FakePerf()
        let names = ["read", "write", "futex", "epoll_wait", "epoll_pwait", "io_uring_enter", "sched_yield", "sendto", "recvfrom"]
        let csv = "1800,,context-switches,1000000000,100.00,,\n0,,cpu-migrations,1000000000,100.00,,\n"
            + names.map { "123456,,syscalls:sys_enter_\($0),1000000000,100.00,," }.joined(separator: "\n") + "\n"
        let csvPath = perf.file("stat.csv")
        try csv.write(toFile: csvPath, atomically: true, encoding: .utf8)
        let result = try CSGBProcess.run(["stat", "--", "socket", "1", "--mode", "green", "--cpus", "0", "-d", "0.2"], timeout: 60,
                                         shellPrefix: perf.shellPrefix(["FAKE_PERF_CSV": csvPath]))
        #expect(result.stdout.contains("verification:"), "\(result.stdout)\n\(result.stderr)")
        #expect(Self.longLines(result.stdout).isEmpty, "\(Self.longLines(result.stdout))")
    }

    /// csgb explain's report: the table with its difference column, the verdict, the
    /// notes and warnings, and the files (here under a long temporary path), through a
    /// fake perf and the recorded perf output of Tests/Fixtures/explain. Before: every
    /// table row was 83 characters and the verdict and notes up to 300.
    @Test func explainReportFits() throws {
        let perf = try FakePerf()
        let out = perf.file("explain-report-with-a-long-folder-name")
        let result = try ExplainFixture.explain(["--out", out, "--", "socket", "1", "--cpus", "0"], perf: perf)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("sum of rows (sampled CPU time)") && result.stdout.contains("note: "), "\(result.stdout)")
        #expect(Self.longLines(result.stdout).isEmpty, "\(Self.longLines(result.stdout))")
        let written = try String(contentsOfFile: out + "/report.txt", encoding: .utf8)
        #expect(Self.longLines(written).isEmpty, "\(Self.longLines(written))")
    }

    @Test func wrappingKeepsEveryWordAndItsLabel() {
        let value = (1...40).map { "word\($0)" }.joined(separator: " ")
        let text = TextTable.keyValues([("label", value), ("long-label-here", "short")])
        #expect(Self.longLines(text).isEmpty)
        let words: [String] = text.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init)
        let expected: [String] = (1...40).map { "word\($0)" }
        #expect(words.filter { $0.hasPrefix("word") } == expected)
        #expect(text.hasPrefix("label:"))
        let unbroken = String(repeating: "x", count: 200)
        #expect(Self.longLines(TextTable.wrapped("path: " + unbroken, hanging: 6)).isEmpty)
    }
}
