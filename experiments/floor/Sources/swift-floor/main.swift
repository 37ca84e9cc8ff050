// swift-floor: what Swift's concurrency runtime costs per hop, alone.
//
//   swift-floor notify|yield|echo [--executor hook|preference] [-n N] [-d S] [-w S] [-c CPUS]
//
// One pinned worker thread runs a job ring; nothing else runs on it. `notify`: N
// pairs of tasks ping-pong through a one-thread notify (an UnsafeContinuation
// resumed by the peer): iteration = one round trip = two hops (resume, enqueue, run
// of the woken task), as tokio_notify. `yield`: N tasks loop on a yield: iteration =
// one yield. `echo`: `notify` with tokio_echo's socket work around it, N non-blocking
// socket pairs, the initiator writes, notifies, waits and reads; the responder waits,
// reads, writes and notifies: iteration = one round trip, as tokio_echo and csgb's
// async `socket N`; the runtime's floor with the 4 syscalls in between. With the hook the yield is csgb's (`WorkerExecutor.yield()`): the task
// suspends with its continuation queued in the ring, and running that entry resumes it
// (which enqueues the task behind the others), because `Task.yield()` would send a
// task with no preference to Swift's default executor, bypassing the hook. With a
// preference it is `Task.yield()`, which enqueues on the preferred executor.
//
// --executor hook (default): tasks have no executor preference and the runtime's
// global-enqueue hook puts their jobs in the ring (csgb's async mode does the same).
// --executor preference: tasks are started with `Task(executorPreference:)` on a
// TaskExecutor whose enqueue pushes to the ring.
//
// Output: the four `key: value` lines of experiments/baselines/common.h on stdout.
import CFloor
import Glibc
import Synchronization

final class Shared: @unchecked Sendable {
    let iterations = Atomic<Int>(0)
    let stop = Atomic<Bool>(false)
    var barrier = pthread_barrier_t()
}

/// A wake-up for one waiting task on one thread: a notify with nobody waiting
/// leaves a permit for the next wait, as tokio's Notify::notify_one.
final class OneThreadNotify: @unchecked Sendable {
    var waiter: UnsafeContinuation<Void, Never>?
    var permit = false

    func notify() {
        if let waiter {
            self.waiter = nil
            waiter.resume()
        } else {
            permit = true
        }
    }
}

/// Ring entries are pointers aligned to 16 bytes: this low bit marks a yielded
/// task's continuation, to resume, rather than a job, to run.
let yieldTag: UInt = 1

final class RingExecutor: TaskExecutor, SerialExecutor, @unchecked Sendable {
    func enqueue(_ job: consuming ExecutorJob) {
        floor_push(unsafeBitCast(UnownedJob(job), to: UnsafeMutableRawPointer.self))
    }
}

/// --executor actor: the tasks are isolated to this global actor, whose executor is
/// the ring, so a resume enqueues on a serial executor directly: no preference lookup.
@globalActor actor RingActor {
    static let shared = RingActor()
    nonisolated var unownedExecutor: UnownedSerialExecutor { ringExecutor.asUnownedSerialExecutor() }
}

let ringExecutor = RingExecutor()

enum Placement { case hook, preference, actor }

func fail(_ message: String, _ status: Int32 = 64) -> Never {
    fputs("swift-floor: \(message)\n", stderr)
    exit(status)
}

struct Options {
    var workload = ""
    var placement = Placement.hook
    var n = 1
    var duration = 2.0
    var warmup = 0.5
    var cpulist: String?
    var cpus: [Int32] = []
}

func parseCPUs(_ s: String) -> [Int32]? {
    var cpus: [Int32] = []
    for part in s.split(separator: ",", omittingEmptySubsequences: false) {
        let ends = part.split(separator: "-", omittingEmptySubsequences: false)
        guard ends.count <= 2, let lo = Int32(ends[0]), let hi = Int32(ends.last!), lo >= 0, hi >= lo, hi < 1024
        else { return nil }
        cpus += Array(lo...hi)
    }
    return cpus.isEmpty ? nil : cpus
}

func parseOptions() -> Options {
    var o = Options()
    var args = CommandLine.arguments.dropFirst()
    let usage = "usage: swift-floor notify|yield|echo [--executor hook|preference] [-n N] [-d SECONDS] [-w SECONDS] [-c CPULIST]"
    guard let w = args.popFirst(), ["notify", "yield", "echo"].contains(w) else { fail(usage) }
    o.workload = w
    o.n = w == "yield" ? 2 : 1
    while let a = args.popFirst() {
        guard let v = args.popFirst() else { fail(usage) }
        switch a {
        case "--executor":
            switch v {
            case "hook": o.placement = .hook
            case "preference": o.placement = .preference
            case "actor": o.placement = .actor
            default: fail("--executor: expected hook, preference or actor")
            }
        case "-n":
            guard let n = Int(v), n >= 1, n <= 10000 else { fail("option -n: expected an integer in 1..10000") }
            o.n = n
        case "-d":
            guard let d = Double(v), d > 0, d <= 1e6 else { fail("option -d: expected a number of seconds > 0") }
            o.duration = d
        case "-w":
            guard let d = Double(v), d >= 0, d <= 1e6 else { fail("option -w: expected a number of seconds >= 0") }
            o.warmup = d
        case "-c":
            guard let cpus = parseCPUs(v) else { fail("option -c: expected a CPU list such as 0, 0-1 or 0,2") }
            o.cpus = cpus
            o.cpulist = v
        default:
            fail(usage)
        }
    }
    return o
}

func pin(_ o: Options) {
    guard !o.cpus.isEmpty else { return }
    let rc = o.cpus.withUnsafeBufferPointer { floor_pin_self($0.baseAddress, Int32($0.count)) }
    if rc != 0 { fail("sched_setaffinity: errno \(rc) (is every CPU of -c online?)", 1) }
}

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

func sleep(until t: Double) {
    while true {
        let left = t - now()
        if left <= 0 { return }
        var ts = timespec(tv_sec: Int(left), tv_nsec: Int((left - Double(Int(left))) * 1e9))
        nanosleep(&ts, nil)
    }
}

let o = parseOptions()
let shared = Shared()
let executor = ringExecutor
signal(SIGPIPE, SIG_IGN)
pin(o)
floor_install_hook()

/// Starts a task the way --executor says; its first job lands in the ring.
/// The body is isolated to its parameter, so with the actor it runs on the actor's
/// executor throughout (no executor switch), and without, on whatever runs the task.
func start(_ body: @escaping @Sendable (isolated (any Actor)?) async -> Void) {
    switch o.placement {
    case .hook: Task { await body(nil) }
    case .preference: Task(executorPreference: executor) { await body(nil) }
    case .actor: Task { @RingActor in await body(RingActor.shared) }
    }
}

/// One transfer of the echo; a failure ends the program (it would be a bug here:
/// every read follows the peer's write).
func transfer(_ write: Bool, _ fd: Int32, _ byte: UnsafeMutablePointer<UInt8>) {
    let rc = write ? Glibc.write(fd, byte, 1) : Glibc.read(fd, byte, 1)
    if rc != 1 { fail("\(write ? "write" : "read") on \(fd) returned \(rc), errno \(errno)", 1) }
}

switch o.workload {
case "echo":
    for _ in 0..<o.n {
        var fds: [Int32] = [0, 0]
        if socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0, &fds) != 0 {
            fail("socketpair: errno \(errno)", 1)
        }
        let (a, b) = (fds[0], fds[1])
        let ping = OneThreadNotify(), pong = OneThreadNotify()
        start { _ in
            let byte = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)
            byte.pointee = 120
            while !shared.stop.load(ordering: .relaxed) {
                transfer(true, a, byte)
                pong.notify()
                if ping.permit { ping.permit = false } else { await withUnsafeContinuation { ping.waiter = $0 } }
                if shared.stop.load(ordering: .relaxed) { break }
                transfer(false, a, byte)
                shared.iterations.store(shared.iterations.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
            }
            pong.notify()
        }
        start { _ in
            let byte = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)
            while true {
                if pong.permit { pong.permit = false } else { await withUnsafeContinuation { pong.waiter = $0 } }
                if shared.stop.load(ordering: .relaxed) { break }
                transfer(false, b, byte)
                transfer(true, b, byte)
                ping.notify()
            }
            ping.notify()
        }
    }
case "notify":
    for _ in 0..<o.n {
        let ping = OneThreadNotify(), pong = OneThreadNotify()
        start { _ in
            while !shared.stop.load(ordering: .relaxed) {
                pong.notify()
                if ping.permit { ping.permit = false } else { await withUnsafeContinuation { ping.waiter = $0 } }
                shared.iterations.store(shared.iterations.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
            }
            pong.notify()
        }
        start { _ in
            while true {
                if pong.permit { pong.permit = false } else { await withUnsafeContinuation { pong.waiter = $0 } }
                if shared.stop.load(ordering: .relaxed) { break }
                ping.notify()
            }
            ping.notify()
        }
    }
default:
    for _ in 0..<o.n {
        start { _ in
            while !shared.stop.load(ordering: .relaxed) {
                shared.iterations.store(shared.iterations.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
                if o.placement != .hook {
                    await Task.yield()
                } else {
                    await withUnsafeContinuation { (c: UnsafeContinuation<Void, Never>) in
                        floor_push(UnsafeMutableRawPointer(bitPattern: unsafeBitCast(c, to: UInt.self) | yieldTag))
                    }
                }
            }
        }
    }
}

pthread_barrier_init(&shared.barrier, nil, 2)
var worker = pthread_t()
let created = pthread_create(&worker, nil, { _ in
    pin(o)
    pthread_barrier_wait(&shared.barrier)
    let taskExecutor = executor.asUnownedTaskExecutor()
    let serialExecutor = executor.asUnownedSerialExecutor()
    while let job = floor_pop() {
        let bits = UInt(bitPattern: job)
        if bits & yieldTag != 0 {
            unsafeBitCast(bits & ~yieldTag, to: UnsafeContinuation<Void, Never>.self).resume()
        } else if o.placement == .preference {
            unsafeBitCast(job, to: UnownedJob.self).runSynchronously(on: taskExecutor)
        } else if o.placement == .actor {
            unsafeBitCast(job, to: UnownedJob.self).runSynchronously(on: serialExecutor)
        } else {
            floor_run_generic(job)
        }
    }
    return nil
}, nil)
if created != 0 { fail("pthread_create: errno \(created)", 1) }

pthread_barrier_wait(&shared.barrier)
sleep(until: now() + o.warmup)
var v0 = 0, i0 = 0, v1 = 0, i1 = 0
floor_worker_switches(&v0, &i0)
let c0 = shared.iterations.load(ordering: .relaxed)
let t0 = now()
sleep(until: t0 + o.duration)
let c1 = shared.iterations.load(ordering: .relaxed)
let t1 = now()
floor_worker_switches(&v1, &i1)
shared.stop.store(true, ordering: .relaxed)
pthread_join(worker, nil)

let n = Double(c1 - c0)
let seconds = t1 - t0
print("total iterations: \(c1 - c0)")
print("seconds: \(seconds)")
print("ns_per_iteration: \(n > 0 ? seconds * 1e9 / n : 0)")
print("iterations_per_second: \(seconds > 0 ? n / seconds : 0)")
fputs("""
    workload: swift-floor \(o.workload) --executor \(o.placement)
    n: \(o.n)
    cpus: \(o.cpulist ?? "(inherited)")
    warmup: \(o.warmup)
    voluntary_switches_per_iteration: \(n > 0 ? Double(v1 - v0) / n : 0)
    involuntary_switches_per_iteration: \(n > 0 ? Double(i1 - i0) / n : 0)

    """, stderr)
