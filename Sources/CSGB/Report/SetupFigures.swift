import CSGBSystem

/// What it cost to get the actors to the gate: the time, the memory, and the
/// per-process limits csgb raised on the way. At a million actors these, not the
/// window, decide whether a design fits a machine.
public struct SetupFigures: Sendable {
    /// From the start of the run to every actor waiting at the gate: kernel objects,
    /// buffers, stacks, threads.
    public var seconds: Double
    /// Resident memory before the actors existed and with all of them at the gate.
    public var residentBytesBefore: Int
    public var residentBytesAtGate: Int
    public var actors: Int
    public var raisedLimits: [RaisedLimit]

    public init(seconds: Double, residentBytesBefore: Int, residentBytesAtGate: Int, actors: Int, raisedLimits: [RaisedLimit]) {
        self.seconds = seconds
        self.residentBytesBefore = residentBytesBefore
        self.residentBytesAtGate = residentBytesAtGate
        self.actors = actors
        self.raisedLimits = raisedLimits
    }

    /// What one actor added to the resident set: its stack pages touched so far, its
    /// task or thread, its slot, its share of the kernel objects' user-side state.
    public var memoryPerActorBytes: Double? {
        actors > 0 ? Double(residentBytesAtGate - residentBytesBefore) / Double(actors) : nil
    }

    public var limitsText: String {
        raisedLimits.isEmpty ? "none raised" : "raised " + raisedLimits.map(\.text).joined(separator: ", ")
    }

    var textRows: [(String, String)] {
        [
            ("set-up", "\(Fmt.fixed(seconds, 3)) s to get \(Fmt.grouped(Double(actors))) actors to the gate"),
            ("memory/actor", memoryPerActorBytes.map {
                "\(Fmt.bytes(Int($0.rounded()))) resident (at the gate, minus before the actors, over \(Fmt.grouped(Double(actors))) actors)"
            } ?? "n/a"),
            ("limits", limitsText),
        ]
    }
}
