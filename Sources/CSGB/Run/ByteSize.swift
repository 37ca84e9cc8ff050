/// A byte count as users write it: `4096`, `64K`, `2M`, `1G` (binary multiples).
public struct ByteSize: Equatable, Sendable, CustomStringConvertible {
    public let bytes: Int

    public init(bytes: Int) { self.bytes = bytes }

    /// Returns nil for negative, malformed or overflowing sizes.
    public init?(parsing text: String) {
        var digits = Substring(text)
        var multiplier = 1
        if let last = digits.last, !last.isNumber {
            switch last {
            case "k", "K": multiplier = 1 << 10
            case "m", "M": multiplier = 1 << 20
            case "g", "G": multiplier = 1 << 30
            default: return nil
            }
            digits = digits.dropLast()
            if digits.last == "i" || digits.last == "I" { return nil }
        }
        guard !digits.isEmpty, digits.allSatisfy(\.isNumber), let value = Int(digits) else { return nil }
        let (product, overflow) = value.multipliedReportingOverflow(by: multiplier)
        if overflow { return nil }
        bytes = product
    }

    public var description: String {
        for (unit, shift) in [("G", 30), ("M", 20), ("K", 10)] where bytes >= 1 << shift && bytes % (1 << shift) == 0 {
            return "\(bytes >> shift)\(unit)"
        }
        return "\(bytes)"
    }
}
