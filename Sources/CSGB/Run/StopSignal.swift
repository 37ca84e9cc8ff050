import CSGBSystem

/// The signal that stopped a run, by the name the report prints.
public enum StopSignal {
    /// "SIGINT", "SIGTERM", "SIGQUIT", "SIGHUP"; "duration" when no signal came.
    public static func name(_ signal: Int32) -> String {
        switch signal {
        case 0: return "duration"
        case 1: return "SIGHUP"
        case 2: return "SIGINT"
        case 3: return "SIGQUIT"
        case 15: return "SIGTERM"
        default: return "signal \(signal)"
        }
    }

    /// The signal that stopped this process so far, nil if none.
    public static var received: String? {
        let signal = StopRequest.signal
        return signal == 0 ? nil : name(signal)
    }
}
