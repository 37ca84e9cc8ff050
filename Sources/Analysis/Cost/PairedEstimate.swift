/// A location estimate of paired differences with its distribution-free interval:
/// the Hodges–Lehmann estimator (the median of the Walsh averages, (dᵢ + dⱼ) / 2 for
/// i ≤ j) and the interval between two of its order statistics chosen from the
/// exact null distribution of Wilcoxon's signed-rank statistic. It assumes the
/// differences are independent and symmetric about their centre, not normal; one
/// wild round moves it little. With n differences the widest interval covers
/// 1 − 2/2ⁿ, so a 95 % interval needs at least 6.
public struct PairedEstimate: Equatable, Sendable {
    public let estimate: Double
    /// nil when there are too few differences for the asked confidence.
    public let low: Double?
    public let high: Double?
    /// The interval's exact coverage under the assumptions (0.953 for 7 rounds).
    public let coverage: Double?
    public let count: Int

    /// The method, in one line, for reports and docs.
    public static let method = "Hodges-Lehmann estimate of the per-round paired values, with its distribution-free 95 % interval (Walsh averages, exact Wilcoxon signed-rank)"

    /// The fewest differences that give a 95 % interval.
    public static let minimumCount = 6

    /// Whether the interval excludes 0 (the sign of the estimate is resolved).
    public var resolved: Bool {
        guard let low, let high else { return false }
        return low > 0 || high < 0
    }

    public init(_ differences: [Double], confidence: Double = 0.95) {
        let values = differences.filter(\.isFinite)
        count = values.count
        guard !values.isEmpty else {
            estimate = .nan
            low = nil
            high = nil
            coverage = nil
            return
        }
        var walsh: [Double] = []
        walsh.reserveCapacity(values.count * (values.count + 1) / 2)
        for i in values.indices {
            for j in i..<values.count { walsh.append((values[i] + values[j]) / 2) }
        }
        walsh.sort()
        estimate = Self.median(sorted: walsh)
        if let k = Self.orderStatistic(n: values.count, confidence: confidence) {
            low = walsh[k.index - 1]
            high = walsh[walsh.count - k.index]
            coverage = k.coverage
        } else {
            low = nil
            high = nil
            coverage = nil
        }
    }

    public static func median(sorted: [Double]) -> Double {
        guard !sorted.isEmpty else { return .nan }
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    public static func median(_ values: [Double]) -> Double { median(sorted: values.filter(\.isFinite).sorted()) }

    /// The 1-based order statistic k of the Walsh averages whose interval
    /// [W(k), W(M + 1 − k)] covers at least `confidence`: the largest k with
    /// P(T⁺ ≤ k − 1) ≤ (1 − confidence) / 2 under the null distribution of the
    /// signed-rank statistic T⁺ of n differences; nil when even k = 1 does not reach it.
    static func orderStatistic(n: Int, confidence: Double) -> (index: Int, coverage: Double)? {
        // The counts stay exact in a Double up to n = 60 (2^60 subsets); csgb cost runs at most 50 rounds.
        guard n >= 1, n <= 60 else { return nil }
        // ways[t]: subsets of the ranks 1…n whose sum is t.
        let maximum = n * (n + 1) / 2
        var ways = [Double](repeating: 0, count: maximum + 1)
        ways[0] = 1
        for rank in 1...n {
            for t in stride(from: maximum, through: rank, by: -1) { ways[t] += ways[t - rank] }
        }
        var total = 1.0
        for _ in 0..<n { total *= 2 }
        let tail = (1 - confidence) / 2
        var cumulative = 0.0
        var k = 0
        var tailAtK = 0.0
        for t in 0...maximum {
            cumulative += ways[t] / total
            if cumulative <= tail + 1e-12 {
                k = t + 1
                tailAtK = cumulative
            } else {
                break
            }
        }
        guard k >= 1 else { return nil }
        return (k, 1 - 2 * tailAtK)
    }
}
