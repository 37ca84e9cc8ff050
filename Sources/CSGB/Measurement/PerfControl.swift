#if canImport(Glibc)
import Glibc
#endif
import CSGBSystem

/// The child side of `perf stat --control fifo:CTL,ACK -D -1` (hidden option
/// `--perf-control CTL,ACK`): perf starts with its events disabled, and the run
/// writes `enable` at the window's opening and `disable` at its close, waiting for
/// perf's `ack` each time so that perf counts exactly the measured window.
public final class PerfControl: WindowObserver {
    /// How long to wait for perf's ack before giving up on the window, plus a
    /// millisecond per thread or process of the run: perf enables and disables its
    /// inherited events task by task (19,936 actor processes took longer than 5 s).
    static let ackTimeoutMilliseconds: Int32 = 5_000
    static let ackSliceMilliseconds: Int32 = 20
    private var ackTimeout = ackTimeoutMilliseconds

    private let control: FileDescriptor
    private let ack: FileDescriptor
    /// The run's `--cpus`: perf is moved onto them before the window.
    private let cpus: CPUList?
    /// The policy perf is given before the window (nil: left alone).
    private let policy: SchedulingPolicy?
    /// What perf got: the policy, or why not.
    public private(set) var schedule: PerfSchedule

    /// Opens both fifos. perf opens them read-write itself, so neither open blocks
    /// while perf runs; when nobody has them open, opening fails at once instead of
    /// hanging (O_NONBLOCK), which is what a stray `--perf-control` deserves.
    public init(controlPath: String, ackPath: String, cpus: CPUList? = nil, policy: SchedulingPolicy? = nil) throws(CSGBError) {
        let control: FileDescriptor
        do {
            control = try FileDescriptor.open(controlPath, O_WRONLY | O_NONBLOCK)
        } catch {
            throw .usage("--perf-control: cannot open \(controlPath) for writing (\(error.errno)); it is perf stat's control fifo, set by csgb stat")
        }
        let ack: FileDescriptor
        do {
            ack = try FileDescriptor.open(ackPath, O_RDONLY | O_NONBLOCK)
        } catch {
            control.close()
            throw .usage("--perf-control: cannot open \(ackPath) (\(error.errno)); it is perf stat's ack fifo, set by csgb stat")
        }
        self.control = control
        self.ack = ack
        self.cpus = cpus
        self.policy = policy
        schedule = PerfSchedule(applied: nil, note: policy == nil
            ? "left at nice \(ThreadPriority.current()): csgb was started with a lowered priority" : "not set: its parent is not perf")
    }

    /// Parses `CTL,ACK`.
    public static func paths(_ argument: String) -> (control: String, ack: String)? {
        let parts = argument.split(separator: ",", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        return (String(parts[0]), String(parts[1]))
    }

    deinit {
        control.close()
        ack.close()
    }

    /// perf (the parent) gets SCHED_FIFO above the actors and moves onto the run's
    /// CPUs. Among 20,000 runnable actor threads perf at SCHED_OTHER woke seconds
    /// late to an edge and counted on meanwhile. On the run's CPUs, enabling a
    /// counter inherited by every thread calls each thread's CPU locally instead of
    /// by interrupt (0.05 s instead of 0.3 s for 20,000 threads here), and the actors
    /// there cannot run, so count nothing, until perf acknowledges and the
    /// coordinator (also at SCHED_FIFO) has taken the edge. Done here, after perf
    /// started this process, so that it inherited neither the policy nor what comes
    /// with it (a real-time task's timer slack is 0: a 1 µs nanosleep would not block).
    public func windowWillPrepare(threads: [Int32]) throws {
        let parent = getppid()
        guard (try? ProcFile.read("/proc/\(parent)/comm"))?.hasPrefix("perf") == true else { return }
        if let cpus {
            do { try cpus.pin(task: parent) } catch { throw CSGBError.system(error) }
        }
        guard let policy else { return }
        do {
            try policy.applyResettingOnFork(toTask: parent)
            schedule = PerfSchedule(applied: policy, note: "SCHED_FIFO priority \(policy.priority)\(cpus.map { " on CPU \($0)" } ?? ""), so it acts on the window's edges at once")
        } catch {
            schedule = PerfSchedule(applied: nil, note: "left at SCHED_OTHER (\(error); \(policy.grant)): among many runnable threads it may act on the window's edges late and count beyond the window")
        }
    }

    public func windowWillOpen(threads: [Int32]) throws {
        ackTimeout = Self.ackTimeoutMilliseconds + Int32(clamping: threads.count)
        try command("enable")
    }

    public func windowDidClose() {
        // The run's report still matters if perf went away; csgb stat notices the
        // missing counts itself.
        try? command("disable")
    }

    /// Writes one command and waits for perf's "ack\n" (perf writes it with its
    /// terminating NUL, which the read drains too).
    func command(_ word: String) throws(CSGBError) {
        var line = word + "\n"
        let failure: SystemError? = line.withUTF8 { bytes in
            do throws(SystemError) { try control.write(UnsafeRawBufferPointer(bytes)) } catch { return error }
            return nil
        }
        if let failure { throw .system(SystemError("write(perf control fifo)", failure.errno)) }
        var reply = [UInt8]()
        while !reply.contains(UInt8(ascii: "\n")) {
            var chunk = [UInt8](repeating: 0, count: 16)
            let n: Int?
            do throws(SystemError) {
                // In slices, so that a stop is not held up for the whole timeout: perf,
                // stopped by the same signal, may never answer.
                var waited: Int32 = 0
                while try !ack.waitReadable(milliseconds: Self.ackSliceMilliseconds) {
                    if StopRequest.isRequested { return }
                    waited += Self.ackSliceMilliseconds
                    if waited >= ackTimeout {
                        throw SystemError("perf did not acknowledge '\(word)'", .timedOut)
                    }
                }
                let outcome: Result<Int?, SystemError> = chunk.withUnsafeMutableBytes { buffer in
                    do throws(SystemError) { return .success(try ack.read(into: buffer)) } catch { return .failure(error) }
                }
                n = try outcome.get()
            } catch {
                throw .system(error)
            }
            guard let n else { continue }
            if n == 0 { throw .system(SystemError("read(perf ack fifo)", .brokenPipe)) }
            reply.append(contentsOf: chunk[0..<n])
        }
    }
}


/// The policy perf counted at, as the run reports it (`perf_sched`, `perf_sched_note`).
public struct PerfSchedule: Sendable, Equatable {
    public let applied: SchedulingPolicy?
    public let note: String
}
