@testable import AsyncWorkers
import CCSGB
import Glibc
import Testing

@Suite struct AsyncNotifyOrdering {
    @Test func notifyBeforeWaitReturnsWithoutSuspending() async throws {
        let worker = try WorkerExecutor(name: "csgb-t-permit")
        let before = IntCell(), after = IntCell()
        let finished = await completes(within: hangTimeout) {
            await Task(executorPreference: worker) {
                let notify = AsyncNotify()
                notify.notify()
                before.value = worker.jobsRun
                await notify.wait()  // consumes the permit: no suspension, so no job
                after.value = worker.jobsRun
            }.value
        }
        await shutDown(worker, unlessHung: finished)
        #expect(finished)
        #expect(before.value == after.value)
    }

    @Test func waitBeforeNotifyResumes() async {
        let notify = AsyncNotify()
        let waiting = Flag(), resumed = Flag()
        let finished = await completes(within: hangTimeout) {
            let waiter = Task { waiting.set(); await notify.wait(); resumed.set() }
            #expect(await eventually(within: hangTimeout) { waiting.isSet && notify.hasWaiter })
            #expect(!resumed.isSet)
            notify.notify()
            await waiter.value
        }
        #expect(finished)
        #expect(resumed.isSet)
    }

    @Test func resumeOnNotifyHonoursAStoredPermit() async {
        let notify = AsyncNotify()
        let finished = await completes(within: hangTimeout) {
            notify.notify()
            await withUnsafeContinuation { notify.resumeOnNotify($0) }  // resumed at once
            let resumed = Flag()
            let waiter = Task {
                await withUnsafeContinuation { notify.resumeOnNotify($0) }
                resumed.set()
            }
            #expect(await eventually(within: hangTimeout) { notify.hasWaiter })
            #expect(!resumed.isSet)
            notify.notify()
            await waiter.value
        }
        #expect(finished)
    }

    @Test func aSecondWaiterIsCaught() async {
        await #expect(processExitsWith: .failure) {
            let notify = AsyncNotify()
            let first = Task { await notify.wait() }
            _ = await eventually(within: hangTimeout) { notify.hasWaiter }
            await notify.wait()
            _ = first
        }
    }

    @Test func notifiesStoreOnlyOnePermit() async {
        let notify = AsyncNotify()
        let firstDone = Flag(), secondDone = Flag()
        let finished = await completes(within: hangTimeout) {
            notify.notify()
            notify.notify()
            let waiter = Task {
                await notify.wait()
                firstDone.set()
                await notify.wait()  // the second notify was absorbed: this one suspends
                secondDone.set()
            }
            #expect(await eventually(within: hangTimeout) { firstDone.isSet && notify.hasWaiter })
            #expect(!secondDone.isSet)
            notify.notify()
            await waiter.value
        }
        #expect(finished)
        #expect(firstDone.isSet && secondDone.isSet)
    }
}

@Suite struct AsyncNotifyAcrossThreads {
    static let hops = 100_000

    /// A plain OS thread notifies a task on a worker; every wake crosses threads and
    /// often finds the worker asleep in futex_wait.
    @Test func osThreadWakesWorkerTask() async throws {
        let worker = try WorkerExecutor(name: "csgb-t-osthread")
        let notify = AsyncNotify()
        let received = Counter()
        let gaveUp = Flag()
        let notifier = OSThread {
            let deadline = csgb_monotonic_ns() + Int64(hangTimeout * 1e9)
            for hop in 0..<Self.hops {
                notify.notify()
                while received.count <= hop {
                    if csgb_monotonic_ns() > deadline { gaveUp.set(); return }
                    sched_yield()
                }
            }
        }
        let finished = await completes(within: hangTimeout) {
            await Task(executorPreference: worker) {
                for _ in 0..<Self.hops {
                    await notify.wait()
                    received.increment()
                }
            }.value
        }
        notifier.join()
        await shutDown(worker, unlessHung: finished)
        #expect(finished)
        #expect(!gaveUp.isSet)
        #expect(received.count == Self.hops)
    }

    /// Both tasks on Swift's default executor: the `--executor global` mode.
    @Test func globalExecutorPingPong() async {
        let finished = await completes(within: hangTimeout) {
            await pingPong(hops: Self.hops, first: nil, second: nil)
        }
        #expect(finished)
    }

    /// One task on a worker, its peer on the default executor: every hop to the worker
    /// is a remote enqueue.
    @Test func workerToGlobalPingPong() async throws {
        let worker = try WorkerExecutor(name: "csgb-t-mixed")
        let finished = await completes(within: hangTimeout) {
            await pingPong(hops: Self.hops, first: worker, second: nil)
        }
        await shutDown(worker, unlessHung: finished)
        #expect(finished)
    }

    /// Two tasks on two workers, as in a two-worker run with pairs split across them.
    @Test func workerToWorkerPingPong() async throws {
        let a = try WorkerExecutor(name: "csgb-t-a")
        let b = try WorkerExecutor(name: "csgb-t-b")
        let finished = await completes(within: hangTimeout) {
            await pingPong(hops: Self.hops, first: a, second: b)
        }
        await shutDown(a, unlessHung: finished)
        await shutDown(b, unlessHung: finished)
        #expect(finished)
    }
}

/// Two tasks hand a turn back and forth `hops` times (`hops / 2` round trips); the
/// first waits with `wait()`, the second with `resumeOnNotify(_:)`.
func pingPong(hops: Int, first: (any TaskExecutor)?, second: (any TaskExecutor)?) async {
    let toFirst = AsyncNotify(), toSecond = AsyncNotify()
    let rounds = hops / 2
    let a = Task(executorPreference: first) {
        for _ in 0..<rounds {
            toSecond.notify()
            await toFirst.wait()
        }
    }
    let b = Task(executorPreference: second) {
        for _ in 0..<rounds {
            await withUnsafeContinuation { toSecond.resumeOnNotify($0) }  // the hot-loop form
            toFirst.notify()
        }
    }
    await a.value
    await b.value
}
