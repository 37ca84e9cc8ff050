import CCSGB

/// Evicting memory from every cache level (clflush), for the hidden fault
/// `--inject-cold-work`: an actor's work made to run on cold caches after every
/// switch, as a switch's indirect cost would make it.
public enum CacheEviction {
    /// Whether this architecture can evict lines (x86_64).
    public static var isSupported: Bool { csgb_evict_supported() == 1 }

    /// Evicts every line of `length` bytes from `base`. Allocates nothing, takes no
    /// lock: it runs inside the measured loop.
    @inline(__always)
    public static func evict(_ base: UnsafeMutableRawPointer, length: Int) {
        _ = csgb_evict_range(base, length)
    }
}
