#!/usr/bin/env python3
"""The summary of `make sweep-scale`: from a sweep folder's results.json, per
workload and mode, the median ns/iteration, memory per actor and set-up seconds
against N, the plots of the three (log x), and where each curve bends.

    python3 experiments/scale_summary.py experiments/results/<folder>

A bend is a step of N (x10) over which a cost per actor (ns per iteration,
memory per actor, set-up seconds per actor) grows by more than BEND: the place
where something stops fitting (a cache, the TLB, an allocator's fast path). Writes <folder>/scale-summary.md and
<folder>/scale-<workload>.png (never over an existing file) and prints the summary.
Standard library, plus matplotlib for the plots (skipped, and said so, without it)."""

import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))  # the library
from csgb_common import fmt, median, publish_summary, summary_inputs

BEND = 1.5
FIGURES = (("ns_per_iteration", "ns / iteration"),
           ("memory_per_actor_bytes", "memory per actor (bytes resident)"),
           ("setup_seconds", "set-up (s, to the gate)"))


def series(results):
    """{(workload, mode): {n: {figure: median}}} over the runs that completed, by
    the case's N: a case planned as `max` runs as `max`, and csgb may resolve it a
    few tasks apart from run to run; its runs stay one row."""
    planned = {c.get("id"): c["n"] for c in results.get("cases", []) if isinstance(c.get("n"), int)}
    by_case = {}
    for run in results["runs"]:
        report = run.get("report")
        if run.get("status") != "ok" or not report:
            continue
        key = (report["workload"], report["mode"])
        n = planned.get(run.get("case_id"), report["n"])
        values = by_case.setdefault(key, {}).setdefault(n, {f: [] for f, _ in FIGURES})
        for figure, _ in FIGURES:
            if isinstance(report.get(figure), (int, float)):
                values[figure].append(report[figure])
    return {key: {n: {f: median(v) if v else None for f, v in figs.items()} for n, figs in sorted(ns.items())}
            for key, ns in by_case.items()}


def resolved_max(results):
    """For each case run as `max`: (workload, mode, planned N, the Ns its runs ran at)."""
    out = []
    for case in results.get("cases", []):
        if "max" not in (case.get("argv") or [])[1:3]:
            continue
        ran = sorted({r["report"]["n"] for r in results["runs"]
                      if r.get("case_id") == case.get("id") and r.get("status") == "ok" and r.get("report")})
        out.append((case["workload"], case["mode"], case["n"], ran))
    return out


def refusals(results):
    """Runs csgb refused (exit 71), with the first line of what it said."""
    out = []
    for run in results["runs"]:
        if run.get("exit_code") == 71:
            out.append((" ".join(run["command"][1:3]) if isinstance(run.get("command"), list) else str(run.get("command")),
                        (run.get("stderr") or "").strip().splitlines()[:1]))
    return out


def per_actor(points, n, figure):
    """`figure` per actor at N: set-up seconds are a total, the others per actor
    or per iteration already."""
    value = points[n].get(figure)
    if value is None or figure != "setup_seconds":
        return value
    return value / n


def bends(points, figure):
    """The steps of N over which `figure`, per actor, grows more than BEND."""
    ns = [n for n in points if per_actor(points, n, figure)]
    found = []
    for a, b in zip(ns, ns[1:]):
        growth = per_actor(points, b, figure) / per_actor(points, a, figure)
        if growth > BEND:
            found.append((a, b, growth))
    return found


def plot(folder, data, workload):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "plots skipped: needs python3-matplotlib"
    target = os.path.join(folder, "scale-%s.png" % workload)
    if os.path.exists(target):
        return "%s exists; not rewritten" % target
    fig, axes = plt.subplots(1, len(FIGURES), figsize=(5.2 * len(FIGURES), 4))
    for ax, (figure, label) in zip(axes, FIGURES):
        for (w, mode), points in sorted(data.items()):
            if w != workload:
                continue
            xs = [n for n in points if points[n].get(figure) is not None]
            if xs:
                ax.plot(xs, [points[n][figure] for n in xs], marker="o", label=mode)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("N (%s)" % ("actors" if workload == "yield" else "pairs"))
        ax.set_title(label, fontsize=10)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    fig.suptitle("csgb %s: cost against N, pinned to one CPU (median of the runs)" % workload, fontsize=11)
    fig.tight_layout()
    fig.savefig(target, dpi=100)
    return None


def main(argv):
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        # Under an interpreter without matplotlib (a pyenv python3, say), once more
        # under Debian's, which python3-matplotlib installs into.
        if os.path.exists("/usr/bin/python3") and os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3"):
            os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    inputs = summary_inputs(argv, __doc__, "scale-summary.md", "scale_summary")
    if isinstance(inputs, int):
        return inputs
    results, out_path = inputs
    folder = argv[0]
    data = series(results)
    host = results.get("host", {})
    lines = ["# How each mode's cost grows with N", "",
             "From `%s` (%s), %s. Medians of the completed runs; a bend is a step of N over which a cost per actor "
             "(ns per iteration, memory per actor, set-up seconds per actor) grows more than %.1f times." % (
                 os.path.basename(os.path.normpath(folder)), host.get("hostname", "?") if isinstance(host, dict) else host,
                 results.get("started", "?"), BEND), ""]
    notes = []
    for workload in sorted({w for w, _ in data}):
        lines += ["## %s" % workload, "", "| mode | N | ns/iteration | memory/actor | set-up s |", "|---|---|---|---|---|"]
        for (w, mode), points in sorted(data.items()):
            if w != workload:
                continue
            for n, figs in points.items():
                lines.append("| %s | %s | %s | %s | %s |" % (mode, format(n, ","), fmt(figs["ns_per_iteration"]),
                                                           fmt(figs["memory_per_actor_bytes"]), fmt(figs["setup_seconds"])))
        lines.append("")
        for (w, mode), points in sorted(data.items()):
            if w != workload:
                continue
            for figure, label in FIGURES:
                for a, b, growth in bends(points, figure):
                    lines.append("- %s %s: %s%s bends between N = %s and %s (x%.1f)" % (
                        workload, mode, label, " per actor" if figure == "setup_seconds" else "",
                        format(a, ","), format(b, ","), growth))
        lines.append("")
        note = plot(folder, data, workload)
        if note:
            notes.append(note)
        else:
            lines += ["![%s](scale-%s.png)" % (workload, workload), ""]
    for workload, mode, planned, ran in resolved_max(results):
        lines.append("- %s %s at `max`: planned as N = %s, run as `max`, which csgb resolved to N = %s" % (
            workload, mode, format(planned, ","), ", ".join(format(n, ",") for n in ran) or "none (no run completed)"))
    refused = refusals(results)
    if refused:
        lines += ["## Refused by a limit (exit 71)", ""]
        lines += ["- `%s`: %s" % (cmd, first[0] if first else "") for cmd, first in refused]
        lines.append("")
    lines += ["- " + n for n in notes]
    return publish_summary(out_path, lines)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
