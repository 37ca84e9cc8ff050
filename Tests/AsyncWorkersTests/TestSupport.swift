import AsyncWorkers
import CCSGB
import Glibc
import Synchronization
import Testing

/// How long a test waits before calling a run hung. Generous because the machine is
/// shared: a loaded 2-CPU box can make 100,000 cross-thread wakes take a minute, while
/// a lost wake-up never finishes at all. `CSGB_TEST_HANG_TIMEOUT` (seconds) overrides it.
let hangTimeout: Double = getenv("CSGB_TEST_HANG_TIMEOUT").flatMap { Double(String(cString: $0)) } ?? 180

/// Shuts `worker` down from a plain thread and reports whether that finished in time,
/// so that a broken shutdown fails the test instead of hanging the run. Skipped (false)
/// when the test already saw a hang: joining a worker whose wake-up was lost would
/// only hang as well.
@discardableResult
func shutDown(_ worker: WorkerExecutor, unlessHung finished: Bool = true) async -> Bool {
    guard finished else { return false }
    let joined = Flag()
    let closer = OSThread {
        worker.shutdown()
        joined.set()
    }
    guard await eventually(within: hangTimeout, { joined.isSet }) else {
        Issue.record("shutdown() of \(worker.name) did not return")
        return false
    }
    closer.join()
    return true
}

/// Runs `body` in its own task and reports whether it finished within `seconds`, so
/// that a lost wake-up fails the test instead of hanging the run. A task that hangs
/// stays suspended (leaked); the test reports it and moves on.
func completes(within seconds: Double, _ body: @escaping @Sendable () async -> Void) async -> Bool {
    let done = Flag()
    Task { await body(); done.set() }
    let deadline = csgb_monotonic_ns() + Int64(seconds * 1e9)
    while !done.isSet {
        if csgb_monotonic_ns() > deadline { return false }
        try? await Task.sleep(for: .milliseconds(1))
    }
    return true
}

/// Polls `condition` until it holds or `seconds` pass.
func eventually(within seconds: Double, _ condition: () -> Bool) async -> Bool {
    let deadline = csgb_monotonic_ns() + Int64(seconds * 1e9)
    while !condition() {
        if csgb_monotonic_ns() > deadline { return false }
        try? await Task.sleep(for: .milliseconds(1))
    }
    return true
}

final class Flag: Sendable {
    private let value = Atomic<Bool>(false)
    var isSet: Bool { value.load(ordering: .acquiring) }
    func set() { value.store(true, ordering: .releasing) }
}

final class IntCell: Sendable {
    private let storage = Atomic<Int>(0)
    var value: Int {
        get { storage.load(ordering: .acquiring) }
        set { storage.store(newValue, ordering: .releasing) }
    }
}

final class Counter: Sendable {
    private let value = Atomic<Int>(0)
    var count: Int { value.load(ordering: .acquiring) }
    func increment() { value.add(1, ordering: .acquiringAndReleasing) }
}

/// A fixed-size log of Int32 written by tasks that a test keeps on one thread (or
/// hands over through a notify), read after they finished.
final class Int32Log: @unchecked Sendable {
    private var values: [Int32]
    private(set) var count = 0
    init(capacity: Int) { values = []; values.reserveCapacity(capacity) }
    func append(_ value: Int32) { values.append(value); count += 1 }
    var all: [Int32] { values }
}

/// A plain OS thread (not from any Swift executor) running `body`.
final class OSThread {
    private final class Body { let run: @Sendable () -> Void; init(_ run: @escaping @Sendable () -> Void) { self.run = run } }
    private var thread = pthread_t()

    init(_ body: @escaping @Sendable () -> Void) {
        let context = Unmanaged.passRetained(Body(body)).toOpaque()
        let rc = pthread_create(&thread, nil, { context in
            Unmanaged<Body>.fromOpaque(context!).takeRetainedValue().run()
            return nil
        }, context)
        precondition(rc == 0)
    }

    func join() { pthread_join(thread, nil) }
}

func threadExists(_ tid: Int32) -> Bool {
    access("/proc/self/task/\(tid)", F_OK) == 0
}

func threadName(_ tid: Int32) -> String? {
    guard let file = fopen("/proc/self/task/\(tid)/comm", "r") else { return nil }
    defer { fclose(file) }
    var buffer = [CChar](repeating: 0, count: 64)
    guard fgets(&buffer, 64, file) != nil else { return nil }
    let line = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    return line.hasSuffix("\n") ? String(line.dropLast()) : line
}
