import CSGBSystem

/// A stop signal that lands while the run is still being prepared (buffers faulting
/// in, stacks mapped, threads starting) ends it there: a report of a window that
/// never opened would only mislead ("0 OS threads … after 0.10 s warm-up").
enum StopBeforeStart {
    static func check(_ stage: String) throws(CSGBError) {
        guard StopRequest.isRequested else { return }
        throw interrupted(stage)
    }

    static func interrupted(_ stage: String) -> CSGBError {
        let signal = StopSignal.received ?? "a stop request"
        return .interrupted("stopped by \(signal) before the run started (while \(stage)); nothing was measured")
    }

    /// A set-up call that failed because the stop interrupted it (connect or accept
    /// returning EINTR) is the stop, not a failure of the machine.
    static func failure(_ error: SystemError, while stage: String, stopRequested: Bool = StopRequest.isRequested) -> CSGBError {
        stopRequested ? interrupted(stage) : .system(error)
    }

    /// What the set-up was doing, in the words of the stop message.
    static func setUpStage(_ configuration: RunConfiguration) -> String {
        let channels = configuration.workload.transport.map { "opening \(configuration.n) \($0.rawValue) channel sets" }
            ?? "making \(configuration.n) \(configuration.workload.name) actor sets"
        return configuration.workSize > 0
            ? "\(channels) and faulting in \(ByteSize(bytes: configuration.workSize)) buffers" : channels
    }
}
