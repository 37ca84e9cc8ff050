import CCSGB

/// The process's stop request: set by the SIGINT, SIGTERM, SIGQUIT and SIGHUP
/// handlers, read by the coordinator and every actor loop. The state lives in C
/// because a signal handler may touch nothing else. The csgb program installs the
/// handlers before its main runs, so a stop in its first milliseconds is kept.
public enum StopRequest {
    /// Installs the four handlers (again) and says the command ends its work on the
    /// flag; from then on a stop signal ends the run instead of the process.
    public static func installHandlers() throws(SystemError) {
        if csgb_install_stop_handlers() != 0 { throw SystemError("sigaction") }
    }

    /// Stops the run as a stop signal would, without one (`signal` stays 0): for a
    /// run that cannot go on because one of its processes died.
    public static func request() { csgb_request_stop() }

    /// Whether a stop signal arrived. Cheap enough for a hot loop.
    @inlinable public static var isRequested: Bool { csgb_stop_requested() != 0 }

    /// The signal number that stopped the run, 0 when none came.
    public static var signal: Int32 { csgb_stop_signal() }

    /// Sleeps until a stop is requested or `seconds` pass (nil: until the stop).
    /// Returns true if the stop came.
    @discardableResult
    public static func sleep(seconds: Double?) -> Bool {
        csgb_sleep_until_stop(seconds ?? -1) != 0
    }

    /// How often the process was continued (SIGCONT) after a SIGSTOP or SIGTSTP.
    public static var continueCount: Int { Int(csgb_continue_count()) }

    /// SIGCONTs handled from `start` to before `end` (monotonic ns), leaving out the
    /// one the stop signal's sender sends right after it (GNU timeout does).
    public static func continues(from start: Int64, to end: Int64) -> Int {
        Int(csgb_continues_between(start, end, followNanoseconds))
    }

    /// How close to the stop signal its sender's SIGCONT counts as part of it.
    public static let followNanoseconds: Int64 = 100_000_000

    /// When the first stop signal was handled (monotonic ns), nil before one came.
    public static var signalTime: Int64? {
        let time = csgb_stop_signal_time()
        return time == 0 ? nil : time
    }

    /// A write racing the peer's close returns EPIPE instead of killing the process.
    public static func ignoreBrokenPipes() { csgb_ignore_sigpipe() }
}
