import CSGBSystem

/// A stop signal that lands while the run is still being prepared (buffers faulting
/// in, stacks mapped, threads starting) ends it there: a report of a window that
/// never opened would only mislead ("0 OS threads … after 0.10 s warm-up").
enum StopBeforeStart {
    static func check(_ stage: String) throws(CSGBError) {
        guard StopRequest.isRequested else { return }
        let signal = StopSignal.received ?? "a stop request"
        throw .interrupted("stopped by \(signal) before the run started (while \(stage)); nothing was measured")
    }
}
