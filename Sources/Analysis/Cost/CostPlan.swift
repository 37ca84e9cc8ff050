import CSGB

/// Which two modes `csgb cost` may compare, from the modes' own declarations: the
/// first must switch through the kernel, and both must issue the same syscalls per
/// iteration (their claims), or their difference would be the syscalls' and not the
/// switches'. No mode is named here.
public enum CostPlan {
    /// Why `kernel` against `user` cannot give a cost per switch of `kernel`'s
    /// switches, or nil when it can. Both configurations are the same workload and
    /// options with only the mode changed, and each already passed `validatePlan`.
    public static func refusal(kernel: RunConfiguration, user: RunConfiguration) -> String? {
        let k = kernel.mode, u = user.mode
        if k == u { return "--modes needs two different modes, got \(k.rawValue) twice" }
        if !k.kernelSwitching {
            let kernelModes = Mode.allCases.filter(\.kernelSwitching).map(\.rawValue).joined(separator: ", ")
            return "--modes \(k.rawValue),\(u.rawValue): the first mode must switch through the kernel (\(kernelModes)); \(k.rawValue)'s actors switch in user mode, so there is no kernel switch to price"
        }
        let kc = kernel.claims, uc = user.claims
        if kc.exactSyscalls != uc.exactSyscalls {
            return "--modes \(k.rawValue),\(u.rawValue) are not comparable for this workload: \(k.rawValue) makes \(describe(kc.exactSyscalls)) per iteration and \(u.rawValue) \(describe(uc.exactSyscalls)); the difference would include the syscalls, not only the switches"
        }
        if kc.boundedSyscalls != uc.boundedSyscalls {
            return "--modes \(k.rawValue),\(u.rawValue) are not comparable for this workload: their syscalls are bounded differently (\(describe(kc.boundedSyscalls)) against \(describe(uc.boundedSyscalls)))"
        }
        if !u.kernelSwitching, uc.switches != Claims.Switches.none {
            return "--modes \(k.rawValue),\(u.rawValue): this \(u.rawValue) run does not claim user-mode switching only (\(uc.reasons.last ?? "kernel switches allowed")), so it is no user-mode baseline"
        }
        return nil
    }

    /// The pairs (kernel, user) that `csgb cost` accepts for `configuration`'s
    /// workload and options, in the registry's order.
    public static func validPairs(_ configuration: RunConfiguration) -> [(Mode, Mode)] {
        var pairs: [(Mode, Mode)] = []
        for k in Mode.allCases where k.kernelSwitching {
            for u in Mode.allCases where u != k {
                var kernel = configuration, user = configuration
                kernel.mode = k
                user.mode = u
                guard (try? kernel.validatePlan()) != nil, (try? user.validatePlan()) != nil else { continue }
                if refusal(kernel: kernel, user: user) == nil { pairs.append((k, u)) }
            }
        }
        return pairs
    }

    static func describe(_ syscalls: [String: Double]) -> String {
        syscalls.isEmpty ? "no counted syscall"
            : syscalls.sorted { $0.key < $1.key }.map { "\(Fmt.trimmed($0.value)) \($0.key)" }.joined(separator: " and ")
    }
}
