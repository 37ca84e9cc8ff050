#if canImport(Glibc)
import Glibc
#endif
import CSGBSystem

/// Where a blocking interpreter's passes go, and when it stops: thread mode counts
/// into the run's slots and looks at the stop flag; process mode counts into shared
/// memory and answers window-edge requests between passes.
protocol BlockingPasses {
    /// Called before each pass; false once the run is stopping.
    mutating func beginPass() -> Bool
    mutating func endPass()
    /// Whether the run is stopping, looked at inside a wait that a stop ends.
    var stopping: Bool { get }
    /// A read or write failed or came up short: counted unless the run is stopping.
    func transferFailed()
}

/// The interpreter of thread and process mode, written once: one pass of the
/// script per iteration, each read and write a blocking syscall (or a ring's
/// submit-and-wait), a futex wait a FUTEX_WAIT. Generic, so each mode gets its own
/// specialised copy of the loop with nothing to look up per operation, and a run
/// without `--phases` one with no timing in it.
enum BlockingInterpreter {
    /// Runs the script with `--phases`' probe when the run has one.
    @inline(__always)
    static func run<Passes: BlockingPasses, Futex: FutexWaitable>(
        _ script: [Operation], input: FileDescriptor?, output: FileDescriptor?, futex: Futex?, buffer: TouchBuffer,
        ring: ThreadRing?, calls: TransferCalls, passes: inout Passes, phases probe: TimedPhases?
    ) {
        if var probe {
            run(script, input: input, output: output, futex: futex, buffer: buffer, ring: ring, calls: calls,
                passes: &passes, phases: &probe)
        } else {
            var none = NoPhases()
            run(script, input: input, output: output, futex: futex, buffer: buffer, ring: ring, calls: calls,
                passes: &passes, phases: &none)
        }
    }

    @inline(__always)
    static func run<Passes: BlockingPasses, Futex: FutexWaitable, Phases: PhaseProbe>(
        _ script: [Operation], input: FileDescriptor?, output: FileDescriptor?, futex: Futex?, buffer: TouchBuffer,
        ring: ThreadRing?, calls: TransferCalls, passes: inout Passes, phases: inout Phases
    ) {
        var byte: UInt8 = 0
        phases.timeWorkAlone(buffer)
        running: while passes.beginPass() {
            for position in script.indices {
                let operation = script[position]
                phases.before(position)
                switch operation {
                case .touch:
                    buffer.touch()
                case .write, .read:
                    let direction: TransferDirection = operation == .write ? .write : .read
                    let descriptor = direction == .write ? output! : input!
                    let result = ring.map { $0.transfer(direction, descriptor, &byte) }
                        ?? descriptor.transferByte(direction, calls, &byte)
                    if result != .done {
                        passes.transferFailed()
                        break running
                    }
                case .wakePeer, .waitPeer:
                    break
                case .yield:
                    sched_yield()
                case .injectedSleep:
                    Operation.sleepBlocking()
                case .futexPost(let value):
                    futex!.post(value, waking: 1)
                case .futexAwait(let value):
                    while true {
                        let current = futex!.load()
                        if current == value { break }
                        if current == FutexWord.poison || passes.stopping { break running }
                        futex!.wait(whileEqualTo: current)
                    }
                }
                phases.after(position)
            }
            passes.endPass()
        }
    }
}
