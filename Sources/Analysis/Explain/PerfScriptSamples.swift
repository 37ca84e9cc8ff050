import CSGB
/// One sample of `perf script -F comm,tid,time,period,event,ip,sym,dso`: who was on
/// the CPU, when, how much of the event it stands for, and its call chain.
public struct PerfSample: Equatable, Sendable {
    public struct Frame: Equatable, Sendable {
        public var symbol: String
        /// The object file as perf names it: `[kernel.kallsyms]`, a library path, `[unknown]`.
        public var dso: String

        public init(symbol: String, dso: String) {
            self.symbol = symbol
            self.dso = dso
        }

        public var isKernel: Bool { dso.hasPrefix("[kernel") || dso.hasSuffix(".ko") || dso.hasPrefix("[bpf") }
        /// The file name alone: `libswiftCore.so` rather than its directory.
        public var dsoName: String { dso.split(separator: "/").last.map(String.init) ?? dso }
    }

    public var comm: String
    public var tid: Int
    /// Seconds since boot (perf's clock).
    public var time: Double
    /// What the sample stands for: nanoseconds for cpu-clock, cycles for cycles.
    public var period: UInt64
    public var event: String
    /// Leaf first, as perf prints them.
    public var frames: [Frame]
}

/// Parses `perf script` text. Lines it cannot read are counted, not guessed at.
public struct PerfScriptSamples: Sendable {
    public var samples: [PerfSample] = []
    public var unreadableLines = 0

    public init(parsing text: String) {
        var current: PerfSample?
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = Substring(rawLine)
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) {
                if let sample = current { samples.append(sample) }
                current = nil
                continue
            }
            if line.first == "\t" || line.first == " " {
                if current != nil, let frame = Self.frame(line) {
                    current!.frames.append(frame)
                } else {
                    unreadableLines += 1
                }
                continue
            }
            if let sample = current { samples.append(sample) }
            current = Self.header(line)
            if current == nil { unreadableLines += 1 }
        }
        if let sample = current { samples.append(sample) }
    }

    /// `comm tid time: period event:` — read from the right, because a thread name
    /// may contain spaces.
    static func header(_ line: Substring) -> PerfSample? {
        var tokens = line.split(separator: " ", omittingEmptySubsequences: true)
        guard tokens.count >= 5, tokens.last?.hasSuffix(":") == true else { return nil }
        let event = String(tokens.removeLast().dropLast())
        guard let period = UInt64(tokens.removeLast()) else { return nil }
        let timeToken = tokens.removeLast()
        guard timeToken.hasSuffix(":"), let time = Double(timeToken.dropLast()) else { return nil }
        guard let tid = Int(tokens.removeLast()) else { return nil }
        guard !tokens.isEmpty else { return nil }
        return PerfSample(comm: tokens.joined(separator: " "), tid: tid, time: time, period: period, event: event, frames: [])
    }

    /// `\tffffffff8123 __schedule (/path/dso)`.
    static func frame(_ line: Substring) -> PerfSample.Frame? {
        let trimmed = line.drop { $0 == " " || $0 == "\t" }
        guard let space = trimmed.firstIndex(of: " ") else { return nil }
        let rest = trimmed[trimmed.index(after: space)...]
        guard rest.hasSuffix(")"), let open = Self.lastOpening(in: rest) else {
            return PerfSample.Frame(symbol: String(rest), dso: "[unknown]")
        }
        let symbol = String(rest[..<open])
        let dso = String(rest[rest.index(open, offsetBy: 2)..<rest.index(before: rest.endIndex)])
        return PerfSample.Frame(symbol: symbol.isEmpty ? "[unknown]" : symbol, dso: dso)
    }

    /// Where the last ` (` starts: the dso's parenthesis, after any in the symbol.
    static func lastOpening(in text: Substring) -> Substring.Index? {
        var index = text.endIndex
        while index > text.startIndex {
            index = text.index(before: index)
            if text[index] == "(", index > text.startIndex, text[text.index(before: index)] == " " {
                return text.index(before: index)
            }
        }
        return nil
    }
}
