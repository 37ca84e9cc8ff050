import CSGBSystem
import Testing
@testable import CSGB

@Suite struct CPUListTests {
    @Test(arguments: [
        ("0", [0]), ("0-3", [0, 1, 2, 3]), ("0,2", [0, 2]), ("0-1,4", [0, 1, 4]), ("3,1-2,3", [3, 1, 2]),
    ] as [(String, [Int32])])
    func parsesTasksetLists(text: String, cpus: [Int32]) {
        #expect(CPUList(parsing: text)?.cpus == cpus)
    }

    @Test(arguments: ["", "a", "-1", "1-", "-", "3-1", "0,,1", "1.5", "0-1-2", " 0"])
    func rejectsMalformedLists(text: String) {
        #expect(CPUList(parsing: text) == nil)
    }

    @Test func printsCompactRanges() {
        #expect(CPUList(parsing: "4,0-2,6")?.description == "0-2,4,6")
    }

    @Test func placementRoundRobinsWithEach() {
        let placement = Placement(cpus: CPUList(parsing: "2,5"), pinning: .each)
        #expect(placement.cpus(forThread: 0) == [2])
        #expect(placement.cpus(forThread: 1) == [5])
        #expect(placement.cpus(forThread: 2) == [2])
        #expect(Placement(cpus: CPUList(parsing: "2,5"), pinning: .set).cpus(forThread: 3) == [2, 5])
        #expect(Placement(cpus: nil, pinning: .set).cpus(forThread: 0) == nil)
    }

    @Test func allowedCPUsAreNotEmpty() throws {
        #expect(try !CPUList.allowed().cpus.isEmpty)
    }
}

@Suite struct ByteSizeTests {
    @Test(arguments: [
        ("0", 0), ("4096", 4096), ("64K", 65_536), ("64k", 65_536), ("2M", 2 << 20), ("1G", 1 << 30),
    ] as [(String, Int)])
    func parsesSuffixes(text: String, bytes: Int) {
        #expect(ByteSize(parsing: text)?.bytes == bytes)
    }

    @Test(arguments: ["", "-1", "-5K", "K", "1.5K", "12X", "1KiB", "99999999999999999999", "9999999999999G"])
    func rejectsBadSizes(text: String) {
        #expect(ByteSize(parsing: text) == nil)
    }

    @Test func printsTheLargestExactUnit() {
        #expect(ByteSize(bytes: 65_536).description == "64K")
        #expect(ByteSize(bytes: 1_000).description == "1000")
        #expect(ByteSize(bytes: 3 << 20).description == "3M")
    }
}
