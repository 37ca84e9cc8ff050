/// The synthetic memory access of one actor: every iteration reads and writes one
/// byte every `stride` bytes of its own buffer, to show what cache and TLB
/// pressure does to each mode.
public struct TouchBuffer: @unchecked Sendable {
    let base: UnsafeMutablePointer<UInt8>?
    let size: Int
    let stride: Int

    public static let none = TouchBuffer(base: nil, size: 0, stride: 1)

    init(base: UnsafeMutablePointer<UInt8>?, size: Int, stride: Int) {
        self.base = base
        self.size = size
        self.stride = max(stride, 1)
    }

    @inline(__always)
    public func touch() {
        guard let base else { return }
        var offset = 0
        while offset < size {
            base[offset] &+= 1
            offset &+= stride
        }
    }
}
