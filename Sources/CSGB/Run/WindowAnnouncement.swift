import CSGBSystem

/// Hidden `--window-file PATH`: the run writes `ready` to PATH when every actor
/// waits at the gate (the warm-up follows at once) and `open` as its window opens,
/// so a test (or a script) can act in the warm-up or inside the window by waiting
/// for the file instead of guessing with a sleep how long the set-up takes.
public final class WindowAnnouncement: WindowObserver {
    private let path: String

    public init(path: String) { self.path = path }

    public func windowWillPrepare(threads: [Int32]) throws {
        try FileDescriptor.writeFile(path, "ready\n")
    }

    public func windowWillOpen(threads: [Int32]) throws {
        try FileDescriptor.writeFile(path, "open\n")
    }

    public func windowDidClose() {}
}
