import CSGBSystem

/// One io_uring per worker OS thread, shared by the green threads or tasks on it:
/// an actor prepares its entry and parks; when nothing on the worker can run, the
/// worker submits every prepared entry and waits for completions in one
/// io_uring_enter, then wakes the owners. With many pairs one enter serves many
/// round trips. Touched by its worker thread only.
final class WorkerRing: @unchecked Sendable {
    let ring: URing
    private let fixedFiles: Bool
    /// Per actor (plan index): its byte in flight, the result of its last entry, and
    /// its registered indices.
    private let bytes: UnsafeMutablePointer<UInt8>
    private let results: UnsafeMutablePointer<Int32>
    private var fixedIndex: [Int: (input: Int32, output: Int32)] = [:]
    /// Entries prepared or submitted whose completion has not been reaped.
    private(set) var inFlight = 0

    /// How long a worker with entries in flight waits in one enter before it looks
    /// at the stop flag again. Completions here arrive within microseconds.
    static let waitNanoseconds: Int64 = 5_000_000

    init(actors: [Int], plan: [ActorPlan], settings: RingSettings, pollerCPU: Int32?, registry: RingRegistry) throws(CSGBError) {
        ring = try settings.makeRing(forActors: actors.count, pollerCPU: pollerCPU, registry: registry)
        fixedFiles = settings.fixedFiles
        bytes = .allocate(capacity: plan.count)
        bytes.initialize(repeating: 0, count: plan.count)
        results = .allocate(capacity: plan.count)
        results.initialize(repeating: 0, count: plan.count)
        if fixedFiles {
            var files: [FileDescriptor] = []
            func index(_ fd: FileDescriptor) -> Int32 {
                if let i = files.firstIndex(of: fd) { return Int32(i) }
                files.append(fd)
                return Int32(files.count - 1)
            }
            for actor in actors {
                guard let channel = plan[actor].channel else { continue }
                fixedIndex[actor] = (index(channel.input), index(channel.output))
            }
            if !files.isEmpty {
                do { try ring.register(files) } catch { throw .system(error) }
            }
        }
    }

    /// One ring per worker of the run, over the actors the worker carries: made on
    /// the coordinator before any thread starts, so a refused ring stops the run
    /// before it begins.
    static func forWorkers(_ context: RunContext) throws(CSGBError) -> [WorkerRing] {
        let configuration = context.configuration
        let plan = WorkerAssignment(actors: context.actors, workers: configuration.workers)
        let pollerCPU = configuration.ring.pollerCPU(configuration, threads: configuration.workers)
        return try (0..<configuration.workers).map { worker throws(CSGBError) in
            try WorkerRing(actors: plan.actors(ofWorker: worker), plan: context.actors, settings: configuration.ring,
                           pollerCPU: pollerCPU, registry: context.rings)
        }
    }

    /// After the worker stopped: waits (briefly) for entries still in flight, whose
    /// buffers must outlive them. Entries that never complete are cancelled when the
    /// ring is destroyed.
    func drain() {
        var attempts = 0
        while inFlight > 0 && attempts < 20 {
            _ = complete { _ in }
            attempts += 1
        }
    }

    deinit {
        // An entry still in flight may write its byte until the ring is torn down
        // (after this body): its buffers are left to the process rather than freed
        // under the kernel. Only a stop with an entry that never completed does this.
        guard inFlight == 0 else { return }
        bytes.deallocate()
        results.deallocate()
    }

    /// Prepares the actor's read or write of its byte; the caller then parks until
    /// `complete` hands it the result.
    @inline(__always)
    func prepare(actor: Int, _ direction: TransferDirection, _ descriptor: FileDescriptor, byte: UInt8) -> Bool {
        bytes[actor] = byte
        let fixed = fixedFiles ? fixedIndex[actor] : nil
        let target = fixed.map { direction == .write ? $0.output : $0.input } ?? descriptor.rawValue
        guard ring.prepare(direction, target: target, fixed: fixed != nil, buffer: bytes + actor,
                           userData: UInt64(actor)) else { return false }
        inFlight += 1
        return true
    }

    /// The completed transfer of `actor`: done, or closed (a short transfer or a
    /// CQE error ends the actor's run; it is never retried silently).
    @inline(__always)
    func outcome(actor: Int, byte: inout UInt8) -> TransferResult {
        byte = bytes[actor]
        return results[actor] == 1 ? .done : .closed
    }

    /// Submits what was prepared and waits (at most `waitNanoseconds`) for at least
    /// one completion; `wake` is called with each completed actor. Returns false
    /// when the ring failed.
    @inline(__always)
    func complete(_ wake: (Int) -> Void) -> Bool {
        guard (try? ring.submitAndWait(1, timeoutNanoseconds: WorkerRing.waitNanoseconds)) != nil else { return false }
        ring.reap { data, result in
            let actor = Int(data)
            results[actor] = result
            inFlight -= 1
            wake(actor)
        }
        return true
    }
}
