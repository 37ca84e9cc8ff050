import CSGBSystem
import Fibers
import Foundation
import Testing
@testable import CSGB

/// Many short runs in one process leave nothing behind: every descriptor closed,
/// every green stack unmapped, every OS thread joined.
@Suite(.serialized) struct TeardownTests {
    func openDescriptors() -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? -1
    }

    func threads() -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count) ?? -1
    }

    @Test func repeatedRunsReleaseEverything() throws {
        let cases: [(any Workload, Int, Mode)] = [
            (SocketEcho(), 20, .thread), (SocketEcho(), 200, .green), (SocketEcho(), 200, .async),
            (YieldLoop(), 3, .green), (FutexPingPong(), 4, .thread), (YieldLoop(), 2, .async),
        ]
        // One warm-up run so that lazily created runtime threads and descriptors exist.
        var warm = RunConfiguration(workload: SocketEcho(), n: 1)
        warm.duration = 0.05
        warm.warmup = 0
        _ = try Benchmark.run(warm)
        let descriptorsBefore = openDescriptors()
        let threadsBefore = threads()
        for round in 0..<2 {
            for (workload, n, mode) in cases {
                var configuration = RunConfiguration(workload: workload, n: n)
                configuration.mode = mode
                configuration.duration = 0.1
                configuration.warmup = 0.02
                // A loaded machine may give these actors no CPU for 0.1 s: the
                // window waits for every actor's pass instead of ending at none.
                configuration.untilPasses = 1
                let report = try Benchmark.run(configuration)
                let seen = "round \(round): \(workload.name) \(mode), \(report.seconds) s measured; \(report.noise ?? "no noise seen")"
                #expect(report.iterations > 0, "\(seen)")
                #expect(report.fairness.min > 0, "\(seen)")
            }
        }
        #expect(openDescriptors() == descriptorsBefore)
        #expect(FiberStack.liveCount == 0)
        // The global executor may keep pool threads; our own threads are all joined.
        #expect(threads() <= threadsBefore + 2)
    }

    /// A pinned run leaves the calling thread's affinity as it found it.
    @Test func pinnedRunRestoresTheCallersAffinity() throws {
        let before = try CPUList.allowed()
        var configuration = RunConfiguration(workload: YieldLoop(), n: 1)
        configuration.placement = Placement(cpus: CPUList(parsing: "0"), pinning: .set)
        configuration.duration = 0.05
        configuration.warmup = 0
        _ = try Benchmark.run(configuration)
        #expect(try CPUList.allowed() == before)
    }

    @Test func unsupportedModeIsAUsageError() {
        var configuration = RunConfiguration(workload: FutexPingPong(), n: 1)
        configuration.mode = .green
        #expect(throws: CSGBError.usage("--mode green cannot run futex: a futex wait would block the worker thread")) {
            try Benchmark.run(configuration)
        }
    }
}
