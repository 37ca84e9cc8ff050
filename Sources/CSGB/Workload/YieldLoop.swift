/// N actors, each yielding in a loop. One iteration is one yield of one actor.
public struct YieldLoop: Workload {
    public init() {}
    public var name: String { "yield" }
    public var supportedModes: Set<Mode> { [.thread, .green, .async] }
    public func descriptors(n: Int) -> Int { 0 }

    public func makeActors(n: Int, touches: Bool, resources: WorkloadResources) throws(SystemError) -> [ActorPlan] {
        let script: [Operation] = (touches ? [.touch] : []) + [.yield]
        return (0..<n).map {
            ActorPlan(name: "yielder \($0)", script: script, countsIterations: true, peer: nil, group: $0)
        }
    }
}
