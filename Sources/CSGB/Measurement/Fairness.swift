/// How evenly the actors progressed: some runtimes starve actors, and a fast mean
/// can hide that. Computed from per-actor pass counts in the window.
public struct Fairness: Equatable, Sendable {
    public let min: UInt64
    public let max: UInt64
    /// Coefficient of variation (standard deviation / mean); nil when nothing ran.
    public let cv: Double?

    public init(counts: [UInt64]) {
        guard !counts.isEmpty else {
            self.min = 0; self.max = 0; self.cv = nil
            return
        }
        self.min = counts.min()!
        self.max = counts.max()!
        let mean = counts.reduce(0.0) { $0 + Double($1) } / Double(counts.count)
        if mean == 0 {
            cv = nil
        } else {
            let variance = counts.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(counts.count)
            cv = variance.squareRoot() / mean
        }
    }
}
