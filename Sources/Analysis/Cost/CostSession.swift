import CSGB
import CSGBSystem

/// What `csgb cost` was asked to do.
public struct CostRequest: Sendable {
    /// The workload and its options, without `--mode`, `--phases` and `--format`
    /// (cost sets them), with the duration of each run.
    public var workloadArguments: [String]
    public var kernel: Mode
    public var user: Mode
    public var rounds: Int
    public var executable: String
    /// A `csgb` command measuring one user-mode switch of `user` (two actors
    /// yielding to each other on one worker), run once per round; nil when `user`
    /// switches through the kernel or no workload yields.
    public var switchProbe: [String]?
    /// The hidden fault: `--inject-cold-work` given to the kernel mode's runs only.
    public var injectColdWorkInKernelMode = false

    public init(workloadArguments: [String], kernel: Mode, user: Mode, rounds: Int, executable: String,
                switchProbe: [String]? = nil) {
        self.workloadArguments = workloadArguments
        self.kernel = kernel
        self.user = user
        self.rounds = rounds
        self.executable = executable
        self.switchProbe = switchProbe
    }

    /// The arguments of one run of `mode`.
    public func arguments(_ mode: Mode) -> [String] {
        workloadArguments + ["--mode", mode.rawValue, "--phases", "--format", "json"]
            + (mode == kernel && injectColdWorkInKernelMode ? ["--inject-cold-work"] : [])
    }
}

/// Runs the rounds: K and U alternated (K first in even rounds, U first in odd
/// ones, so a slow drift of the machine does not favour one mode), each a child
/// csgb whose JSON report is read and kept. A stop signal is passed on to the
/// running child as SIGINT, which ends its window and lets it exit; that round is
/// dropped (its pair is incomplete or cut) and the rounds done are reported.
public enum CostSession {
    public static func run(_ request: CostRequest) throws(CSGBError) -> CostReport {
        let scratch: ScratchDirectory
        do { scratch = try ScratchDirectory() } catch { throw .system(error) }
        var rounds: [CostRound] = []
        var raw: [(round: Int, mode: String, report: JSON)] = []
        var probes: [Double] = []
        var stoppedBy: String?
        var cutRound: Int?
        rounds: for round in 0..<request.rounds {
            let order = round % 2 == 0 ? [request.kernel, request.user] : [request.user, request.kernel]
            var figures: [Mode: RunFigures] = [:]
            var reports: [(String, JSON)] = []
            for mode in order {
                if StopRequest.isRequested {
                    stoppedBy = StopSignal.received ?? "a stop request"
                    if !figures.isEmpty { cutRound = round + 1 }
                    break rounds
                }
                let report = try runChild(request.executable, request.arguments(mode), scratch: scratch)
                // A child stopped by our forwarded SIGINT measured a cut window.
                if StopRequest.isRequested || report?["stopped_by"]?.stringValue != "duration" {
                    stoppedBy = StopSignal.received ?? report?["stopped_by"]?.stringValue ?? "a stop request"
                    cutRound = round + 1
                    if let report { raw.append((round + 1, mode.rawValue + " (cut, not used)", report)) }
                    break rounds
                }
                guard let report else { break rounds }
                figures[mode] = try RunFigures(report: report)
                reports.append((mode.rawValue, report))
            }
            guard let kernel = figures[request.kernel], let user = figures[request.user] else { break }
            rounds.append(CostRound(kernel: kernel, user: user))
            raw += reports.map { (round + 1, $0.0, $0.1) }
            if let probe = request.switchProbe, !StopRequest.isRequested,
               let report = try runChild(request.executable, probe, scratch: scratch),
               report["stopped_by"]?.stringValue == "duration", let ns = report["ns_per_iteration"]?.doubleValue {
                probes.append(ns)
                raw.append((round + 1, "\(request.user.rawValue) switch probe", report))
            }
        }
        if rounds.isEmpty, let stoppedBy {
            throw .interrupted("stopped by \(stoppedBy) before the first round of csgb cost completed; nothing was measured")
        }
        return CostReport(request: request, split: CostSplit(rounds), switchProbeNs: probes,
                          reports: raw, stoppedBy: stoppedBy, cutRound: cutRound)
    }

    /// Runs one child csgb to completion; its report, or nil when a stop ended it
    /// before it printed one. A child that failed for another reason ends csgb cost
    /// with the child's own message and exit code (bad arguments stay 64).
    static func runChild(_ executable: String, _ arguments: [String], scratch: ScratchDirectory) throws(CSGBError) -> JSON? {
        let process = Subprocess(path: executable, arguments: arguments, stdoutPath: scratch.file("stdout"),
                                 stderrPath: scratch.file("stderr"), forwardsStop: true)
        let status: Int32
        do {
            status = try process.run().status
        } catch {
            throw .system(error)
        }
        let stdout = scratch.read("stdout"), stderr = scratch.read("stderr")
        if status != 0 {
            if StopRequest.isRequested { return nil }
            let line = stderr.split(separator: "\n").first.map(String.init) ?? "no message"
            let message = "csgb \(arguments.joined(separator: " ")): " + (line.hasPrefix("csgb: ") ? String(line.dropFirst(6)) : line)
            switch status {
            case 64: throw .usage(message)
            case 69: throw .unavailable(message)
            case 130: throw .interrupted(message)
            default: throw .limit(message + " (exit \(status))")
            }
        }
        do {
            return try JSON(parsing: stdout)
        } catch {
            if StopRequest.isRequested { return nil }
            throw .limit("the report of csgb \(arguments.joined(separator: " ")) could not be read (\(error))")
        }
    }
}
