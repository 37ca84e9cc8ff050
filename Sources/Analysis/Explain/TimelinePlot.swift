#if canImport(Glibc)
import Glibc
#endif
import CSGB
import CSGBSystem

/// Draws `timeline.csv` as a PNG with matplotlib (the project's plotting tool,
/// from python3-matplotlib). The script is kept here, not in experiments/, so
/// the installed binary draws the plot wherever it runs.
enum TimelinePlot {
    /// Each mode's colour comes from the mode itself, so plots agree on them.
    static var script: String {
        let colours = Mode.allCases.map { "\"\($0.rawValue)\": \"\($0.colour)\"" }.joined(separator: ", ")
        return "colours = {\(colours)}\n" + body
    }

    private static let body = #"""
import csv, sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

source, target, note = sys.argv[1], sys.argv[2], sys.argv[3]
rows = list(csv.DictReader(open(source)))
modes = list(dict.fromkeys(r["mode"] for r in rows))
series = [("context_switches", "context switches / ms"), ("syscalls", "syscalls / ms"),
          ("task_clock_ms", "task clock (CPU ms / ms)")]
if any(r["ipc"] for r in rows):
    series.append(("ipc", "IPC"))
fig, axes = plt.subplots(len(series), 1, figsize=(11, 2.3 * len(series)), sharex=True)
for ax, (key, label) in zip(axes, series):
    for mode in modes:
        points = [(float(r["t_ms"]), float(r[key]) / (1 if key == "ipc" else float(r["width_ms"])))
                  for r in rows if r["mode"] == mode and r[key] and float(r["width_ms"]) > 0]
        if points:
            ax.plot([p[0] for p in points], [p[1] for p in points], lw=0.8, label=mode,
                    color=colours.get(mode))
    ax.set_ylabel(label, fontsize=8)
    ax.grid(alpha=0.3)
axes[0].legend(loc="upper right", fontsize=8)
axes[-1].set_xlabel("ms into the measured window (one point per perf stat interval)")
fig.suptitle("csgb explain: counts per interval across the window" + (" — " + note if note else ""), fontsize=10)
fig.tight_layout()
fig.savefig(target, dpi=110)
"""#

    /// The first Python that imports matplotlib: Debian's, then PATH's.
    static func python() -> String? {
        let path = getenv("PATH").map { String(cString: $0) } ?? "/usr/bin:/bin"
        let candidates = ["/usr/bin/python3"] + path.split(separator: ":").map { "\($0)/python3" }
        for candidate in candidates where access(candidate, X_OK) == 0 {
            let probe = Subprocess(path: candidate, arguments: ["-c", "import matplotlib"])
            if let outcome = try? probe.run(), outcome.status == 0 { return candidate }
        }
        return nil
    }

    /// Draws the PNG; returns why not when it could not.
    static func draw(csv: String, png: String, note: String, stderrPath: String) -> String? {
        guard let python = python() else {
            return "timeline.png not drawn: no python3 with matplotlib (`apt-get install python3-matplotlib`, which make setup does)"
        }
        let process = Subprocess(path: python, arguments: ["-c", script, csv, png, note], stderrPath: stderrPath)
        guard let outcome = try? process.run() else { return "timeline.png not drawn: cannot run \(python)" }
        if outcome.status != 0 {
            return "timeline.png not drawn: matplotlib failed (exit \(outcome.status)): \(PerfRunner.firstLine((try? ProcFile.read(stderrPath)) ?? "") ?? "no message")"
        }
        return nil
    }
}
