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
        #expect(faulty.status == 0, "\(faulty.stderr)")
        #expect(try CSGBProcess.json(faulty.stdout)["failed_transfers"] as? Int == 2)
        let clean = try CSGBProcess.run(base)
        #expect(clean.status == 0, "\(clean.stderr)")
        #expect(try CSGBProcess.json(clean.stdout)["failed_transfers"] as? Int == 0)
    }

    @Test func statFailsARunWithFailedTransfers() throws {
        let result = try CSGBProcess.run(["stat", "--", "socket", "1", "--mode", "green", "--cpus", "0", "-d", "0.5",
                                          "--inject-closed-channel"], timeout: 60)
        #expect(result.status == 3, "\(result.stdout) \(result.stderr)")
        #expect(result.stderr.contains("failed_transfers"), "\(result.stderr)")
    }
}
