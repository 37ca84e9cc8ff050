import CCSGB

/// `--spec`: the per-task speculation controls of PR_SET_SPECULATION_CTRL. Each is
/// set on an actor's thread before the gate and read back with PR_GET.
public enum SpeculationControl: String, CaseIterable, Sendable, Hashable {
    /// PR_SPEC_INDIRECT_BRANCH force-disabled: the kernel issues an indirect branch
    /// prediction barrier when it switches into or out of the task's address space
    /// (and sets STIBP where SMT is on).
    case ibpb
    /// PR_SPEC_STORE_BYPASS force-disabled: speculative store bypass off (SSBD).
    case ssbd
    /// PR_SPEC_L1D_FLUSH enabled: the L1 data cache is flushed when the task is
    /// switched out.
    case l1dFlush = "l1d-flush"

    var which: Int32 {
        switch self {
        case .ibpb: return CSGB_SPEC_INDIRECT_BRANCH
        case .ssbd: return CSGB_SPEC_STORE_BYPASS
        case .l1dFlush: return CSGB_SPEC_L1D_FLUSH
        }
    }

    /// A bit per control, for shared memory.
    public var bit: UInt64 { 1 << UInt64(which) }

    /// The sysfs file that says how the kernel treats this vulnerability.
    public var sysfsFile: String {
        switch self {
        case .ibpb: return "/sys/devices/system/cpu/vulnerabilities/spectre_v2"
        case .ssbd: return "/sys/devices/system/cpu/vulnerabilities/spec_store_bypass"
        case .l1dFlush: return "/sys/devices/system/cpu/vulnerabilities/l1tf"
        }
    }

    /// The boot option that lets a task ask for it.
    public var bootOption: String {
        switch self {
        case .ibpb: return "spectre_v2_user=prctl (or prctl,ibpb)"
        case .ssbd: return "spec_store_bypass_disable=prctl"
        case .l1dFlush: return "l1d_flush=on (Intel CPUs with L1D flush only)"
        }
    }

    /// The PR_SPEC_* bits of the calling thread, or nil when the kernel has no such
    /// control at all.
    public func state() -> Int32? {
        let bits = csgb_speculation_get(which)
        return bits < 0 ? nil : bits
    }

    /// Whether the kernel lets a task choose (PR_SPEC_PRCTL is set).
    public func isSelectable() -> Bool { (state() ?? 0) & CSGB_PR_SPEC_PRCTL != 0 }

    /// Asks for the control on the calling thread.
    public func request() throws(SystemError) {
        _ = try SystemError.check("prctl(PR_SET_SPECULATION_CTRL, \(rawValue))", csgb_speculation_request(which))
    }

    /// Whether `bits` show the control in force.
    public func isInForce(_ bits: Int32) -> Bool {
        switch self {
        case .ibpb, .ssbd: return bits & (CSGB_PR_SPEC_FORCE_DISABLE | CSGB_PR_SPEC_DISABLE) != 0
        case .l1dFlush: return bits & CSGB_PR_SPEC_ENABLE != 0
        }
    }

    /// PR_GET's bits in words.
    public static func describe(_ bits: Int32) -> String {
        var words: [String] = []
        if bits & CSGB_PR_SPEC_PRCTL != 0 { words.append("prctl") }
        if bits & CSGB_PR_SPEC_ENABLE != 0 { words.append("enable") }
        if bits & CSGB_PR_SPEC_DISABLE != 0 { words.append("disable") }
        if bits & CSGB_PR_SPEC_FORCE_DISABLE != 0 { words.append("force-disable") }
        if bits & CSGB_PR_SPEC_DISABLE_NOEXEC != 0 { words.append("disable-noexec") }
        return words.isEmpty ? "not affected" : words.joined(separator: "+")
    }

    /// The one line for a control this kernel's mode does not let a task choose.
    public func unavailableMessage() -> String {
        let line = ((try? ProcFile.read(sysfsFile)) ?? "unreadable").trimming(.blanks)
        let bits = state().map { "PR_GET_SPECULATION_CTRL says \(SpeculationControl.describe($0)) (\($0))" }
            ?? "PR_GET_SPECULATION_CTRL has no such control"
        return "--spec \(rawValue): this kernel does not let a task choose it (\(bits); \(sysfsFile): \(line)); boot with \(bootOption) to allow it"
    }
}
