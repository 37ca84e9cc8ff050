import CSGBSystem
import Fibers

/// What one run measured, over the measured window only.
public struct RunReport: Sendable {
    public var workload: String
    /// `--transport` of workloads that move bytes; nil for the others.
    public var transport: ByteChannel.Kind?
    public var mode: Mode
    public var io: IOChoice
    /// `--syscalls` of workloads that move bytes; nil for the others.
    public var syscalls: TransferCalls? = nil
    /// With `--io uring`: the ring settings and what the rings did in the window.
    public var ring: RingSettings?
    /// Whether a write and the peer's read it allows went to the ring as one chain.
    public var ringLinked = false
    /// In the window.
    public var rings = RingTotals()
    /// Entries cancelled because the entry linked before them failed, over the run
    /// up to the window's close (as `failedTransfers`).
    public var ringCancelled: UInt64 = 0
    public var ringEnters: UInt64 { rings.enters }
    public var ringSubmitted: UInt64 { rings.submitted }
    /// `--sqpoll`: CPU seconds the kernel's SQ pollers used in the window.
    public var pollerSeconds: Double?
    /// `--sqpoll`: the SQ poller threads the run had at the window's close, counted
    /// in /proc/self/task (the run's rings share one); nil where they are not in
    /// this process (process mode: one per actor process).
    public var pollerThreads: Int? = nil
    public var executor: ExecutorChoice?
    public var n: Int
    public var actors: Int
    public var workers: Int?
    public var osThreads: Int
    public var cpus: String
    public var pinning: Pinning
    public var workSize: Int
    public var numa: NUMAPolicy
    public var stride: Int
    /// `--access`: how `touch` walked the buffer.
    public var access: AccessPattern = .stride
    public var seconds: Double
    /// The warm-up as run: from the gate to the window's first edge.
    public var warmupSeconds: Double
    /// Why the warm-up ran longer than `--warmup`, nil when it did not.
    public var warmupNote: String? = nil
    public var warmupComplete: Bool
    public var stoppedBy: String
    public var iterations: UInt64
    public var perActor: [UInt64]
    public var switches: ContextSwitches
    /// Actors whose switches and CPU time are read by the actor itself (process
    /// mode) and that missed the window's first or last edge: their figures count
    /// from an edge they did answer. Nil where every figure is read at the edge.
    public var usageMissed: Int? = nil
    public var userSeconds: Double
    public var systemSeconds: Double
    public var maxRSSBytes: Int
    public var eagain: UInt64
    /// Actors whose run ended on a failed or short transfer before the stop (whole run).
    public var failedTransfers: UInt64 = 0
    public var environment: Environment
    /// What the run must show for its mode to have done what it says.
    public var claims: Claims
    /// `--latency`: percentiles of sampled iterations; nil when not asked for.
    public var latency: LatencySummary? = nil
    /// `--phases`: the work and the hand-offs that make up an iteration; nil when
    /// not asked for.
    public var phases: PhaseSummary? = nil
    /// `--counters`: the window's perf counters; nil when not asked for.
    public var counters: Counters? = nil
    /// Under csgb stat: the policy the run gave perf before the window.
    public var perfSchedule: PerfSchedule? = nil
    /// What csgb did to the coordinator's priority; nil for a report built by hand.
    public var priority: CoordinatorPriority? = nil
    /// `--sched` and `--spec` as asked, as the actor threads read them back, and the
    /// coordinator's policy in the window; nil when neither was given.
    public var threadSettings: ActorThreadSettings? = nil
    public var readback: ActorThreadSettings.Readback? = nil
    public var coordinatorSchedule: CoordinatorSchedule? = nil
    /// Why a requested control cannot act in this mode, or how real-time
    /// throttling applies.
    public var threadSettingsNotes: [String] = []
    /// Set-up time, memory per actor and raised limits; nil for a report built by hand.
    public var setup: SetupFigures? = nil
    /// Why the window's time includes time the process did not run; nil when it ran throughout.
    public var suspension: String? = nil
    /// An actor (or the process that carries actors) that died or stopped answering
    /// mid-run, as the mode saw it; nil when every one lasted to the stop.
    public var lostActors: String? = nil
    /// Other runnable work on the run's CPUs, or a load above them, at the window's
    /// edges; nil on a quiet machine.
    public var noise: String? = nil

    /// What the run did that it claims it does not: a transfer that failed, an
    /// EAGAIN where reads only follow the peer's write, an actor lost. Such a run
    /// measured something else than it says, so csgb exits 3 after its report (the
    /// code `csgb stat` gives a run whose expectation does not hold).
    public var brokenClaims: [String] {
        var broken: [String] = []
        if let lostActors { broken.append(lostActors) }
        if failedTransfers > 0 {
            broken.append("\(failedTransfers) actor\(failedTransfers == 1 ? "" : "s") stopped on a failed or short transfer")
        }
        if claims.noEAGAIN && eagain > 0 {
            broken.append("\(eagain) EAGAIN\(eagain == 1 ? "" : "s") where reads only follow the peer's write")
        }
        return broken
    }

    public var iterationsPerSecond: Double? { seconds > 0 ? Double(iterations) / seconds : nil }
    public var nanosecondsPerIteration: Double? { iterations > 0 ? seconds * 1e9 / Double(iterations) : nil }
    public var fairness: Fairness { Fairness(counts: perActor) }
    /// io_uring_enter calls per iteration, as csgb counted them (csgb stat counts the syscall).
    public var ringEntersPerIteration: Double? { ring == nil ? nil : perIteration(ringEnters) }
    /// Ring entries submitted per io_uring_enter: the batch size.
    public var entriesPerEnter: Double? { ring == nil || ringEnters == 0 ? nil : Double(ringSubmitted) / Double(ringEnters) }
    /// Write→read chains formed per iteration.
    public var ringLinksPerIteration: Double? { ring == nil ? nil : perIteration(rings.links) }

    func perIteration(_ value: UInt64) -> Double? { iterations > 0 ? Double(value) / Double(iterations) : nil }
    public var voluntarySwitchesPerIteration: Double? { perIteration(switches.voluntary) }
    public var involuntarySwitchesPerIteration: Double? { perIteration(switches.involuntary) }

    public var json: JSON {
        let fairness = self.fairness
        var pairs: [(String, JSON)] = [
            ("workload", .string(workload)),
            ("transport", transport.map { .string($0.rawValue) } ?? .null),
            ("mode", .string(mode.rawValue)),
            ("executor", executor.map { .string($0.rawValue) } ?? .null),
            ("io", .string(io.rawValue)),
            ("syscalls", syscalls.map { .string($0.rawValue) } ?? .null),
            ("ring_entries", .integer(ring?.entries)),
            ("sqpoll", ring.map { .bool($0.sqpoll) } ?? .null),
            ("fixed_files", ring.map { .bool($0.fixedFiles) } ?? .null),
            ("ring_setup", ring.map { .string($0.effectiveSetup.names) } ?? .null),
            ("ring_link", ring.map { _ in .bool(ringLinked) } ?? .null),
            ("ring_links_per_iteration", .number(ringLinksPerIteration)),
            ("ring_cancelled", ring.map { _ in .integer(ringCancelled) } ?? .null),
            ("io_uring_enter_per_iteration", .number(ringEntersPerIteration)),
            ("sqes_per_enter", .number(entriesPerEnter)),
            ("sqpoll_cpu_seconds", .number(pollerSeconds)),
            ("sqpoll_pollers", .integer(pollerThreads)),
            ("n", .integer(n)),
            ("actors", .integer(actors)),
            ("workers", .integer(workers)),
            ("os_threads", .integer(osThreads)),
            ("cpus", .string(cpus)),
            ("pin", .string(pinning.rawValue)),
            ("work_size", .integer(workSize)),
            ("numa", .string(numa.rawValue)),
            ("stride", .integer(stride)),
            ("access", .string(access.rawValue)),
            ("seconds", .number(seconds)),
            ("warmup_seconds", .number(warmupSeconds)),
            ("warmup_complete", .bool(warmupComplete)),
            ("warmup_note", warmupNote.map { .string($0) } ?? .null),
            ("stopped_by", .string(stoppedBy)),
            ("suspension", suspension.map { .string($0) } ?? .null),
            ("noise", noise.map { .string($0) } ?? .null),
            ("iterations", .integer(iterations)),
            ("iterations_per_second", .number(iterationsPerSecond)),
            ("ns_per_iteration", .number(nanosecondsPerIteration)),
            ("fairness", .object([
                ("min", .integer(fairness.min)),
                ("max", .integer(fairness.max)),
                ("cv", .number(fairness.cv)),
            ])),
            ("voluntary_switches", .integer(switches.voluntary)),
            ("involuntary_switches", .integer(switches.involuntary)),
            ("voluntary_switches_per_iteration", .number(voluntarySwitchesPerIteration)),
            ("involuntary_switches_per_iteration", .number(involuntarySwitchesPerIteration)),
            ("usage_missed_actors", .integer(usageMissed)),
            ("user_seconds", .number(userSeconds)),
            ("system_seconds", .number(systemSeconds)),
            ("max_rss_bytes", .integer(maxRSSBytes)),
            ("setup_seconds", .number(setup?.seconds)),
            ("memory_per_actor_bytes", .number(setup?.memoryPerActorBytes)),
            ("resident_bytes_at_gate", .integer(setup?.residentBytesAtGate)),
            ("actor_process_bytes", .integer(setup?.actorProcessBytes)),
            ("limits", setup.map { .string($0.limitsText) } ?? .null),
            ("eagain", .integer(eagain)),
            ("failed_transfers", .integer(failedTransfers)),
            ("broken_claims", brokenClaims.isEmpty ? .null : .string(brokenClaims.joined(separator: "; "))),
            ("nice", .integer(priority.map { Int($0.niceAtStart) })),
            ("coordinator_nice", .integer(priority.map { Int($0.niceInWindow) })),
            ("sched", threadSettings?.sched == nil ? .null : .string(readback?.sched?.description ?? "unknown")),
            ("coordinator_sched", coordinatorSchedule?.inWindow.map { .string($0.description) } ?? .null),
            ("perf_sched", perfSchedule?.applied.map { .string($0.description) } ?? .null),
            ("perf_sched_note", perfSchedule.map { .string($0.note) } ?? .null),
            ("thread_settings_notes", threadSettingsNotes.isEmpty ? .null : .string(threadSettingsNotes.joined(separator: "; "))),
            ("version", .string(BuildInfo.version)),
        ]
        if let settings = threadSettings, !settings.speculation.isEmpty {
            pairs.append(("speculation", .object(settings.speculation.map { control in
                (control.rawValue, readback?.speculation[control].map { .string(SpeculationControl.describe($0)) } ?? .null)
            })))
        }
        if let latency { pairs.append(("latency_ns", latency.json)) }
        pairs += PhaseSummary.jsonFields(phases)
        if let counters { pairs.append(("counters", counters.json(iterations: iterations, windowSeconds: seconds))) }
        pairs.append(("claims", claims.json))
        pairs.append(("environment", environment.json))
        return .object(pairs)
    }
}
