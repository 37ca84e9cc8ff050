import CSGBSystem

/// N futex ping-pong pairs. The initiator stores 1 and wakes its peer, then sleeps
/// until the word is back to 0; one iteration is one round trip.
public struct FutexPingPong: Workload {
    public static let command = WorkloadCommandInfo(
        name: "futex",
        abstract: "N futex ping-pong pairs; each side blocks in FUTEX_WAIT, so only modes whose actors may block run it.",
        countHelp: "Futex pairs (2N threads).",
        unit: "pair",
        iteration: "one round trip of one pair")

    public init() {}
    public init(_ parameters: WorkloadParameters) {}
    public func descriptors(n: Int) -> Int { 0 }

    public func scripts(touches: Bool) -> [[Operation]] {
        let touch: [Operation] = touches ? [.touch] : []
        return [touch + [.futexPost(1), .futexAwait(0)], [.futexAwait(1)] + touch + [.futexPost(0)]]
    }

    public func makeActors(n: Int, touches: Bool, resources: WorkloadResources) throws(SystemError) -> [ActorPlan] {
        let scripts = scripts(touches: touches)
        let words = resources.futexWords(n)
        var actors: [ActorPlan] = []
        for pair in 0..<n {
            actors.append(ActorPlan(name: "futex pair \(pair) initiator", script: scripts[0], countsIterations: true,
                                    peer: 2 * pair + 1, group: pair, futex: words[pair]))
            actors.append(ActorPlan(name: "futex pair \(pair) responder", script: scripts[1], countsIterations: false,
                                    peer: 2 * pair, group: pair, futex: words[pair]))
        }
        return actors
    }
}
