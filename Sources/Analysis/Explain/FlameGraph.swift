import CSGB
/// A call tree built from folded stacks, in ns per iteration. `value` is the
/// profile's, `other` the second profile's in a differential graph.
public final class FlameNode {
    public let frame: FrameKey
    public var value = 0.0
    public var other = 0.0
    public var children: [FrameKey: FlameNode] = [:]

    init(_ frame: FrameKey) { self.frame = frame }

    func child(_ frame: FrameKey) -> FlameNode {
        if let existing = children[frame] { return existing }
        let node = FlameNode(frame)
        children[frame] = node
        return node
    }

    /// Children in a stable order (by name, as FlameGraph draws them).
    public var orderedChildren: [FlameNode] { children.values.sorted { ($0.frame.name, $0.frame.kind.rawValue) < ($1.frame.name, $1.frame.kind.rawValue) } }

    public var width: Double { value + other }
}

public enum FlameGraph {
    /// The tree of one profile; `scale` turns a fold's weights into ns per iteration.
    public static func tree(_ folded: FoldedStacks, scale: Double) -> FlameNode {
        let root = FlameNode(FrameKey(name: "all", kind: .other))
        add(folded, scale: scale, to: root, asOther: false)
        return root
    }

    /// Both profiles in one tree: `value` from `first`, `other` from `second`.
    public static func differentialTree(_ first: FoldedStacks, scale firstScale: Double,
                                        _ second: FoldedStacks, scale secondScale: Double) -> FlameNode {
        let root = FlameNode(FrameKey(name: "all", kind: .other))
        add(first, scale: firstScale, to: root, asOther: false)
        add(second, scale: secondScale, to: root, asOther: true)
        return root
    }

    static func add(_ folded: FoldedStacks, scale: Double, to root: FlameNode, asOther: Bool) {
        for (stack, weight) in folded.weights {
            let amount = Double(weight) * scale
            var node = root
            bump(node, amount, asOther)
            for frame in stack {
                node = node.child(frame)
                bump(node, amount, asOther)
            }
        }
    }

    private static func bump(_ node: FlameNode, _ amount: Double, _ asOther: Bool) {
        if asOther { node.other += amount } else { node.value += amount }
    }
}

/// Draws a flame graph as a self-contained SVG: one `<g class="frame">` per
/// frame holding a `<title>` (the tooltip: name and ns per iteration), a `<rect>`
/// and, where it fits, a `<text>`. The root sits at the bottom; a frame's width is
/// its share of the root's.
public struct FlameGraphSVG {
    public var width = 1200.0
    public var frameHeight = 16.0
    /// Frames narrower than this are left out (their time stays in the parent).
    public var minimumWidth = 0.3
    public var title: String
    public var subtitle: String
    /// Labels of the two profiles in a differential graph: the two modes compared.
    public var differential: (first: String, second: String)?

    public init(title: String, subtitle: String, differential: (first: String, second: String)? = nil) {
        self.title = title
        self.subtitle = subtitle
        self.differential = differential
    }

    static let top = 52.0
    static let bottom = 24.0
    static let side = 10.0

    public func render(_ root: FlameNode) -> String {
        var frames: [String] = []
        let total = root.width
        let drawable = width - 2 * Self.side
        var depthUsed = 0
        if total > 0 {
            var stack: [(FlameNode, Double, Int)] = [(root, Self.side, 0)]
            var laid: [(FlameNode, Double, Double, Int)] = []
            while let (node, x, depth) = stack.popLast() {
                let w = node.width / total * drawable
                if w < minimumWidth { continue }
                laid.append((node, x, w, depth))
                depthUsed = max(depthUsed, depth)
                var childX = x
                for child in node.orderedChildren {
                    stack.append((child, childX, depth + 1))
                    childX += child.width / total * drawable
                }
            }
            let height = Self.top + Double(depthUsed + 1) * frameHeight + Self.bottom
            for (node, x, w, depth) in laid {
                let y = height - Self.bottom - Double(depth + 1) * frameHeight
                frames.append(frame(node, x: x, y: y, width: w, total: total))
            }
        }
        let height = Self.top + Double(depthUsed + 1) * frameHeight + Self.bottom
        var svg = """
            <?xml version="1.0" standalone="no"?>
            <svg version="1.1" xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="Verdana, sans-serif">
            <rect x="0" y="0" width="\(Int(width))" height="\(Int(height))" fill="#f8f8f2"/>
            <text x="\(Int(width / 2))" y="20" font-size="15" text-anchor="middle">\(Self.escape(title))</text>
            <text x="\(Int(width / 2))" y="38" font-size="11" text-anchor="middle" fill="#555">\(Self.escape(subtitle))</text>

            """
        svg += frames.joined(separator: "\n")
        svg += "\n<text x=\"\(Int(Self.side))\" y=\"\(Int(height - 8))\" font-size=\"10\" fill=\"#555\">\(Self.escape(legend))</text>\n</svg>\n"
        return svg
    }

    var legend: String {
        if let differential {
            return "width: \(differential.first) + \(differential.second) ns/iteration; red: \(differential.first) spends more, blue: \(differential.second) spends more; hover for figures"
        }
        return "width: ns/iteration; orange: kernel, green: Swift runtime, aqua: csgb, yellow: libc, grey: other; hover for figures"
    }

    func frame(_ node: FlameNode, x: Double, y: Double, width w: Double, total: Double) -> String {
        let name = node.frame.name + (node.frame.kind == .kernel ? " [k]" : "")
        let tooltip: String
        let fill: String
        if let differential {
            let delta = node.value - node.other
            tooltip = "\(name): \(differential.first) \(Fmt.fixed(node.value, 1)) ns, \(differential.second) \(Fmt.fixed(node.other, 1)) ns per iteration, difference \(Fmt.fixed(delta, 1)) ns"
            fill = Self.differenceColour(first: node.value, second: node.other)
        } else {
            tooltip = "\(name): \(Fmt.fixed(node.value, 1)) ns per iteration (\(Fmt.fixed(node.value / total * 100, 2)) %)"
            fill = Self.colour(node.frame)
        }
        var text = ""
        let characters = Int((w - 6) / 6.5)
        if characters >= 3 {
            let label = name.count <= characters ? name : String(name.prefix(characters - 2)) + ".."
            text = "<text x=\"\(Self.number(x + 3))\" y=\"\(Self.number(y + frameHeight - 4.5))\" font-size=\"11\">\(Self.escape(label))</text>"
        }
        return "<g class=\"frame\"><title>\(Self.escape(tooltip))</title><rect x=\"\(Self.number(x))\" y=\"\(Self.number(y))\" width=\"\(Self.number(w))\" height=\"\(Self.number(frameHeight - 1))\" rx=\"2\" fill=\"\(fill)\"/>\(text)</g>"
    }

    /// FlameGraph's warm palette by kind, varied a little by name so neighbours differ.
    static func colour(_ frame: FrameKey) -> String {
        let v = Double(frame.name.utf8.reduce(UInt32(2166136261)) { ($0 ^ UInt32($1)) &* 16777619 } % 1000) / 1000
        let (r, g, b): (Double, Double, Double)
        switch frame.kind {
        case .kernel: (r, g, b) = (230 + 25 * v, 120 + 60 * v, 40 + 30 * v)
        case .swiftRuntime: (r, g, b) = (90 + 50 * v, 190 + 40 * v, 90 + 40 * v)
        case .csgb: (r, g, b) = (80 + 40 * v, 190 + 40 * v, 210 + 40 * v)
        case .libc: (r, g, b) = (220 + 30 * v, 200 + 40 * v, 60 + 40 * v)
        case .other: (r, g, b) = (170 + 40 * v, 170 + 40 * v, 170 + 40 * v)
        }
        return hex(r, g, b)
    }

    /// White when both spend the same, saturating to red (first spends more) or
    /// blue (second spends more) with the relative difference.
    static func differenceColour(first: Double, second: Double) -> String {
        let sum = first + second
        let d = sum > 0 ? (first - second) / sum : 0
        let fade = 255 * (1 - abs(d) * 0.85)
        return d >= 0 ? hex(255, fade, fade) : hex(fade, fade, 255)
    }

    static func hex(_ r: Double, _ g: Double, _ b: Double) -> String {
        let digits = Array("0123456789abcdef")
        var out = "#"
        for component in [r, g, b] {
            let value = Int(max(0, min(255, component.rounded())))
            out.append(digits[value / 16])
            out.append(digits[value % 16])
        }
        return out
    }

    static func number(_ value: Double) -> String { Fmt.fixed(value, 1) }

    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(character)
            }
        }
        return out
    }
}
