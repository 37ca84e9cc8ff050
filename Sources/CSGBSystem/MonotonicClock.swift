import CCSGB
#if canImport(Glibc)
import Glibc
#endif

/// CLOCK_MONOTONIC: every duration csgb reports is a difference of two readings.
public enum MonotonicClock {
    /// Now, in nanoseconds; inlined so that the latency sampler's reads stay a vDSO
    /// call and nothing more.
    @inlinable public static func nanoseconds() -> Int64 { csgb_monotonic_ns() }

    /// What one read costs on this machine, timed over `reads` reads back to back.
    public static func readCost(reads: Int = 4_000) -> Double {
        let start = nanoseconds()
        for _ in 0..<reads { _ = nanoseconds() }
        return Double(nanoseconds() - start) / Double(reads)
    }

    /// Sleeps `seconds`, whatever signals arrive meanwhile.
    public static func sleep(seconds: Double) {
        var pause = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - Double(Int(seconds))) * 1e9))
        var left = timespec()
        while nanosleep(&pause, &left) != 0 && errno == EINTR { pause = left }
    }
}
