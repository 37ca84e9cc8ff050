#if canImport(Glibc)
import Glibc
#endif
import CSGBSystem

/// Something that must happen exactly at the window's edges (perf's control fifo,
/// per-thread counters), so that what it counts matches what the report covers.
public protocol WindowObserver: AnyObject {
    /// Before the run's threads exist, on the coordinator thread: the place for what
    /// threads should inherit from their creator (perf counters with `inherit`).
    func runWillStart() throws
    /// Before the start gate opens, while every actor thread still waits: the place
    /// for slow set-up (opening thousands of counters) that must not eat the window.
    func windowWillPrepare(threads: [Int32]) throws
    func windowWillOpen(threads: [Int32]) throws
    func windowDidClose()
}

extension WindowObserver {
    public func runWillStart() throws {}
    public func windowWillPrepare(threads: [Int32]) throws {}
}

/// Runs one configuration from start gate to report: checks limits, starts the
/// mode, opens the gate when every thread is waiting, measures the window between
/// the warm-up and the stop, stops every actor, and releases every resource.
public enum Benchmark {
    /// How often the coordinator looks at a stop that is slow to land.
    static let stopPollSeconds = 0.005
    /// How long a stop may go without one more thread or process finishing before
    /// the mode ends what does not answer by force. Actors leave within
    /// milliseconds of the stop; thousands of them finish one after another.
    static let stallSeconds = 0.5

    /// Runs and returns the report once everything is torn down.
    public static func run(_ configuration: RunConfiguration, observers: [WindowObserver] = []) throws(CSGBError) -> RunReport {
        var result: RunReport?
        try run(configuration, observers: observers) { result = $0 }
        return result!
    }

    /// Runs and hands the report to `deliver` as soon as every actor has stopped,
    /// before the teardown (joining threads, unmapping 10,000 stacks, closing 20,000
    /// descriptors), so that a stop by signal prints its report within milliseconds.
    public static func run(_ configuration: RunConfiguration, observers: [WindowObserver] = [],
                           deliver: (RunReport) throws(CSGBError) -> Void) throws(CSGBError) {
        try configuration.validatePlan()
        let startedAt = MonotonicClock.nanoseconds()
        StopRequest.ignoreBrokenPipes()
        // Read before the coordinator pins itself, so it shows the machine's CPUs.
        let environment = Environment.current()
        let raisedLimits = try checkLimits(configuration)
        try configuration.threadSettings.check()

        // The coordinator pins itself before it allocates anything or starts any
        // thread: with --cpus every OS thread of the run stays on the listed CPUs,
        // this one included and the threads of executors we do not own (they inherit
        // its affinity), and `--numa local` buffers land on the run's node.
        let callerCPUs = try? CPUList.allowed()
        try? configuration.placement.pinCurrentThread(index: 0)
        // A library caller (a test running many runs) gets its thread back as it was.
        defer { if let callerCPUs { try? Placement(cpus: callerCPUs, pinning: .set).pinCurrentThread(index: 0) } }

        let residentBefore = ProcessUsage.residentBytes()
        let resources = WorkloadResources()
        defer { resources.release() }
        let context = try makeContext(configuration, resources: resources)
        let runner = try prepareRunner(context)
        try tell(observers, runner, context) { try $0.runWillStart() }

        // From here on threads exist: every exit path stops and joins them.
        try startThreads(runner, context)
        let setupSeconds = Double(MonotonicClock.nanoseconds() - startedAt) / 1e9
        let residentAtGate = ProcessUsage.residentBytes()
        let elsewhere: SetupFigures.Elsewhere
        do {
            if let bytes = try runner.residentBytesElsewhere(context) {
                elsewhere = .measured(bytes: bytes, processes: runner.threadCount + 1)
            } else {
                elsewhere = .none
            }
        } catch {
            elsewhere = .unreadable("\(error)")
        }
        let setup = SetupFigures(seconds: setupSeconds, residentBytesBefore: residentBefore, residentBytesAtGate: residentAtGate,
                                 actors: context.actors.count, raisedLimits: raisedLimits, elsewhere: elsewhere)
        let threads = context.threadIDs
        try tell(observers, runner, context) { try $0.windowWillPrepare(threads: threads) }
        let priority = CoordinatorPriority.raiseForWindow()
        defer { priority.restore() }
        let schedule = CoordinatorSchedule.raise(above: configuration.threadSettings.sched, niceAtStart: priority.niceAtStart)
        defer { schedule.restore() }
        var window = try measureWindow(runner, context, observers: observers)
        let osThreads = runner.osThreads(context)
        for observer in observers.reversed() { observer.windowDidClose() }
        window.noise.runnableAtClose = WindowNoise.sample(window.noise.cpus)
        window.noise.loadAverage = WindowNoise.loadAverage()
        window.last = runner.finishEdge(window.last, context, by: nil)
        // The stop too runs above the actors: real-time actors that never block
        // (green or async on the coordinator's CPU) would otherwise hold the CPU the
        // coordinator needs to stop them. The teardown needs no real-time priority.
        stop(runner, context, join: false)
        schedule.restore()
        defer { runner.join() }
        // Merged only now: the actors have stopped writing their histograms.
        let latency = context.latency?.summary(sampleEvery: window.sampleEvery)
        let lost = runner.stopCause(context)
        var built = report(context, window, osThreads: osThreads, latency: latency, environment: environment, priority: priority,
                           stopCause: lost)
        built.lostActors = lost
        built.noise = window.noise.note
        built.describeThreadSettings(configuration, readback: context.readbacks.first, schedule: schedule)
        if let board = context.phases, let nanoseconds = built.nanosecondsPerIteration {
            built.phases = PhaseSummary(board.totals(), iterations: built.iterations, nanosecondsPerIteration: nanoseconds,
                                        clockRead: context.phaseClockRead)
        }
        built.setup = setup
        built.coordinatorSchedule = schedule
        try deliver(built)
    }

    /// The descriptors the plan needs, against RLIMIT_NOFILE (raised as far as the
    /// run needs and this process may), and for TCP the ephemeral ports, before
    /// anything exists; returns what was raised.
    static func checkLimits(_ configuration: RunConfiguration) throws(CSGBError) -> [RaisedLimit] {
        do {
            if configuration.workload.transport == .tcp {
                // One loopback connection per pair, each holding an ephemeral port.
                try ResourceLimits.ensureEphemeralPorts(configuration.n)
            }
            try configuration.checkWorkMemory()
            return try ResourceLimits.ensureOpenFiles(configuration.descriptorsNeeded)
        } catch {
            throw .limit(error.description)
        }
    }

    /// The workload's kernel objects and actors, set for the mode (non-blocking
    /// descriptors where reads must not block a worker), and their work buffers.
    static func makeContext(_ configuration: RunConfiguration, resources: WorkloadResources) throws(CSGBError) -> RunContext {
        let context: RunContext
        do {
            var actors = try configuration.workload.makeActors(n: configuration.n, touches: configuration.workSize > 0,
                                                               resources: resources)
            resources.planComplete()
            if configuration.injectBlockingSleep {
                actors = actors.map { $0.countsIterations ? $0.appending(.injectedSleep) : $0 }
            }
            if !configuration.mode.traits.blocksInKernel(configuration) {
                for descriptor in resources.descriptors { try descriptor.setNonBlocking() }
            }
            // Actors in processes of their own fault in their own buffers there.
            let buffers = try TouchBuffers(actors: actors.count, size: configuration.actorsInThisProcess ? configuration.workSize : 0,
                                           stride: configuration.stride, access: configuration.access,
                                           evictsBeforePass: configuration.injectColdWork, numa: configuration.numa)
            context = RunContext(configuration: configuration, actors: actors, buffers: buffers, resources: resources)
            try context.preparePhases()
        } catch {
            throw StopBeforeStart.failure(error, while: StopBeforeStart.setUpStage(configuration))
        }
        try StopBeforeStart.check(StopBeforeStart.setUpStage(configuration))
        return context
    }

    /// The mode's runner, prepared (its limits checked, its rings made) before any
    /// thread starts.
    static func prepareRunner(_ context: RunContext) throws(CSGBError) -> any ModeRunner {
        let configuration = context.configuration
        let runner = configuration.mode.makeRunner(configuration)
        do {
            try runner.prepare(context)
        } catch let error as LimitError {
            throw .limit(error.description)
        } catch let error as CSGBError {
            throw error
        } catch {
            throw .system(error as? SystemError ?? SystemError("prepare"))
        }
        try StopBeforeStart.check("preparing the \(configuration.mode.rawValue) mode")
        return runner
    }

    /// Starts the mode's threads and waits until every one waits at the gate.
    static func startThreads(_ runner: any ModeRunner, _ context: RunContext) throws(CSGBError) {
        do {
            try runner.start(context)
        } catch {
            stop(runner, context)
            if let error = error as? SystemError {
                throw .limit(ResourceLimits.threadStartFailure(error))
            }
            throw .system(SystemError("start"))
        }
        while runner.arrivals(context) < runner.threadCount && !StopRequest.isRequested {
            StopRequest.sleep(seconds: 0.001)
        }
        if let failure = context.failureMessages.first {
            stop(runner, context)
            // The message names the call, its error and the fix already: no errno of its own.
            throw .limit(failure)
        }
        if StopRequest.isRequested {
            stop(runner, context)
            let carrier = context.configuration.mode.traits.carrier
            try StopBeforeStart.check("starting \(runner.threadCount) \(carrier)\(carrier.hasSuffix("s") ? "es" : "s")")
        }
    }

    /// The measured window's two edges, and how latency was sampled.
    struct Window {
        var first: WindowEdge
        var last: WindowEdge
        var warmupComplete: Bool
        var sampleEvery: UInt64
        var suspension: WindowSuspension
        /// Other work on the run's CPUs at the window's edges.
        var noise: WindowNoise
        /// The warm-up as run, gate edge to first edge (longer than asked when
        /// some actor had not made a pass yet), and what the report says about it.
        var warmupSeconds: Double
        var warmupNote: String?
        /// What `--until-passes` held the window open past its duration.
        var passWaitSeconds = 0.0
    }

    /// How long a warm-up may be extended waiting for every actor's first pass.
    static let firstPassLimitSeconds = 5.0

    /// Opens the gate, sleeps through the warm-up, takes the window's first edge,
    /// sleeps until the duration or a stop, and takes the last edge (which the
    /// caller finishes once the observers have closed the window).
    static func measureWindow(_ runner: any ModeRunner, _ context: RunContext,
                              observers: [WindowObserver]) throws(CSGBError) -> Window {
        let configuration = context.configuration
        let threads = context.threadIDs
        runner.openGate(context)
        let gateEdge = runner.finishEdge(runner.takeEdge(context), context, by: nil)
        var warmupComplete = !StopRequest.sleep(seconds: configuration.warmup)
        var warmupNote: String?
        if warmupComplete && configuration.warmup > 0 {
            (warmupComplete, warmupNote) = awaitFirstPasses(runner, context, since: gateEdge)
        }
        // Before the observers and the edge: the scan of /proc stays out of the window.
        let noiseCPUs = WindowNoise.cpus(configuration.placement)
        let runnableAtOpen = WindowNoise.sample(noiseCPUs)
        // Observers first, then the edge: what they count then starts a few
        // microseconds before the iterations do, never after.
        try tell(observers, runner, context) { try $0.windowWillOpen(threads: threads) }
        // A stop during the warm-up still gets a report: its window then runs from
        // the gate to the stop, and the report says so.
        var first = gateEdge
        if warmupComplete {
            // What the first edge still gathers is gathered inside the window: never past its planned end.
            first = runner.takeEdge(context)
            // Under --until-passes the window lasts as long as the actors need, so
            // their answers to this edge may take as long too.
            first = runner.finishEdge(first, context, by: configuration.untilPasses > 0 ? nil
                                          : configuration.duration.map { first.timeNanoseconds + Int64($0 * 1e9) })
        }
        let suspension = WindowSuspension.open()
        if configuration.injectClosedChannel { context.resources.interruptFirstChannel() }
        context.latency?.open(nanosecondsPerPass: passTime(context, from: gateEdge, to: first))
        if warmupComplete { context.phases?.openWindow() }
        var passWaitSeconds = 0.0
        if warmupComplete, let duration = configuration.duration {
            // Sleep until the window's planned end, measured from the edge itself.
            let remaining = duration - Double(MonotonicClock.nanoseconds() - first.timeNanoseconds) / 1e9
            if !StopRequest.sleep(seconds: max(remaining, 0)) && configuration.untilPasses > 0 {
                passWaitSeconds = awaitPasses(runner, context, since: first, count: UInt64(configuration.untilPasses),
                                              limitSeconds: untilPassesLimitSeconds).seconds
            }
        } else if warmupComplete {
            StopRequest.sleep(seconds: nil)
        }
        let sampleEvery = context.latency?.close() ?? 0
        context.phases?.closeWindow()
        let last = runner.takeEdge(context)
        // The close's sample is taken once the observers closed the window (perf
        // would count its reads of /proc as the run's).
        let noise = WindowNoise(runnableAtOpen: runnableAtOpen, runnableAtClose: 0, loadAverage: nil, cpus: noiseCPUs)
        return Window(first: first, last: last, warmupComplete: warmupComplete, sampleEvery: sampleEvery,
                      suspension: suspension, noise: noise,
                      warmupSeconds: warmupComplete ? Double(first.timeNanoseconds - gateEdge.timeNanoseconds) / 1e9 : configuration.warmup,
                      warmupNote: warmupNote, passWaitSeconds: passWaitSeconds)
    }

    /// Extends the warm-up until every actor has made a pass since the gate's edge,
    /// at most `firstPassLimitSeconds`. An actor that has not passed yet at the
    /// window's first edge still has its start ahead of it, not a pass under way:
    /// with thousands of actors on one CPU the default 0.1 s ends before most of them
    /// ran once, and the window then counts every pair's first calls without the
    /// calls its first edge cut. Returns whether the warm-up completed (no stop) and
    /// the report's note when it was extended.
    static func awaitFirstPasses(_ runner: any ModeRunner, _ context: RunContext,
                                 since gate: WindowEdge) -> (complete: Bool, note: String?) {
        let wait = awaitPasses(runner, context, since: gate, count: 1, limitSeconds: firstPassLimitSeconds)
        if wait.stopped { return (false, nil) }
        if wait.missing == 0 {
            return (true, !wait.slept ? nil : "extended by \(Fmt.fixed(wait.seconds, 3)) s until every actor had made a pass")
        }
        return (true, "extended by \(Fmt.fixed(wait.seconds, 2)) s, its limit, with \(wait.missing) of \(gate.iterations.count) actors still without a pass")
    }

    /// How long `--until-passes` may hold the window open past its duration.
    static let untilPassesLimitSeconds = 60.0

    /// Waits until every actor has made `count` passes since `edge`, a stop, or
    /// `limitSeconds`: whether a stop ended it, the seconds waited, whether it slept
    /// at all, and the actors still short of `count`.
    static func awaitPasses(_ runner: any ModeRunner, _ context: RunContext, since edge: WindowEdge, count: UInt64,
                            limitSeconds: Double) -> (stopped: Bool, seconds: Double, slept: Bool, missing: Int) {
        let started = MonotonicClock.nanoseconds()
        let actors = edge.iterations.count
        var next = 0
        var pause = 0.0001
        var slept = false
        func passed(_ actor: Int) -> Bool { runner.passes(actor, context) &- edge.iterations[actor] >= count }
        while true {
            // Once an actor has passed it stays passed: each scan starts at the first that had not.
            while next < actors && passed(next) { next += 1 }
            let waited = Double(MonotonicClock.nanoseconds() - started) / 1e9
            if next == actors { return (false, waited, slept, 0) }
            if waited >= limitSeconds {
                return (false, waited, slept, (next..<actors).filter { !passed($0) }.count)
            }
            if StopRequest.sleep(seconds: pause) { return (true, waited, slept, 0) }
            slept = true
            pause = min(pause * 2, 0.005)
        }
    }

    /// The report of the window: every figure is a difference of its two edges.
    static func report(_ context: RunContext, _ window: Window, osThreads: Int, latency: LatencySummary?,
                       environment: Environment, priority: CoordinatorPriority, stopCause: String? = nil) -> RunReport {
        let configuration = context.configuration
        let (first, last) = (window.first, window.last)
        let perActor = zip(last.iterations, first.iterations).map { $0 &- $1 }
        let counted = context.actors.indices.filter { context.actors[$0].countsIterations }
        var claims = configuration.mode.traits.claims(OperationCounts(context.actors), configuration)
        claims.iterationsInFlight = max(counted.count, 1)
        return RunReport(
            workload: configuration.workload.name,
            transport: configuration.workload.transport,
            mode: configuration.mode,
            io: configuration.io,
            syscalls: configuration.workload.transport == nil ? nil : configuration.syscalls,
            ring: configuration.io == .uring ? configuration.ring : nil,
            ringLinked: configuration.linksRingEntries,
            rings: last.rings &- first.rings,
            ringCancelled: last.rings.cancelled,
            pollerSeconds: configuration.pollsSubmissions
                ? Double(last.pollerNanoseconds &- first.pollerNanoseconds) / 1e9 : nil,
            pollerThreads: configuration.pollsSubmissions ? last.pollerThreads : nil,
            executor: configuration.reportedExecutor,
            n: configuration.n,
            actors: context.actors.count,
            workers: configuration.mode.traits.workers(configuration),
            osThreads: osThreads,
            cpus: configuration.placement.cpus?.description ?? "all",
            pinning: configuration.placement.pinning,
            workSize: configuration.workSize,
            numa: configuration.numa,
            stride: configuration.stride,
            access: configuration.access,
            seconds: Double(last.timeNanoseconds - first.timeNanoseconds) / 1e9,
            warmupSeconds: window.warmupSeconds,
            warmupNote: window.warmupNote,
            warmupComplete: window.warmupComplete,
            stoppedBy: stopCause ?? StopSignal.name(StopRequest.signal),
            iterations: counted.reduce(0) { $0 + perActor[$1] },
            perActor: perActor,
            switches: last.usage.switches - first.usage.switches,
            usageMissed: first.usageAnswered.flatMap { first in
                last.usageAnswered.map { last in zip(first, last).filter { !($0 && $1) }.count }
            },
            userSeconds: last.usage.userSeconds - first.usage.userSeconds,
            systemSeconds: last.usage.systemSeconds - first.usage.systemSeconds,
            maxRSSBytes: last.usage.maxRSSBytes,
            eagain: zip(last.eagain, first.eagain).reduce(0) { $0 + ($1.0 &- $1.1) },
            failedTransfers: last.failedTransfers,
            environment: environment,
            claims: claims,
            latency: latency,
            priority: priority,
            suspension: window.suspension.note(
                windowSeconds: Double(last.timeNanoseconds - first.timeNanoseconds) / 1e9,
                plannedSeconds: window.warmupComplete && StopRequest.signal == 0
                    ? configuration.duration.map { $0 + window.passWaitSeconds } : nil,
                closedAt: last.timeNanoseconds))
    }

    /// Tells every observer; a failing one stops the run before it is measured.
    static func tell(_ observers: [WindowObserver], _ runner: any ModeRunner, _ context: RunContext,
                     _ event: (WindowObserver) throws -> Void) throws(CSGBError) {
        do {
            for observer in observers { try event(observer) }
        } catch {
            stop(runner, context)
            if let error = error as? CSGBError { throw error }
            throw .system(error as? SystemError ?? SystemError("window observer"))
        }
    }

    /// How long one pass of one counting actor took in the warm-up, to fit the
    /// latency sampling to the workload's pace; nil without a warm-up.
    static func passTime(_ context: RunContext, from start: WindowEdge, to end: WindowEdge) -> Double? {
        let counted = context.actors.indices.filter { context.actors[$0].countsIterations }
        let passes = counted.reduce(0.0) { $0 + Double(end.iterations[$1] &- start.iterations[$1]) } / Double(max(counted.count, 1))
        let nanoseconds = Double(end.timeNanoseconds - start.timeNanoseconds)
        return passes > 0 && nanoseconds > 0 ? nanoseconds / passes : nil
    }

    /// Sets the stop flag and keeps unblocking actors until every thread is out of
    /// its actors (and joins them unless `join` is false);
    /// repeating the interrupt closes the race with an actor that was between its
    /// stop check and a blocking call.
    static func stop(_ runner: any ModeRunner, _ context: RunContext, join: Bool = true) {
        context.requestStop()
        runner.openGate(context)
        var finished = -1
        var progressAt = MonotonicClock.nanoseconds()
        var abandoned = false
        while true {
            runner.interrupt(context)
            let now = runner.finishedThreads(context)
            if now >= runner.startedThreads { break }
            if now != finished {
                finished = now
                progressAt = MonotonicClock.nanoseconds()
            } else if !abandoned, case let stalled = Double(MonotonicClock.nanoseconds() - progressAt) / 1e9, stalled > stallSeconds {
                // Something that carries actors may not answer (a stopped actor host):
                // the stop must end anyway, with what it ended by force in the report.
                abandoned = runner.abandon(context, stalledSeconds: stalled)
            }
            MonotonicClock.sleep(seconds: stopPollSeconds)
        }
        if join { runner.join() }
    }
}
