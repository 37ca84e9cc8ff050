#if canImport(Glibc)
import Glibc
#endif
import CSGBSystem

/// One kernel thread per actor with blocking syscalls: the kernel scheduler does
/// all the switching, so `wakePeer`/`waitPeer` are nothing here (the blocking read
/// is the wait).
final class ThreadMode: ModeRunner {
    private var threads: [OSThread] = []
    private var expected = 0
    /// With `--io uring`: each actor's own ring, made before any thread starts so
    /// that a ring the machine refuses stops the run before it begins.
    private var rings: [ThreadRing?] = []

    var threadCount: Int { expected }
    var startedThreads: Int { threads.count }

    func prepare(_ context: RunContext) throws {
        expected = context.actors.count
        try context.configuration.checkNeeds(Self.needs(actors: expected, context.configuration))
        let configuration = context.configuration
        guard configuration.io == .uring else { return }
        // Each ring is a descriptor of its own, on top of the channels' (which are open by now).
        try ResourceLimits.ensureOpenFiles(ResourceLimits.openDescriptorCount()
            + context.actors.filter { $0.channel != nil }.count)
        let pollerCPU = configuration.ring.pollerCPU(configuration, threads: expected)
        rings = try context.actors.map { actor throws(CSGBError) in
            try actor.channel.map { channel throws(CSGBError) in
                try ThreadRing(channel: channel, settings: configuration.ring, calls: configuration.syscalls,
                               pollerCPU: pollerCPU, registry: context.rings)
            }
        }
    }

    func start(_ context: RunContext) throws {
        threads.reserveCapacity(context.actors.count)
        for index in context.actors.indices {
            let ring = rings.isEmpty ? nil : rings[index]
            let thread = try OSThread(name: "csgb-actor-\(index)") {
                context.enterThread(index: index, label: "actor \(index)")
                var adopted = true
                do {
                    try ring?.adopt()
                } catch {
                    context.recordFailure("actor \(index): \(error)")
                    adopted = false
                }
                context.gate.arriveAndWait()
                if adopted { ThreadMode.run(actor: index, context: context, ring: ring) }
                ring?.finish()
                context.threadFinished()
            }
            threads.append(thread)
        }
    }

    func interrupt(_ context: RunContext) {
        context.resources.interruptBlockedActors()
    }

    func join() {
        for thread in threads { thread.join() }
        threads.removeAll()
        for ring in rings { ring?.release() }
        rings.removeAll()
    }

    /// One actor on its own kernel thread until the stop.
    static func run(actor index: Int, context: RunContext, ring: ThreadRing?) {
        let plan = context.actors[index]
        var passes = ThreadPasses(recorder: PassRecorder(actor: index, context: context), context: context)
        BlockingInterpreter.run(plan.script, input: plan.channel?.input, output: plan.channel?.output, futex: plan.futex,
                                buffer: context.buffers[index], ring: ring, calls: context.configuration.syscalls,
                                passes: &passes, phases: context.phaseProbe(actor: index, worker: nil))
    }
}

/// A thread's passes: counted by its `PassRecorder` into the run's slots, ended by
/// the run's stop flag.
struct ThreadPasses: BlockingPasses {
    var recorder: PassRecorder
    let context: RunContext

    @inline(__always)
    mutating func beginPass() -> Bool {
        if context.shouldStop { return false }
        recorder.beginPass()
        return true
    }

    @inline(__always)
    mutating func endPass() { recorder.endPass() }

    var stopping: Bool { context.shouldStop }

    func transferFailed() { recorder.transferFailed(stopping: context.shouldStop) }
}

extension ThreadMode: ModeTraits {
    static let summary = "kernel threads, blocking syscalls"
    static let colour = "#d62728"
    static let actorKind = "kernel thread"
    static let kernelSwitching = true

    static func refusal(_ operation: Operation) -> String? { nil }

    /// A thread per actor; with `--io uring` a ring (a descriptor) per actor too.
    static func needs(actors: Int, _ configuration: RunConfiguration) -> RunNeeds {
        RunNeeds(threads: actors, descriptors: configuration.io == .uring ? actors : 0)
    }

    static func refusal(_ option: ModeOption, _ configuration: RunConfiguration) -> String? {
        switch option {
        case .workers: return "applies to modes with workers; --mode \(configuration.mode.rawValue) runs one kernel thread per actor"
        case .stackSize: return hasNoStacks(configuration)
        case .executor: return runsNoTasks(configuration)
        case .latency: return nil
        }
    }

    static func blocksInKernel(_ configuration: RunConfiguration) -> Bool { true }

    /// One kernel thread per actor: no workers.
    static func workers(_ configuration: RunConfiguration) -> Int? { nil }

    static func ringLinkRefusal(_ configuration: RunConfiguration) -> String? {
        "--mode thread gives each actor its own ring, and a link joins two entries of one ring"
    }

    static func claims(_ operations: OperationCounts, _ configuration: RunConfiguration) -> Claims {
        var claims = Claims()
        claims.transfers(operations, configuration, enterPerTransfer: true)
        if operations[.yield] > 0 {
            claims.exactSyscalls["sched_yield"] = operations[.yield]
            claims.reasons.append("one sched_yield per yield")
        }
        let usesFutex = operations[.futexPost(0)] + operations[.futexAwait(0)] > 0
        claims.absentSyscalls += reactorSyscalls + (usesFutex ? [] : ["futex"])
        claims.reasons.append(usesFutex ? "no epoll" : "no epoll, no futex")
        // Reads and futex waits wait for the peer: on one CPU each one blocks and
        // switches once, and a wake-up preemption now and then adds a fraction.
        let waits = operations[.read] + operations[.futexAwait(0)]
        if waits > 0, configuration.placement.cpus?.cpus.count == 1 {
            claims.switches = .between(waits, waits + 1)
            claims.reasons.append("kernel threads on one CPU: \(Fmt.trimmed(waits)) to \(Fmt.trimmed(waits + 1)) switches")
        } else {
            claims.reasons.append("switches only reported")
        }
        return claims
    }
}
