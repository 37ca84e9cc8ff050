import CSGBSystem
/// Why a run could not start or finish, with the exit code the tool uses for it
/// (sysexits.h where one fits).
public enum CSGBError: Error, Equatable, CustomStringConvertible {
    /// Bad input: exit 64 (EX_USAGE), nothing started.
    case usage(String)
    /// A required tool or permission is missing: exit 69 (EX_UNAVAILABLE).
    case unavailable(String)
    /// A limit of the machine stops the run: exit 71 (EX_OSERR), with how to raise it.
    case limit(String)
    /// A system call failed: exit 71 (EX_OSERR).
    case system(SystemError)
    /// `csgb stat` found the mode's expectation broken: exit 3.
    case verificationFailed(String)
    /// The report could not be written (a full disk, a closed stdout): exit 74 (EX_IOERR).
    case lostOutput(String)
    /// A stop signal came before anything could be measured (a run stopped while it
    /// was being prepared, a `csgb stat` stopped before any complete window): exit 130,
    /// the shell's code for a command ended by SIGINT.
    case interrupted(String)

    public var exitCode: Int32 {
        switch self {
        case .usage: return 64
        case .unavailable: return 69
        case .limit, .system: return 71
        case .verificationFailed: return 3
        case .lostOutput: return 74
        case .interrupted: return 130
        }
    }

    public var description: String {
        switch self {
        case .usage(let m), .unavailable(let m), .limit(let m), .verificationFailed(let m), .lostOutput(let m),
             .interrupted(let m): return m
        case .system(let e): return e.description
        }
    }
}
