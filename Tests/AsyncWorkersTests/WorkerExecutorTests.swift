import AsyncWorkers
import CCSGB
import Foundation
import Glibc
import Testing

@Suite struct WorkerExecutorThread {
    @Test func everyJobRunsOnTheWorkerThread() async throws {
        let worker = try WorkerExecutor(name: "csgb-t-pingpong")
        let rounds = 10_000
        let ping = AsyncNotify(), pong = AsyncNotify()
        let logA = Int32Log(capacity: rounds + 1), logB = Int32Log(capacity: rounds + 1)

        let finished = await completes(within: hangTimeout) {
            let a = Task(executorPreference: worker) {
                logA.append(csgb_gettid())
                for _ in 0..<rounds {
                    pong.notify()
                    await ping.wait()
                    logA.append(csgb_gettid())
                }
            }
            let b = Task(executorPreference: worker) {
                logB.append(csgb_gettid())
                for _ in 0..<rounds {
                    await withUnsafeContinuation { pong.resumeOnNotify($0) }
                    logB.append(csgb_gettid())
                    ping.notify()
                }
            }
            await a.value
            await b.value
        }
        await shutDown(worker, unlessHung: finished)
        #expect(finished)
        #expect(logA.count == rounds + 1 && logB.count == rounds + 1)
        #expect(logA.all.allSatisfy { $0 == worker.threadID })
        #expect(logB.all.allSatisfy { $0 == worker.threadID })
        // One job per resume: a wake never takes a detour through another executor.
        #expect(worker.jobsRun <= 2 * rounds + 4, "jobs run: \(worker.jobsRun)")
    }

    @Test func tenThousandWaitersResumeInNotifyOrder() async throws {
        let worker = try WorkerExecutor(name: "csgb-t-many")
        let count = 10_000
        let notifies = (0..<count).map { _ in AsyncNotify() }
        let suspended = Counter()
        let order = Int32Log(capacity: count)  // appended on the worker only
        let wrongThread = Counter()

        let finished = await completes(within: hangTimeout) {
            await withTaskGroup(of: Void.self) { group in
                for index in 0..<count {
                    group.addTask(executorPreference: worker) {
                        suspended.increment()
                        await notifies[index].wait()
                        if csgb_gettid() != worker.threadID { wrongThread.increment() }
                        order.append(Int32(index))
                    }
                }
                _ = await eventually(within: hangTimeout) { suspended.count == count }
                // Notify from a task on the worker: 10,000 same-thread enqueues in a
                // row, which must grow the ring and keep FIFO order.
                group.addTask(executorPreference: worker) {
                    for notify in notifies { notify.notify() }
                }
            }
        }
        await shutDown(worker, unlessHung: finished)
        #expect(finished)
        #expect(wrongThread.count == 0)
        #expect(order.all == (0..<count).map { Int32($0) })
    }

    @Test func threadIsNamedAndStartsWithTheHook() async throws {
        let hookTID = Int32Log(capacity: 1)
        let gate = Flag()
        let worker = try WorkerExecutor(name: "csgb-async-0") {
            hookTID.append(csgb_gettid())
            while !gate.isSet { usleep(1000) }
        }
        #expect(worker.threadID > 0)
        #expect(threadName(worker.threadID) == "csgb-async-0")

        // The worker thread is inside the hook (it recorded its tid and waits for
        // the gate): the only thread that runs jobs is busy there.
        while hookTID.all.isEmpty { await Task.yield() }
        let ran = Flag()
        // Creating a task with a preference enqueues its first job at once: it now
        // waits in the worker's inbox, and must stay there until the hook returns.
        let task = Task(executorPreference: worker) { ran.set() }
        #expect(!ran.isSet && worker.jobsRun == 0, "a job ran before onThreadStart returned")
        gate.set()
        let finished = await completes(within: hangTimeout) { await task.value }
        await shutDown(worker, unlessHung: finished)
        #expect(finished)
        #expect(hookTID.all == [worker.threadID])
    }

    @Test func longNamesAreCutToFifteenBytes() async throws {
        let worker = try WorkerExecutor(name: "csgb-async-worker-12")
        #expect(threadName(worker.threadID) == "csgb-async-work")
        await shutDown(worker)
    }

    @Test func shutdownJoinsTheThreadAndIsIdempotent() async throws {
        let worker = try WorkerExecutor(name: "csgb-t-shutdown")
        let tid = worker.threadID
        #expect(threadExists(tid))
        let ran = await completes(within: hangTimeout) { await Task(executorPreference: worker) {}.value }
        #expect(ran)
        #expect(await shutDown(worker))
        #expect(await shutDown(worker), "a second shutdown must return at once")
        // The thread has exited; its /proc entry goes once the kernel reaps it.
        #expect(await eventually(within: 5) { !threadExists(tid) })
    }

    @Test func idleWorkerSleeps() async throws {
        let worker = try WorkerExecutor(name: "csgb-t-idle")
        let finished = await completes(within: hangTimeout) { await Task(executorPreference: worker) {}.value }
        // With no job the worker blocks in the kernel (state S); a spinning one stays R.
        let sleeps = await eventually(within: hangTimeout) { threadState(worker.threadID) == "S" }
        await shutDown(worker, unlessHung: finished)
        #expect(finished)
        #expect(sleeps, "the idle worker never slept: state \(threadState(worker.threadID) ?? "?")")
    }
}


/// A thread's scheduler state letter (R running, S sleeping, …) from /proc.
func threadState(_ tid: Int32) -> Character? {
    guard let text = try? String(contentsOfFile: "/proc/self/task/\(tid)/stat", encoding: .utf8),
          let close = text.lastIndex(of: ")") else { return nil }
    return text[text.index(after: close)...].first { $0 != " " }
}
