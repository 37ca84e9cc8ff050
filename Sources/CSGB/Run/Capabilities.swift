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
            ("executors", .array(ExecutorChoice.allCases.map { .string($0.rawValue) })),
            ("io", .array(IOChoice.allCases.map { .string($0.rawValue) })),
            ("transports", .array(ByteChannel.Kind.allCases.map { .string($0.rawValue) })),
            ("workloads", .array(workloads.map { workload in
                .object([
                    ("name", .string(workload.name)),
                    ("modes", .array(Mode.allCases.filter { mode in
                        (try? mode.check(workload, touches: true)) != nil
                    }.map { .string($0.rawValue) })),
                    ("unit", .string(type(of: workload).command.unit)),
                    ("transports", !type(of: workload).command.movesBytes ? .array([]) : .array(ByteChannel.Kind.allCases.map { .string($0.rawValue) })),
                ])
            })),
        ])
    }
}
