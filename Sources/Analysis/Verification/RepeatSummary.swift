import CSGB
/// `--repeat R`: the median and range of every figure over R runs, and the
/// coefficient of variation of ns/iteration, so one lucky or unlucky run does not
/// become the answer.
public struct RepeatSummary: Sendable {
    /// A run whose ns/iteration varies more than this across runs is noisy.
    public static let noisyCV = 0.05

    public let runs: [StatFigures]
    /// Figure by figure, the median over the runs that measured it.
    public let median: StatFigures
    public let ranges: [StatFigure: ClosedRange<Double>]

    public init(runs: [StatFigures]) {
        precondition(!runs.isEmpty, "a summary needs at least one run")
        self.runs = runs
        var values: [StatFigure: Double] = [:]
        var missing: [StatFigure: String] = [:]
        var ranges: [StatFigure: ClosedRange<Double>] = [:]
        var syscallNames: [String] = []
        for name in runs.flatMap(\.syscallNames) where !syscallNames.contains(name) { syscallNames.append(name) }
        for figure in StatFigure.all(syscalls: syscallNames) {
            let measured = runs.compactMap { $0.value(figure) }
            if let median = Self.median(measured) {
                values[figure] = median
                ranges[figure] = measured.min()!...measured.max()!
            } else {
                missing[figure] = runs[0].missingReason(figure)
            }
        }
        let iterations = Self.median(runs.map { Double($0.iterations) }).map { UInt64($0.rounded()) } ?? 0
        var multiplexed: [String] = []
        for event in runs.flatMap(\.multiplexed) where !multiplexed.contains(event) { multiplexed.append(event) }
        self.median = StatFigures(iterations: iterations, syscallNames: syscallNames, values: values, missing: missing,
                                  multiplexed: multiplexed)
        self.ranges = ranges
    }

    /// The middle value; the mean of the two middle ones for an even count.
    public static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    /// Sample standard deviation over the mean; nil for fewer than two runs.
    public static func coefficientOfVariation(_ values: [Double]) -> Double? {
        guard values.count >= 2 else { return nil }
        let mean = values.reduce(0, +) / Double(values.count)
        guard mean != 0 else { return nil }
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1)
        return variance.squareRoot() / mean
    }

    public var nanosecondsCV: Double? { Self.coefficientOfVariation(runs.compactMap { $0.value(.nanoseconds) }) }

    public var noisy: Bool { (nanosecondsCV ?? 0) > Self.noisyCV }
}
