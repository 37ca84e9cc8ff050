import CSGB
import CSGBSystem

/// Runs perf over a csgb child, for `csgb stat` and `csgb explain` alike: the
/// scratch folder, the control fifos (perf starts with its events disabled and the
/// child enables them at its window's edges), the child's arguments, the spawn with
/// stops passed on, and the one-line diagnosis of a failed run.
public final class PerfRunner {
    /// The line for a machine without perf.
    public static let perfMissing = "perf not found: install it with `apt-get install linux-perf` (Ubuntu: linux-tools-$(uname -r)), or put perf on PATH"

    /// For every `perf record`, so that it exits soon after its workload. No
    /// build-id pass: it reads the whole recording again to find the binaries
    /// sampled and copies them into ~/.debug; perf script runs right after, on
    /// binaries still in place, and finds them by their paths in the recording's
    /// mmap events. No BPF events: their side-band thread polls with a 1 s timeout
    /// and perf joins it at exit, which held a stopped `csgb explain` up to 1.1 s;
    /// csgb's profiles have no BPF programs to name.
    static let recordOptions = ["--no-buildid", "--no-buildid-cache", "--no-bpf-event"]

    public let perfPath: String
    /// The csgb binary perf runs (this one, so perf runs what the user ran).
    public let executable: String
    let scratch: ScratchDirectory
    let control: String
    let ack: String

    /// What one perf run left: its exit status, its stdout and stderr.
    public struct Outcome {
        public let status: Int32
        public let stdout: String
        public let stderr: String
        /// A stop signal came before or while it ran: its output covers a cut window.
        public let stopped: Bool
    }

    public init(perfPath: String, executable: String) throws(CSGBError) {
        self.perfPath = perfPath
        self.executable = executable
        do {
            scratch = try ScratchDirectory()
            control = try scratch.makeFifo("control")
            ack = try scratch.makeFifo("ack")
        } catch {
            throw .system(error)
        }
    }

    /// A file in the run's scratch folder (removed with the runner).
    public func file(_ name: String) -> String { scratch.file(name) }

    public func read(_ name: String) -> String { scratch.read(name) }

    /// `perf <tool arguments> --control … -D -1 -- csgb <workload> [--duration s] --format json --perf-control …`.
    public func measure(_ toolArguments: [String], workload: [String], duration: Double? = nil) throws(CSGBError) -> Outcome {
        let arguments = toolArguments + ["--control", "fifo:\(control),\(ack)", "-D", "-1", "--", executable]
            + Self.childArguments(workload, control: control, ack: ack, duration: duration)
        return try run(arguments)
    }

    /// perf without a child workload (`perf script`).
    public func run(_ arguments: [String]) throws(CSGBError) -> Outcome {
        let process = Subprocess(path: perfPath, arguments: arguments,
                                 stdoutPath: scratch.file("stdout"), stderrPath: scratch.file("stderr"),
                                 forwardsStop: true)
        let status: Int32
        do {
            status = try process.run().status
        } catch {
            throw .unavailable("cannot run \(perfPath): \(error)")
        }
        return Outcome(status: status, stdout: scratch.read("stdout"), stderr: scratch.read("stderr"),
                       stopped: StopRequest.isRequested)
    }

    /// The workload's arguments for the child: its own, then JSON output and the
    /// control fifos. A later option wins in csgb, so the user's `--format` is
    /// overridden rather than rejected.
    static func childArguments(_ workload: [String], control: String, ack: String, duration: Double? = nil) -> [String] {
        workload + (duration.map { ["--duration", Fmt.trimmed($0)] } ?? [])
            + ["--format", "json", "--perf-control", "\(control),\(ack)"]
    }

    /// Turns a failed perf run into one line with the right exit code: the child's
    /// own error when it failed (bad workload arguments stay exit 64), a
    /// permission hint when perf was refused, perf's first complaint otherwise.
    /// `command` is the csgb subcommand the user ran, for the hint.
    static func diagnose(status: Int32, stderr: String, tool: String, command: String = "stat",
                         userEvents: [String]? = nil) -> CSGBError {
        let lines = stderr.split(separator: "\n").map { $0.trimming([" ", "\t", "\r"]) }
        // A typo in --events is bad usage, not a missing perf. The default events
        // are checked against this machine's tracepoints, so only the user's can be unknown.
        if let userEvents, lines.contains(where: { $0.contains("event syntax error") || $0.contains("unknown tracepoint") }) {
            return .usage("--events \(userEvents.joined(separator: ",")): perf does not know an event of this list (\(firstLine(stderr) ?? "event syntax error")); `perf list` shows the events of this machine")
        }
        if let child = lines.first(where: { $0.hasPrefix("csgb: ") }) {
            let message = String(child.dropFirst("csgb: ".count))
            switch status {
            case 64: return .usage(message)
            case 69: return .unavailable(message)
            case 3: return .verificationFailed(message)
            case 130: return .interrupted(message)
            default: return .limit(message)
            }
        }
        // Most telling first: "No permissions to read /sys/kernel/tracing/…" names the file.
        let permission = ["No permission", "Permission denied", "perf_event_paranoid", "Access to performance monitoring",
                          "can't access trace events", "not permitted"]
        if let refusal = permission.lazy.compactMap({ keyword in lines.first { $0.contains(keyword) } }).first {
            let detail = refusal.hasPrefix("Error:") ? refusal.dropFirst("Error:".count).trimming([" ", "\t"]) : refusal
            return .unavailable("\(tool) is not permitted here (\(detail)): run csgb \(command) as root, or grant perf CAP_PERFMON and read access to /sys/kernel/tracing\(paranoidHint())")
        }
        return .unavailable("\(tool) failed (exit \(status)): \(firstLine(stderr) ?? "no message")")
    }

    /// The sysctl that would let an unprivileged user count, unless it is already set.
    static func paranoidHint(_ value: Int? = ResourceLimits.readInteger("/proc/sys/kernel/perf_event_paranoid")) -> String {
        guard let value else { return ", or `sysctl -w kernel.perf_event_paranoid=-1`" }
        if value <= -1 { return " (kernel.perf_event_paranoid is already -1, so the refusal comes from elsewhere: file permissions of /sys/kernel/tracing, a seccomp or LSM policy, or a container)" }
        return ", or `sysctl -w kernel.perf_event_paranoid=-1` (now \(value))"
    }

    /// perf's first line that says something (not its enable/disable chatter),
    /// with the reason perf draws under an event syntax error (`\___ unknown tracepoint`).
    static func firstLine(_ text: String) -> String? {
        let lines = text.split(separator: "\n")
            .map { $0.trimming([" ", "\t", "\r"]) }
            .filter { !$0.isEmpty && !$0.hasPrefix("Events enabled") && !$0.hasPrefix("Events disabled") && $0 != "Error:" && !$0.hasPrefix("#") }
        guard let first = lines.first else { return nil }
        if let marker = lines.first(where: { $0.hasPrefix("\\___") }) {
            return first + " (" + marker.dropFirst(4).trimming([" "]) + ")"
        }
        return first
    }

    /// The child's JSON report, from the stdout of a perf run.
    static func workloadReport(_ outcome: Outcome, tool: String) throws(CSGBError) -> JSON {
        do {
            return try JSON(parsing: outcome.stdout)
        } catch {
            throw .unavailable("the workload's report could not be read (\(error)); \(tool) said: \(firstLine(outcome.stderr) ?? "nothing")")
        }
    }
}
