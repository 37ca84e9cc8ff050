import CSGBSystem

/// A micro workload: how many actors it has, what each one does per iteration, and
/// which kernel objects they share. It knows nothing about how actors run: modes
/// declare which operations they can interpret, and the run checks the scripts
/// against the mode before anything starts.
public protocol Workload: Sendable {
    /// How the workload appears on the command line, in `csgb info` and in the sweeps.
    static var command: WorkloadCommandInfo { get }
    /// The workload as the command line's parameters shape it.
    init(_ parameters: WorkloadParameters)
    /// The command name: `socket`, `yield`, `futex`.
    var name: String { get }
    /// What carries the bytes, for workloads that move any (`--transport`).
    var transport: ByteChannel.Kind? { get }
    /// Descriptors the plan opens for `n`, checked against RLIMIT_NOFILE first.
    func descriptors(n: Int) -> Int
    /// The scripts of one group (a pair, or one actor), for the check against the
    /// mode and the claims before any kernel object exists. The first script is the
    /// group's one actor that counts iterations.
    func scripts(touches: Bool) -> [[Operation]]
    /// Creates the kernel objects and the actors' scripts.
    func makeActors(n: Int, touches: Bool, resources: WorkloadResources) throws(SystemError) -> [ActorPlan]
}

extension Workload {
    public var name: String { Self.command.name }
    /// Actors of a plan of `n`: one per script of a group, `n` groups.
    public func actors(n: Int) -> Int { n * scripts(touches: false).count }
    public var transport: ByteChannel.Kind? { nil }
}

/// What the command line says of a workload: its subcommand, its help, and what
/// its N counts.
public struct WorkloadCommandInfo: Sendable {
    /// The subcommand: `socket`.
    public let name: String
    /// One line for `csgb --help`.
    public let abstract: String
    /// The help of the N argument.
    public let countHelp: String
    /// What N counts, singular: "pair", "actor".
    public let unit: String
    /// What one iteration is, for the reports' help: "one round trip of one pair".
    public let iteration: String
    /// Whether it moves bytes over a channel, and so takes `--transport`.
    public let movesBytes: Bool

    public init(name: String, abstract: String, countHelp: String, unit: String, iteration: String, movesBytes: Bool = false) {
        self.name = name
        self.abstract = abstract
        self.countHelp = countHelp
        self.unit = unit
        self.iteration = iteration
        self.movesBytes = movesBytes
    }
}

/// The command line's parameters that shape a workload (not how it runs).
public struct WorkloadParameters: Sendable {
    /// `--transport`, for workloads that move bytes.
    public var transport: ByteChannel.Kind

    public init(transport: ByteChannel.Kind = .unix) { self.transport = transport }
}

