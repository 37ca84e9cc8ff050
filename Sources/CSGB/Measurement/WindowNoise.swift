import CSGBSystem

/// Whether other work shared the run's CPUs while it was measured, as pyperf warns
/// of a busy machine: runnable tasks of other processes whose last CPU is one of the
/// run's, counted at both edges of the window (just outside it, so the scan of /proc
/// costs the window nothing), and the 1-minute load average against the CPUs the
/// run may use. A task runnable at an edge takes CPU time the window's
/// ns/iteration then includes; csgb cannot tell how much, so it says so.
public struct WindowNoise: Sendable, Equatable {
    /// Other processes' runnable tasks on the run's CPUs at the window's opening and close.
    public var runnableAtOpen = 0
    public var runnableAtClose = 0
    /// The 1-minute load average at the close, and the CPUs the run may use.
    public var loadAverage: Double?
    public var cpus: CPUList

    /// Counts at one edge.
    static func sample(_ cpus: CPUList) -> Int {
        KernelEnvironment.runnableTasks(on: cpus, excluding: SystemIdentity.processID)
    }

    static func loadAverage() -> Double? {
        guard let text = try? ProcFile.read("/proc/loadavg") else { return nil }
        return text.split(separator: " ").first.flatMap { Double($0) }
    }

    /// The run's CPUs: `--cpus`, or every CPU this process may use.
    static func cpus(_ placement: Placement) -> CPUList {
        placement.cpus ?? (try? CPUList.allowed()) ?? CPUList(cpus: [])
    }

    /// The report's warning, nil when neither edge saw another runnable task and
    /// the load was within the CPUs.
    public var note: String? {
        let busy = max(runnableAtOpen, runnableAtClose)
        let loaded = loadAverage.map { $0 > Double(cpus.cpus.count) } ?? false
        guard busy > 0 || loaded else { return nil }
        var parts: [String] = []
        if busy > 0 {
            parts.append("\(runnableAtOpen) and \(runnableAtClose) other runnable task\(busy == 1 ? "" : "s") on CPU\(cpus.cpus.count == 1 ? "" : "s") \(cpus) at the window's opening and close")
        }
        if let loadAverage {
            parts.append("load average \(Fmt.fixed(loadAverage, 2)) over \(cpus.cpus.count) CPU\(cpus.cpus.count == 1 ? "" : "s")")
        }
        return "noisy machine: " + parts.joined(separator: "; ") + ": other work took CPU time that ns/iteration includes"
    }
}
