#if canImport(Glibc)
import Glibc
#endif
import CSGB
import CSGBSystem

/// The folder one `csgb explain` run writes its flame graphs, folded stacks,
/// timeline and report into. It is made, claimed and proven writable before
/// anything is measured, never receives a second report over a first, and is
/// taken back when the run writes nothing or fails half-way.
///
/// Two runs started at once on the same `--out` both see it missing or empty: the
/// claim, a `.claimed` file created with O_EXCL (as experiments/lib/results_folder.py
/// claims a sweep's folder), lets exactly one of them have it, and the other goes
/// beside it as a run finding files there does. The claim is removed once the
/// report is whole; a run killed before that leaves it, so later runs go beside.
public final class ResultsFolder {
    public let path: String
    /// The folder asked for, when this run went beside it.
    public private(set) var requested: String?
    /// Why it went beside the folder asked for: "already held files, kept as they
    /// were", or "was claimed by another run (csgb explain, pid 123)".
    public private(set) var besideReason: String?
    /// Room the report needs at the least: three flame graphs, the folded stacks and
    /// the timeline of a busy run take about 1 MiB.
    public static let minimumFreeBytes: UInt64 = 2 << 20
    /// The claim file's name, the one the experiments' drivers use.
    public static let claimName = ".claimed"
    private var created: [String] = []
    private var written: [String] = []
    private var claimPath: String?

    /// Picks, creates, claims and checks the folder. A folder that exists and holds
    /// files keeps them, and one another run has claimed is left to it: the report
    /// goes to `NAME-2` (or the first free `NAME-k`) beside it.
    public init(_ requestedPath: String, minimumFreeBytes: UInt64 = ResultsFolder.minimumFreeBytes,
                owner: String = "csgb explain") throws(CSGBError) {
        guard !requestedPath.isEmpty else {
            throw .usage("--out needs a folder name; an empty one would write into the current folder's parent or /")
        }
        let base = requestedPath.count > 1 && requestedPath.hasSuffix("/") ? String(requestedPath.dropLast()) : requestedPath
        var chosen = base
        var suffix = 2
        var reason: String?
        while true {
            // A folder seen to hold files is passed over without a claim file put in it.
            if FileDescriptor.exists(chosen) && !Self.isEmptyFolder(chosen) {
                reason = reason ?? Self.heldBy(chosen)
            } else {
                let made: [String]
                do {
                    made = try FileDescriptor.makeDirectories(chosen)
                } catch {
                    throw .lostOutput("cannot create the results folder \(chosen): \(error.errno)")
                }
                if !FileDescriptor.isDirectory(chosen) {
                    throw .lostOutput("the results folder \(chosen) is not a folder")
                }
                let claim = "\(chosen)/\(Self.claimName)"
                do throws(SystemError) {
                    // Creating and writing the claim also proves the folder writable.
                    if try FileDescriptor.createNewFile(claim, "\(owner), pid \(getpid())\n") {
                        // Files that a writer which does not claim put there meanwhile stay its own.
                        if Self.holdsOnly(chosen, Self.claimName) {
                            created = made
                            claimPath = claim
                            break
                        }
                        FileDescriptor.remove(claim)
                    }
                } catch {
                    FileDescriptor.remove(claim)
                    for folder in made.reversed() where FileDescriptor.removeEmptyDirectory(folder) == false { break }
                    throw .lostOutput("the results folder \(chosen) cannot take the report: \(error.description)")
                }
                reason = reason ?? Self.heldBy(chosen)
            }
            chosen = "\(base)-\(suffix)"
            suffix += 1
        }
        path = chosen
        requested = chosen == base ? nil : base
        besideReason = requested == nil ? nil : reason
        do throws(SystemError) {
            let free = try FileDescriptor.availableBytes(path)
            if free < minimumFreeBytes {
                throw SystemError("only \(free / 1024) KiB free of the \(minimumFreeBytes / 1024) KiB the report needs at the least; free some space or choose another --out",
                                  .noSpace)
            }
        } catch {
            discard()
            throw .lostOutput("the results folder \(path) cannot take the report: \(error.description)")
        }
    }

    /// What keeps `path` from this run, for the note that says where the report went.
    static func heldBy(_ path: String) -> String {
        guard FileDescriptor.isDirectory(path) else { return "is not a folder" }
        if let holder = try? ProcFile.read("\(path)/\(claimName)") {
            let who = holder.trimming(.blanks)
            return "was claimed by another run (\(who.isEmpty ? "no details" : who)); if none runs, remove \(path)/\(claimName)"
        }
        return "already held files, kept as they were"
    }

    static func holdsOnly(_ path: String, _ name: String) -> Bool {
        guard let names = try? ProcFile.listDirectory(path) else { return false }
        return names == [name]
    }

    /// The report is whole: the claim goes, and the folder's files stay.
    public func finish() {
        if let claimPath { FileDescriptor.remove(claimPath) }
        claimPath = nil
        written.removeAll()
        created.removeAll()
    }

    static func isEmptyFolder(_ path: String) -> Bool {
        guard FileDescriptor.isDirectory(path), let names = try? ProcFile.listDirectory(path) else { return false }
        return names.isEmpty
    }

    public func file(_ name: String) -> String { "\(path)/\(name)" }

    public func write(_ name: String, _ text: String) throws(SystemError) {
        written.append(file(name))
        try FileDescriptor.writeFile(file(name), text)
    }

    /// Notes a file something else (the timeline plotter) wrote, so a discard takes it too.
    public func adopt(_ name: String) { written.append(file(name)) }

    /// Takes back what this run wrote and the folders it made (while they are empty),
    /// for a run that stopped or failed before its report was whole.
    public func discard() {
        for path in written { FileDescriptor.remove(path) }
        if let claimPath { FileDescriptor.remove(claimPath) }
        claimPath = nil
        written.removeAll()
        for folder in created.reversed() where FileDescriptor.removeEmptyDirectory(folder) == false { break }
        created.removeAll()
    }

    /// `csgb-explain-20261201-052233`, in UTC, for a run given no `--out`.
    public static func defaultName() -> String {
        var now = time(nil)
        var parts = tm()
        gmtime_r(&now, &parts)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "csgb-explain-\(parts.tm_year + 1900)\(two(parts.tm_mon + 1))\(two(parts.tm_mday))-\(two(parts.tm_hour))\(two(parts.tm_min))\(two(parts.tm_sec))"
    }
}
