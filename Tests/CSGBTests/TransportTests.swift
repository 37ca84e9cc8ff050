import CSGBSystem
import Foundation
import Glibc
import Testing
@testable import CSGB

/// Every transport in every mode: the same scripts over a socketpair, two pipes and
/// a loopback TCP connection.
@Suite(.serialized) struct TransportTests {
    @Test(arguments: ["thread", "green", "async"], ["unix", "pipe", "tcp"])
    func everyTransportInEveryMode(mode: String, transport: String) throws {
        let result = try CSGBProcess.run(["socket", "3", "--mode", mode, "--transport", transport, "--cpus", "0"]
            + EndToEndTests.passing, timeout: 90)
        #expect(result.status == 0, "\(mode) \(transport): \(result.stderr)")
        let report = try CSGBProcess.json(result.stdout)
        #expect(report["transport"] as? String == transport)
        #expect((report["iterations"] as? Int ?? 0) > 0)
        let fairness = try #require(report["fairness"] as? [String: Any])
        #expect((fairness["min"] as? Int ?? 0) > 0, "an actor starved: \(fairness)")
        #expect(report["eagain"] as? Int == 0)
    }

    @Test(arguments: [("pipe", SIGINT), ("tcp", SIGTERM), ("pipe", SIGTERM), ("tcp", SIGINT)])
    func threadModeStopsOnEveryTransport(transport: String, signal: Int32) throws {
        let result = try CSGBProcess.run(["socket", "50", "--transport", transport], signal: signal, signalAt: .open, timeout: 60)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains(signal == SIGINT ? "stopped by SIGINT" : "stopped by SIGTERM"))
        #expect(result.seconds < 5)
    }

    @Test func unknownTransportIsBadUsage() throws {
        let result = try CSGBProcess.run(["socket", "1", "--transport", "carrier-pigeon", "-d", "0.1"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("--transport"))
    }

    /// A thread blocked in read on a channel with nothing to read returns once the
    /// channel is interrupted: how a stop reaches thread mode on every transport.
    @Test(arguments: ByteChannel.Kind.allCases)
    func interruptUnblocksABlockedReader(kind: ByteChannel.Kind) throws {
        let resources = WorkloadResources()
        defer { resources.release() }
        let channel = try resources.channel(kind)
        let outcome = ResultBox()
        let tid = ThreadIDBox()
        let reader = try OSThread(name: "blocked-reader") {
            tid.set(OSThread.currentID)
            var byte: UInt8 = 0
            outcome.set(channel.second.input.readByte(&byte))
        }
        // The kernel's own word that the reader sleeps in read(2): state S, and
        // syscall 0 (read on x86_64) in /proc/self/task/TID/syscall.
        #expect(Self.awaitBlockedInRead(tid), "the reader never blocked in read(2)")
        #expect(outcome.get() == nil, "the reader should still be blocked")
        resources.interruptBlockedActors()
        var waited = 0
        while outcome.get() == nil && waited < 200 {
            usleep(10_000)
            waited += 1
        }
        reader.join()
        #expect(outcome.get() == .closed)
    }

    static func awaitBlockedInRead(_ tid: ThreadIDBox, timeout: Double = 30) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let id = tid.get(),
               let syscall = try? String(contentsOfFile: "/proc/self/task/\(id)/syscall", encoding: .utf8),
               let stat = try? String(contentsOfFile: "/proc/self/task/\(id)/stat", encoding: .utf8),
               let close = stat.lastIndex(of: ")"),
               syscall.split(separator: " ").first == "0", stat[stat.index(close, offsetBy: 2)] == "S" {
                return true
            }
            Thread.sleep(forTimeInterval: 0.001)
        }
        return false
    }

    /// Pipes carry two descriptors per end; the plan's limit check counts them.
    @Test func descriptorCountsPerTransport() {
        #expect(SocketEcho(transport: .unix).descriptors(n: 10) == 20)
        #expect(SocketEcho(transport: .pipe).descriptors(n: 10) == 40)
        #expect(SocketEcho(transport: .tcp).descriptors(n: 10) == 21)
    }
}

final class ThreadIDBox: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Int32?
    func set(_ id: Int32) { lock.lock(); value = id; lock.unlock() }
    func get() -> Int32? { lock.lock(); defer { lock.unlock() }; return value }
}

private final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var value: TransferResult?
    func set(_ result: TransferResult) { lock.lock(); value = result; lock.unlock() }
    func get() -> TransferResult? { lock.lock(); defer { lock.unlock() }; return value }
}
