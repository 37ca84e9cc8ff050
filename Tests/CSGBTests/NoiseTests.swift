@testable import CSGB
import CSGBSystem
import Foundation
import Testing

/// A single run says when other work shared its CPUs, with the figure, as pyperf
/// does. Before: 11,140, 19,784 and 12,059 ns from one command on a loaded machine,
/// and no word in any report.
@Suite(.serialized) struct NoiseTests {
    @Test func theRuleNamesTheFigures() {
        let cpus = CPUList(cpus: [0, 1])
        #expect(WindowNoise(runnableAtOpen: 0, runnableAtClose: 0, loadAverage: 1.5, cpus: cpus).note == nil)
        let loaded = WindowNoise(runnableAtOpen: 0, runnableAtClose: 0, loadAverage: 3.25, cpus: cpus).note
        #expect(loaded?.contains("load average 3.25 over 2 CPUs") == true, "\(loaded ?? "nil")")
        let busy = WindowNoise(runnableAtOpen: 1, runnableAtClose: 0, loadAverage: 0.1, cpus: CPUList(cpus: [0])).note
        #expect(busy?.contains("1 and 0 other runnable task on CPU 0") == true, "\(busy ?? "nil")")
    }

    /// A process spinning on the run's CPU is runnable at both edges (it never
    /// sleeps): the report names it. No figure is asserted, only the warning.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/taskset")
                   && FileManager.default.isExecutableFile(atPath: "/usr/bin/python3"), "needs taskset and python3"))
    func aSpinnerOnTheRunsCPUIsNamed() throws {
        let spinner = Process()
        spinner.executableURL = URL(fileURLWithPath: "/usr/bin/taskset")
        // Bounded by its own clock too: a test run killed before its teardown must
        // not leave a spinner on CPU 0 for the machine's other users.
        spinner.arguments = ["-c", "0", "/usr/bin/python3", "-c",
                             "import time\nend = time.monotonic() + 60\nwhile time.monotonic() < end: pass"]
        try spinner.run()
        defer {
            // SIGKILL: the shell's loop does not end on the SIGTERM of terminate().
            kill(spinner.processIdentifier, SIGKILL)
            spinner.waitUntilExit()
        }
        let result = try CSGBProcess.run(["socket", "1", "--cpus", "0", "-d", "0.3", "--format", "json"], timeout: 60)
        #expect(result.status == 0, "\(result.stderr)")
        let report = try CSGBProcess.json(result.stdout)
        let noise = try #require(report["noise"] as? String, "no noise warning: \(result.stdout.prefix(400))")
        #expect(noise.contains("other runnable task") && noise.contains("on CPU 0"), "\(noise)")
    }
}
