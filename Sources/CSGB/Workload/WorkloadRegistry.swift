/// Every workload csgb runs. The subcommands, `csgb info`, `csgb stat`'s messages
/// and the sweeps' lists all come from here: a new workload is its own file plus
/// one line below.
public enum WorkloadRegistry {
    public static let all: [any Workload.Type] = [
        SocketEcho.self,
        YieldLoop.self,
        FutexPingPong.self,
    ]

    /// The subcommand names, in registry order.
    public static var names: [String] { all.map { $0.command.name } }

    /// Each workload with the command line's default parameters.
    public static var defaults: [any Workload] { all.map { $0.init(WorkloadParameters()) } }
}
