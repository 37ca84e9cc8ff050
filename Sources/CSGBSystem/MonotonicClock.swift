import CCSGB
#if canImport(Glibc)
import Glibc
#endif

/// CLOCK_MONOTONIC: every duration csgb reports is a difference of two readings.
public enum MonotonicClock {
    /// Now, in nanoseconds; inlined so that the latency sampler's reads stay a vDSO
    /// call and nothing more.
    @inlinable public static func nanoseconds() -> Int64 { csgb_monotonic_ns() }

    /// Sleeps `seconds`, whatever signals arrive meanwhile.
    public static func sleep(seconds: Double) {
        var pause = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - Double(Int(seconds))) * 1e9))
        var left = timespec()
        while nanosleep(&pause, &left) != 0 && errno == EINTR { pause = left }
    }
}
