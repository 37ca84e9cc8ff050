import ArgumentParser
import CSGB

/// An option that would be accepted and then do nothing is bad input: the user
/// believes it shaped the run. Each is rejected with the reason, as `--executor`
/// with thread mode is.
extension WorkloadOptions {
    func rejectIgnoredOptions() throws {
        if stride != nil && workSize.bytes == 0 {
            throw ValidationError("--stride applies to --work-size: without a work size nothing is touched")
        }
        if stackSize != nil && resolvedMode != .green {
            throw ValidationError("--stack-size sets green thread stacks; --mode \(resolvedMode.rawValue) has none")
        }
        if io == .direct {
            if ringEntries != nil { throw ValidationError("--ring-entries applies to --io uring only: --io direct has no ring") }
            if sqpoll { throw ValidationError("--sqpoll applies to --io uring only: --io direct has no ring") }
            if fixedFiles { throw ValidationError("--fixed-files applies to --io uring only: --io direct has no ring") }
        }
        if workers != nil && resolvedMode == .async && executor == .global {
            throw ValidationError("--workers applies to --executor dedicated; --executor global runs tasks on Swift's own thread pool")
        }
    }

    /// Both ends of a pair share a worker, so a worker beyond the number of pairs
    /// (or yielding actors) would carry nothing and only cost its start-up.
    func rejectIdleWorkers(units: Int, unit: String) throws {
        if let workers, workers > units {
            throw ValidationError("--workers \(workers) is more than the \(units) \(unit)\(units == 1 ? "" : "s") to spread over them; at most \(units) (the others would sit idle)")
        }
    }
}
