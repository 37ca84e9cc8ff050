#if canImport(Glibc)
import Glibc
#endif

/// CPU time and peak memory of the whole process, from getrusage(RUSAGE_SELF).
public struct ProcessUsage: Sendable {
    public var userSeconds: Double
    public var systemSeconds: Double
    public var maxRSSBytes: Int
    /// Summed over every thread of the process, live and exited: one syscall, so
    /// reading it at a window edge takes microseconds even with 20,000 threads
    /// competing for the CPU (reading /proc per thread took seconds there).
    public var switches: ContextSwitches

    /// User plus system time: the process's task clock.
    public var cpuSeconds: Double { userSeconds + systemSeconds }

    public static func now() -> ProcessUsage {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return ProcessUsage(
            userSeconds: Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6,
            systemSeconds: Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6,
            maxRSSBytes: Int(usage.ru_maxrss) * 1024,
            switches: ContextSwitches(voluntary: UInt64(usage.ru_nvcsw), involuntary: UInt64(usage.ru_nivcsw)))
    }

    /// Resident memory now (not the peak), from /proc/self/statm: what a set of
    /// actors costs is the difference of two readings.
    public static func residentBytes() -> Int {
        guard let text = try? ProcFile.read("/proc/self/statm") else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * AnonymousMapping.pageSize
    }
}
