/// N socket pairs; each pair echoes one byte. One iteration is one round trip:
/// exactly two write(2) and two read(2) of one byte, in every mode.
public struct SocketEcho: Workload {
    public init() {}
    public var name: String { "socket" }
    public var supportedModes: Set<Mode> { [.thread, .green, .async] }
    public func descriptors(n: Int) -> Int { 2 * n }

    public func makeActors(n: Int, touches: Bool, resources: WorkloadResources) throws(SystemError) -> [ActorPlan] {
        let touch: [Operation] = touches ? [.touch] : []
        // The peer reads only after it was woken, so in green and async modes the
        // byte is always there and the non-blocking read never sees EAGAIN.
        let initiator: [Operation] = touch + [.write, .wakePeer, .waitPeer, .read]
        let responder: [Operation] = [.waitPeer, .read] + touch + [.write, .wakePeer]
        var actors: [ActorPlan] = []
        actors.reserveCapacity(2 * n)
        for pair in 0..<n {
            let sockets = try resources.socketPair()
            actors.append(ActorPlan(name: "socket pair \(pair) initiator", script: initiator, countsIterations: true,
                                    peer: 2 * pair + 1, group: pair, socket: sockets.first))
            actors.append(ActorPlan(name: "socket pair \(pair) responder", script: responder, countsIterations: false,
                                    peer: 2 * pair, group: pair, socket: sockets.second))
        }
        return actors
    }
}
