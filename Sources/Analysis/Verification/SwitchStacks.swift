import CSGB
import CSGBSystem
/// Where context switches came from: `perf script` output of a
/// `perf record -e sched:sched_switch -g` run, folded into kernel stacks and
/// counted. Shown when a verification fails, so "2.5 switches per iteration"
/// comes with "because each read blocked in unix_stream_read_generic".
public struct SwitchStacks: Equatable, Sendable {
    public struct Stack: Equatable, Sendable {
        /// Kernel frames, outermost (syscall entry) first, `__schedule` last.
        public var frames: [String]
        public var count: Int
        /// Names of the threads that switched out here, most frequent first.
        public var threads: [String]

        /// The folded form flame-graph tools read: `a;b;c`.
        public var folded: String { frames.joined(separator: ";") }
    }

    /// Every sched_switch sample seen.
    public var total: Int
    /// The window of the `perf record` run, when known.
    public var seconds: Double?
    /// The most frequent stacks, most frequent first.
    public var top: [Stack]

    public init(total: Int, top: [Stack]) {
        self.total = total
        self.top = top
    }

    /// Folds `perf script -F comm,tid,event,ip,sym,dso` output: a header line per
    /// sample, then one indented line per frame, innermost first, then a blank
    /// line. Only kernel frames are kept: the question is why the kernel switched.
    public init(perfScript text: String, limit: Int = 5) {
        var counts: [[String]: Int] = [:]
        var threads: [[String]: [String: Int]] = [:]
        var firstSeen: [[String]] = []
        var total = 0
        var comm: String?
        var frames: [String] = []

        func finish() {
            guard let name = comm else { return }
            let stack = Array(frames.reversed())
            if counts[stack] == nil { firstSeen.append(stack) }
            counts[stack, default: 0] += 1
            threads[stack, default: [:]][name, default: 0] += 1
            total += 1
            comm = nil
            frames = []
        }

        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) {
                finish()
                continue
            }
            if line.first == " " || line.first == "\t" {
                if comm != nil, let frame = Self.kernelFrame(line) { frames.append(frame) }
                continue
            }
            finish()
            comm = Self.threadName(header: line)
        }
        finish()

        let ranked = firstSeen.sorted { counts[$0]! > counts[$1]! }
        self.total = total
        self.top = ranked.prefix(limit).map { stack in
            let names = threads[stack]!.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map(\.key)
            return Stack(frames: stack.isEmpty ? ["[no kernel frames]"] : stack, count: counts[stack]!, threads: names)
        }
    }

    /// The thread name of a sample header: `csgb-actor-0 19663 sched:sched_switch:`.
    /// Names may contain spaces, so the tid is found from the event backwards.
    static func threadName(header: Substring) -> String? {
        let tokens = header.split(separator: " ", omittingEmptySubsequences: true)
        guard let event = tokens.firstIndex(where: { $0.hasSuffix(":") && $0.contains("sched_switch") }), event >= 2
        else { return tokens.first.map(String.init) }
        return tokens[..<(event - 1)].joined(separator: " ")
    }

    /// `\tffffffff821facd8 __schedule ([kernel.kallsyms])` → `__schedule`; nil for
    /// user-space frames.
    static func kernelFrame(_ line: Substring) -> String? {
        let trimmed = line.drop { $0 == " " || $0 == "\t" }
        guard let space = trimmed.firstIndex(of: " ") else { return nil }
        let address = trimmed[..<space]
        var rest = trimmed[trimmed.index(after: space)...]
        var dso = ""
        if rest.hasSuffix(")"), let open = rest.lastIndex(of: "(") {
            dso = String(rest[rest.index(after: open)..<rest.index(before: rest.endIndex)])
            rest = rest[..<open]
        }
        let isKernel = dso.hasPrefix("[kernel") || (address.count == 16 && address.hasPrefix("ffff"))
        guard isKernel else { return nil }
        var symbol = rest.trimming([" "])
        // Offsets (`+0x1c`) would split one function into many stacks.
        if let plus = symbol.firstIndex(of: "+"), symbol[plus...].hasPrefix("+0x") { symbol = String(symbol[..<plus]) }
        return symbol.isEmpty ? "[unknown]" : symbol
    }

    public var text: String {
        guard total > 0 else { return "where the switches came from: no sched:sched_switch in the recorded window" }
        let window = seconds.map { " in a \(Fmt.trimmed($0)) s window" } ?? ""
        var lines = ["where the switches came from: top kernel stacks of sched:sched_switch (\(total) switches\(window)):"]
        for (rank, stack) in top.enumerated() {
            let share = Fmt.fixed(Double(stack.count) * 100 / Double(total), 1)
            let names = stack.threads.prefix(3).joined(separator: ", ") + (stack.threads.count > 3 ? ", ..." : "")
            lines.append("  \(rank + 1). \(share) % (\(stack.count)) in \(names)")
            lines.append("     " + stack.frames.joined(separator: " > "))
        }
        return lines.joined(separator: "\n")
    }

    public var json: JSON {
        .object([
            ("event", .string("sched:sched_switch")),
            ("switches", .integer(total)),
            ("seconds", .number(seconds)),
            ("top", .array(top.map { stack in
                .object([
                    ("count", .integer(stack.count)),
                    ("share", .number(total > 0 ? Double(stack.count) / Double(total) : nil)),
                    ("threads", .string(stack.threads.joined(separator: " "))),
                    ("stack", .string(stack.folded)),
                ])
            })),
        ])
    }
}
