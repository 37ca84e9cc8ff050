import Foundation
import Testing

/// A read or write that fails or comes up short while the run goes on ends that
/// actor's run; the report counts it and `csgb stat` refuses the run, in every mode and
/// on both io paths. Built with the hidden `--inject-closed-channel`, which shuts the
/// first pair's channel down as the window opens.
@Suite(.serialized) struct FailedTransferTests {
    @Test(arguments: ["thread", "green", "async"], ["direct", "uring"])
    func aClosedChannelIsReported(mode: String, io: String) throws {
        let base = ["socket", "2", "--mode", mode, "--io", io, "--cpus", "0"] + EndToEndTests.short
        let faulty = try CSGBProcess.run(base + ["--inject-closed-channel"])
        // The report stands, and the exit code says it is not the run it claims.
        #expect(faulty.status == 3, "\(faulty.stderr)")
        #expect(faulty.stderr.contains("not what it claims") && faulty.stderr.contains("failed or short transfer"), "\(faulty.stderr)")
        let report = try CSGBProcess.json(faulty.stdout)
        #expect(report["failed_transfers"] as? Int == 2)
        #expect((report["broken_claims"] as? String)?.contains("2 actors stopped") == true)
        let clean = try CSGBProcess.run(base)
        #expect(clean.status == 0, "\(clean.stderr)")
        #expect(try CSGBProcess.json(clean.stdout)["failed_transfers"] as? Int == 0)
        #expect(try CSGBProcess.json(clean.stdout)["broken_claims"] is NSNull)
    }

    @Test func statFailsARunWithFailedTransfers() throws {
        let result = try CSGBProcess.run(["stat", "--", "socket", "1", "--mode", "green", "--cpus", "0", "-d", "0.5",
                                          "--inject-closed-channel"], timeout: 60)
        #expect(result.status == 3, "\(result.stdout) \(result.stderr)")
        #expect(result.stderr.contains("failed_transfers"), "\(result.stderr)")
    }

    /// A text report of a broken run still prints in full, and says why it failed.
    @Test func aBrokenTextReportSaysSo() throws {
        let result = try CSGBProcess.run(["socket", "2", "--cpus", "0", "--inject-closed-channel", "-d", "0.3", "--warmup", "0.05"])
        #expect(result.status == 3, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("total iterations: "))
        let line = result.stdout.split(separator: "\n").first { $0.hasPrefix("failed:") }
        #expect(line?.contains("2 actors stopped on a failed or short transfer") == true, "\(result.stdout)")
    }
}
