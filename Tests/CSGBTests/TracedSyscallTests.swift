import CSGBSystem
import Foundation
import Testing
@testable import Analysis
@testable import CSGB

/// `csgb stat` traces what the claims name: a new claim needs no edit in Report/
/// or Verification/, and the documented table is the generated one.
@Suite struct TracedSyscallTests {
    @Test func aClaimedSyscallIsTraced() {
        var claims = Claims()
        claims.exactSyscalls["sendto"] = 2
        claims.absentSyscalls = ["read"]
        #expect(claims.tracedSyscalls.starts(with: Claims.alwaysTraced))
        #expect(claims.tracedSyscalls.contains("sendto"))
        #expect(claims.tracedSyscalls.filter { $0 == "read" }.count == 1)
        let events = StatEvents.resolve(user: nil, syscalls: claims.tracedSyscalls) { _ in true }.events
        #expect(events.contains("syscalls:sys_enter_sendto"))
        // Without the claim it is not traced: the list really follows the claims.
        #expect(!StatEvents.resolve(user: nil) { _ in true }.events.contains("syscalls:sys_enter_sendto"))
    }

    @Test func figuresShowEveryTracepointPerfCounted() throws {
        let output = try PerfStatOutput(parsing: """
            100,,syscalls:sys_enter_read,1000,100.00,,
            7,,syscalls:sys_enter_sendto,1000,100.00,,
            """)
        #expect(output.tracedSyscalls == ["read", "sendto"])
        let figures = StatFigures(perf: output, report: .object([("iterations", .integer(10))]))
        #expect(figures.syscallNames == ["read", "sendto"])
        #expect(figures.value(.syscalls("sendto")) == 0.7)
    }

    @Test func aConfigurationTracesWhatItsRunWillClaim() {
        var configuration = RunConfiguration(workload: YieldLoop(), n: 1)
        configuration.mode = .thread
        #expect(configuration.tracedSyscalls.contains("sched_yield"))
        #expect(configuration.claims.exactSyscalls["sched_yield"] == 1)
        var socket = RunConfiguration(workload: SocketEcho(), n: 3)
        socket.mode = .thread
        // Known before any kernel object exists, and per iteration as the run states it.
        #expect(socket.claims.exactSyscalls == ["read": 2, "write": 2])
    }

    @Test func documentedRulesAreTheGeneratedOnes() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("docs/verification.md"), encoding: .utf8)
        let begin = try #require(text.range(of: "<!-- rules:begin -->\n"))
        let end = try #require(text.range(of: "<!-- rules:end -->"))
        let documented = String(text[begin.upperBound..<end.lowerBound])
        #expect(documented == RulesTable.markdown(), "docs/verification.md's table differs from `csgb stat --explain-rules`: regenerate it")
    }
}
