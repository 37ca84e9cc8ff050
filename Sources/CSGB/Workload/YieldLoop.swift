import CSGBSystem

/// N actors, each yielding in a loop. One iteration is one yield of one actor.
public struct YieldLoop: Workload {
    public static let command = WorkloadCommandInfo(
        name: "yield",
        abstract: "N actors, each yielding in a loop (sched_yield, a green yield, or Task.yield).",
        countHelp: "Actors.",
        unit: "actor",
        iteration: "one yield of one actor")

    public init() {}
    public init(_ parameters: WorkloadParameters) {}
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
