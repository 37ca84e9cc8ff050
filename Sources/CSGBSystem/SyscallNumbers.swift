import CCSGB

/// Syscall numbers of this architecture, by the names the syscall tracepoints use.
public enum SyscallNumbers {
    /// `read` → 0 on x86-64; nil for a call this architecture lacks or csgb does not know.
    public static func of(_ name: String) -> Int? {
        let number = csgb_syscall_number(name)
        return number < 0 ? nil : Int(number)
    }
}
