import CSGBSystem

/// `--phases`: where actors tally their work and their hand-offs, laid out in raw
/// memory so that the same layout serves actors in this process and actors in
/// processes of their own (inside process mode's shared region). A view, owning
/// nothing.
///
/// Layout, each part in whole cache lines: the window word (non-zero while the
/// measured window is open: nothing is tallied in the warm-up), then one tally per
/// carrier (an actor's OS thread or process, or a worker that carries many), then
/// one inbox line per slot: a sender stores the moment it began a hand-off in its
/// receiver's inbox, and only that receiver reads it.
public struct PhaseBoard: @unchecked Sendable {
    static let line = 64
    /// Sub-buckets per power of two: each bucket is at most 1/32 (3 %) wide.
    static let subBucketBits = 5
    static let subBuckets = 1 << subBucketBits
    /// Hand-offs up to 2^40 ns (18 minutes) have their own bucket; longer ones share the last.
    static let bucketCount = subBuckets + (40 - subBucketBits) * subBuckets
    /// Tally fields, in UInt64s, before the buckets.
    enum Field {
        static let work = 0, works = 1, handoffSum = 2, handoffs = 3, handoffMax = 4, alone = 5, alones = 6
        static let count = 8
    }
    static let tallyBytes = (Field.count + bucketCount) * 8

    let base: UnsafeMutableRawPointer
    let tallies: Int
    let slots: Int

    init(base: UnsafeMutableRawPointer, tallies: Int, slots: Int) {
        self.base = base
        self.tallies = tallies
        self.slots = slots
    }

    /// Bytes for `tallies` tallies and `slots` inboxes.
    static func length(tallies: Int, slots: Int) -> Int { line + tallies * tallyBytes + slots * line }

    /// Non-zero while the window is open.
    var window: UnsafeMutablePointer<UInt64> { base.assumingMemoryBound(to: UInt64.self) }

    func tally(_ index: Int) -> UnsafeMutablePointer<UInt64> {
        (base + Self.line + index * Self.tallyBytes).assumingMemoryBound(to: UInt64.self)
    }

    func inbox(_ slot: Int) -> UnsafeMutablePointer<Int64> {
        (base + Self.line + tallies * Self.tallyBytes + slot * Self.line).assumingMemoryBound(to: Int64.self)
    }

    func openWindow() { window.pointee = 1 }
    func closeWindow() { window.pointee = 0 }

    /// The bucket of a hand-off of `nanoseconds`: exact below 32 ns, then 32 per
    /// power of two.
    @inline(__always)
    static func bucket(_ nanoseconds: UInt64) -> Int {
        if nanoseconds < UInt64(subBuckets) { return Int(nanoseconds) }
        let magnitude = 63 - nanoseconds.leadingZeroBitCount
        let sub = Int(nanoseconds >> UInt64(magnitude - subBucketBits)) & (subBuckets - 1)
        return min(subBuckets + (magnitude - subBucketBits) * subBuckets + sub, bucketCount - 1)
    }

    /// The smallest value that falls into `bucket`.
    static func lowerBound(_ bucket: Int) -> UInt64 {
        if bucket < subBuckets { return UInt64(bucket) }
        let magnitude = (bucket - subBuckets) / subBuckets + subBucketBits
        let sub = UInt64((bucket - subBuckets) % subBuckets)
        return (1 << UInt64(magnitude)) | (sub << UInt64(magnitude - subBucketBits))
    }

    /// Records one hand-off into tally `tally`; only the tally's carrier writes it.
    @inline(__always)
    func recordHandoff(_ tally: UnsafeMutablePointer<UInt64>, _ nanoseconds: UInt64) {
        tally[Field.handoffSum] &+= nanoseconds
        tally[Field.handoffs] &+= 1
        if nanoseconds > tally[Field.handoffMax] { tally[Field.handoffMax] = nanoseconds }
        tally[Field.count + Self.bucket(nanoseconds)] &+= 1
    }

    /// Every tally summed, read once the actors have stopped.
    func totals() -> PhaseTotals {
        var totals = PhaseTotals(buckets: Array(repeating: 0, count: Self.bucketCount))
        for index in 0..<tallies {
            let tally = self.tally(index)
            totals.work &+= tally[Field.work]
            totals.works &+= tally[Field.works]
            totals.handoffSum &+= tally[Field.handoffSum]
            totals.handoffs &+= tally[Field.handoffs]
            totals.handoffMax = max(totals.handoffMax, tally[Field.handoffMax])
            totals.alone &+= tally[Field.alone]
            totals.alones &+= tally[Field.alones]
            guard tally[Field.handoffs] > 0 else { continue }
            for bucket in 0..<Self.bucketCount { totals.buckets[bucket] &+= tally[Field.count + bucket] }
        }
        return totals
    }
}

/// The sum of every carrier's tally: nanoseconds and counts over the window (work
/// alone: before it).
struct PhaseTotals {
    var work: UInt64 = 0
    var works: UInt64 = 0
    var handoffSum: UInt64 = 0
    var handoffs: UInt64 = 0
    var handoffMax: UInt64 = 0
    var alone: UInt64 = 0
    var alones: UInt64 = 0
    var buckets: [UInt64]

    /// The value below which `percent` of the hand-offs fall: the upper edge of
    /// the bucket that holds that rank (never above the largest one seen).
    func percentile(_ percent: Double) -> UInt64 {
        guard handoffs > 0 else { return 0 }
        let rank = UInt64((percent / 100 * Double(handoffs)).rounded(.up))
        var seen: UInt64 = 0
        for (bucket, count) in buckets.enumerated() where count > 0 {
            seen += count
            if seen >= max(rank, 1) {
                let upper = bucket + 1 < PhaseBoard.bucketCount ? PhaseBoard.lowerBound(bucket + 1) - 1 : handoffMax
                return min(upper, handoffMax)
            }
        }
        return handoffMax
    }
}

/// What `--phases` reports: per iteration, the work and the hand-offs that make up
/// ns/iteration, and the clock that timed them.
public struct PhaseSummary: Sendable {
    public static let clockName = "clock_gettime(CLOCK_MONOTONIC) through the vDSO"
    public static let method = "log-linear buckets 1/32 wide (HDR-style), upper bucket edge"

    /// What one clock read cost, measured as the run started.
    public let clockReadNanoseconds: Double
    public let workNanosecondsPerIteration: Double
    /// The same work timed before the window, pass after pass with no switch
    /// between: warm caches and TLB.
    public let workAloneNanosecondsPerIteration: Double?
    public let handoffs: UInt64
    public let handoffsPerIteration: Double
    public let handoffMean: Double
    public let p50: UInt64
    public let p90: UInt64
    public let p99: UInt64
    public let p999: UInt64
    public let max: UInt64
    /// (work + hand-offs × mean) per iteration ÷ ns per iteration.
    public let accountedRatio: Double

    init(_ totals: PhaseTotals, iterations: UInt64, nanosecondsPerIteration: Double, clockRead: Double) {
        let perIteration = 1 / Double(Swift.max(iterations, 1))
        clockReadNanoseconds = clockRead
        workNanosecondsPerIteration = Double(totals.work) * perIteration
        // Each touch in the window stands for one pass timed alone.
        let worksPerIteration = Double(totals.works) * perIteration
        workAloneNanosecondsPerIteration = totals.alones == 0 ? nil
            : Double(totals.alone) / Double(totals.alones) * worksPerIteration
        handoffs = totals.handoffs
        handoffsPerIteration = Double(totals.handoffs) * perIteration
        handoffMean = totals.handoffs == 0 ? 0 : Double(totals.handoffSum) / Double(totals.handoffs)
        p50 = totals.percentile(50)
        p90 = totals.percentile(90)
        p99 = totals.percentile(99)
        p999 = totals.percentile(99.9)
        max = totals.handoffMax
        let accounted = workNanosecondsPerIteration + handoffsPerIteration * handoffMean
        accountedRatio = nanosecondsPerIteration > 0 ? accounted / nanosecondsPerIteration : 0
    }
}

extension PhaseSummary {
    /// The report's `phases_*` fields, each null without `--phases` (so that the CSV
    /// header is the same whatever the flags).
    static func jsonFields(_ summary: PhaseSummary?) -> [(String, JSON)] {
        [
            ("phases", .bool(summary != nil)),
            ("phases_clock", summary == nil ? .null : .string(clockName)),
            ("phases_clock_read_ns", .number(summary?.clockReadNanoseconds)),
            ("phases_work_ns_per_iteration", .number(summary?.workNanosecondsPerIteration)),
            ("phases_work_alone_ns_per_iteration", .number(summary?.workAloneNanosecondsPerIteration)),
            ("phases_handoffs", .integer(summary?.handoffs)),
            ("phases_handoffs_per_iteration", .number(summary?.handoffsPerIteration)),
            ("phases_handoff_mean_ns", .number(summary?.handoffMean)),
            ("phases_handoff_p50_ns", .integer(summary?.p50)),
            ("phases_handoff_p90_ns", .integer(summary?.p90)),
            ("phases_handoff_p99_ns", .integer(summary?.p99)),
            ("phases_handoff_p999_ns", .integer(summary?.p999)),
            ("phases_handoff_max_ns", .integer(summary?.max)),
            ("phases_accounted_ratio", .number(summary?.accountedRatio)),
            ("phases_percentiles", summary == nil ? .null : .string(method)),
        ]
    }

    /// The text report's rows, each within 80 columns.
    var textRows: [(String, String)] {
        let work = workNanosecondsPerIteration == 0 && workAloneNanosecondsPerIteration == nil ? "none (no --work-size)"
            : "\(Fmt.fixed(workNanosecondsPerIteration, 1)) ns/iteration"
                + (workAloneNanosecondsPerIteration.map { ", alone \(Fmt.fixed($0, 1)) (warm)" } ?? "")
        return [
            ("work", work),
            ("hand-offs", "\(Fmt.fixed(handoffsPerIteration, 2))/iteration, mean \(Fmt.fixed(handoffMean, 1)) ns"),
            ("hand-off ns", "p50 \(p50), p90 \(p90), p99 \(p99), p99.9 \(p999), max \(max)"),
            ("phases sum", "\(Fmt.fixed(accountedRatio * 100, 1)) % of ns/iteration"),
            ("phase clock", "\(Fmt.fixed(clockReadNanoseconds, 1)) ns per read, vDSO monotonic"),
        ]
    }
}
