#if canImport(Glibc)
import Glibc
#endif
import CSGB

/// What kind of code a frame is, for a flame graph's colours.
public enum FrameKind: String, Sendable {
    case kernel, swiftRuntime, csgb, libc, other

    var title: String {
        switch self {
        case .kernel: "kernel"
        case .swiftRuntime: "Swift runtime"
        case .csgb: "csgb"
        case .libc: "libc"
        case .other: "other"
        }
    }

    init(_ frame: PerfSample.Frame, executable: String) {
        if frame.isKernel { self = .kernel; return }
        let dso = frame.dsoName
        if dso.hasPrefix("libswift") || dso.hasPrefix("libdispatch") || dso.hasPrefix("libFoundation") { self = .swiftRuntime }
        else if dso == executable { self = .csgb }
        else if dso.hasPrefix("libc.so") || dso.hasPrefix("ld-linux") || dso == "[vdso]" { self = .libc }
        else { self = .other }
    }
}

public struct FrameKey: Hashable, Sendable {
    public var name: String
    public var kind: FrameKind

    public init(name: String, kind: FrameKind) {
        self.name = name
        self.kind = kind
    }
}

/// Call stacks folded into weights (root first), as FlameGraph's `stackcollapse`
/// writes them: one line per distinct stack, `frame;frame;frame weight`. Kernel
/// frames carry FlameGraph's `_[k]` suffix in the text.
public struct FoldedStacks: Sendable {
    public var weights: [[FrameKey]: UInt64] = [:]

    public init() {}

    public init(samples: [PerfSample], executable: String, demangler: inout SymbolDemangler) {
        for sample in samples {
            let stack = sample.frames.reversed().map { frame in
                FrameKey(name: demangler.readable(frame.symbol), kind: FrameKind(frame, executable: executable))
            }
            weights[stack.isEmpty ? [FrameKey(name: "[no stack]", kind: .other)] : stack, default: 0] += sample.period
        }
    }

    public var total: UInt64 { weights.values.reduce(0, +) }

    /// The stacks cut where modes stop differing: a thread's stack starts at
    /// `start_thread`, a green thread's at our trampoline, so no frame below the
    /// syscall would ever line up. Kept: the function that entered the kernel
    /// (`read`, `__GI___libc_write`) and everything above it; a user-space leaf
    /// becomes its kind and its function. Used for the differential graph.
    public func cutAtKernelEntry() -> FoldedStacks {
        var cut = FoldedStacks()
        for (stack, weight) in weights {
            let key: [FrameKey]
            if let first = stack.firstIndex(where: { $0.kind == .kernel }) {
                key = Array(stack[max(0, first - 1)...])
            } else if let leaf = stack.last {
                key = [FrameKey(name: "user: \(leaf.kind.title)", kind: leaf.kind), leaf]
            } else {
                key = stack
            }
            cut.weights[key, default: 0] += weight
        }
        return cut
    }

    public var text: String {
        weights.map { stack, weight in
            stack.map { frame in
                let name = frame.name.replacingSemicolons()
                return frame.kind == .kernel ? name + "_[k]" : name
            }.joined(separator: ";") + " \(weight)"
        }.sorted().joined(separator: "\n") + "\n"
    }
}

extension String {
    /// A `;` separates frames in folded text; one inside a name would split it.
    func replacingSemicolons() -> String { String(map { $0 == ";" ? ":" : $0 }) }
}

@_silgen_name("swift_demangle")
private func swiftDemangle(_ mangled: UnsafePointer<CChar>?, _ length: Int, _ output: UnsafeMutablePointer<CChar>?,
                           _ outputSize: UnsafeMutablePointer<Int>?, _ flags: UInt32) -> UnsafeMutablePointer<CChar>?

/// Swift symbols as people read them, through the runtime's own demangler (perf
/// prints them mangled); other symbols pass unchanged. Cached: a profile repeats
/// the same few hundred symbols.
public struct SymbolDemangler: Sendable {
    private var cache: [String: String] = [:]

    public init() {}

    public mutating func readable(_ symbol: String) -> String {
        if let known = cache[symbol] { return known }
        var result = symbol
        if symbol.hasPrefix("$s") || symbol.hasPrefix("_$s") || symbol.hasPrefix("$S") {
            let demangled: String? = symbol.withCString { pointer in
                guard let out = swiftDemangle(pointer, strlen(pointer), nil, nil, 0) else { return nil }
                defer { free(out) }
                return String(cString: out)
            }
            if let demangled { result = Self.shortened(demangled) }
        }
        cache[symbol] = result
        return result
    }

    /// Drops argument lists and generic signatures, which make full Swift names
    /// several hundred characters long: `CSGB.ThreadMode.run(...)`.
    static func shortened(_ name: String) -> String {
        let name = withoutPrivateDiscriminators(name)
        var out = ""
        var depth = 0
        for character in name {
            if character == "(" {
                if depth == 0 { out += "(...)" }
                depth += 1
            } else if character == ")" {
                depth = max(0, depth - 1)
            } else if depth == 0 {
                out.append(character)
            }
        }
        // A return type after the argument list says little in a flame graph.
        let parts = out.split(separator: " -> ", omittingEmptySubsequences: false)
        if parts.count > 1, let last = parts.last, !last.contains(" in ") {
            out = parts.dropLast().joined(separator: " -> ")
        }
        return out
    }

    /// `(OSThread in _6A2F…)`, a private declaration's name, becomes `OSThread`.
    static func withoutPrivateDiscriminators(_ name: String) -> String {
        var characters = Array(name)
        var index = 0
        while index < characters.count {
            guard characters[index] == "(" else { index += 1; continue }
            var end = index + 1
            while end < characters.count, characters[end] != "(", characters[end] != ")" { end += 1 }
            guard end < characters.count, characters[end] == ")" else { index += 1; continue }
            let inside = String(characters[(index + 1)..<end])
            let parts = inside.split(separator: " in _", maxSplits: 1, omittingEmptySubsequences: false)
            if parts.count == 2, !parts[0].contains(" "), !parts[0].isEmpty {
                characters.replaceSubrange(index...end, with: Array(parts[0]))
            }
            index += 1
        }
        return String(characters)
    }
}
