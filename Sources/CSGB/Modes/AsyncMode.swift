/// Placeholder until the async mode lands (issue 5).
final class AsyncMode: ModeRunner {
    init(_ configuration: RunConfiguration) {}
    var threadCount: Int { 0 }
    var startedThreads: Int { 0 }
    func prepare(_ context: RunContext) throws { throw CSGBError.usage("--mode async: not built yet") }
    func start(_ context: RunContext) throws {}
    func interrupt(_ context: RunContext) {}
    func join() {}
}
