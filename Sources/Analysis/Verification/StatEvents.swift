import CSGB
import CSGBSystem
/// The events `csgb stat` hands to `perf stat -e`.
public enum StatEvents {
    /// The tracepoint of each syscall, by name.
    public static func syscallTracepoints(_ syscalls: [String]) -> [String] {
        syscalls.map { "syscalls:sys_enter_\($0)" }
    }

    /// Software events and tracepoints: they work with or without a PMU, and the
    /// verification needs them, so they are always counted.
    public static func required(syscalls: [String]) -> [String] {
        ["context-switches", "cpu-migrations", "task-clock"] + syscallTracepoints(syscalls)
    }

    /// Hardware events. Where the machine has no PMU perf prints `<not supported>`
    /// for each, which the report shows as such. On a PMU with fewer counters than
    /// these, perf multiplexes and scales, and the report says so.
    public static let hardware = [
        "instructions", "cycles", "cache-misses", "dTLB-load-misses",
        "instructions:u", "instructions:k", "cycles:u", "cycles:k",
    ]


    /// The `-e` list: the user's events (or the hardware defaults) plus the
    /// required ones, without duplicates, and without syscall tracepoints this
    /// kernel lacks (perf would refuse the whole list for one unknown tracepoint;
    /// arm64, for one, has no epoll_wait).
    public static func resolve(user: [String]?, syscalls: [String] = Claims.alwaysTraced,
                               tracepointExists: (String) -> Bool? = tracepointExists) -> (events: [String], absent: [String]) {
        var events: [String] = []
        var absent: [String] = []
        let tracepoints = syscallTracepoints(syscalls)
        for event in required(syscalls: syscalls) + (user ?? hardware) where !events.contains(event) {
            if tracepoints.contains(event), tracepointExists(event) == false {
                absent.append(event)
                continue
            }
            events.append(event)
        }
        return (events, absent)
    }

    /// The tracepoint every syscall's entry passes, with the syscall's number in `id`.
    public static let rawSyscallEntry = "raw_syscalls:sys_enter"

    /// The `-e` (and `--filter`) arguments for perf stat, and the names perf's
    /// `raw_syscalls:sys_enter` records stand for, in its order.
    public struct PerfArguments: Equatable, Sendable {
        public var arguments: [String]
        public var rawRecordNames: [String]
    }

    /// Each `syscalls:sys_enter_NAME` is counted as `raw_syscalls:sys_enter` filtered
    /// on NAME's number: the same entries. Why: when the last perf event of a
    /// tracepoint closes, the kernel waits for a grace period (about 40 ms here; the
    /// syscall tracepoints are faultable, so it is an RCU tasks-trace one) before it
    /// returns, and perf closes its events one by one after the workload has exited.
    /// Seven syscall tracepoints held a stopped `csgb stat` 0.3 s after its workload
    /// was gone; seven events on one tracepoint wait once. perf prints every event
    /// in the order it was given, so the n-th `raw_syscalls:sys_enter` record is the
    /// n-th of `rawRecordNames`. A syscall without a known number keeps its own
    /// tracepoint.
    public static func perfArguments(_ events: [String], number: (String) -> Int? = SyscallNumbers.of,
                                     rawAvailable: Bool = tracepointExists(rawSyscallEntry) != false) -> PerfArguments {
        var arguments: [String] = []
        var names: [String] = []
        let prefix = "syscalls:sys_enter_"
        for event in events {
            if rawAvailable, event.hasPrefix(prefix), let id = number(String(event.dropFirst(prefix.count))) {
                arguments += ["-e", rawSyscallEntry, "--filter", "id == \(id)"]
                names.append(event)
            } else {
                arguments += ["-e", event]
                if event == rawSyscallEntry { names.append(event) }
            }
        }
        return PerfArguments(arguments: arguments, rawRecordNames: names)
    }

    /// Splits `--events a,b:u,{c,d}` on the commas perf itself splits on, keeping
    /// groups (`{…}`) and PMU terms (`cpu/…,…/`) whole.
    public static func split(_ list: String) -> [String] {
        var events: [String] = []
        var current = ""
        var braces = 0
        var slashes = 0
        for character in list {
            switch character {
            case "{": braces += 1
            case "}": braces -= 1
            case "/": slashes ^= 1
            case "," where braces == 0 && slashes == 0:
                if !current.isEmpty { events.append(current) }
                current = ""
                continue
            default: break
            }
            current.append(character)
        }
        if !current.isEmpty { events.append(current) }
        return events
    }

    /// Whether `subsystem:event` exists under tracefs; nil when tracefs cannot be
    /// read here (not mounted, or no permission: perf will say which).
    public static func tracepointExists(_ name: String) -> Bool? {
        let parts = name.split(separator: ":")
        guard parts.count == 2 else { return nil }
        for root in ["/sys/kernel/tracing/events", "/sys/kernel/debug/tracing/events"] where ProcFile.exists("\(root)/\(parts[0])") {
            return ProcFile.exists("\(root)/\(parts[0])/\(parts[1])")
        }
        return nil
    }
}
