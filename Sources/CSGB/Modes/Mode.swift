/// How actors run. The one place outside each mode's own file that names the
/// modes: everything else asks a mode's traits, so adding a mode touches this
/// registry and its own file only.
public enum Mode: String, CaseIterable, Sendable, Hashable {
    /// One kernel thread per actor, blocking syscalls.
    case thread
    /// One process per actor, blocking syscalls: every switch changes address space.
    case process
    /// One green thread per actor on our own stacks, a scheduler per worker.
    case green
    /// One Swift task per actor on a single-thread TaskExecutor per worker.
    case async

    var traits: any ModeTraits.Type {
        switch self {
        case .thread: return ThreadMode.self
        case .process: return ProcessMode.self
        case .green: return GreenMode.self
        case .async: return AsyncMode.self
        }
    }

    func makeRunner(_ configuration: RunConfiguration) -> any ModeRunner {
        switch self {
        case .thread: return ThreadMode()
        case .process: return ProcessMode()
        case .green: return GreenMode(configuration)
        case .async: return AsyncMode(configuration)
        }
    }
}

extension Mode {
    /// Kernel threads of one process with blocking syscalls: what the original csgb's
    /// `--sync` ran, so `--sync` means it, and a run that names no mode gets it.
    public static var synchronous: Mode {
        allCases.first { $0.kernelSwitching && $0.traits.actorsInThisProcess }!
    }

    /// The mode of a run that names none.
    public static var `default`: Mode { synchronous }

    /// What `csgb explain` and `csgb cost` compare when not told: the synchronous
    /// mode against the first mode that switches in user mode with the same syscalls.
    public static var defaultComparison: (kernel: Mode, user: Mode) {
        (synchronous, allCases.first { !$0.kernelSwitching }!)
    }

    /// `defaultComparison` as `--modes` spells it.
    public static var defaultComparisonList: String {
        "\(defaultComparison.kernel.rawValue),\(defaultComparison.user.rawValue)"
    }

    /// Who switches, for `--help`.
    public var summary: String { traits.summary }
    /// The mode's colour in plots (a matplotlib colour).
    public var colour: String { traits.colour }
    /// Whether the kernel scheduler switches between this mode's actors (each blocks
    /// in a syscall), or the actors switch in user mode on their worker.
    public var kernelSwitching: Bool { traits.kernelSwitching }
    /// What one actor is, for the reports and `csgb info`.
    public var actorKind: String { traits.actorKind }
    /// Whether the kernel changes address space at a switch between actors.
    public var switchesAddressSpace: Bool { traits.switchesAddressSpace }
    /// Whether the mode carries its actors on workers (`--workers`).
    public var hasWorkers: Bool { traits.workers(plainConfiguration) != nil }
    /// Whether the mode's rings can link a write to the peer's read (`--ring-link`).
    public var linksRingEntries: Bool {
        var configuration = plainConfiguration
        configuration.io = .uring
        return traits.ringLinkRefusal(configuration) == nil
    }

    /// A run of this mode that asks for nothing else: the first workload, N = 1, and
    /// every option at its default (what `csgb info` and the help describe).
    var plainConfiguration: RunConfiguration {
        var configuration = RunConfiguration(workload: WorkloadRegistry.defaults[0], n: 1)
        configuration.mode = self
        return configuration
    }

    /// This mode's refusal of `option` in a run that asks for nothing else.
    func refusal(_ option: ModeOption) -> String? { traits.refusal(option, plainConfiguration) }

    /// Rejects a plan whose scripts use an operation this mode cannot interpret,
    /// before any kernel object or thread exists.
    func check(_ workload: any Workload, touches: Bool) throws(CSGBError) {
        for script in workload.scripts(touches: touches) {
            for operation in script {
                if let reason = traits.refusal(operation) {
                    throw .usage("--mode \(rawValue) cannot run \(workload.name): \(reason)")
                }
            }
        }
    }

    /// Whether this mode can interpret every script of `workload`.
    public func runs(_ workload: any Workload) -> Bool { (try? check(workload, touches: true)) != nil }
}
