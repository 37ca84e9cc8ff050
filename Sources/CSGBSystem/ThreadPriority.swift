#if canImport(Glibc)
import Glibc
#endif
import CCSGB

/// The calling thread's nice value (Linux keeps one per thread).
public enum ThreadPriority {
    /// The nice value now; 0 when it cannot be read.
    public static func current() -> Int32 {
        // getpriority returns -1 both as a value and as an error; errno tells them apart.
        errno = 0
        let value = getpriority(which, id_t(csgb_gettid()))
        return value == -1 && errno != 0 ? 0 : value
    }

    /// Sets the nice value; false when not permitted (raising needs root or CAP_SYS_NICE).
    @discardableResult
    public static func set(_ nice: Int32) -> Bool {
        setpriority(which, id_t(csgb_gettid()), nice) == 0
    }
}

private let which = __priority_which_t(PRIO_PROCESS.rawValue)
