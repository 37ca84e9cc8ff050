#if canImport(Glibc)
import Glibc
#endif
import CSGBSystem

/// The machine a run happened on, so a figure can be read against its context.
public struct Environment: Sendable {
    public var hostname: String
    public var cpuModel: String
    public var onlineCPUs: Int
    public var allowedCPUs: String
    public var numaNodes: Int
    public var kernel: String
    public var perfPath: String?
    public var perfEventParanoid: Int?
    public var hardwarePMU: Bool
    public var ioUring: String
    public var build: String
    /// What decides a switch's cost here, and what makes figures noisy.
    public var kernelEnvironment = KernelEnvironment()

    public static func current() -> Environment {
        let uring = URing.probe()?.rawValue ?? 0
        return Environment(
            hostname: SystemIdentity.hostname,
            cpuModel: cpuModel(),
            onlineCPUs: SystemIdentity.onlineCPUs,
            allowedCPUs: (try? CPUList.allowed().description) ?? "unknown",
            numaNodes: numaNodes(),
            kernel: SystemIdentity.kernelRelease,
            perfPath: PerfTool.path(),
            perfEventParanoid: ResourceLimits.readInteger("/proc/sys/kernel/perf_event_paranoid"),
            hardwarePMU: hasHardwarePMU(),
            ioUring: uring == 0 ? "available" : "unavailable (\(Errno(uring)))",
            build: buildKind,
            kernelEnvironment: KernelEnvironment.read())
    }

    #if DEBUG
    public static let buildKind = "debug"
    #else
    public static let buildKind = "release"
    #endif

    /// A PMU that counts instructions and cycles shows up as `cpu` on Intel and
    /// most AMD systems; VMs without PMU passthrough have none.
    public static func hasHardwarePMU() -> Bool {
        ProcFile.exists("/sys/bus/event_source/devices/cpu")
            || ProcFile.exists("/sys/bus/event_source/devices/cpu_core")
            || ProcFile.exists("/sys/bus/event_source/devices/armv8_pmuv3_0")
    }

    static func cpuModel() -> String {
        guard let text = try? ProcFile.read("/proc/cpuinfo") else { return "unknown" }
        for line in text.split(separator: "\n") where line.hasPrefix("model name") {
            if let colon = line.firstIndex(of: ":") {
                return line[line.index(after: colon)...].trimming(.blanks)
            }
        }
        return "unknown"
    }

    static func numaNodes() -> Int {
        let names = (try? ProcFile.listDirectory("/sys/devices/system/node")) ?? []
        let count = names.filter { $0.hasPrefix("node") && Int($0.dropFirst(4)) != nil }.count
        return max(count, 1)
    }

    public var json: JSON {
        .object([
            ("hostname", .string(hostname)),
            ("cpu_model", .string(cpuModel)),
            ("online_cpus", .integer(onlineCPUs)),
            ("allowed_cpus", .string(allowedCPUs)),
            ("numa_nodes", .integer(numaNodes)),
            ("kernel", .string(kernel)),
            ("perf", perfPath.map { .string($0) } ?? .null),
            ("perf_event_paranoid", .integer(perfEventParanoid)),
            ("hardware_pmu", .bool(hardwarePMU)),
            ("io_uring", .string(ioUring)),
            ("build", .string(build)),
            ("swift_stdlib", .string(BuildInfo.swiftStdlib)),
        ] + (kernelEnvironment.json.objectPairs ?? []))
    }

    public var text: String {
        let rows: [(String, String)] = [
            ("host", hostname),
            ("cpu model", cpuModel),
            ("online cpus", "\(onlineCPUs) (this process may use \(allowedCPUs))"),
            ("numa nodes", "\(numaNodes)"),
            ("kernel", kernel),
            ("perf", perfPath ?? "not found (apt-get install linux-perf)"),
            ("perf_event_paranoid", perfEventParanoid.map(String.init) ?? "unknown"),
            ("hardware counters", hardwarePMU ? "available" : "not supported (no hardware PMU exposed; software counters only)"),
            ("io_uring", ioUring),
            ("csgb build", build),
        ] + kernelEnvironment.rows
        return TextTable.keyValues(rows)
    }
}

/// Where the perf tool is.
public enum PerfTool {
    public static func path() -> String? {
        SystemIdentity.executable(named: "perf")
    }
}

/// `key: value` lines with the values aligned, as every text report prints them.
/// Every line fits `width` columns (80, a terminal's): a long value wraps under
/// its own start, a long free line under its first word's end (`hanging`).
public enum TextTable {
    public static let width = 80

    public static func keyValues(_ rows: [(String, String)], width: Int = TextTable.width) -> String {
        let keys = rows.map { $0.0.count }.max() ?? 0
        return rows.map { key, value in
            let head = "\(key):" + String(repeating: " ", count: keys - key.count + 1)
            return wrapped(head + value, hanging: head.count, width: width)
        }.joined(separator: "\n")
    }

    /// `line` broken at spaces into lines of at most `width` characters, each after
    /// the first indented by `hanging`; a word longer than a line is cut. Lines
    /// already in `line` are kept.
    public static func wrapped(_ line: String, hanging: Int, width: Int = TextTable.width) -> String {
        if line.contains("\n") {
            return line.split(separator: "\n", omittingEmptySubsequences: false)
                .map { wrapped(String($0), hanging: hanging, width: width) }.joined(separator: "\n")
        }
        guard line.count > width else { return line }
        let indent = String(repeating: " ", count: min(hanging, width / 2))
        var lines: [String] = []
        var current = ""
        for word in line.split(separator: " ", omittingEmptySubsequences: false) {
            var word = Substring(word)
            let room = width - current.count - (current.isEmpty || current == indent ? 0 : 1)
            if word.count <= room || (current.isEmpty && lines.isEmpty && word.isEmpty) {
                current += (current.isEmpty || current == indent ? "" : " ") + word
                continue
            }
            if !(current.isEmpty || current == indent) {
                lines.append(current)
                current = indent
            }
            while indent.count + word.count > width {
                let cut = width - indent.count
                lines.append(indent + word.prefix(cut))
                word = word.dropFirst(cut)
            }
            current = indent + word
        }
        if !(current.isEmpty || current == indent) { lines.append(current) }
        return lines.joined(separator: "\n")
    }
}
