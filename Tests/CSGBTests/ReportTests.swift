import CSGBSystem
import Foundation
import Testing
@testable import CSGB
import Fibers

func sampleReport(iterations: UInt64 = 1_000, seconds: Double = 2) -> RunReport {
    RunReport(
        workload: "socket", transport: .unix, mode: .green, io: .direct, executor: nil, n: 2, actors: 4, workers: 1, osThreads: 1,
        cpus: "0", pinning: .set, workSize: 4096, numa: .off, stride: 64, seconds: seconds, warmupSeconds: 0.1,
        warmupComplete: true, stoppedBy: "duration", iterations: iterations, perActor: [500, 500, 400, 600],
        switches: ContextSwitches(voluntary: 10, involuntary: 5), userSeconds: 0.5, systemSeconds: 1.5,
        maxRSSBytes: 10 << 20, eagain: 0,
        environment: Environment(hostname: "h,1", cpuModel: "CPU \"X\"", onlineCPUs: 2, allowedCPUs: "0-1",
                                 numaNodes: 1, kernel: "6.1", perfPath: nil, perfEventParanoid: 2,
                                 hardwarePMU: false, ioUring: "available", build: "release"),
        claims: claims(.green, SocketEcho(), cpus: [0]))
}

/// The claims a mode states for a workload, as a run of it would put them in its report.
func claims(_ mode: Mode, _ workload: any Workload, cpus: [Int32]?, executor: ExecutorChoice = .dedicated) -> Claims {
    var configuration = RunConfiguration(workload: workload, n: 1)
    configuration.mode = mode
    configuration.executor = executor
    configuration.placement = Placement(cpus: cpus.map { CPUList(cpus: $0) }, pinning: .set)
    let resources = WorkloadResources()
    defer { resources.release() }
    let actors = try! workload.makeActors(n: 1, touches: false, resources: resources)
    return mode.traits.claims(OperationCounts(actors), configuration)
}

@Suite struct ReportTests {
    @Test func textStartsWithTheOriginalLine() {
        let text = sampleReport().rendered(.text)
        #expect(text.hasPrefix("total iterations: 1000\n"))
        #expect(text.contains("ns/iteration:"))
        #expect(text.contains("2000000.0"))
        #expect(text.contains("voluntary 0.0100, involuntary 0.0050"))
        #expect(text.contains("min 400, max 600"))
    }

    @Test func jsonCarriesTheScriptFields() throws {
        let data = Data(sampleReport().rendered(.json).utf8)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        for key in ["workload", "mode", "n", "actors", "workers", "cpus", "seconds", "iterations",
                    "iterations_per_second", "ns_per_iteration", "fairness", "voluntary_switches_per_iteration",
                    "involuntary_switches_per_iteration", "user_seconds", "system_seconds", "max_rss_bytes",
                    "eagain", "transport", "claims", "environment"] {
            #expect(object[key] != nil, "missing \(key)")
        }
        #expect(object["ns_per_iteration"] as? Double == 2_000_000)
        let fairness = try #require(object["fairness"] as? [String: Any])
        #expect(fairness["min"] as? Int == 400)
        let environment = try #require(object["environment"] as? [String: Any])
        #expect(environment["cpu_model"] as? String == "CPU \"X\"")
        #expect(environment["perf"] is NSNull)
    }

    @Test func csvIsOneHeaderAndOneRowOfEqualWidth() {
        let lines = sampleReport().rendered(.csv).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 2)
        let header = lines[0].split(separator: ",")
        #expect(header.contains("ns_per_iteration"))
        #expect(header.contains("fairness_cv"))
        // Quoted fields may hold commas: count fields with a tiny CSV reader.
        #expect(csvFields(String(lines[1])).count == header.count)
        #expect(lines[1].contains("\"h,1\""))
        #expect(lines[1].contains("\"CPU \"\"X\"\"\""))
    }

    @Test func noIterationsGivesNullsNotZeros() throws {
        let report = sampleReport(iterations: 0)
        #expect(report.nanosecondsPerIteration == nil)
        #expect(report.rendered(.text).contains("ns/iteration:       n/a"))
        #expect(report.json["ns_per_iteration"] == .null)
    }

    @Test func fairnessFigures() {
        let fairness = Fairness(counts: [10, 10, 10, 10])
        #expect(fairness.cv == 0)
        let skewed = Fairness(counts: [0, 20])
        #expect(skewed.min == 0 && skewed.max == 20)
        #expect(skewed.cv == 1)
        #expect(Fairness(counts: []).cv == nil)
        #expect(Fairness(counts: [0, 0]).cv == nil)
    }

    @Test func formatting() {
        #expect(Fmt.fixed(1.23456, 2) == "1.23")
        #expect(Fmt.fixed(0.0004, 4) == "0.0004")
        #expect(Fmt.fixed(-2.5, 1) == "-2.5")
        #expect(Fmt.fixed(nil, 2) == "n/a")
        #expect(Fmt.whole(1_234_567) == "1234567")
        #expect(Fmt.bytes(3 << 20) == "3.0 MiB")
    }

    @Test func jsonEscapesControlCharacters() {
        #expect(JSON.string("a\"b\\c\n\u{1}").rendered() == "\"a\\\"b\\\\c\\n\\u0001\"")
    }
}

/// Splits a CSV row into fields, honouring quotes (enough to count fields).
func csvFields(_ line: String) -> [String] {
    var fields: [String] = []
    var current = ""
    var quoted = false
    for c in line {
        if c == "\"" {
            quoted.toggle()
        } else if c == "," && !quoted {
            fields.append(current)
            current = ""
        } else {
            current.append(c)
        }
    }
    fields.append(current)
    return fields
}
