import CSGBSystem

/// N pairs echo one byte over a channel (`--transport`: Unix socketpair, two pipes,
/// TCP over loopback). One iteration is one round trip: exactly two writes and two
/// reads of one byte, in every mode.
public struct SocketEcho: Workload {
    public let transport: ByteChannel.Kind?

    public static let command = WorkloadCommandInfo(
        name: "socket",
        abstract: "N socket pairs; each pair echoes 1 byte (2 writes and 2 reads per round trip).",
        countHelp: "Socket pairs (2N actors).",
        unit: "pair",
        iteration: "one round trip of one pair",
        movesBytes: true)

    public init(transport: ByteChannel.Kind = .unix) { self.transport = transport }
    public init(_ parameters: WorkloadParameters) { self.init(transport: parameters.transport) }

    public func descriptors(n: Int) -> Int {
        // TCP adds the listener, open while the pairs connect.
        n * ByteChannel.descriptorCount(transport ?? .unix) + (transport == .tcp ? 1 : 0)
    }

    public func scripts(touches: Bool) -> [[Operation]] {
        let touch: [Operation] = touches ? [.touch] : []
        // The peer reads only after it was woken, so where reads do not block the
        // byte is always there and a non-blocking read never sees EAGAIN.
        let initiator: [Operation] = touch + [.write, .wakePeer, .waitPeer, .read]
        let responder: [Operation] = [.waitPeer, .read] + touch + [.write, .wakePeer]
        return [initiator, responder]
    }

    public func makeActors(n: Int, touches: Bool, resources: WorkloadResources) throws(SystemError) -> [ActorPlan] {
        let scripts = scripts(touches: touches)
        var actors: [ActorPlan] = []
        actors.reserveCapacity(2 * n)
        for pair in 0..<n {
            let channel = try resources.channel(transport ?? .unix)
            actors.append(ActorPlan(name: "socket pair \(pair) initiator", script: scripts[0], countsIterations: true,
                                    peer: 2 * pair + 1, group: pair, channel: channel.first))
            actors.append(ActorPlan(name: "socket pair \(pair) responder", script: scripts[1], countsIterations: false,
                                    peer: 2 * pair, group: pair, channel: channel.second))
        }
        return actors
    }
}
