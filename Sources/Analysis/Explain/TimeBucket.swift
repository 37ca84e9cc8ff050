import CSGB
/// Where a sample's time goes, decided from its whole call chain (leaf first).
public enum TimeBucket: String, CaseIterable, Sendable {
    case scheduler
    case wakeUps
    case syscallEntry
    case socket
    case swiftRuntime
    case csgb
    case other

    public var title: String {
        switch self {
        case .scheduler: "scheduler (__schedule and below)"
        case .wakeUps: "wake-ups"
        case .syscallEntry: "syscall entry/exit"
        case .socket: "socket work"
        case .swiftRuntime: "Swift runtime"
        case .csgb: "csgb code"
        case .other: "other"
        }
    }

    public var jsonKey: String {
        switch self {
        case .scheduler: "scheduler"
        case .wakeUps: "wake_ups"
        case .syscallEntry: "syscall_entry_exit"
        case .socket: "socket"
        case .swiftRuntime: "swift_runtime"
        case .csgb: "csgb"
        case .other: "other"
        }
    }

    /// The rules, in order; the first that matches wins.
    /// - scheduler: `__schedule` anywhere on the chain, so the switch, the
    ///   accounting and the irq-off tail that a VM's timer sample lands on after
    ///   it (`finish_task_switch`) all count here.
    /// - wake-ups: waking a sleeper (`try_to_wake_up`, the socket's wait-queue
    ///   callbacks) outside `__schedule`.
    /// - syscall entry/exit: a leaf in the kernel's entry and return paths, or in
    ///   libc's syscall wrappers (with their cancellation bracket).
    /// - socket work: any other kernel leaf under read/write of a socket or pipe.
    /// - Swift runtime, csgb: a user leaf in libswift* or in the executable.
    /// - other: everything else (timer interrupts, page faults, the rest of libc).
    public static func classify(_ frames: [PerfSample.Frame], executable: String) -> TimeBucket {
        var sawWake = false
        for frame in frames where frame.isKernel {
            if frame.symbol == "__schedule" { return .scheduler }
            if !sawWake && wakePrefixes.contains(where: { frame.symbol.hasPrefix($0) }) { sawWake = true }
        }
        if sawWake { return .wakeUps }
        guard let leaf = frames.first else { return .other }
        if leaf.isKernel {
            if entryPrefixes.contains(where: { leaf.symbol.hasPrefix($0) }) { return .syscallEntry }
            let underIO = frames.contains { frame in
                frame.isKernel && socketPrefixes.contains(where: { frame.symbol.hasPrefix($0) })
            }
            return underIO ? .socket : .other
        }
        let dso = leaf.dsoName
        if dso.hasPrefix("libswift") || dso.hasPrefix("libFoundation") || dso.hasPrefix("libdispatch") { return .swiftRuntime }
        if dso == executable { return .csgb }
        if dso.hasPrefix("libc.so") || dso.hasPrefix("libc-") {
            return libcSyscallWrappers.contains(leaf.symbol) ? .syscallEntry : .other
        }
        return .other
    }

    static let wakePrefixes = ["try_to_wake_up", "ttwu_", "__wake_up", "wake_up_", "sock_def_readable", "unix_write_space",
                               "autoremove_wake_function", "default_wake_function", "pollwake", "wake_q_"]
    static let entryPrefixes = ["entry_SYSCALL", "entry_SYSRET", "do_syscall_64", "syscall_exit", "syscall_enter",
                                "exit_to_user_mode", "syscall_return", "x64_sys_call", "__x64_sys_", "__fdget", "fdget",
                                "fput", "__fget", "rseq_", "__rseq", "restore_regs_and_return", "native_irq_return",
                                "irqentry_exit", "switch_fpu_return", "fpregs_"]
    static let socketPrefixes = ["ksys_read", "ksys_write", "vfs_read", "vfs_write", "sock_", "unix_", "tcp_",
                                 "pipe_", "__sys_sendto", "__sys_recvfrom", "new_sync_read", "new_sync_write"]
    static let libcSyscallWrappers: Set<String> = ["read", "write", "__read", "__write", "__libc_read", "__libc_write",
                                                   "__GI___libc_read", "__GI___libc_write", "syscall", "sched_yield",
                                                   "__GI___sched_yield", "__sched_yield", "__GI___read", "__GI___write",
                                                   // The cancellation bracket around every blocking wrapper; in a VM
                                                   // the timer's samples land here right after the syscall returns.
                                                   "__GI___pthread_disable_asynccancel", "__GI___pthread_enable_asynccancel",
                                                   "__pthread_disable_asynccancel", "__pthread_enable_asynccancel"]
}
