/// CPU time of this process's threads picked by name, from /proc/self/task: how
/// the kernel's io_uring SQ pollers (`iou-sqp-PID`, threads of this process) are
/// charged for `--sqpoll`, and how many of them there are.
public enum ThreadCPUTime {
    /// Nanoseconds on CPU (schedstat) of every thread whose name starts with `prefix`.
    public static func nanoseconds(namePrefix prefix: String) -> UInt64 { sample(namePrefix: prefix).nanoseconds }

    /// How many threads of this process have a name that starts with `prefix`, and
    /// their nanoseconds on CPU, in one pass over /proc/self/task.
    public static func sample(namePrefix prefix: String) -> (threads: Int, nanoseconds: UInt64) {
        guard let tasks = try? ProcFile.listDirectory("/proc/self/task") else { return (0, 0) }
        var total: UInt64 = 0
        var threads = 0
        for task in tasks {
            guard let name = try? ProcFile.read("/proc/self/task/\(task)/comm"), name.hasPrefix(prefix) else { continue }
            threads += 1
            guard let stat = try? ProcFile.read("/proc/self/task/\(task)/schedstat"),
                  let onCPU = stat.split(separator: " ").first.flatMap({ UInt64($0) })
            else { continue }
            total += onCPU
        }
        return (threads, total)
    }
}
