import CSGBSystem

/// What this build of csgb can run, for `csgb info --format json`: experiment drivers
/// read their lists of modes, workloads, transports and io paths from here instead of
/// repeating them.
public enum Capabilities {
    /// Every workload command, with its default settings.
    public static var workloads: [any Workload] { WorkloadRegistry.defaults }

    public static var json: JSON {
        .object([
            ("modes", .array(Mode.allCases.map { .string($0.rawValue) })),
            ("mode_facts", .array(Mode.allCases.map(facts))),
            ("executors", .array(ExecutorChoice.allCases.map { .string($0.rawValue) })),
            ("io", .array(IOChoice.allCases.map { .string($0.rawValue) })),
            ("transports", .array(ByteChannel.Kind.allCases.map { .string($0.rawValue) })),
            ("workloads", .array(workloads.map { workload in
                .object([
                    ("name", .string(workload.name)),
                    ("modes", .array(Mode.allCases.filter { $0.runs(workload) }.map { .string($0.rawValue) })),
                    ("unit", .string(type(of: workload).command.unit)),
                    ("transports", !type(of: workload).command.movesBytes ? .array([]) : .array(ByteChannel.Kind.allCases.map { .string($0.rawValue) })),
                ])
            })),
        ])
    }

    /// What a mode declares, so that drivers and plots never restate it: who switches,
    /// its colour, what carries its actors, the workloads it runs, and each
    /// option whose rule asks the mode (`OptionRules`) with nil (given its meaning) or
    /// the refusal a run of the default configuration would give.
    static func facts(_ mode: Mode) -> JSON {
        let options = OptionRules.modeFacts(mode).map { ($0.option, $0.refusal.map { JSON.string($0) } ?? .null) }
        return .object([
            ("name", .string(mode.rawValue)),
            ("summary", .string(mode.summary)),
            ("colour", .string(mode.colour)),
            ("actor", .string(mode.actorKind)),
            ("carrier", .string(mode.traits.carrier)),
            ("kernel_switching", .bool(mode.kernelSwitching)),
            ("switches_address_space", .bool(mode.switchesAddressSpace)),
            ("actors_in_this_process", .bool(mode.traits.actorsInThisProcess)),
            ("has_workers", .bool(mode.hasWorkers)),
            ("workloads", .array(workloads.filter { mode.runs($0) }.map { .string($0.name) })),
            ("options", .object(options)),
        ])
    }
}
