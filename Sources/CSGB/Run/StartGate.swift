import CSGBSystem
import Atomics

/// Holds every OS thread of a run until all of them exist, so the measured window
/// never includes the seconds it takes to create thousands of threads while the
/// first ones already run. Threads sleep in FUTEX_WAIT; opening is one FUTEX_WAKE.
public final class StartGate: @unchecked Sendable {
    // A cache line of its own: every waiting thread reads it.
    private let storage = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64)
    private let word: FutexWord
    private let arrived = ManagedAtomic<Int>(0)

    public init() {
        storage.initializeMemory(as: UInt8.self, repeating: 0, count: 64)
        word = FutexWord(storage: storage.assumingMemoryBound(to: UInt32.self))
    }

    deinit { storage.deallocate() }

    public var arrivals: Int { arrived.load(ordering: .acquiring) }
    public var isOpen: Bool { word.load() != 0 }

    /// Counts the caller in and sleeps until the gate opens.
    public func arriveAndWait() {
        arrived.wrappingIncrement(ordering: .releasing)
        while word.load() == 0 {
            word.wait(whileEqualTo: 0)
        }
    }

    /// Counts the caller in without waiting, for tasks on executors we do not own.
    public func arrive() {
        arrived.wrappingIncrement(ordering: .releasing)
    }

    public func open() {
        word.post(1, waking: Int32.max)
    }
}
