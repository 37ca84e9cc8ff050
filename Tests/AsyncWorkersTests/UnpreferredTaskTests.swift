import AsyncWorkers
import CCSGB
import Glibc
import Testing

@Suite struct UnpreferredTasksOnAWorker {
    /// Tasks without a preference, started routed to the worker, keep every job there:
    /// through notifies, the worker's yield, and a wake from a plain OS thread.
    @Test func stayOnTheWorkerThroughWakesYieldsAndForeignNotifies() async throws {
        let worker = try WorkerExecutor(name: "csgb-t-unpref", keepsUnpreferredTasks: true)
        let rounds = 10_000
        let ping = AsyncNotify(), pong = AsyncNotify(), last = AsyncNotify()
        let logA = Int32Log(capacity: rounds + 2), logB = Int32Log(capacity: rounds + 2)
        let done = Counter()

        worker.routingUnpreferredTasks {
            Task {
                logA.append(csgb_gettid())
                for round in 0..<rounds {
                    pong.notify()
                    await withUnsafeContinuation { ping.resumeOnNotify($0) }
                    if round % 100 == 0 { await worker.yield() }
                    logA.append(csgb_gettid())
                }
                // Woken from a thread that is no worker: must come back here all the same.
                await withUnsafeContinuation { last.resumeOnNotify($0) }
                logA.append(csgb_gettid())
                done.increment()
            }
            Task {
                logB.append(csgb_gettid())
                for _ in 0..<rounds {
                    await withUnsafeContinuation { pong.resumeOnNotify($0) }
                    logB.append(csgb_gettid())
                    ping.notify()
                }
                done.increment()
            }
        }
        var finished = await eventually(within: hangTimeout) { logA.count == rounds + 1 && done.count == 1 }
        if finished {
            let waker = OSThread { last.notify() }
            finished = await eventually(within: hangTimeout) { done.count == 2 }
            waker.join()
        }
        await shutDown(worker, unlessHung: finished)
        #expect(finished)
        #expect(logA.all.allSatisfy { $0 == worker.threadID })
        #expect(logB.all.allSatisfy { $0 == worker.threadID })
    }

    /// The enqueue hook is gone once the worker is: a plain task runs on Swift's
    /// global executor again, not on a stopped worker.
    @Test func globalExecutorWorksAfterShutdown() async throws {
        let worker = try WorkerExecutor(name: "csgb-t-unpref2", keepsUnpreferredTasks: true)
        await shutDown(worker)
        let ran = Flag()
        Task.detached { ran.set() }
        #expect(await eventually(within: hangTimeout) { ran.isSet })
    }
}
