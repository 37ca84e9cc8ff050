import CSGBSystem
import Atomics
import Histogram

/// `--latency`: the duration of sampled iterations (one round trip of a pair, one
/// yield), recorded per actor into an HDR histogram and merged after the run.
/// Sampling keeps the cost small: one pass in `sampleEvery` reads the clock twice,
/// and `sampleEvery` is chosen from the warm-up's pace so that sampling costs about
/// 0.5 % of an actor's time (the target is below 2 %).
public final class LatencySampler: @unchecked Sendable {
    /// 0 while no window is open: nothing is sampled in the warm-up.
    private let every = UnsafeAtomic<UInt64>.create(0)
    private let recorders: [Recorder]

    /// What two clock reads and a histogram record cost, about; measured once.
    static let sampleCostNanoseconds: Double = 2 * MonotonicClock.readCost(reads: 2_000) + 10

    final class Recorder {
        var histogram = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000_000,
                                          numberOfSignificantValueDigits: .three)
    }

    init(actors: Int) {
        recorders = (0..<actors).map { _ in Recorder() }
    }

    deinit { every.destroy() }

    /// The sampling interval in force, 0 when none.
    public var sampleEvery: UInt64 { every.load(ordering: .relaxed) }

    /// The handle an actor keeps: a value with no reference counting, because a
    /// retain and release per pass doubled the cost of a green yield.
    func probe(actor: Int) -> LatencyProbe {
        LatencyProbe(every: every, recorder: recorders[actor])
    }

    /// Opens sampling with an interval fitted to `nanosecondsPerPass`, the time one
    /// pass of one actor took in the warm-up (nil: not known, sample 1 in 64).
    func open(nanosecondsPerPass: Double?) {
        var interval: UInt64 = 64
        if let pass = nanosecondsPerPass, pass > 0 {
            let wanted = Self.sampleCostNanoseconds / (0.005 * pass)
            interval = 1
            while Double(interval) < wanted && interval < 1 << 20 { interval <<= 1 }
        }
        every.store(interval, ordering: .relaxed)
    }

    func close() -> UInt64 {
        every.exchange(0, ordering: .relaxed)
    }

    /// Merges every actor's histogram; call after the actors stopped.
    func summary(sampleEvery: UInt64) -> LatencySummary {
        var merged = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000_000,
                                       numberOfSignificantValueDigits: .three)
        for recorder in recorders { merged.add(recorder.histogram) }
        return LatencySummary(histogram: merged, sampleEvery: sampleEvery)
    }
}

/// One actor's view of the sampler, used on its hot path.
struct LatencyProbe {
    let every: UnsafeAtomic<UInt64>
    // The sampler owns the recorders for the whole run; the probe never outlives it.
    unowned(unsafe) let recorder: LatencySampler.Recorder

    /// At the start of a pass: a timestamp if this pass is sampled, else 0.
    @inline(__always)
    func begin(pass: UInt64) -> Int64 {
        let every = self.every.load(ordering: .relaxed)
        if every == 0 || pass & (every &- 1) != 0 { return 0 }
        return MonotonicClock.nanoseconds()
    }

    /// At the end of a sampled pass.
    func end(started: Int64) {
        let elapsed = MonotonicClock.nanoseconds() - started
        _ = recorder.histogram.record(UInt64(max(elapsed, 1)))
    }
}

/// Percentiles of the sampled iterations, in nanoseconds.
public struct LatencySummary: Sendable {
    public let samples: UInt64
    public let sampleEvery: UInt64
    public let p50: UInt64
    public let p90: UInt64
    public let p99: UInt64
    public let p999: UInt64
    public let max: UInt64

    init(histogram: Histogram<UInt64>, sampleEvery: UInt64) {
        samples = histogram.totalCount
        self.sampleEvery = sampleEvery
        let empty = histogram.totalCount == 0
        p50 = empty ? 0 : histogram.valueAtPercentile(50)
        p90 = empty ? 0 : histogram.valueAtPercentile(90)
        p99 = empty ? 0 : histogram.valueAtPercentile(99)
        p999 = empty ? 0 : histogram.valueAtPercentile(99.9)
        max = empty ? 0 : histogram.max
    }

    public var json: JSON {
        guard samples > 0 else {
            return .object([("samples", .integer(0)), ("sample_every", .integer(sampleEvery))])
        }
        return .object([
            ("samples", .integer(samples)), ("sample_every", .integer(sampleEvery)),
            ("p50", .integer(p50)), ("p90", .integer(p90)), ("p99", .integer(p99)),
            ("p99_9", .integer(p999)), ("max", .integer(max)),
        ])
    }

    public var text: String {
        guard samples > 0 else { return "no samples (window too short)" }
        func us(_ ns: UInt64) -> String { Fmt.fixed(Double(ns) / 1_000, 2) }
        return "p50 \(us(p50)) µs, p90 \(us(p90)), p99 \(us(p99)), p99.9 \(us(p999)), max \(us(max))"
            + " (\(samples) samples, 1 pass in \(sampleEvery))"
    }
}
