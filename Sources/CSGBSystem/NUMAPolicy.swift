import CCSGBNUMA

/// Where the kernel puts the pages of green stacks and work buffers (`--numa`).
/// Set on a fresh mapping before its first touch: a policy steers only pages that
/// are not yet faulted in.
public enum NUMAPolicy: String, CaseIterable, Sendable {
    /// No policy: the kernel's default (the node of the first toucher).
    case off
    /// Explicitly the node of the CPU that first touches each page.
    case local
    /// Round-robin over every node, so no node's memory bandwidth is the bottleneck.
    case interleave

    /// Whether the kernel supports memory policies at all.
    public static var isAvailable: Bool { csgb_numa_available() != 0 }

    /// Applies the policy to `length` bytes at `address`; returns the errno of a
    /// failed mbind, or nil.
    public func apply(to address: UnsafeMutableRawPointer, length: Int) -> Int32? {
        let code: Int32
        switch self {
        case .off: return nil
        case .local: code = csgb_numa_bind(address, length, 1)
        case .interleave: code = csgb_numa_bind(address, length, 2)
        }
        return code == 0 ? nil : code
    }
}
