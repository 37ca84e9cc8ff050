import Foundation

/// A stand-in for perf, put first on PATH: it runs the workload csgb hands it
/// (without the control fifos, which no real perf answers here) and writes the CSV
/// a test gives it as perf's `-o` file. It lets the paths around perf be tested
/// without root, a PMU or perf itself, and lets a test make perf misbehave.
///
/// Environment of the fake: `FAKE_PERF_CSV` (a file copied to `-o`),
/// `FAKE_PERF_STARTED` (a file touched when it starts), `FAKE_PERF_SWALLOW_INT`
/// (catch the first SIGINT, touch this file, then exec the workload, as perf's
/// forked child does when the stop lands before its exec), `FAKE_PERF_ARGS` (a file
/// its arguments are appended to, one a line), `FAKE_PERF_SCRIPT_DIR` (for `perf
/// script -i …/perf-MODE.data`, print that folder's `perf-script-MODE.txt`, as the
/// recorded fixtures of Tests/Fixtures/explain are named).
final class FakePerf {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("csgb-fake-perf-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let script = """
            #!/bin/bash
            [ -n "$FAKE_PERF_STARTED" ] && touch "$FAKE_PERF_STARTED"
            [ -n "$FAKE_PERF_ARGS" ] && printf '%s\n' "$@" >> "$FAKE_PERF_ARGS"
            if [ "$1" = script ] && [ -n "$FAKE_PERF_SCRIPT_DIR" ]; then
                while (($#)); do if [ "$1" = -i ]; then data=$2; fi; shift; done
                mode=${data##*/perf-}; mode=${mode%.data}
                exec cat "$FAKE_PERF_SCRIPT_DIR/perf-script-$mode.txt"
            fi
            out=""
            while (($#)); do case "$1" in -o) out=$2; shift 2;; --) shift; break;; *) shift;; esac; done
            child=()
            while (($#)); do if [ "$1" = --perf-control ]; then shift 2; else child+=("$1"); shift; fi; done
            ((${#child[@]})) || exit 0
            if [ -n "$FAKE_PERF_SWALLOW_INT" ]; then
                trap 'touch "$FAKE_PERF_SWALLOW_INT"' INT
                touch "$FAKE_PERF_SWALLOW_INT.ready"
                while [ ! -e "$FAKE_PERF_SWALLOW_INT" ]; do sleep 0.01; done
                trap - INT
                exec "${child[@]}"
            fi
            "${child[@]}"; rc=$?
            [ -n "$out" ] && [ -n "$FAKE_PERF_CSV" ] && cat "$FAKE_PERF_CSV" > "$out"
            exit $rc

            """
        let path = directory.appendingPathComponent("perf").path
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o755)
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    func file(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// `env PATH=… VAR=…` to put before csgb.
    func environment(_ variables: [String: String] = [:]) -> [String] {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return ["env", "PATH=\(directory.path):\(path)"] + variables.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
    }

    /// The same, as a shell prefix for `CSGBProcess.run(shellPrefix:)`.
    func shellPrefix(_ variables: [String: String] = [:]) -> String {
        environment(variables).dropFirst().map { assignment in
            let name = assignment.prefix { $0 != "=" }
            return "\(name)='\(assignment.dropFirst(name.count + 1))'"
        }.joined(separator: " ")
    }

    /// Waits for a file to appear (a state, not a time): true when it did.
    static func await(_ path: String, timeout: Double = 30) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while !FileManager.default.fileExists(atPath: path) {
            if Date() > deadline { return false }
            Thread.sleep(forTimeInterval: 0.005)
        }
        return true
    }
}
