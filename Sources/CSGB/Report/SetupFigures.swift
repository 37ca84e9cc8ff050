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
    /// Where the actors run in processes of their own: what those processes hold
    /// at the gate, beyond the memory they share with this one.
    public var elsewhere: Elsewhere

    public enum Elsewhere: Sendable, Equatable {
        /// Every actor lives in this process.
        case none
        /// The anonymous memory of the actor processes and their host, each page
        /// counted once (their Pss_Anon).
        case measured(bytes: Int, processes: Int)
        /// It could not be read: memory per actor is then unknown, not this
        /// process's share alone.
        case unreadable(String)
    }

    public init(seconds: Double, residentBytesBefore: Int, residentBytesAtGate: Int, actors: Int, raisedLimits: [RaisedLimit],
                elsewhere: Elsewhere = .none) {
        self.seconds = seconds
        self.residentBytesBefore = residentBytesBefore
        self.residentBytesAtGate = residentBytesAtGate
        self.actors = actors
        self.raisedLimits = raisedLimits
        self.elsewhere = elsewhere
    }

    /// What one actor added to the resident set: its stack pages touched so far, its
    /// task or thread, its slot, its share of the kernel objects' user-side state;
    /// in process mode also its own process's memory.
    public var memoryPerActorBytes: Double? {
        guard actors > 0 else { return nil }
        let outside: Int
        switch elsewhere {
        case .none: outside = 0
        case .measured(let bytes, _): outside = bytes
        case .unreadable: return nil
        }
        return Double(residentBytesAtGate - residentBytesBefore + outside) / Double(actors)
    }

    /// The actor processes' own memory, when they have processes of their own.
    public var actorProcessBytes: Int? {
        if case .measured(let bytes, _) = elsewhere { return bytes }
        return nil
    }

    public var limitsText: String {
        raisedLimits.isEmpty ? "none raised" : "raised " + raisedLimits.map(\.text).joined(separator: ", ")
    }

    var textRows: [(String, String)] {
        [
            ("set-up", "\(Fmt.fixed(seconds, 3)) s to get \(Fmt.whole(Double(actors))) actors to the gate"),
            ("memory/actor", memoryText),
            ("limits", limitsText),
        ]
    }

    private var memoryText: String {
        if case .unreadable(let reason) = elsewhere { return "unknown: \(reason)" }
        guard let perActor = memoryPerActorBytes else { return "n/a" }
        let how: String
        if case .measured(_, let processes) = elsewhere {
            how = "this process at the gate minus before the actors, plus the anonymous memory (Pss_Anon) of the \(Fmt.whole(Double(processes - 1))) actor processes and their host"
        } else {
            how = "at the gate, minus before the actors"
        }
        return "\(Fmt.bytes(Int(perActor.rounded()))) resident (\(how), over \(Fmt.whole(Double(actors))) actors)"
    }
}
