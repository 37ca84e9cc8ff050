import CSGBSystem
import Synchronization

/// How reads and writes reach the kernel (`--io`): the question apart from who
/// switches (`--mode`). Every mode runs with either.
public enum IOChoice: String, CaseIterable, Sendable {
    /// read(2) and write(2).
    case direct
    /// Ring entries on an io_uring: one per actor thread in thread mode, one per
    /// worker in green and async modes.
    case uring
}

/// `--io uring` settings.
public struct RingSettings: Sendable {
    /// `--ring-entries`; nil: sized from the actors each ring serves.
    public var entries: Int?
    /// `--sqpoll`: a kernel thread polls the submission queue.
    public var sqpoll = false
    /// `--fixed-files`: descriptors registered with the ring.
    public var fixedFiles = false
    /// `--ring-setup`; nil: `RingSettings.defaultSetup`.
    public var setup: RingSetup?
    /// `--ring-link` / `--no-ring-link`; nil: link where the mode's rings can.
    public var link: Bool?
    public init() {}

    /// What rings are made with unless `--ring-setup` says otherwise. Chosen by
    /// measurement (docs/io-uring.md): single issuer with deferred task work and a
    /// registered ring fd; submit-all so one failed entry does not hold back the
    /// rest of a batch.
    public static let defaultSetup: RingSetup = [.singleIssuer, .deferTaskrun, .registerRingFD, .submitAll]

    /// The options the rings are made with: the default drops defer-taskrun under
    /// --sqpoll, where the kernel refuses it (the poller runs the completions).
    public var effectiveSetup: RingSetup {
        setup ?? (sqpoll ? RingSettings.defaultSetup.subtracting(.deferTaskrun) : RingSettings.defaultSetup)
    }

    /// Why `setup` cannot be asked for, or nil.
    public func setupRefusal() -> String? {
        let setup = effectiveSetup
        if setup.contains(.deferTaskrun) && !setup.contains(.singleIssuer) {
            return "--ring-setup defer-taskrun needs single-issuer too: deferred completions run only in the one task that submits"
        }
        if setup.contains(.deferTaskrun) && sqpoll {
            return "--ring-setup defer-taskrun cannot be combined with --sqpoll: the kernel's poller, not the owner, runs the completions"
        }
        return nil
    }

    /// Where the SQ pollers run: with `--cpus` listing more CPUs than the run has
    /// workers, the last listed CPU, so a poller does not take a worker's CPU;
    /// otherwise wherever the coordinator may run (it creates the rings).
    func pollerCPU(_ configuration: RunConfiguration, threads: Int) -> Int32? {
        guard sqpoll, let cpus = configuration.placement.cpus?.cpus, cpus.count > threads else { return nil }
        return cpus.last
    }

    /// A ring for `actors` actors, registered with the run; a ring the kernel refuses
    /// becomes the run's error with its fix (exit 69). Under --sqpoll every ring of
    /// the run after the first shares the first one's poller thread: a poller each
    /// would mean as many kernel threads spinning as there are rings, which at a few
    /// hundred starve the actors, the window's edges and the stop.
    func makeRing(forActors actors: Int, pollerCPU: Int32?, registry: RingRegistry) throws(CSGBError) -> URing {
        if let refusal = entriesRefusal(forActors: actors) { throw .usage(refusal) }
        let ring: URing
        do {
            ring = try URing(entries: entries(forActors: actors), sqpoll: sqpoll, pollerCPU: pollerCPU,
                             sharingPollerOf: sqpoll ? registry.pollerOwner : nil, setup: effectiveSetup)
        } catch {
            throw .unavailable(error.description)
        }
        registry.add(ring)
        return ring
    }

    /// Why `--ring-entries` is too small for a ring that serves `actors` actors, nil
    /// when it is not. Every actor of a ring may have its entry prepared before the
    /// worker submits them in one enter (a linked write and the peer's read are two),
    /// so a ring with fewer entries than actors has no room for one actor's transfer:
    /// that actor's run would end mid-window, or its peer would wait for it forever.
    func entriesRefusal(forActors actors: Int) -> String? {
        guard let entries, entries < actors else { return nil }
        var needed = 1
        while needed < actors { needed <<= 1 }
        return "--ring-entries \(entries): each ring of this run serves \(actors) actors, each with one entry in flight at a time, so a pass needs \(needed) entries; give --ring-entries \(needed) or more, or leave it out (the default sizes every ring)"
    }

    /// Entries for a ring that serves `actors` actors, each with at most one
    /// operation in flight.
    func entries(forActors actors: Int) -> Int {
        if let entries { return entries }
        var size = 4
        while size < actors { size <<= 1 }
        return min(size, 32_768)
    }
}

/// Every ring of a run, so the coordinator can read their counters at the edges.
final class RingRegistry: @unchecked Sendable {
    private let rings = Mutex<[URing]>([])

    func add(_ ring: URing) { rings.withLock { $0.append(ring) } }

    /// The first ring whose poller thread is its own, which later rings share.
    var pollerOwner: URing? { rings.withLock { $0.first(where: \.ownsPoller) } }

    /// Counters summed over every ring so far.
    var totals: RingTotals {
        rings.withLock { rings in
            rings.reduce(RingTotals()) {
                RingTotals(enters: $0.enters + $1.enters, submitted: $0.submitted + $1.submitted,
                           links: $0.links + $1.links, cancelled: $0.cancelled + $1.cancelled)
            }
        }
    }
}

/// What the rings of a run did: io_uring_enter calls, SQEs submitted, write→read
/// links formed, entries cancelled because the entry they were linked to failed.
public struct RingTotals: Sendable, Equatable {
    public var enters: UInt64 = 0
    public var submitted: UInt64 = 0
    public var links: UInt64 = 0
    public var cancelled: UInt64 = 0
    public init(enters: UInt64 = 0, submitted: UInt64 = 0, links: UInt64 = 0, cancelled: UInt64 = 0) {
        self.enters = enters
        self.submitted = submitted
        self.links = links
        self.cancelled = cancelled
    }

    static func &- (a: RingTotals, b: RingTotals) -> RingTotals {
        RingTotals(enters: a.enters &- b.enters, submitted: a.submitted &- b.submitted, links: a.links &- b.links,
                   cancelled: a.cancelled &- b.cancelled)
    }
}

/// A thread-mode actor's own ring: each read or write is one io_uring_enter that
/// submits the entry and waits for its completion, blocking as read(2) would.
struct ThreadRing {
    let ring: URing
    /// Registered indices of (input, output) with --fixed-files.
    let fixed: (input: Int32, output: Int32)?
    let buffer: UnsafeMutablePointer<UInt8>
    let calls: TransferCalls

    init(channel: ChannelEnd, settings: RingSettings, calls: TransferCalls, pollerCPU: Int32?,
         registry: RingRegistry) throws(CSGBError) {
        self.calls = calls
        ring = try settings.makeRing(forActors: 1, pollerCPU: pollerCPU, registry: registry)
        if settings.fixedFiles {
            let distinct = channel.input == channel.output
            do {
                try ring.register(distinct ? [channel.input] : [channel.input, channel.output])
            } catch {
                throw .system(error)
            }
            fixed = (0, distinct ? 0 : 1)
        } else {
            fixed = nil
        }
        buffer = .allocate(capacity: 1)
        buffer.initialize(to: 0)
    }

    func release() { buffer.deallocate() }

    /// On the actor's thread before its first transfer: the ring becomes its own.
    func adopt() throws(SystemError) { try ring.adopt() }

    /// On the actor's thread after its last transfer.
    func finish() { ring.release() }

    /// One entry, one enter; a short transfer or an error ends the actor's run.
    @inline(__always)
    func transfer(_ direction: TransferDirection, _ descriptor: FileDescriptor, _ byte: inout UInt8) -> TransferResult {
        buffer.pointee = byte
        let target = fixed.map { direction == .write ? $0.output : $0.input } ?? descriptor.rawValue
        guard ring.prepare(direction, calls, target: target, fixed: fixed != nil, buffer: buffer, userData: 0) else { return .closed }
        while true {
            guard let done = try? ring.submitAndWait(1, timeoutNanoseconds: nil) else { return .closed }
            if done { break }
        }
        var result: Int32 = -1
        ring.reap { _, res in result = res }
        byte = buffer.pointee
        return result == 1 ? .done : .closed
    }
}
