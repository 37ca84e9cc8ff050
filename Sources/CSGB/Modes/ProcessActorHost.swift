#if canImport(Glibc)
import Glibc
#endif
import Atomics
import CSGBSystem

/// The other side of `--mode process`: csgb re-executed as a hidden command. It
/// starts with one thread (a fresh exec), checks that it still has only one, and
/// forks one process per actor: a fork of a single-threaded process may run any
/// code, Swift's runtime included. It then waits for its children and records how
/// each one ended in the shared region, telling the coordinator through a pipe.
public enum ProcessActorHost {
    /// The hidden command: `csgb __process-actors REGION-FD NOTIFY-FD FEED-FD`.
    public static let command = "__process-actors"

    /// Runs the host and exits; never returns.
    public static func main(_ arguments: [String]) -> Never {
        guard arguments.count == 4, let regionFD = Int32(arguments[1]), let notifyFD = Int32(arguments[2]),
              let feedFD = Int32(arguments[3]) else {
            writeError("csgb: \(command) is csgb's own actor host for --mode process, not a command to run\n")
            _exit(64)
        }
        do {
            try ChildProcess.ignoreStopSignals()
        } catch {
            writeError("csgb actor host: \(error)\n")
            _exit(71)
        }
        let notify = FileDescriptor(rawValue: notifyFD)
        let feed = DescriptorChannel(FileDescriptor(rawValue: feedFD))
        guard let memory = try? SharedMemory(mapping: FileDescriptor(rawValue: regionFD)),
              let region = ProcessRegion(mapped: memory.base, length: memory.length) else {
            writeError("csgb actor host: descriptor \(regionFD) is not a csgb process region\n")
            _exit(64)
        }
        func fail(_ message: String) -> Never {
            region.hostMessage.write(message)
            region.hostState.store(2, ordering: .sequentiallyConsistent)
            for actor in 0..<region.actors {
                let pid = region.status(actor, ProcessRegion.Status.pid).load(ordering: .relaxed)
                if pid > 0 { ChildProcess.send(SIGKILL, to: pid_t(pid)) }
            }
            _exit(71)
        }
        // A fault for the test of the guard below: a thread started before the forks.
        if getenv("CSGB_INJECT_HOST_THREAD") != nil {
            _ = try? OSThread(name: "csgb-injected") { while true { pause() } }
        }
        let threads = ChildProcess.threadCount()
        if threads != 1 {
            fail("the actor host runs \(threads) threads before forking; a fork would copy locks held by the others")
        }
        // Each actor's descriptors arrive just before its fork, and the host closes
        // its copies right after: the table every fork copies stays a few entries
        // long, so forking N actors costs N times one small fork. A stop (the stop
        // bit, or the coordinator shutting the feed) ends the forking at once; the
        // actors already forked see the stop at the gate and leave on their own.
        // A fault for the test of the pid's order: the host records the pids only
        // once the gate is open, after the coordinator has read them, as a busy CPU
        // may delay a parent behind its children.
        let latePIDs = getenv("CSGB_INJECT_LATE_PID") != nil
        var late: [(actor: Int, pid: pid_t)] = []
        var forked = 0
        var actorOf: [pid_t: Int] = [:]
        actorOf.reserveCapacity(region.actors)
        for actor in 0..<region.actors {
            if region.state.load(ordering: .acquiring) & ProcessRegion.stopBit != 0 { break }
            let received: (tag: UInt32, descriptors: [FileDescriptor])?
            do {
                received = try feed.receive()
            } catch {
                fail("could not receive actor \(actor)'s descriptors: \(error)")
            }
            guard let received, region.state.load(ordering: .acquiring) & ProcessRegion.stopBit == 0 else {
                for descriptor in received?.descriptors ?? [] { descriptor.close() }
                break
            }
            if received.tag != UInt32(actor) { fail("the coordinator sent actor \(received.tag)'s descriptors for actor \(actor)") }
            let pid: pid_t
            do {
                pid = try ChildProcess.fork()
            } catch {
                fail("could not fork actor \(actor): \(error); raise the process limits (ulimit -u, kernel.pid_max, the cgroup's pids.max) or lower N")
            }
            if pid == 0 {
                notify.close()
                feed.close()
                ProcessActor(region: region, index: actor, descriptors: received.descriptors).run()
            }
            for descriptor in received.descriptors { descriptor.close() }
            if latePIDs { late.append((actor, pid)) } else {
                region.status(actor, ProcessRegion.Status.pid).store(UInt64(pid), ordering: .releasing)
            }
            actorOf[pid] = actor
            forked += 1
        }
        feed.close()
        if latePIDs {
            while region.gate.load() == 0 && region.state.load(ordering: .acquiring) & ProcessRegion.stopBit == 0 { sched_yield() }
            for (actor, pid) in late { region.status(actor, ProcessRegion.Status.pid).store(UInt64(pid), ordering: .releasing) }
        }
        region.hostState.store(forked == region.actors ? 1 : 3, ordering: .sequentiallyConsistent)
        var remaining = forked
        while remaining > 0 {
            guard let (pid, exit) = (try? ChildProcess.wait()) ?? nil else { break }
            guard let actor = actorOf[pid] else { continue }
            switch exit {
            case .exited(let code):
                region.status(actor, ProcessRegion.Status.exitCode).store(UInt64(code), ordering: .relaxed)
            case .signalled(let signal):
                region.status(actor, ProcessRegion.Status.exitSignal).store(UInt64(signal), ordering: .relaxed)
            }
            region.status(actor, ProcessRegion.Status.exited).store(1, ordering: .sequentiallyConsistent)
            var byte = UInt8(truncatingIfNeeded: actor)
            _ = notify.writeByte(&byte)
            remaining -= 1
        }
        _exit(0)
    }

    static func writeError(_ text: String) {
        var text = text
        text.withUTF8 { bytes in _ = Glibc.write(2, bytes.baseAddress, bytes.count) }
    }
}

/// One actor in its own process: the thread-mode interpreter over shared memory.
/// Set-up failures are written to its status and it still arrives at the gate, so
/// the coordinator reports them before the window opens.
struct ProcessActor {
    let region: ProcessRegion
    let index: Int
    /// Its channel ends as the host received them, input first (one when a socket
    /// carries both directions).
    let descriptors: [FileDescriptor]

    func run() -> Never {
        let header = region.header
        let plan = region.readPlan(index)
        var failure: String?
        let cpus = (0..<Int(header[ProcessRegion.Header.cpuCount])).map { region.cpus[$0] }
        if !cpus.isEmpty {
            let pinning: Pinning = header[ProcessRegion.Header.pinning] == 1 ? .each : .set
            do {
                try Placement(cpus: CPUList(cpus: cpus), pinning: pinning).pinCurrentThread(index: index)
            } catch {
                failure = "actor \(index): \(error)"
            }
        }
        ChildProcess.setName("csgb-actor-\(index)")
        let settings = ActorThreadSettings(sched: header[ProcessRegion.Header.schedPolicy],
                                           speculationMask: header[ProcessRegion.Header.speculation])
        if failure == nil, !settings.isEmpty {
            do {
                region.writeReadback(index, try settings.apply())
            } catch {
                failure = "actor \(index): \(error)"
            }
        }
        let calls: TransferCalls = header[ProcessRegion.Header.syscalls] == 1 ? .sendRecv : .readWrite
        // The plan's numbers are the coordinator's; this process has its own.
        let input = plan.input >= 0 ? descriptors.first : nil
        let output = plan.output < 0 ? nil : plan.output == plan.input ? input : descriptors.last
        var ring: ThreadRing?
        if failure == nil, header[ProcessRegion.Header.io] == 1, let input, let output {
            var settings = RingSettings()
            let entries = Int(header[ProcessRegion.Header.ringEntries])
            settings.entries = entries > 0 ? entries : nil
            settings.sqpoll = header[ProcessRegion.Header.sqpoll] == 1
            settings.fixedFiles = header[ProcessRegion.Header.fixedFiles] == 1
            settings.setup = RingSetup(rawValue: UInt32(truncatingIfNeeded: header[ProcessRegion.Header.ringSetup]))
            let poller = header[ProcessRegion.Header.pollerCPU]
            do {
                ring = try ThreadRing(channel: ChannelEnd(input: input, output: output), settings: settings, calls: calls,
                                      pollerCPU: poller > 0 ? Int32(poller - 1) : nil, registry: RingRegistry())
                // This process is the ring's one submitter.
                try ring?.adopt()
            } catch {
                failure = "actor \(index): \(error)"
            }
        }
        var buffer = TouchBuffer.none
        var buffers: TouchBuffers?
        let workSize = Int(header[ProcessRegion.Header.workSize])
        if failure == nil, workSize > 0 {
            let numa = NUMAPolicy.allCases[Int(header[ProcessRegion.Header.numa]) % NUMAPolicy.allCases.count]
            do {
                let access = AccessPattern.allCases[Int(header[ProcessRegion.Header.access]) % AccessPattern.allCases.count]
                buffers = try TouchBuffers(actors: 1, size: workSize, stride: Int(header[ProcessRegion.Header.stride]),
                                           access: access, evictsBeforePass: header[ProcessRegion.Header.coldWork] == 1,
                                           numa: numa)
                buffer = buffers![0]
            } catch {
                failure = "actor \(index): work buffer: \(error)"
            }
        }
        if let failure { region.message(index).write(failure) }
        let script: [Operation] = (0..<Int(plan.operationCount)).compactMap { i in
            let op = region.operation(Int(plan.firstOperation) + i)
            return Operation(processCode: op[0], value: op[1])
        }
        let futex = plan.futex >= 0 ? region.futex(Int(plan.futex)) : nil

        // Its own pid first: the host stores it too once fork returns there, but on a
        // busy CPU the child may arrive before that, and the coordinator reads every
        // actor's pid as soon as all have arrived.
        region.status(index, ProcessRegion.Status.pid).store(UInt64(getpid()), ordering: .releasing)
        region.status(index, ProcessRegion.Status.arrived).store(1, ordering: .relaxed)
        region.arrivals.wrappingIncrement(ordering: .releasing)
        let gate = region.gate
        while gate.load() == 0 { gate.wait(whileEqualTo: 0) }
        if failure == nil {
            interpret(script, input: input, output: output, futex: futex, buffer: buffer, ring: ring, calls: calls)
        }
        withExtendedLifetime(buffers) {}
        _exit(0)
    }

    /// The blocking interpreter until the stop; between passes the actor answers
    /// each edge request with its own getrusage.
    private func interpret(_ script: [Operation], input: FileDescriptor?, output: FileDescriptor?,
                           futex: SharedFutexWord?, buffer: TouchBuffer, ring: ThreadRing?, calls: TransferCalls) {
        var passes = ProcessPasses(actor: self, ring: ring)
        let plan = region.readPlan(index)
        let phases = region.phases.map { board in
            TimedPhases(script: script, board: board, actor: index, peer: plan.peer >= 0 ? Int(plan.peer) : nil,
                        tally: index, actors: region.actors, worker: nil)
        }
        BlockingInterpreter.run(script, input: input, output: output, futex: futex, buffer: buffer, ring: ring,
                                calls: calls, passes: &passes, phases: phases)
    }

    fileprivate func recordEdge(_ epoch: UInt64) {
        let usage = SelfUsage.now()
        let record = region.record(index, epoch: epoch)
        record[ProcessRegion.Record.userMicroseconds] = UInt64(usage.userMicroseconds)
        record[ProcessRegion.Record.systemMicroseconds] = UInt64(usage.systemMicroseconds)
        record[ProcessRegion.Record.voluntary] = UInt64(usage.voluntarySwitches)
        record[ProcessRegion.Record.involuntary] = UInt64(usage.involuntarySwitches)
        record[ProcessRegion.Record.maxRSSKiB] = UInt64(usage.maxRSSKiB)
        region.recordEpoch(index, epoch: epoch).store(epoch, ordering: .releasing)
    }
}

/// An actor process's passes: published with its ring counts to its slot in shared
/// memory after each; before each, a changed state word is an edge request to answer
/// or the stop.
struct ProcessPasses: BlockingPasses {
    let actor: ProcessActor
    let ring: ThreadRing?
    let slot: ActorSlot
    let enters: UnsafeAtomic<UInt64>
    let submitted: UnsafeAtomic<UInt64>
    let state: UnsafeAtomic<UInt64>
    /// The hidden fault `--inject-deaf-actor`: this actor never answers an edge.
    let deaf: Bool
    var seen: UInt64 = 0
    var passes: UInt64 = 0

    init(actor: ProcessActor, ring: ThreadRing?) {
        let region = actor.region
        self.actor = actor
        self.ring = ring
        slot = region.slot(actor.index)
        enters = region.slotField(actor.index, ProcessRegion.Slot.ringEnters)
        submitted = region.slotField(actor.index, ProcessRegion.Slot.ringSubmitted)
        state = region.state
        deaf = region.header[ProcessRegion.Header.deafActor] == UInt64(actor.index) + 1
    }

    @inline(__always)
    mutating func beginPass() -> Bool {
        let current = state.load(ordering: .relaxed)
        if current != seen {
            if current & ProcessRegion.stopBit != 0 { return false }
            if !deaf { actor.recordEdge(current) }
            seen = current
        }
        return true
    }

    @inline(__always)
    mutating func endPass() {
        passes &+= 1
        if let ring {
            enters.store(ring.ring.enters, ordering: .relaxed)
            submitted.store(ring.ring.submitted, ordering: .relaxed)
        }
        slot.publish(iterations: passes)
    }

    var stopping: Bool { state.load(ordering: .relaxed) & ProcessRegion.stopBit != 0 }

    func transferFailed() {
        if !stopping { slot.publishFailure() }
    }
}
