import Foundation
import Testing

/// The hidden `--until-passes K` that tests use where they assume every actor made
/// passes: the window stays open past its duration until each actor has made K,
/// so a loaded machine lengthens the run instead of failing the test. Counts
/// decide here, not time: a 10 ms window with K far above what 10 ms holds.
@Suite(.serialized) struct UntilPassesTests {
    @Test(arguments: ["thread", "process", "green"])
    func theWindowWaitsForEveryActorsPasses(mode: String) throws {
        let result = try CSGBProcess.run(["socket", "1", "--mode", mode, "--cpus", "0", "-d", "0.01", "--warmup", "0",
                                          "--until-passes", "20000", "--format", "json"], timeout: 120)
        #expect(result.status == 0, "\(result.stderr)")
        let report = try CSGBProcess.json(result.stdout)
        let fairness = try #require(report["fairness"] as? [String: Any])
        #expect(fairness["min"] as? Int ?? 0 >= 20000, "\(fairness)")
        #expect(report["stopped_by"] as? String == "duration")
        // The wait is part of the plan: no warning that the window overran.
        #expect(report["suspension"] is NSNull, "\(report["suspension"] ?? "")")
    }
}
