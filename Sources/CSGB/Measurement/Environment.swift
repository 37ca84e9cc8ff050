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
public enum TextTable {
    public static func keyValues(_ rows: [(String, String)]) -> String {
        let width = rows.map { $0.0.count }.max() ?? 0
        return rows.map { key, value in
            "\(key):" + String(repeating: " ", count: width - key.count + 1) + value
        }.joined(separator: "\n")
    }
}
