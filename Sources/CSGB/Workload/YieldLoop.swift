import CSGBSystem

/// N actors, each yielding in a loop. One iteration is one yield of one actor.
public struct YieldLoop: Workload {
    public init() {}
    public var name: String { "yield" }
    public func descriptors(n: Int) -> Int { 0 }

    public func scripts(touches: Bool) -> [[Operation]] {
        [(touches ? [.touch] : []) + [.yield]]
    }

    public func makeActors(n: Int, touches: Bool, resources: WorkloadResources) throws(SystemError) -> [ActorPlan] {
        let script = scripts(touches: touches)[0]
        return (0..<n).map {
            ActorPlan(name: "yielder \($0)", script: script, countsIterations: true, peer: nil, group: $0)
        }
    }
}
