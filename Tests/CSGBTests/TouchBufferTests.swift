import Testing
@testable import CSGB
import CSGBSystem

/// `--access`: each walk touches what it claims, counted on a small buffer whose
/// every byte starts at 1 (TouchBuffers faults it in with 1s).
@Suite struct TouchBufferTests {
    /// Bytes of the buffer that one pass changed, and by how much each.
    static func changedBytes(_ buffer: TouchBuffer) -> [Int: UInt8] {
        var changed: [Int: UInt8] = [:]
        for offset in 0..<buffer.size where buffer.base![offset] != 1 { changed[offset] = buffer.base![offset] &- 1 }
        return changed
    }

    static func words(_ buffer: TouchBuffer) -> [UInt64] {
        let words = UnsafeMutableRawPointer(buffer.base!).assumingMemoryBound(to: UInt64.self)
        return (0..<buffer.size / 8).map { words[$0] }
    }

    @Test(arguments: [(4096, 64), (4096, 100), (16384, 4096), (1000, 1)])
    func strideWalkTouchesOneByteEveryStride(size: Int, stride: Int) throws {
        let buffers = try TouchBuffers(actors: 1, size: size, stride: stride, access: .stride)
        buffers[0].touch()
        let changed = Self.changedBytes(buffers[0])
        #expect(changed.count == (size + stride - 1) / stride)
        #expect(changed.keys.allSatisfy { $0 % stride == 0 })
        #expect(changed.values.allSatisfy { $0 == 1 })
    }

    @Test(arguments: [(4096, 64), (16384, 4096), (4096, 8), (4096, 8192), (24, 16)])
    func liWalkTouchesEveryWordOnce(size: Int, stride: Int) throws {
        let buffers = try TouchBuffers(actors: 1, size: size, stride: stride, access: .li)
        let before = Self.words(buffers[0])
        buffers[0].touch()
        let after = Self.words(buffers[0])
        #expect(after.count == size / 8)
        #expect(zip(before, after).allSatisfy { $1 &- $0 == 1 }, "every word once, whatever the stride")
        buffers[0].touch()
        #expect(zip(before, Self.words(buffers[0])).allSatisfy { $1 &- $0 == 2 })
    }

    /// The order of Li et al.'s walk: 0, s, 2s, … then 8, s + 8, …, so the stride
    /// reorders the same work; the byte walk visits one byte per stride.
    @Test func walksVisitInStrideOrder() {
        var visited: [Int] = []
        TouchBuffer.walk(size: 64, stride: 32, access: .li) { visited.append($0) }
        #expect(visited == [0, 32, 8, 40, 16, 48, 24, 56])
        visited = []
        TouchBuffer.walk(size: 64, stride: 8, access: .li) { visited.append($0) }
        #expect(visited == [0, 8, 16, 24, 32, 40, 48, 56])
        visited = []
        TouchBuffer.walk(size: 64, stride: 32, access: .stride) { visited.append($0) }
        #expect(visited == [0, 32])
        // A stride beyond the buffer: every word once all the same.
        visited = []
        TouchBuffer.walk(size: 16, stride: 4096, access: .li) { visited.append($0) }
        #expect(visited == [0, 8])
    }

    @Test func refusesWhatTheWordWalkCannotTake() {
        #expect(AccessPattern.li.refusal(size: 4096, stride: 12) != nil)
        #expect(AccessPattern.li.refusal(size: 4100, stride: 64) != nil)
        #expect(AccessPattern.li.refusal(size: 4096, stride: 64) == nil)
        #expect(AccessPattern.stride.refusal(size: 4100, stride: 12) == nil)
    }

    @Test func coldWorkEvictsWithoutChangingTheWalk() throws {
        guard CacheEviction.isSupported else {
            print("skipped: clflush is x86_64 only")
            return
        }
        let buffers = try TouchBuffers(actors: 1, size: 8192, stride: 64, access: .stride, evictsBeforePass: true)
        buffers[0].touch()
        #expect(Self.changedBytes(buffers[0]).count == 128)
    }
}
