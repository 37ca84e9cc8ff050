/// Placeholder until the green-thread mode lands (issue 4).
final class GreenMode: ModeRunner {
    init(_ configuration: RunConfiguration) {}
    var threadCount: Int { 0 }
    var startedThreads: Int { 0 }
    func prepare(_ context: RunContext) throws { throw CSGBError.usage("--mode green: not built yet") }
    func start(_ context: RunContext) throws {}
    func interrupt(_ context: RunContext) {}
    func join() {}
}
