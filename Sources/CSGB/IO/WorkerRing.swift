import CSGBSystem

/// One io_uring per worker OS thread, shared by the green threads or tasks on it:
/// an actor prepares its entry and parks; when nothing on the worker can run, the
/// worker submits every prepared entry and waits for completions in one
/// io_uring_enter, then wakes the owners. With many pairs one enter serves many
/// round trips. Touched by its worker thread only, which adopts it first.
///
/// Linking (`--ring-link`): a write the script follows with waking the peer is
/// prepared and not waited for ("detached"); the peer then runs and prepares its
/// read, which is linked to the write if the write is still the last entry not
/// submitted (IOSQE_IO_LINK: the kernel starts the read only after the write
/// completed, and cancels it if the write failed). Both go to the kernel in one
/// enter, which waits for both completions. The writer learns its write's result
/// before its next transfer.
final class WorkerRing: @unchecked Sendable {
    let ring: URing
    private let fixedFiles: Bool
    private let calls: TransferCalls
    /// Per actor (plan index): its byte in flight, the result of its last entry, its
    /// detached-write state, its peer, and its registered indices.
    private let bytes: UnsafeMutablePointer<UInt8>
    private let results: UnsafeMutablePointer<Int32>
    private let detached: UnsafeMutablePointer<Detached>
    private let peers: [Int]
    private var fixedIndex: [Int: (input: Int32, output: Int32)] = [:]
    /// Entries prepared or submitted whose completion has not been reaped.
    private(set) var inFlight = 0
    /// The actor whose detached write is the last entry prepared, -1 if none.
    private var openLink = -1
    /// A link was formed among the entries not yet submitted.
    private var linkedInBatch = false

    enum Detached: UInt8 {
        /// No detached write: completions wake the owner.
        case none
        /// A detached write in flight: its completion wakes nobody.
        case inFlight
        /// It completed; its result waits in `results`.
        case completed
    }

    /// How long a worker with entries in flight waits in one enter before it looks
    /// at the stop flag again. Completions here arrive within microseconds.
    static let waitNanoseconds: Int64 = 5_000_000

    init(actors: [Int], plan: [ActorPlan], settings: RingSettings, calls: TransferCalls, pollerCPU: Int32?,
         registry: RingRegistry) throws(CSGBError) {
        ring = try settings.makeRing(forActors: actors.count, pollerCPU: pollerCPU, registry: registry)
        fixedFiles = settings.fixedFiles
        self.calls = calls
        bytes = .allocate(capacity: plan.count)
        bytes.initialize(repeating: 0, count: plan.count)
        results = .allocate(capacity: plan.count)
        results.initialize(repeating: 0, count: plan.count)
        detached = .allocate(capacity: plan.count)
        detached.initialize(repeating: .none, count: plan.count)
        peers = plan.map { $0.peer ?? -1 }
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
                           calls: configuration.syscalls, pollerCPU: pollerCPU, registry: context.rings)
        }
    }

    /// On the worker thread, before any entry: the ring becomes the worker's.
    func adopt() throws(SystemError) { try ring.adopt() }

    /// On the worker thread after its actors stopped: waits (briefly) for entries
    /// still in flight, whose buffers must outlive them, then drops the worker's
    /// ring-fd registration. Entries that never complete are cancelled when the
    /// ring is destroyed.
    func finish() {
        var attempts = 0
        while inFlight > 0 && attempts < 20 {
            _ = complete { _ in }
            attempts += 1
        }
        ring.release()
    }

    deinit {
        // An entry still in flight may write its byte until the ring is torn down
        // (after this body): its buffers are left to the process rather than freed
        // under the kernel. Only a stop with an entry that never completed does this.
        guard inFlight == 0 else { return }
        bytes.deallocate()
        results.deallocate()
        detached.deallocate()
    }

    /// Prepares the actor's read or write of its byte. A read whose peer's detached
    /// write is the last entry prepared is linked to it. `detach`: the write's
    /// completion wakes nobody; the actor goes on and collects the result with
    /// `detachedOutcome` before its next transfer. Otherwise the caller parks until
    /// `complete` wakes it and reads `outcome`.
    @inline(__always)
    func prepare(actor: Int, _ direction: TransferDirection, _ descriptor: FileDescriptor, byte: UInt8,
                 detach: Bool = false) -> Bool {
        bytes[actor] = byte
        let fixed = fixedFiles ? fixedIndex[actor] : nil
        let target = fixed.map { direction == .write ? $0.output : $0.input } ?? descriptor.rawValue
        if direction == .read && openLink >= 0 && openLink == peers[actor] && ring.linkLast(userData: UInt64(openLink)) {
            linkedInBatch = true
        }
        guard ring.prepare(direction, calls, target: target, fixed: fixed != nil, buffer: bytes + actor,
                           userData: UInt64(actor)) else {
            openLink = -1
            return false
        }
        openLink = detach ? actor : -1
        if detach { detached[actor] = .inFlight }
        inFlight += 1
        return true
    }

    /// The completed transfer of `actor`: done, or closed (a short transfer, a CQE
    /// error, or an entry cancelled because the one linked before it failed, ends
    /// the actor's run; it is never retried silently).
    @inline(__always)
    func outcome(actor: Int, byte: inout UInt8) -> TransferResult {
        byte = bytes[actor]
        return results[actor] == 1 ? .done : .closed
    }

    /// The result of the actor's detached write, or nil while it is in flight: its
    /// completion will then wake the actor, which parks and reads `outcome`.
    @inline(__always)
    func detachedOutcome(actor: Int) -> TransferResult? {
        switch detached[actor] {
        case .completed:
            detached[actor] = .none
            return results[actor] == 1 ? .done : .closed
        case .inFlight:
            detached[actor] = .none
            return nil
        case .none:
            return .done
        }
    }

    /// Submits what was prepared and waits (at most `waitNanoseconds`) for at least
    /// one completion, two when a write→read chain went in (the read completes only
    /// after the write, in the same enter); `wake` is called with each completed
    /// actor that waits. Returns false when the ring failed.
    @inline(__always)
    func complete(_ wake: (Int) -> Void) -> Bool {
        let wait = linkedInBatch && inFlight >= 2 ? 2 : 1
        openLink = -1
        linkedInBatch = false
        guard (try? ring.submitAndWait(wait, timeoutNanoseconds: WorkerRing.waitNanoseconds)) != nil else { return false }
        ring.reap { data, result in
            let actor = Int(data)
            results[actor] = result
            inFlight -= 1
            if detached[actor] == .inFlight {
                detached[actor] = .completed
            } else {
                wake(actor)
            }
        }
        return true
    }
}

/// Where a script lets a write go to the ring without waiting for it: a write the
/// script follows at once with waking the peer, whose read it makes possible.
enum LinkedTransfers {
    /// Per position of `script`: whether its write is detached (always false
    /// without `linking`).
    static func detachedWrites(_ script: [Operation], linking: Bool) -> [Bool] {
        script.indices.map { position in
            linking && script[position] == .write && script[(position + 1) % script.count] == .wakePeer
        }
    }

    /// Detached writes per iteration over every actor of a plan: each shares an
    /// enter with the peer's read when the two are linked.
    static func perIteration(_ actors: [ActorPlan]) -> Double {
        let writes = actors.reduce(0) { $0 + linkable($1.script) }
        return Double(writes) / Double(max(actors.filter(\.countsIterations).count, 1))
    }

    /// The writes of `script` that would be detached with linking on.
    static func linkable(_ script: [Operation]) -> Int { detachedWrites(script, linking: true).filter { $0 }.count }
}
