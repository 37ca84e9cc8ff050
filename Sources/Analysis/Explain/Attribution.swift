import CSGB
/// One mode's samples summed per bucket, in the sampled event's unit.
public struct Attribution: Sendable {
    public var event: String
    public var samples = 0
    /// Sum of sample periods (ns for cpu-clock, cycles for cycles).
    public var total: UInt64 = 0
    public var perBucket: [TimeBucket: UInt64] = [:]
    /// User-leaf samples, and those whose chain reaches a thread's or the
    /// process's first frame: the frame-pointer check.
    public var userSamples = 0
    public var userSamplesWithRoot = 0

    public init(samples: [PerfSample], executable: String) {
        event = samples.first?.event ?? "cpu-clock"
        for sample in samples {
            let bucket = TimeBucket.classify(sample.frames, executable: executable)
            perBucket[bucket, default: 0] += sample.period
            total += sample.period
            self.samples += 1
            if let leaf = sample.frames.first, !leaf.isKernel {
                userSamples += 1
                if sample.frames.contains(where: { Self.roots.contains($0.symbol) }) { userSamplesWithRoot += 1 }
            }
        }
    }

    /// Where walking frame pointers ends when every frame kept its pointer.
    static let roots: Set<String> = ["start_thread", "clone3", "__clone3", "clone", "__libc_start_call_main",
                                     "__libc_start_main", "_start", "csgb_context_trampoline"]

    /// The share of user-space samples whose stack walked back to a thread's start.
    public var rootedShare: Double? { userSamples == 0 ? nil : Double(userSamplesWithRoot) / Double(userSamples) }

    /// Nanoseconds per iteration of each bucket: `nsPerUnit` turns the event's unit into ns.
    public func nsPerIteration(_ bucket: TimeBucket, iterations: UInt64, nsPerUnit: Double) -> Double {
        guard iterations > 0 else { return 0 }
        return Double(perBucket[bucket] ?? 0) * nsPerUnit / Double(iterations)
    }
}

/// A mode's time per iteration, row by row, and how well the rows add up to what
/// the run measured.
public struct ModeAttribution: Sendable {
    public var mode: String
    public var iterations: UInt64
    public var seconds: Double
    /// Wall-clock ns per iteration from the run's own report.
    public var measuredNs: Double
    public var rows: [TimeBucket: Double]
    public var event: String
    public var samples: Int
    public var rootedShare: Double?

    public init(mode: String, iterations: UInt64, seconds: Double, measuredNs: Double, attribution: Attribution,
                cpuSeconds: Double?) {
        self.mode = mode
        self.iterations = iterations
        self.seconds = seconds
        self.measuredNs = measuredNs
        event = attribution.event
        samples = attribution.samples
        rootedShare = attribution.rootedShare
        // cpu-clock and task-clock periods are nanoseconds of CPU time. A cycles
        // period is turned into ns with the run's own CPU time, so the rows still
        // add up to CPU time per iteration.
        let nsPerUnit: Double
        if event.hasPrefix("cpu-clock") || event.hasPrefix("task-clock") {
            nsPerUnit = 1
        } else if let cpuSeconds, attribution.total > 0 {
            nsPerUnit = cpuSeconds * 1e9 / Double(attribution.total)
        } else {
            nsPerUnit = .nan
        }
        var rows: [TimeBucket: Double] = [:]
        for bucket in TimeBucket.allCases {
            rows[bucket] = attribution.nsPerIteration(bucket, iterations: iterations, nsPerUnit: nsPerUnit)
        }
        self.rows = rows
    }

    public init(mode: String, iterations: UInt64, seconds: Double, measuredNs: Double, rows: [TimeBucket: Double],
                event: String = "cpu-clock", samples: Int = 0, rootedShare: Double? = nil) {
        self.mode = mode
        self.iterations = iterations
        self.seconds = seconds
        self.measuredNs = measuredNs
        self.rows = rows
        self.event = event
        self.samples = samples
        self.rootedShare = rootedShare
    }

    public var sampledNs: Double { TimeBucket.allCases.reduce(0) { $0 + (rows[$1] ?? 0) } }
}

/// Whether rows add up to a measured figure: within `tolerance` of it (relative).
public struct SumCheck: Sendable, Equatable {
    public var rowsSum: Double
    public var measured: Double
    public var tolerance: Double

    public init(rowsSum: Double, measured: Double, tolerance: Double = 0.10) {
        self.rowsSum = rowsSum
        self.measured = measured
        self.tolerance = tolerance
    }

    /// (rows − measured) / |measured|.
    public var deviation: Double {
        guard measured != 0 else { return rowsSum == 0 ? 0 : .infinity }
        return (rowsSum - measured) / abs(measured)
    }

    public var holds: Bool { deviation.isFinite && abs(deviation) <= tolerance }
}
