import CSGBSystem

/// How `touch` walks an actor's buffer (`--access`).
public enum AccessPattern: String, CaseIterable, Sendable {
    /// One byte every `--stride` bytes, read and written: csgb's walk.
    case stride
    /// Every 8-byte word once per iteration, read and written, visited in stride
    /// order: words 0, s, 2s, … then 8, s + 8, … (Li, Ding and Shen, "Quantifying
    /// the Cost of Context Switch", ExpCS 2007). The stride only reorders the walk,
    /// so the work per iteration is the same at every stride.
    case li

    /// A line for `--help`, the report and the docs.
    public var summary: String {
        switch self {
        case .stride: return "one byte every --stride bytes"
        case .li: return "every 8-byte word once, in stride order (Li et al. 2007)"
        }
    }

    /// Why this walk cannot take `stride` over `size` bytes, or nil when it can.
    public func refusal(size: Int, stride: Int) -> String? {
        guard self == .li else { return nil }
        if stride % TouchBuffer.wordBytes != 0 {
            return "--access li visits 8-byte words, so --stride must be a multiple of 8 (got \(stride))"
        }
        if size % TouchBuffer.wordBytes != 0 {
            return "--access li visits 8-byte words, so --work-size must be a multiple of 8 (got \(size))"
        }
        return nil
    }
}

/// The synthetic memory access of one actor: every iteration reads and writes its
/// own buffer in the chosen walk, to show what cache and TLB pressure does to each
/// mode.
public struct TouchBuffer: @unchecked Sendable {
    let base: UnsafeMutablePointer<UInt8>?
    let size: Int
    let stride: Int
    let access: AccessPattern
    /// The hidden fault `--inject-cold-work`: every line of the buffer is evicted
    /// from the caches before each pass.
    let evictsBeforePass: Bool

    static let wordBytes = 8

    public static let none = TouchBuffer(base: nil, size: 0, stride: 1)

    init(base: UnsafeMutablePointer<UInt8>?, size: Int, stride: Int, access: AccessPattern = .stride,
         evictsBeforePass: Bool = false) {
        self.base = base
        self.size = size
        self.stride = max(stride, 1)
        self.access = access
        self.evictsBeforePass = evictsBeforePass
    }

    /// One pass. Allocates nothing and takes no lock: it runs inside the measured loop.
    @inline(__always)
    public func touch() {
        guard let base else { return }
        if evictsBeforePass { CacheEviction.evict(UnsafeMutableRawPointer(base), length: size) }
        switch access {
        case .stride:
            Self.walk(size: size, stride: stride, access: .stride) { base[$0] &+= 1 }
        case .li:
            // Page-aligned buffers (TouchBuffers), so every word is aligned.
            let words = UnsafeMutableRawPointer(base).assumingMemoryBound(to: UInt64.self)
            Self.walk(size: size, stride: stride, access: .li) { words[$0 &>> 3] &+= 1 }
        }
    }

    /// The byte offsets one pass visits, in order, each given to `visit`: the walk's
    /// one definition, which `touch` inlines (a non-escaping closure: no allocation)
    /// and the tests observe. `.li` gives the offset of each 8-byte word.
    @inline(__always)
    static func walk(size: Int, stride: Int, access: AccessPattern, _ visit: (Int) -> Void) {
        switch access {
        case .stride:
            var offset = 0
            while offset < size {
                visit(offset)
                offset &+= stride
            }
        case .li:
            let end = size - size % wordBytes
            var start = 0
            while start < stride && start < end {
                var offset = start
                while offset < end {
                    visit(offset)
                    offset &+= stride
                }
                start &+= wordBytes
            }
        }
    }
}
