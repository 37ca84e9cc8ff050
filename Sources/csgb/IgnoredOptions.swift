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
        if access != nil && workSize.bytes == 0 {
            throw ValidationError("--access applies to --work-size: without a work size nothing is touched")
        }
        if let access, let reason = access.refusal(size: workSize.bytes, stride: stride?.bytes ?? 64) {
            throw ValidationError(reason)
        }
        if io == .direct {
            if ringEntries != nil { throw ValidationError("--ring-entries applies to --io uring only: --io direct has no ring") }
            if sqpoll { throw ValidationError("--sqpoll applies to --io uring only: --io direct has no ring") }
            if fixedFiles { throw ValidationError("--fixed-files applies to --io uring only: --io direct has no ring") }
            if ringSetup != nil { throw ValidationError("--ring-setup applies to --io uring only: --io direct has no ring") }
            if let ringLink {
                throw ValidationError("--\(ringLink ? "" : "no-")ring-link applies to --io uring only: --io direct has no ring")
            }
        }
    }

    /// The options whose meaning is the mode's, asked of the mode; and per-CPU
    /// counters, which count only what is pinned, against a mode whose actors run on
    /// threads the run does not own.
    func checkAgainstMode(_ configuration: RunConfiguration) throws {
        var given = Set<ModeOption>()
        if workers != nil { given.insert(.workers) }
        if stackSize != nil { given.insert(.stackSize) }
        if executor != nil { given.insert(.executor) }
        do {
            try configuration.checkOptions(given: given)
        } catch {
            throw ValidationError(error.description)
        }
        if !configuration.threadSettings.isEmpty && !configuration.ownsItsThreads {
            throw ValidationError("--sched and --spec set the threads that carry actors, and this run's actors also run on threads csgb does not own (Swift's global executor); use --executor dedicated")
        }
        if counters != nil && !configuration.actorsInThisProcess {
            throw ValidationError("--counters counts csgb's own threads and getrusage, and the actors of --mode \(configuration.mode.rawValue) are other processes; csgb stat counts the whole process tree")
        }
        if counters == .cpu && !configuration.ownsItsThreads {
            throw ValidationError("--counters cpu needs every thread of the run pinned, and this run's actors also run on threads csgb does not own; use --counters thread")
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
