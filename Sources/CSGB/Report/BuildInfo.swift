import CSGBSystem

/// What `csgb --version` prints and every JSON report carries as `version`.
public enum BuildInfo {
    /// The package version, declared here once.
    public static let packageVersion = "0.1.0"

    /// The git commit the binary was built from (`-dirty` when tracked files had
    /// uncommitted changes), written at build time by the BuildCommit plugin; nil
    /// when it could not be known.
    public static let commit: String? = buildCommit

    /// "static" when the Swift runtime is linked into the binary
    /// (`--static-swift-stdlib`), "shared" when it is loaded from libswiftCore.so: the
    /// two builds differ in thread-local access, so results carry which one ran.
    /// Read from the process's own mappings; "unknown" when they cannot be read.
    public static let swiftStdlib: String = {
        guard let maps = try? ProcFile.read("/proc/self/maps") else { return "unknown" }
        return maps.contains("libswiftCore.so") ? "shared" : "static"
    }()

    /// "0.1.0 (commit 1a2b3c4d5e6f)" or "0.1.0 (unknown commit)".
    public static var version: String {
        "\(packageVersion) (\(commit.map { "commit \($0)" } ?? "unknown commit"))"
    }
}
