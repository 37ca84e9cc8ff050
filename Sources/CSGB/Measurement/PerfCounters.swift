#if canImport(Glibc)
import Glibc
#endif
import CSGBSystem

/// `--counters`: perf counters over exactly the measured window, per OS thread
/// (`--counters thread`) or per listed CPU (`--counters cpu`).
///
/// Every event is opened disabled (at the window's opening unless `prepare` ran
/// earlier), then one prctl enables them all so the counters start together; at the
/// close it disables them the same way, reads, sums and closes. An event the machine
/// lacks is recorded as not supported (JSON null), never as zero; missing permission
/// ends the run with exit 69 before the window counts anything.
///
/// Context switches and task clock come from getrusage at the same two instants,
/// not from perf: the kernel keeps them anyway, and a perf event per thread would
/// make every context switch dearer (perf switches the thread's counters out and in).
public final class PerfCounters: WindowObserver {
    /// What perf counts: only what the PMU can count. Hardware and cache events are
    /// opened twice, for the user/kernel split. On a machine without a PMU nothing is
    /// opened at all. Migrations and page faults stay available as kinds.
    public static let defaultEvents: [PerfEventSpec] =
        [PerfEventKind.instructions, .cycles, .cacheMisses, .dTLBLoadMisses].flatMap {
            [PerfEventSpec($0, .user), PerfEventSpec($0, .kernel)]
        }

    /// Taken from getrusage(RUSAGE_SELF) unless `events` asks perf for them.
    public static let usageEvents: [PerfEventSpec] =
        [PerfEventKind.contextSwitches, .taskClock].map { PerfEventSpec($0, .all) }

    private struct OpenCounter {
        let spec: PerfEventSpec
        let thread: Int32
        let descriptor: PerfEventDescriptor
    }

    public let events: [PerfEventSpec]
    public let scope: Counters.Scope
    /// The CPUs counted with `.listedCPUs`.
    public let cpus: [Int32]
    private var open: [OpenCounter] = []
    private var usageAtEnable: ProcessUsage?
    private var unsupported: Set<PerfEventSpec> = []
    private var threadCount = 0
    private var prepared = false
    /// Opened on the coordinator with `inherit` (see `runWillStart`).
    private var inherited = false
    private var enabledAt: Int64?
    private var result: Result<Counters, CSGBError>?

    /// `cpus` must be given for `.listedCPUs` (and only then).
    public init(events: [PerfEventSpec] = PerfCounters.defaultEvents, scope: Counters.Scope = .runThreads,
                cpus: [Int32] = []) {
        precondition((scope == .listedCPUs) == !cpus.isEmpty, "per-CPU counters need their CPUs")
        self.events = events
        self.scope = scope
        self.cpus = cpus
        // No hardware PMU, no hardware event to open. The kernel checks
        // perf_event_paranoid before it looks for the PMU, so an unprivileged open
        // here would say "not permitted" where there is nothing to permit.
        if !Environment.hasHardwarePMU() { unsupported = Set(events.filter { $0.kind.isHardware }) }
    }

    deinit { closeAll() }

    /// Opens every counter, disabled. `windowWillOpen` does this itself when
    /// nobody did it earlier; a coordinator that calls it while the threads still
    /// wait at the start gate keeps the slow part (thousands of perf_event_open
    /// calls, with the coordinator competing against every runnable actor
    /// otherwise) out of the window, so the window's opening is one prctl.
    public func prepare(threads: [Int32]) throws(CSGBError) {
        if inherited { threadCount = threads.count }
        guard !prepared else { return }
        prepared = true
        if scope == .listedCPUs { return try openPerCPU() }
        let targets = scope == .processThreads ? Self.processThreads(besides: threads) : threads
        threadCount = targets.count
        do {
            // The first thread tells which events this machine has; only those
            // take a descriptor per thread, and the limit is checked for them.
            if let first = targets.first {
                for spec in events { try open(spec, threads: [first][...]) }
            }
            let supported = events.filter { !unsupported.contains($0) }
            try ensureDescriptors(max(targets.count - 1, 0) * supported.count)
            for spec in supported { try open(spec, threads: targets.dropFirst()) }
        } catch {
            closeAll()
            throw error
        }
    }

    /// With the run-threads scope, opens every counter on the coordinator with
    /// `inherit` before it creates the run's threads: each thread then starts with a
    /// clone of the coordinator's counters, and reading the coordinator's sums them
    /// all (as `perf stat` does). Between threads whose counters are clones, the
    /// kernel swaps the counter context at a context switch instead of switching every
    /// counter out and in: in this VM that cut what `--counters` adds to a thread-mode
    /// round trip from about 7 µs to about 2.5 µs. The coordinator itself is counted
    /// too; it sleeps through the window.
    public func runWillStart() throws {
        guard !prepared else { return }
        if scope == .listedCPUs { return try prepare(threads: []) }
        guard scope == .runThreads else { return }
        prepared = true
        inherited = true
        do {
            for spec in events { try open(spec, threads: [OSThread.currentID][...], inherit: true) }
        } catch {
            closeAll()
            throw error
        }
    }

    /// Opens the counters while every actor thread still waits at the start gate,
    /// so opening thousands of them neither delays nor blurs the window.
    public func windowWillPrepare(threads: [Int32]) throws {
        try prepare(threads: threads)
    }

    public func windowWillOpen(threads: [Int32]) throws {
        try prepare(threads: threads)
        // One prctl starts every counter this thread opened; per-descriptor ioctls
        // are the fallback, should a kernel refuse it.
        if (try? OwnedPerfEvents.enableAll()) == nil {
            for counter in open { try? counter.descriptor.enable() }
        }
        enabledAt = MonotonicClock.nanoseconds()
        usageAtEnable = .now()
    }

    public func windowDidClose() {
        let usage = ProcessUsage.now()
        if (try? OwnedPerfEvents.disableAll()) == nil {
            for counter in open { try? counter.descriptor.disable() }
        }
        let disabledAt = MonotonicClock.nanoseconds()
        var readings: [PerfEventSpec: [PerfReading]] = [:]
        var failure: SystemError?
        for counter in open {
            do {
                readings[counter.spec, default: []].append(try counter.descriptor.read())
            } catch {
                failure = failure ?? error
            }
        }
        let opened = open.count
        closeAll()
        if let failure {
            result = .failure(.system(failure))
            return
        }
        var totals: [PerfEventSpec: CounterTotal] = [:]
        for spec in events {
            totals[spec] = unsupported.contains(spec) ? .notSupported : CounterTotal(readings: readings[spec] ?? [])
        }
        var fromUsage: [PerfEventKind] = []
        if let before = usageAtEnable {
            for spec in Self.usageEvents where totals[spec] == nil {
                let value: Double
                switch spec.kind {
                case .contextSwitches: value = Double(usage.switches.total &- before.switches.total)
                default: value = (usage.cpuSeconds - before.cpuSeconds) * 1e9
                }
                totals[spec] = CounterTotal(status: .counted, value: value)
                fromUsage.append(spec.kind)
            }
        }
        let seconds = enabledAt.map { Double(disabledAt - $0) / 1e9 }
        result = .success(Counters(scope: scope, threads: threadCount, totals: totals, countingSeconds: seconds,
                                   cpus: cpus, fromUsage: fromUsage, opened: opened))
    }

    /// The window's counters; call after `Benchmark.run` returned.
    public func counters() throws(CSGBError) -> Counters {
        guard let result else { throw .system(SystemError("perf counters: the window never closed", .invalidArgument)) }
        return try result.get()
    }

    // MARK: Opening

    /// Event groups per listed CPU, one per privilege level: a group's members go on
    /// and off the PMU together (so their ratios, IPC above all, come from the same
    /// instants), and nothing is saved or restored when the CPU switches tasks. One
    /// group per level keeps each to four events, which every x86 PMU schedules; all
    /// eight in one group would never fit some of them.
    private func openPerCPU() throws(CSGBError) {
        threadCount = cpus.count
        do {
            try ensureDescriptors(cpus.count * events.count)
            for cpu in cpus {
                var leaders: [PerfPrivilege: PerfEventDescriptor] = [:]
                for spec in events where !unsupported.contains(spec) {
                    if let descriptor = try open(spec, cpu: cpu, group: leaders[spec.privilege]) {
                        leaders[spec.privilege] = leaders[spec.privilege] ?? descriptor
                    }
                }
                groupCount += leaders.count
            }
        } catch {
            closeAll()
            throw error
        }
    }

    /// Event groups opened per CPU (tests read it).
    private(set) var groupCount = 0

    /// Opens `spec` on `cpu`; nil when the machine lacks the event. A PMU that cannot
    /// fit the event beside its group says EINVAL: then it leads a group of its own.
    private func open(_ spec: PerfEventSpec, cpu: Int32, group: PerfEventDescriptor?) throws(CSGBError) -> PerfEventDescriptor? {
        do {
            let descriptor = try PerfEventDescriptor.open(spec, cpu: cpu, group: group)
            open.append(OpenCounter(spec: spec, thread: cpu, descriptor: descriptor))
            return descriptor
        } catch {
            switch error {
            case .notSupported:
                unsupported.insert(spec)
                return nil
            case .notPermitted(let errno):
                throw .unavailable(Self.permissionMessage(spec: spec, errno: errno))
            case .noSuchThread:
                throw .system(SystemError("perf_event_open(\(spec.name), cpu \(cpu))", Errno(ESRCH)))
            case .failed(let systemError):
                if group != nil && systemError.errno == .invalidArgument {
                    groupCount += 1
                    return try open(spec, cpu: cpu, group: nil)
                }
                throw .system(systemError)
            }
        }
    }

    /// Opens `spec` on each of `threads`. Support is a property of the machine,
    /// not of the thread, so the first "not supported" decides for all.
    private func open(_ spec: PerfEventSpec, threads: ArraySlice<Int32>, inherit: Bool = false) throws(CSGBError) {
        if unsupported.contains(spec) { return }
        for tid in threads {
            do {
                let descriptor = try PerfEventDescriptor.open(spec, thread: tid, inherit: inherit)
                open.append(OpenCounter(spec: spec, thread: tid, descriptor: descriptor))
            } catch {
                switch error {
                case .notSupported:
                    unsupported.insert(spec)
                    return
                case .notPermitted(let errno):
                    throw .unavailable(Self.permissionMessage(spec: spec, errno: errno))
                case .noSuchThread:
                    // A runtime thread of the process may end between the listing
                    // and the open; a thread of the run must not.
                    if scope == .processThreads { continue }
                    throw .system(SystemError("perf_event_open(\(spec.name), tid \(tid))", Errno(ESRCH)))
                case .failed(let systemError):
                    throw .system(systemError)
                }
            }
        }
    }

    static func permissionMessage(spec: PerfEventSpec, errno: Errno) -> String {
        let paranoid = ResourceLimits.readInteger("/proc/sys/kernel/perf_event_paranoid").map(String.init) ?? "unknown"
        return "--counters: perf_event_open(\(spec.name)) not permitted (\(errno)); kernel.perf_event_paranoid is \(paranoid): run as root, grant CAP_PERFMON, or `sysctl -w kernel.perf_event_paranoid=1` (kernel counting needs 1 or lower)"
    }

    /// Each counter is a descriptor: thousands of threads times a dozen events can
    /// pass RLIMIT_NOFILE, so make room (or say how) before opening any.
    private func ensureDescriptors(_ count: Int) throws(CSGBError) {
        let inUse = (try? ProcFile.listDirectory("/proc/self/fd").count) ?? 0
        do {
            try ResourceLimits.ensureOpenFiles(inUse + count)
        } catch {
            throw .limit("--counters: \(error.description)")
        }
    }

    /// Every thread of the process but the caller (the coordinator, asleep in the
    /// window), plus the run's own threads.
    static func processThreads(besides threads: [Int32]) -> [Int32] {
        let me = OSThread.currentID
        let listed = ((try? ProcFile.listDirectory("/proc/self/task")) ?? []).compactMap { Int32($0) }
        var seen = Set<Int32>()
        return (threads + listed.sorted()).filter { $0 != me && seen.insert($0).inserted }
    }

    private func closeAll() {
        for counter in open { counter.descriptor.close() }
        open.removeAll()
    }
}
