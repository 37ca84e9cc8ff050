#if canImport(Glibc)
import Glibc
#endif
import CSGB
import CSGBSystem

/// The folder one `csgb explain` run writes its flame graphs, folded stacks,
/// timeline and report into. It is made and proven writable before anything is
/// measured, never receives a second report over a first, and is taken back when the
/// run writes nothing or fails half-way.
public final class ResultsFolder {
    public let path: String
    /// The folder asked for, when it already held files and this run went beside it.
    public private(set) var requested: String?
    /// Room the report needs at the least: three flame graphs, the folded stacks and
    /// the timeline of a busy run take about 1 MiB.
    public static let minimumFreeBytes: UInt64 = 2 << 20
    private var created: [String] = []
    private var written: [String] = []

    /// Picks, creates and checks the folder. A folder that exists and holds files
    /// keeps them: the report goes to `NAME-2` (or the first free `NAME-k`) beside it.
    public init(_ requestedPath: String, minimumFreeBytes: UInt64 = ResultsFolder.minimumFreeBytes) throws(CSGBError) {
        guard !requestedPath.isEmpty else {
            throw .usage("--out needs a folder name; an empty one would write into the current folder's parent or /")
        }
        let base = requestedPath.count > 1 && requestedPath.hasSuffix("/") ? String(requestedPath.dropLast()) : requestedPath
        var chosen = base
        var suffix = 2
        while FileDescriptor.exists(chosen) && !Self.isEmptyFolder(chosen) {
            chosen = "\(base)-\(suffix)"
            suffix += 1
        }
        path = chosen
        requested = chosen == base ? nil : base
        do {
            created = try FileDescriptor.makeDirectories(path)
        } catch {
            throw .lostOutput("cannot create the results folder \(path): \(error.errno)")
        }
        if !FileDescriptor.isDirectory(path) {
            throw .lostOutput("the results folder \(path) is not a folder")
        }
        let probe = file(".csgb-write-check")
        do throws(SystemError) {
            try FileDescriptor.writeFile(probe, "csgb explain checks that its results can be written\n")
            FileDescriptor.remove(probe)
            let free = try FileDescriptor.availableBytes(path)
            if free < minimumFreeBytes {
                throw SystemError("only \(free / 1024) KiB free of the \(minimumFreeBytes / 1024) KiB the report needs at the least; free some space or choose another --out",
                                  .noSpace)
            }
        } catch {
            FileDescriptor.remove(probe)
            discard()
            throw .lostOutput("the results folder \(path) cannot take the report: \(error.description)")
        }
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
