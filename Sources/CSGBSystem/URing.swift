#if canImport(Glibc)
import Glibc
#endif
import CCSGBURing

/// How a ring is set up (`--ring-setup`): the flags io_uring_setup gets, and the
/// ring-fd registration. Each needs a kernel of its own age.
public struct RingSetup: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let singleIssuer = RingSetup(rawValue: UInt32(CSGB_RING_SINGLE_ISSUER))
    public static let deferTaskrun = RingSetup(rawValue: UInt32(CSGB_RING_DEFER_TASKRUN))
    public static let coopTaskrun = RingSetup(rawValue: UInt32(CSGB_RING_COOP_TASKRUN))
    public static let registerRingFD = RingSetup(rawValue: UInt32(CSGB_RING_REGISTER_RING_FD))
    public static let submitAll = RingSetup(rawValue: UInt32(CSGB_RING_SUBMIT_ALL))

    /// Every option, in the order they are printed: (option, its name on the command
    /// line, what the kernel calls it, the kernel that has it).
    public static let catalogue: [(RingSetup, name: String, kernelName: String, since: String)] = [
        (.singleIssuer, "single-issuer", "IORING_SETUP_SINGLE_ISSUER", "Linux 6.0"),
        (.deferTaskrun, "defer-taskrun", "IORING_SETUP_DEFER_TASKRUN", "Linux 6.1"),
        (.coopTaskrun, "coop-taskrun", "IORING_SETUP_COOP_TASKRUN", "Linux 5.19"),
        (.registerRingFD, "register-ring-fd", "io_uring_register_ring_fd", "Linux 5.18"),
        (.submitAll, "submit-all", "IORING_SETUP_SUBMIT_ALL", "Linux 5.18"),
    ]

    /// `single-issuer,defer-taskrun`, or `none`.
    public var names: String {
        let names = RingSetup.catalogue.filter { contains($0.0) }.map(\.name)
        return names.isEmpty ? "none" : names.joined(separator: ",")
    }

    /// Parses `none` or a comma-separated list of names; nil names the first unknown one.
    public static func parse(_ text: String) -> Result<RingSetup, UnknownName> {
        if text == "none" { return .success([]) }
        var setup: RingSetup = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let entry = catalogue.first(where: { $0.name == part }) else { return .failure(UnknownName(name: String(part))) }
            setup.insert(entry.0)
        }
        return .success(setup)
    }

    public struct UnknownName: Error, Sendable { public let name: String }
}

/// An io_uring (through liburing) owned by one OS thread: SQEs are prepared and
/// reaped on that thread only, which `adopt()` makes the ring's own.
public final class URing: @unchecked Sendable {
    private let ring: OpaquePointer
    /// Submission queue entries as the kernel made them (a power of two).
    public let entries: Int
    /// Completion queue entries as the kernel made them (twice `entries`).
    public let completionEntries: Int
    public let sqpoll: Bool
    /// With `sqpoll`: whether this ring started a poller thread of its own, rather
    /// than sharing another ring's.
    public let ownsPoller: Bool
    public let setup: RingSetup

    /// Why a ring could not be made, with how to fix it.
    public struct CreationError: Error, Sendable, CustomStringConvertible {
        public let errno: Errno
        /// The setup options the ring was asked for.
        public var setup: RingSetup = []
        /// The option this kernel refused, when one alone was found to be the cause.
        public var refused: RingSetup? = nil
        public var description: String {
            let base = "io_uring_setup failed: \(errno)"
            if let refused, let entry = RingSetup.catalogue.first(where: { $0.0 == refused }) {
                return "io_uring_setup refused --ring-setup \(entry.name) (\(entry.kernelName), \(errno)): it needs \(entry.since) or later"
                    + (refused == .deferTaskrun ? " and single-issuer" : "")
                    + "; drop it from --ring-setup (or use --ring-setup none)"
            }
            switch errno {
            case .permissionDenied, .notPermitted:
                return base + "; io_uring is disabled for this process: set `sysctl -w kernel.io_uring_disabled=0` (or 1 and add the user to kernel.io_uring_group), or use --io direct"
            case .noMemory:
                return base + "; the locked-memory limit is too low for the rings: raise it with `ulimit -l unlimited` (or LimitMEMLOCK=), lower --ring-entries, or use --io direct"
            case .noFunction:
                return base + "; this kernel has no io_uring (Linux 5.1 or later, CONFIG_IO_URING): use --io direct"
            default:
                return base + "; use --io direct"
            }
        }
    }

    /// `pollerCPU`: with `sqpoll`, the CPU the kernel's poller thread is pinned to
    /// (nil: it inherits the creating thread's CPUs).
    /// `sharingPollerOf`: with `sqpoll`, a ring of this process whose poller thread
    /// serves this ring too (IORING_SETUP_ATTACH_WQ), instead of a poller of its own;
    /// `pollerCPU` is then that ring's.
    /// `setup`: the options (`.singleIssuer` makes the ring disabled until its owner
    /// calls `adopt()`). A kernel that refuses an option with EINVAL is asked again
    /// without each one, so the error can name the one it lacks.
    public init(entries: Int, sqpoll: Bool = false, pollerCPU: Int32? = nil, sharingPollerOf other: URing? = nil,
                setup: RingSetup = []) throws(CreationError) {
        var code: Int32 = 0
        let shared = sqpoll ? other : nil
        let made = withExtendedLifetime(shared) {
            csgb_ring_create(UInt32(entries), sqpoll ? 1 : 0, pollerCPU ?? -1, setup.rawValue, shared?.ring, &code)
        }
        guard let ring = made else {
            var error = CreationError(errno: Errno(-code), setup: setup)
            if Errno(-code) == .invalidArgument && !setup.isEmpty {
                error.refused = URing.refusedOption(entries: entries, sqpoll: sqpoll, setup: setup)
            }
            throw error
        }
        self.ring = ring
        self.entries = Int(csgb_ring_sq_entries(ring))
        self.completionEntries = Int(csgb_ring_cq_entries(ring))
        self.sqpoll = sqpoll
        self.ownsPoller = sqpoll && shared == nil
        self.setup = setup
    }

    /// The first option the kernel refuses on its own (defer-taskrun with the
    /// single-issuer it needs), or nil when each alone is accepted.
    private static func refusedOption(entries: Int, sqpoll: Bool, setup: RingSetup) -> RingSetup? {
        if setup.contains(.deferTaskrun) && !setup.contains(.singleIssuer) { return .deferTaskrun }
        var code: Int32 = 0
        for (option, _, _, _) in RingSetup.catalogue where setup.contains(option) {
            let alone: RingSetup = option == .deferTaskrun ? [.singleIssuer, .deferTaskrun] : option
            guard let ring = csgb_ring_create(UInt32(entries), sqpoll ? 1 : 0, -1, alone.rawValue, nil, &code) else { return option }
            csgb_ring_destroy(ring)
        }
        return nil
    }

    deinit { csgb_ring_destroy(ring) }

    /// On the thread that will submit and wait, before it does: a single-issuer
    /// ring becomes this thread's, and a registered ring fd is registered with it.
    public func adopt() throws(SystemError) {
        let rc = csgb_ring_adopt(ring)
        if rc < 0 { throw SystemError(setup.contains(.singleIssuer) ? "io_uring_enable_rings" : "io_uring_register_ring_fd", Errno(-rc)) }
    }

    /// On the owner thread when it is done: drops its ring-fd registration.
    public func release() { csgb_ring_release(ring) }

    public func register(_ descriptors: [FileDescriptor]) throws(SystemError) {
        let fds = descriptors.map(\.rawValue)
        let rc = fds.withUnsafeBufferPointer { csgb_ring_register_files(ring, $0.baseAddress!, UInt32($0.count)) }
        if rc < 0 { throw SystemError("io_uring_register_files", Errno(-rc)) }
    }

    /// Prepares one read or write (recv or send with `.sendRecv`); false when the
    /// submission queue is full.
    @inline(__always)
    public func prepare(_ direction: TransferDirection, _ calls: TransferCalls = .readWrite, target: Int32, fixed: Bool,
                        buffer: UnsafeMutablePointer<UInt8>, length: Int = 1, userData: UInt64) -> Bool {
        let op: Int32 = switch (direction, calls) {
        case (.read, .readWrite): Int32(CSGB_RING_READ)
        case (.write, .readWrite): Int32(CSGB_RING_WRITE)
        case (.read, .sendRecv): Int32(CSGB_RING_RECV)
        case (.write, .sendRecv): Int32(CSGB_RING_SEND)
        }
        return csgb_ring_prepare(ring, op, target, fixed ? 1 : 0, buffer, UInt32(length), userData) == 0
    }

    /// Links the entry prepared last, if it has `userData` and is not submitted yet,
    /// to the next one prepared (IOSQE_IO_LINK). True when it did.
    @inline(__always)
    public func linkLast(userData: UInt64) -> Bool { csgb_ring_link_last(ring, userData) == 1 }

    /// Submits everything prepared and waits for `wait` completions or the timeout
    /// (nil: none). Returns false when the time ran out or a signal came first.
    @inline(__always)
    public func submitAndWait(_ wait: Int, timeoutNanoseconds: Int64?) throws(SystemError) -> Bool {
        let rc = csgb_ring_submit_and_wait(ring, UInt32(wait), timeoutNanoseconds ?? -1)
        if rc >= 0 { return true }
        let error = Errno(-rc)
        if error == Errno(ETIME) || error == .interrupted || error == .resourceBusy { return false }
        throw SystemError("io_uring_enter", error)
    }

    /// Hands each completion to `body` (user data, result) and marks them seen.
    @inline(__always)
    public func reap(_ body: (UInt64, Int32) -> Void) {
        var data = (UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        var results = (Int32(0), Int32(0), Int32(0), Int32(0), Int32(0), Int32(0), Int32(0), Int32(0))
        while true {
            let count = withUnsafeMutableBytes(of: &data) { d in
                withUnsafeMutableBytes(of: &results) { r in
                    Int(csgb_ring_reap(ring, d.baseAddress!.assumingMemoryBound(to: UInt64.self),
                                       r.baseAddress!.assumingMemoryBound(to: Int32.self), 8))
                }
            }
            if count == 0 { return }
            withUnsafeBytes(of: &data) { d in
                withUnsafeBytes(of: &results) { r in
                    let ds = d.bindMemory(to: UInt64.self), rs = r.bindMemory(to: Int32.self)
                    for i in 0..<count { body(ds[i], rs[i]) }
                }
            }
            if count < 8 { return }
        }
    }

    /// io_uring_enter calls made, and SQEs submitted, since the ring was made.
    public var enters: UInt64 { csgb_ring_enters(ring) }
    public var submitted: UInt64 { csgb_ring_submitted(ring) }
    /// Links formed by `linkLast`.
    public var links: UInt64 { csgb_ring_links(ring) }
    /// Completions reaped with ECANCELED: entries linked after one that failed.
    public var cancelled: UInt64 { csgb_ring_cancelled(ring) }

    /// Whether this machine can make a ring at all (for `csgb info` and tests).
    public static func probe() -> Errno? {
        do {
            _ = try URing(entries: 2)
            return nil
        } catch {
            return error.errno
        }
    }
}
