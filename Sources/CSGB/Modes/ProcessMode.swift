#if canImport(Glibc)
import Glibc
#endif
import Atomics
import CSGBSystem
import Synchronization

/// One process per actor with blocking syscalls: thread mode's interpreter, but
/// every switch between actors changes address space. The channels exist before
/// the actors do; each actor process receives only its own ends (passed to the
/// host over a descriptor channel); futex words, the gate, the stop word, the pass
/// counters and each actor's window-edge getrusage live in a shared memfd region.
/// The actors are forked by csgb re-executed as a hidden actor host (see
/// `ProcessActorHost`), so no fork ever copies a process that runs threads.
final class ProcessMode: ModeRunner {
    private var memory: SharedMemory?
    private var region: ProcessRegion?
    private var host: pid_t = 0
    private var hostReaped = false
    private var notifyRead: FileDescriptor?
    private var watcher: OSThread?
    private var feed: DescriptorChannel?
    private var feeder: OSThread?
    private var expected = 0
    private var epoch: UInt64 = 0
    private var interruptStarted: Int64 = 0
    /// Set when the coordinator stops the run: from then on an exit is expected.
    private let stopping = ManagedAtomic<Bool>(false)
    /// Why the run ended early, when an actor or the host died.
    private let death = Mutex<String?>(nil)
    /// Each actor's getrusage at the last edge it answered, kept for one that
    /// misses a later edge.
    private var lastUsage: [SelfUsage] = []
    private var failuresCollected = false
    /// `--inject-deaf-actor`'s actor: it never answers an edge, so no edge waits for it.
    private var deafActor: Int?

    /// How long an edge waits for every actor to record its getrusage: one pass
    /// each, microseconds, unless thousands of processes queue for one CPU (9,968
    /// pairs on one CPU pass about every 0.6 s). Shorter once a stop is requested.
    static let edgeWaitNanoseconds: Int64 = 3_000_000_000
    static let stoppingEdgeWaitNanoseconds: Int64 = 200_000_000
    /// The coordinator's polls while it waits: doubling from 20 µs up to 5 ms, so a
    /// long wait inside the window adds a few hundred switches, not tens of thousands.
    static let edgePollNanoseconds: (first: Int, most: Int) = (20_000, 5_000_000)
    /// After the stop, how long actors get to leave on their own before SIGKILL
    /// (a reader of a pipe whose writer is another process cannot be unblocked).
    static let graceNanoseconds: Int64 = 20_000_000

    var threadCount: Int { expected }

    var startedThreads: Int {
        guard let region else { return 0 }
        return (0..<region.actors).filter { region.status($0, ProcessRegion.Status.pid).load(ordering: .acquiring) > 0 }.count
    }

    func prepare(_ context: RunContext) throws {
        let configuration = context.configuration
        expected = context.actors.count
        try configuration.checkNeeds(Self.needs(actors: expected, configuration))
        if let deaf = configuration.injectDeafActor, !(0..<expected).contains(deaf) {
            throw CSGBError.usage("--inject-deaf-actor \(deaf): this run's actors are 0 to \(expected - 1)")
        }
        // Futex words are shared by the two actors of a pair: the same private word in
        // the plan becomes the same word in the region.
        var futexIndex: [UnsafeMutablePointer<UInt32>: Int] = [:]
        for actor in context.actors {
            if let word = actor.futex, futexIndex[word.storage] == nil { futexIndex[word.storage] = futexIndex.count }
        }
        let operations = context.actors.reduce(0) { $0 + $1.script.count }
        let cpus = configuration.placement.cpus?.cpus ?? []
        let phaseSlots = configuration.phases ? RunContext.phaseShape(configuration, actors: expected).slots : 0
        let length = ProcessRegion.length(actors: expected, futexWords: futexIndex.count, operations: operations,
                                          cpuCount: cpus.count, phaseSlots: phaseSlots)
        let memory = try SharedMemory(name: "csgb-process-mode", length: length)
        self.memory = memory
        let region = ProcessRegion(base: memory.base, actors: expected, futexWords: futexIndex.count,
                                   operations: operations, cpuCount: cpus.count, phaseSlots: phaseSlots)
        self.region = region
        context.phases = region.phases
        let header = region.header
        typealias H = ProcessRegion.Header
        header[H.magic] = ProcessRegion.magic
        header[H.actors] = UInt64(expected)
        header[H.futexWords] = UInt64(futexIndex.count)
        header[H.operations] = UInt64(operations)
        header[H.cpuCount] = UInt64(cpus.count)
        header[H.pinning] = configuration.placement.pinning == .each ? 1 : 0
        header[H.workSize] = UInt64(configuration.workSize)
        header[H.stride] = UInt64(configuration.stride)
        header[H.access] = UInt64(AccessPattern.allCases.firstIndex(of: configuration.access) ?? 0)
        header[H.coldWork] = configuration.injectColdWork ? 1 : 0
        header[H.numa] = UInt64(NUMAPolicy.allCases.firstIndex(of: configuration.numa) ?? 0)
        header[H.io] = configuration.io == .uring ? 1 : 0
        header[H.ringEntries] = UInt64(configuration.ring.entries ?? 0)
        header[H.sqpoll] = configuration.ring.sqpoll ? 1 : 0
        header[H.fixedFiles] = configuration.ring.fixedFiles ? 1 : 0
        header[H.ringSetup] = UInt64(configuration.ring.effectiveSetup.rawValue)
        header[H.syscalls] = configuration.syscalls == .sendRecv ? 1 : 0
        let poller = configuration.ring.pollerCPU(configuration, threads: expected)
        header[H.pollerCPU] = poller.map { UInt64($0) + 1 } ?? 0
        header[H.schedPolicy] = configuration.threadSettings.encodedSched
        header[H.speculation] = configuration.threadSettings.speculationMask
        header[H.deafActor] = configuration.injectDeafActor.map { UInt64($0) + 1 } ?? 0
        header[H.phaseSlots] = UInt64(phaseSlots)
        // A test's actor that never answers need not hold up an edge; the others get
        // the whole limit, as a loaded machine may make them late.
        deafActor = configuration.injectDeafActor
        for (i, cpu) in cpus.enumerated() { region.cpus[i] = cpu }
        var next = 0
        for (index, actor) in context.actors.enumerated() {
            region.setPlan(index, ProcessRegion.Plan(
                input: Int64(actor.channel?.input.rawValue ?? -1),
                output: Int64(actor.channel?.output.rawValue ?? -1),
                futex: actor.futex.map { Int64(futexIndex[$0.storage]!) } ?? -1,
                firstOperation: Int64(next), operationCount: Int64(actor.script.count),
                peer: Int64(actor.peer ?? -1)))
            for operation in actor.script {
                let code = operation.processCode
                region.operation(next)[0] = code.code
                region.operation(next)[1] = code.value
                next += 1
            }
        }
        lastUsage = Array(repeating: SelfUsage(), count: expected)
    }

    func start(_ context: RunContext) throws {
        guard let memory, region != nil else { return }
        let executable = try ProcessMode.executable()
        let notify = try ChildProcess.pipe()
        notifyRead = notify.read
        let (feed, hostFeed) = try DescriptorChannel.pair()
        self.feed = feed
        // The host inherits none of the workload's descriptors: it receives each
        // actor's own over the feed just before forking that actor, so every fork
        // copies a table of a handful of descriptors, not the run's 20,000, and each
        // actor process holds only its own channel ends.
        let keep = [memory.descriptor, notify.write, hostFeed.descriptor]
        do {
            host = try ChildProcess.spawn(path: executable, arguments: [
                ProcessActorHost.command, "\(memory.descriptor.rawValue)", "\(notify.write.rawValue)",
                "\(hostFeed.descriptor.rawValue)",
            ], keeping: keep)
        } catch {
            notify.write.close()
            hostFeed.close()
            throw error
        }
        notify.write.close()
        hostFeed.close()
        watcher = try OSThread(name: "csgb-watcher") { [self] in self.watch(context) }
        feeder = try OSThread(name: "csgb-feeder") { [self] in self.feedActors(context, feed) }
    }

    /// Hands each actor's channel ends to the host, in actor order (the host forks
    /// actor i once its message arrives). A stop shuts the feed down: a send blocked
    /// on a full queue then fails, and the host reads the end of the stream.
    private func feedActors(_ context: RunContext, _ feed: DescriptorChannel) {
        for (index, actor) in context.actors.enumerated() {
            if stopping.load(ordering: .acquiring) { return }
            do {
                try feed.send(tag: UInt32(index), Self.descriptors(of: actor))
            } catch {
                // A host that ended closed its end; the watcher reports how it ended.
                if stopping.load(ordering: .acquiring) || error.errno == .brokenPipe || error.errno == .connectionReset { return }
                let message = "could not hand actor \(index) its descriptors: \(error)"
                death.withLock { if $0 == nil { $0 = message } }
                context.recordFailure(message)
                StopRequest.request()
                return
            }
        }
    }

    /// An actor's distinct descriptors, input first: what the feed sends and the
    /// host's `ProcessActor` expects.
    static func descriptors(of actor: ActorPlan) -> [FileDescriptor] {
        guard let channel = actor.channel else { return [] }
        return channel.input == channel.output ? [channel.input] : [channel.input, channel.output]
    }

    /// Blocks on the host's pipe: a byte per actor that ended, end of file when the
    /// host itself ended. Either one before the coordinator's stop ends the run.
    private func watch(_ context: RunContext) {
        guard let notifyRead, let region else { return }
        var byte: UInt8 = 0
        while true {
            let result = notifyRead.readByte(&byte)
            if stopping.load(ordering: .acquiring) { if result == .done { continue } else { return } }
            if let message = deathMessage(region, hostEnded: result != .done, context: context) {
                death.withLock { if $0 == nil { $0 = message } }
                if !region.gateIsOpen { context.recordFailure(message) }
                StopRequest.request()
            }
            if result != .done { return }
        }
    }

    /// Which actor ended, and how, or what the host said.
    private func deathMessage(_ region: ProcessRegion, hostEnded: Bool, context: RunContext) -> String? {
        typealias S = ProcessRegion.Status
        for actor in 0..<region.actors where region.status(actor, S.exited).load(ordering: .acquiring) == 1 {
            let pid = region.status(actor, S.pid).load(ordering: .relaxed)
            let signal = Int32(region.status(actor, S.exitSignal).load(ordering: .relaxed))
            let code = Int32(region.status(actor, S.exitCode).load(ordering: .relaxed))
            let how: ChildProcess.Exit = signal != 0 ? .signalled(signal) : .exited(code)
            if region.slotValue(actor, ProcessRegion.Slot.failed) == 1 && signal == 0 { continue }
            return "actor \(actor) (\(context.actors[actor].name), pid \(pid)) \(how) mid-run"
        }
        if hostEnded {
            if let message = region.hostMessage.text { return "the actor host failed: \(message)" }
            let status = (try? ChildProcess.wait(host, noHang: true)).flatMap { $0 }
            if status != nil { hostReaped = true }
            return "the actor host (pid \(host)) \(status.map { $0.exit.description } ?? "ended") mid-run"
        }
        return nil
    }

    func arrivals(_ context: RunContext) -> Int {
        guard let region else { return 0 }
        let arrived = Int(region.arrivals.load(ordering: .acquiring))
        if arrived >= expected && !failuresCollected {
            failuresCollected = true
            for actor in 0..<region.actors {
                context.recordThreadID(Int32(region.status(actor, ProcessRegion.Status.pid).load(ordering: .acquiring)))
                if let message = region.message(actor).text { context.recordFailure(message) }
                if let readback = region.readback(actor) { context.readbacks.record(readback) }
            }
        }
        return arrived
    }

    func openGate(_ context: RunContext) {
        context.gate.open()
        region?.gate.post(1, waking: Int32.max)
    }

    /// The edge's moment: every actor's passes, EAGAINs and ring counts as it last
    /// published them (after each pass), read at once, then a request for each
    /// actor's getrusage, which `finishEdge` collects. Counting iterations at the
    /// moment itself keeps them in step with perf's window, which opens just before
    /// and closes just after this; an actor's own answer comes at the end of its
    /// current pass, which among thousands of processes on one CPU is a large part
    /// of a second later.
    func takeEdge(_ context: RunContext) -> WindowEdge {
        guard let region else { return WindowEdge.take(context) }
        typealias S = ProcessRegion.Slot
        let time = MonotonicClock.nanoseconds()
        var iterations: [UInt64] = [], eagain: [UInt64] = []
        iterations.reserveCapacity(region.actors)
        eagain.reserveCapacity(region.actors)
        var enters: UInt64 = 0, submitted: UInt64 = 0, failed: UInt64 = 0
        for actor in 0..<region.actors {
            iterations.append(region.slotValue(actor, S.iterations))
            eagain.append(region.slotValue(actor, S.eagain))
            enters &+= region.slotValue(actor, S.ringEnters)
            submitted &+= region.slotValue(actor, S.ringSubmitted)
            let killed = region.status(actor, ProcessRegion.Status.exited).load(ordering: .acquiring) == 1
                && region.status(actor, ProcessRegion.Status.exitSignal).load(ordering: .relaxed) != 0
            failed += region.slotValue(actor, S.failed) == 1 || killed ? 1 : 0
        }
        epoch += 1
        region.state.store(epoch, ordering: .sequentiallyConsistent)
        return WindowEdge(timeNanoseconds: time, iterations: iterations, eagain: eagain, failedTransfers: failed,
                          usage: ProcessUsage(summing: lastUsage), rings: RingTotals(enters: enters, submitted: submitted),
                          pollerNanoseconds: 0)
    }

    /// Waits until every live actor has answered the edge's request with its
    /// getrusage, or the wait's limit; one that does not answer in time keeps its
    /// last figures, adds nothing to this window, and the report counts it.
    func finishEdge(_ edge: WindowEdge, _ context: RunContext, by deadline: Int64?) -> WindowEdge {
        guard let region else { return edge }
        typealias R = ProcessRegion.Record
        let started = MonotonicClock.nanoseconds()
        var pause = Self.edgePollNanoseconds.first
        var pending = Array(0..<region.actors)
        while true {
            pending.removeAll { actor in
                actor == deafActor || region.recordEpoch(actor, epoch: epoch).load(ordering: .acquiring) == epoch
                    || region.status(actor, ProcessRegion.Status.exited).load(ordering: .acquiring) == 1
            }
            // A stop requested meanwhile shortens the wait too.
            let limit = StopRequest.isRequested ? Self.stoppingEdgeWaitNanoseconds : Self.edgeWaitNanoseconds
            let now = MonotonicClock.nanoseconds()
            if pending.isEmpty || now - started > limit || deadline.map({ now >= $0 }) == true { break }
            var interval = timespec(tv_sec: 0, tv_nsec: pause)
            nanosleep(&interval, nil)
            pause = min(pause * 2, Self.edgePollNanoseconds.most)
        }
        var answered = [Bool](repeating: false, count: region.actors)
        for actor in 0..<region.actors where region.recordEpoch(actor, epoch: epoch).load(ordering: .acquiring) == epoch {
            let record = region.record(actor, epoch: epoch)
            var usage = SelfUsage()
            usage.userMicroseconds = Int64(record[R.userMicroseconds])
            usage.systemMicroseconds = Int64(record[R.systemMicroseconds])
            usage.voluntarySwitches = Int64(record[R.voluntary])
            usage.involuntarySwitches = Int64(record[R.involuntary])
            usage.maxRSSKiB = Int64(record[R.maxRSSKiB])
            lastUsage[actor] = usage
            answered[actor] = true
        }
        var finished = edge
        finished.usage = ProcessUsage(summing: lastUsage)
        finished.usageAnswered = answered
        return finished
    }

    /// The anonymous memory of the host and every actor process, each page counted
    /// once (smaps_rollup's Pss_Anon: a page that k processes still share copy-on-write
    /// counts 1/k in each). File pages (csgb and its libraries, resident for this
    /// process anyway) and the shared region (already in this process's figure) are
    /// left out: they do not grow with the actors.
    func residentBytesElsewhere(_ context: RunContext) throws(SystemError) -> Int? {
        guard let region else { return nil }
        var pids = [host]
        for actor in 0..<region.actors {
            pids.append(pid_t(region.status(actor, ProcessRegion.Status.pid).load(ordering: .acquiring)))
        }
        var bytes = 0
        for pid in pids {
            let rollup = try ProcFile.read("/proc/\(pid)/smaps_rollup")
            guard let anonymous = ProcFile.sizeFields(rollup)["Pss_Anon"] else {
                throw SystemError("no Pss_Anon in /proc/\(pid)/smaps_rollup (Linux 5.9 or later has it)", .invalidArgument)
            }
            bytes += Int(anonymous)
        }
        return bytes
    }

    func passes(_ actor: Int, _ context: RunContext) -> UInt64 {
        region?.slotValue(actor, ProcessRegion.Slot.iterations) ?? 0
    }

    func stopCause(_ context: RunContext) -> String? {
        death.withLock { $0 }
    }

    func finishedThreads(_ context: RunContext) -> Int {
        guard let region else { return 0 }
        if hostGone { return startedThreads }
        return (0..<region.actors).filter { region.status($0, ProcessRegion.Status.exited).load(ordering: .acquiring) == 1 }.count
    }

    /// The host is gone once the watcher saw its pipe close; its children then die
    /// of their parent-death signal.
    private var hostGone: Bool {
        guard host > 0 else { return true }
        if hostReaped { return true }
        if (try? ChildProcess.wait(host, noHang: true)) != nil {
            hostReaped = true
            return true
        }
        return false
    }

    func interrupt(_ context: RunContext) {
        guard let region else { return }
        let now = MonotonicClock.nanoseconds()
        if !stopping.exchange(true, ordering: .acquiringAndReleasing) {
            interruptStarted = now
            region.state.store(epoch | ProcessRegion.stopBit, ordering: .sequentiallyConsistent)
            region.gate.post(1, waking: Int32.max)
            feed?.shutdown()
            context.resources.interruptBlockedActors()
            for word in 0..<region.futexWords { region.futex(word).poisonAndWakeAll() }
            return
        }
        guard now - interruptStarted > ProcessMode.graceNanoseconds else { return }
        for actor in 0..<region.actors where region.status(actor, ProcessRegion.Status.exited).load(ordering: .acquiring) == 0 {
            let pid = region.status(actor, ProcessRegion.Status.pid).load(ordering: .acquiring)
            if pid > 0 { ChildProcess.send(SIGKILL, to: pid_t(pid)) }
        }
    }

    /// The host does not reap the actors (stopped with SIGSTOP, or wedged): it and
    /// every actor are killed, the host reaped (its actors then go to init, which
    /// reaps them), and the run says it lost them.
    func abandon(_ context: RunContext, stalledSeconds: Double) -> Bool {
        guard let region, host > 0, !hostReaped else { return false }
        // Thousands of actors on a busy CPU may take a while to end: only a host the
        // kernel shows stopped, or a stop stalled for seconds, is given up on.
        let state = (try? ProcFile.read("/proc/\(host)/stat")).flatMap { stat in
            stat.lastIndex(of: ")").map { stat[stat.index($0, offsetBy: 2)] }
        }
        guard state == "T" || state == "t" || stalledSeconds > Self.stalledStopSeconds else { return false }
        for actor in 0..<region.actors {
            let pid = region.status(actor, ProcessRegion.Status.pid).load(ordering: .acquiring)
            if pid > 0 { ChildProcess.send(SIGKILL, to: pid_t(pid)) }
        }
        ChildProcess.send(SIGKILL, to: host)
        _ = try? ChildProcess.wait(host)
        hostReaped = true
        let how = state == "T" || state == "t" ? "was stopped (SIGSTOP) and" : "did not answer the stop for \(Fmt.fixed(stalledSeconds, 1)) s:"
        let message = "the actor host (pid \(host)) \(how) reaped no actor: it and its actors were killed"
        death.withLock { if $0 == nil { $0 = message } }
        return true
    }

    /// How long a stop may make no progress before a running host is given up on.
    static let stalledStopSeconds = 10.0

    func join() {
        if host > 0 && !hostReaped {
            // Every actor has exited or been killed by now: the host follows at once.
            var waited = 0
            while !hostGone && waited < 200 {
                var pause = timespec(tv_sec: 0, tv_nsec: 5_000_000)
                nanosleep(&pause, nil)
                waited += 1
            }
            if !hostGone {
                ChildProcess.send(SIGKILL, to: host)
                _ = try? ChildProcess.wait(host)
                hostReaped = true
            }
        }
        watcher?.join()
        watcher = nil
        feed?.shutdown()
        feeder?.join()
        feeder = nil
        feed?.close()
        feed = nil
        notifyRead?.close()
        notifyRead = nil
        memory?.release()
        memory = nil
        region = nil
    }

    func osThreads(_ context: RunContext) -> Int { expected }

    /// The csgb to re-execute: this one, unless this process is not csgb (a test
    /// binary linking the library), then CSGB_EXECUTABLE or a `csgb` beside it.
    static func executable() throws(CSGBError) -> String {
        if let path = getenv("CSGB_EXECUTABLE").map({ String(cString: $0) }), access(path, X_OK) == 0 { return path }
        var buffer = [CChar](repeating: 0, count: 4097)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        if length > 0 {
            let path = String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if path.hasSuffix("/csgb") { return path }
            var directory = Substring(path)
            while let slash = directory.lastIndex(of: "/") {
                directory = directory[..<slash]
                let candidate = "\(directory)/csgb"
                if access(candidate, X_OK) == 0 { return candidate }
            }
        }
        throw .unavailable("--mode process re-executes csgb as its actor host, and no csgb executable was found beside \(length > 0 ? "this program" : "/proc/self/exe"); set CSGB_EXECUTABLE")
    }
}

extension ProcessRegion {
    var gateIsOpen: Bool { gate.load() != 0 }
}

extension ProcessMode: ModeTraits {
    static let summary = "one process per actor, blocking syscalls: every switch changes address space"
    static let colour = "#8c564b"
    static let actorKind = "process"
    static let kernelSwitching = true

    static func refusal(_ operation: Operation) -> String? { nil }

    static func ringLinkRefusal(_ configuration: RunConfiguration) -> String? {
        "--mode process gives each actor its own ring, and a link joins two entries of one ring"
    }

    /// A poller is shared only within one process, so each actor process has its
    /// own; more of them than CPUs spin against each other and the actors.
    static func pollerRefusal(actors: Int, _ configuration: RunConfiguration) -> String? {
        let cpus = configuration.placement.cpus?.cpus.count ?? (try? CPUList.allowed().cpus.count) ?? 1
        guard actors > cpus else { return nil }
        return "--sqpoll in --mode process gives each of the \(actors) actor processes an SQ poller thread of its own (rings share a poller only within a process), each spinning a CPU, and this run has \(cpus) CPU\(cpus == 1 ? "" : "s"); lower N to at most \(cpus) actors, or use --mode thread, green or async, whose rings share one poller"
    }

    /// A process per actor and the actor host; each actor's ring lives in its own
    /// process, so the coordinator opens none.
    static func needs(actors: Int, _ configuration: RunConfiguration) -> RunNeeds {
        RunNeeds(threads: actors + 1)
    }

    static func refusal(_ option: ModeOption, _ configuration: RunConfiguration) -> String? {
        switch option {
        case .workers: return "applies to modes with workers; --mode process runs one process per actor"
        case .stackSize: return hasNoStacks(configuration)
        case .executor: return runsNoTasks(configuration)
        case .latency: return "is not available with --mode process: each actor's histogram would live in its own process"
        }
    }

    static func blocksInKernel(_ configuration: RunConfiguration) -> Bool { true }

    static func workers(_ configuration: RunConfiguration) -> Int? { nil }

    static var carrier: String { "process" }
    static var switchesAddressSpace: Bool { true }
    static var actorsInThisProcess: Bool { false }

    /// Thread mode's claims: the same scripts and syscalls, blocking the same way;
    /// only the address space changes at each switch.
    static func claims(_ operations: OperationCounts, _ configuration: RunConfiguration) -> Claims {
        var claims = ThreadMode.claims(operations, configuration)
        claims.reasons.append("one process per actor: every switch between actors changes address space")
        return claims
    }
}
