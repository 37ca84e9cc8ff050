#!/usr/bin/env python3
"""Plots of a csgb sweep (experiments/sweep.py), from its results.json.

    python3 experiments/plot.py experiments/results/2025-11-23-vm    # redraw the PNGs

sweep.py calls plot_all() itself; run this by hand to redraw the plots of an
existing results directory. Per workload:

  <workload>-ns_per_iteration.png  median ns/iteration per mode against N (log-log,
                                   bars: min-max of the runs); one panel per
                                   pinning (rows) and work size (columns)
  <workload>-switches.png          voluntary and involuntary context switches per
                                   iteration per mode against N, same panels
  <workload>-counters.png          IPC, cache and dTLB misses per iteration per mode
                                   against N, only when some were collected and not
                                   null; null points are left out, never drawn as 0

A workload swept at a single N gets grouped bars (one group per pinning and work
size) instead of lines. Needs matplotlib (Debian: python3-matplotlib); Agg backend.
"""

import json
import math
import os
import sys
from pathlib import Path

try:
    import matplotlib
except ImportError:
    # Run by hand under an interpreter without matplotlib (a pyenv python3, say):
    # retry once under Debian's, which python3-matplotlib installs into.
    if __name__ == "__main__" and not os.environ.get("CSGB_PLOT_REEXEC") \
            and os.path.exists("/usr/bin/python3") \
            and os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3"):
        os.environ["CSGB_PLOT_REEXEC"] = "1"
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    sys.exit("plot.py: matplotlib is not installed for %s (Debian: apt-get install "
             "python3-matplotlib)" % sys.executable)

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter, NullFormatter  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from csgb_common import CapabilitiesError, capabilities_of  # noqa: E402

# The modes come from the sweep's `csgb info` (results.json), in csgb's order; each
# gets csgb's colour for it and the next marker; the N axis is labelled with what N counts there.
# plot_all() sets these four.
MODES = ()
COLORS = {}
MARKERS = {}
PALETTE = ("#1f77b4", "#2ca02c", "#ff7f0e", "#d62728", "#9467bd", "#8c564b")
MARKER_CYCLE = ("o", "s", "^", "D", "v", "P")
CAPS = None
COUNTER_METRICS = (("counters_ipc", "IPC (instructions per cycle)"),
                   ("counters_cache_misses_per_iteration", "cache misses per iteration"),
                   ("counters_dtlb_load_misses_per_iteration", "dTLB load misses per iteration"))
DPI = 110


def _num(x):
    return x is not None and isinstance(x, (int, float)) and math.isfinite(x)


def _plain(v, _pos=None):
    if v >= 1:
        return "{:,.0f}".format(v)
    return "{:g}".format(v)


def _log_labels(ax, axis):
    """Plain numbers (1,000 not 10^3) on a log axis; minor ticks labelled only
    when the axis spans less than about a decade and a half, to stay readable."""
    a = ax.yaxis if axis == "y" else ax.xaxis
    lo, hi = ax.get_ylim() if axis == "y" else ax.get_xlim()
    a.set_major_formatter(FuncFormatter(_plain))
    if lo > 0 and hi / lo < 30:
        a.set_minor_formatter(FuncFormatter(_plain))
    else:
        a.set_minor_formatter(NullFormatter())


def _n_ticks(ax, cases):
    """Ticks on the N axis exactly at the swept N values (of the cases given: a
    panel's own), and room around them (a factor of 2 for a panel of one N)."""
    ns = sorted({c["n"] for c in cases})
    if ns:
        ax.set_xlim(ns[0] / (2.0 if len(ns) == 1 else 1.4), ns[-1] * (2.0 if len(ns) == 1 else 1.4))
    ax.set_xticks(ns)
    ax.xaxis.set_major_formatter(FuncFormatter(_plain))
    ax.xaxis.set_minor_formatter(NullFormatter())


def _set_modes(doc):
    """csgb's modes from the sweep's `csgb info`; for a results.json written before
    csgb listed its capabilities, the modes of its cases in order of appearance."""
    global MODES, CAPS
    try:
        CAPS = capabilities_of(doc.get("csgb_info") or {})
        MODES = tuple(CAPS.modes)
    except CapabilitiesError:
        CAPS = None
        MODES = tuple(dict.fromkeys(c["mode"] for c in doc["cases"] if not c.get("program")))
    COLORS.clear()
    MARKERS.clear()
    for i, m in enumerate(MODES):
        # csgb's colour for the mode (ModeTraits, exported by `csgb info`), so every
        # figure shows a mode alike; a palette only for a sweep of a csgb without facts.
        COLORS[m] = (CAPS.colour(m) if CAPS else None) or PALETTE[i % len(PALETTE)]
        MARKERS[m] = MARKER_CYCLE[i % len(MARKER_CYCLE)]


def _n_label(workload):
    """The N axis label: what one N counts for the workload, from the sweep's `csgb info`."""
    if CAPS is None or workload not in CAPS.workloads:
        return "N"
    per = CAPS.actors_per_unit(workload)
    unit = CAPS.unit_of(workload)
    return "N (%s %ss; %s actors)" % (workload, unit, "N" if per == 1 else "%dN" % per)


def _col(c):
    """A panel column: the host of a merged sweep (--merge), work size, transport, io
    path and extra flags."""
    return (c.get("host_label") or "", c["work_size_label"], c.get("transport") or "",
            c.get("io") or "", " ".join(c["flags"]))


def _panels(cases):
    """Rows = pinnings (manifest order), columns = work size, transport, io (+ extra
    flags)."""
    rows = sorted({(c["pinning_index"], c["pinning"]) for c in cases})
    # The sweep sorts its cases by work size, then csgb's order of transports and io
    # paths (the defaults first), so the order of appearance is the column order.
    hosts = list(dict.fromkeys(c.get("host_label") or "" for c in cases))
    cols = list(dict.fromkeys(_col(c) for c in sorted(
        cases, key=lambda c: (hosts.index(c.get("host_label") or ""), c["work_size"]))))
    return [r[1] for r in rows], cols


def _in_panel(c, pinning, col):
    return c["pinning"] == pinning and _col(c) == col


def _panel_list(cases):
    """The (pinning, column) panels that hold at least one case, in row-major order
    of _panels(): a combination the manifest never ran gets no panel (the cases
    passed in are those with a figure, see plot_all)."""
    pins, cols = _panels(cases)
    return [(p, c) for p in pins for c in cols if any(_in_panel(x, p, c) for x in cases)]


def _panel_grid(panels):
    """A figure with one axis per panel, at most 3 per row; grid cells beyond the
    panels are hidden. Returns (fig, axes as a 2-D list, [axis per panel])."""
    ncols = min(3, len(panels))
    nrows = (len(panels) + ncols - 1) // ncols
    # Each panel scales and labels its own axes: panels of different transports or
    # pinnings differ by orders of magnitude, and a shared scale clipped some.
    fig, axes = plt.subplots(nrows, ncols, figsize=(max(7.5, 5.0 * ncols + LEGEND_IN),
                                                    3.9 * nrows + 1.1), squeeze=False)
    flat = [ax for row in axes for ax in row]
    for ax in flat[len(panels):]:
        ax.set_visible(False)
    return fig, axes, flat[:len(panels)]


# Modes whose values coincide (two user-mode modes at 0 switches, say) must stay
# visible: each mode gets its own line style and marker size, and its points are
# moved sideways by a few percent of N on the log axis (dodged), the same for all.
LINESTYLES = ("-", "--", "-.", ":")
DODGE = 1.07


def _dodged(xs, m):
    present = [x for x in MODES if x in _DRAWN_MODES] or list(MODES)
    k = present.index(m) if m in present else 0
    f = DODGE ** (k - (len(present) - 1) / 2)
    return [x * f for x in xs]


def _style(m):
    k = MODES.index(m) if m in MODES else 0
    return {"linestyle": LINESTYLES[k % len(LINESTYLES)], "markersize": 8.5 - 1.2 * (k % 4)}


_DRAWN_MODES = ()


def _col_title(col):
    host, label, transport, io, flags = col
    t = ("%s · " % host if host else "") + "work size %s" % ("none" if label == "0" else label)
    t += "".join(", " + x for x in (transport, io and "io " + io) if x)
    return t + (" " + flags if flags else "")


def _runs_note(cases):
    reps = sorted({c["repeats"] for c in cases})
    durs = sorted({c["duration"] for c in cases})
    return "median of %s run(s) × %s s" % ("/".join(map(str, reps)),
                                           "/".join("%g" % d for d in durs))


LEGEND_IN = 2.1   # inches kept on the right of a figure for its legend


def _grid(nrows, ncols, sharey=True):
    fig, axes = plt.subplots(nrows, ncols, figsize=(max(7.5, 5.0 * ncols + LEGEND_IN),
                                                    3.9 * nrows + 1.1),
                             squeeze=False, sharex=True, sharey=sharey)
    return fig, axes


def _finish(fig, axes, title, path, legend_handles=None):
    fig.suptitle(title, fontsize=11)
    handles, labels = legend_handles or axes[0][0].get_legend_handles_labels()
    right = 1.0
    if handles:
        right = 1.0 - LEGEND_IN / fig.get_figwidth()
        fig.legend(handles, labels, loc="center left", bbox_to_anchor=(right + 0.005, 0.5),
                   fontsize=9, framealpha=0.9)
    fig.tight_layout(rect=(0, 0, right, 1))   # leaves room for the suptitle itself
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


def _line_ns(w, cases, out):
    panels = _panel_list(cases)
    fig, axes, panel_axes = _panel_grid(panels)
    ncols = len(axes[0])
    for index, ((pin, col), ax) in enumerate(zip(panels, panel_axes)):
        i, j = divmod(index, ncols)
        if True:
            for m in MODES:
                pts = sorted((c["n"], c["summary"]) for c in cases
                             if c["mode"] == m and _in_panel(c, pin, col)
                             and _num(c["summary"]["ns_per_iteration"]))
                if not pts:
                    continue
                xs = [p[0] for p in pts]
                ys = [p[1]["ns_per_iteration"] for p in pts]
                lo = [y - (p[1]["ns_min"] if _num(p[1]["ns_min"]) else y) for y, p in zip(ys, pts)]
                hi = [(p[1]["ns_max"] if _num(p[1]["ns_max"]) else y) - y for y, p in zip(ys, pts)]
                ax.errorbar(_dodged(xs, m), ys, yerr=[lo, hi], color=COLORS[m], marker=MARKERS[m],
                            capsize=3, label=m, **_style(m))
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_title("%s · %s" % (pin, _col_title(col)), fontsize=10)
            ax.grid(True, which="major", alpha=0.4)
            ax.grid(True, which="minor", alpha=0.15)
            ax.set_xlabel(_n_label(w))
            if j == 0:
                ax.set_ylabel("ns per iteration (log)")
    for (pin, col), ax in zip(panels, panel_axes):
        _n_ticks(ax, [c for c in cases if _in_panel(c, pin, col)])
        _log_labels(ax, "y")
    _finish(fig, axes, "csgb %s: wall time per iteration against N, per mode\n(%s; bars: "
            "min–max; lower is better; modes dodged sideways so equal values stay visible)"
            % (w, _runs_note(cases)), out)


def _line_switches(w, cases, out):
    panels = _panel_list(cases)
    fig, axes, panel_axes = _panel_grid(panels)
    ncols = len(axes[0])
    for index, ((pin, col), ax) in enumerate(zip(panels, panel_axes)):
        i, j = divmod(index, ncols)
        if True:
            for m in MODES:
                sel = sorted((c["n"], c["summary"]) for c in cases
                             if c["mode"] == m and _in_panel(c, pin, col))
                for key, style, kind in (("voluntary_switches_per_iteration", "-", "voluntary"),
                                         ("involuntary_switches_per_iteration", "--",
                                          "involuntary")):
                    pts = [(n, s[key]) for n, s in sel if _num(s[key])]
                    if pts:
                        ax.plot(_dodged([p[0] for p in pts], m), [p[1] for p in pts],
                                linestyle=style, color=COLORS[m], marker=MARKERS[m],
                                markersize=_style(m)["markersize"],
                                fillstyle="full" if style == "-" else "none",
                                label="%s, %s" % (m, kind))
            ax.set_xscale("log")
            ax.set_ylim(bottom=-0.05)
            ax.set_title("%s · %s" % (pin, _col_title(col)), fontsize=10)
            ax.grid(True, alpha=0.4)
            _n_ticks(ax, [c for c in cases if _in_panel(c, pin, col)])
            ax.set_xlabel(_n_label(w))
            if j == 0:
                ax.set_ylabel("context switches per iteration")
    _finish(fig, axes, "csgb %s: context switches per iteration against N\n(whole process, "
            "getrusage; %s; solid, filled: voluntary, dashed, hollow: involuntary; modes "
            "dodged sideways)" % (w, _runs_note(cases)), out)


def _missing_text(ax, cases):
    collected = any(c["summary"].get("counter_runs_ok") for c in cases)
    unsupported = any(c["summary"].get("counters_hardware") == "not supported" for c in cases)
    text = ("not supported on this machine" if unsupported
            else "not collected" if not collected else "no value (null)")
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center",
            fontsize=10, color="0.4")
    ax.set_yticks([])


def _line_counters(w, cases, out):
    panels = _panel_list(cases)
    fig, axes = plt.subplots(len(panels), len(COUNTER_METRICS),
                             figsize=(4.4 * len(COUNTER_METRICS) + LEGEND_IN,
                                      3.4 * len(panels) + 1.1),
                             squeeze=False, sharex=True)
    for i, (pin, col) in enumerate(panels):
        pcases = [c for c in cases if _in_panel(c, pin, col)]
        for j, (key, label) in enumerate(COUNTER_METRICS):
            ax = axes[i][j]
            drawn = False
            for m in MODES:
                pts = sorted((c["n"], c["summary"][key]) for c in pcases
                             if c["mode"] == m and _num(c["summary"].get(key)))
                if pts:
                    drawn = True
                    ax.plot(_dodged([p[0] for p in pts], m), [p[1] for p in pts], color=COLORS[m],
                            marker=MARKERS[m], label=m, **_style(m))
            ax.set_xscale("log")
            _n_ticks(ax, cases)
            if drawn:
                ax.set_ylim(bottom=0)
                ax.grid(True, alpha=0.4)
            else:
                _missing_text(ax, pcases)
            ax.set_title("%s · %s" % (pin, _col_title(col)), fontsize=9)
            ax.set_ylabel(label, fontsize=9)
            if i == len(panels) - 1:
                ax.set_xlabel(_n_label(w))
    handles = [plt.Line2D([], [], color=COLORS[m], marker=MARKERS[m], label=m) for m in MODES
               if any(c["mode"] == m for c in cases)]
    _finish(fig, axes, "csgb %s: hardware counters per iteration against N\n(perf, separate "
            "--counters runs, median of the non-null ones; missing points: not counted, "
            "never 0)" % w, out, (handles, [h.get_label() for h in handles]))


def _bar_positions(cases):
    # A merged sweep's hosts (--merge) in the order they were given, each host's bars
    # side by side within a pinning and work size.
    hosts = list(dict.fromkeys(c.get("host_label") or "" for c in cases))
    groups = sorted({(c["pinning_index"], c["pinning"], c["work_size"], _col(c)) for c in cases},
                    key=lambda g: (g[0], g[2], hosts.index(g[3][0]), g[3]))
    modes = [m for m in MODES if any(c["mode"] == m for c in cases)]
    return groups, modes


def _group_label(g):
    return "%s\n%s" % (g[1], _col_title(g[3]).replace(", ", "\n", 1))


def _find(cases, g, m):
    for c in cases:
        if (c["pinning"], _col(c), c["mode"]) == (g[1], g[3], m):
            return c
    return None


def _bars(w, cases, out, what):
    groups, modes = _bar_positions(cases)
    n = cases[0]["n"]
    width = min(0.8 / max(1, len(modes)), 0.25)
    fig, ax = plt.subplots(figsize=(max(5.5, 2.2 * len(groups) + 1.5) + LEGEND_IN, 5.2))
    ys_all = []
    for k, m in enumerate(modes):
        xs, ys, lo, hi, inv = [], [], [], [], []
        for gi, g in enumerate(groups):
            c = _find(cases, g, m)
            if c is None:
                continue
            s = c["summary"]
            # bars of the modes this group has, centred on the group
            present = [x for x in modes if _find(cases, g, x) is not None]
            x = gi + (present.index(m) - (len(present) - 1) / 2) * width
            if what == "ns" and _num(s["ns_per_iteration"]):
                y = s["ns_per_iteration"]
                xs.append(x)
                ys.append(y)
                lo.append(y - (s["ns_min"] if _num(s["ns_min"]) else y))
                hi.append((s["ns_max"] if _num(s["ns_max"]) else y) - y)
            elif what == "switches" and _num(s["voluntary_switches_per_iteration"]):
                xs.append(x)
                ys.append(s["voluntary_switches_per_iteration"])
                inv.append(s["involuntary_switches_per_iteration"]
                           if _num(s["involuntary_switches_per_iteration"]) else 0)
        if not xs:
            continue
        ys_all += ys
        if what == "ns":
            ax.bar(xs, ys, width, color=COLORS[m], label=m, yerr=[lo, hi], capsize=3)
            for x, y in zip(xs, ys):
                ax.annotate("{:,.0f}".format(y), (x, y), ha="center", va="bottom",
                            fontsize=8, xytext=(0, 2), textcoords="offset points")
        else:
            ax.bar(xs, ys, width, color=COLORS[m], label="%s, voluntary" % m)
            ax.bar(xs, inv, width, bottom=ys, color=COLORS[m], alpha=0.45, hatch="//",
                   label="%s, involuntary" % m)
            # a bar too low to see (user-mode switching: about 0 per iteration) gets
            # its mode's marker and its value, so that it shows it ran
            low = [(x, y + v) for x, y, v in zip(xs, ys, inv) if y + v < 0.01]
            if low:
                ax.plot([x for x, _ in low], [0] * len(low), linestyle="none",
                        marker=MARKERS[m], color=COLORS[m], clip_on=False, zorder=5)
                for x, t in low:
                    ax.annotate("0" if t == 0 else "%.1g" % t, (x, 0), ha="center",
                                va="bottom", fontsize=7, xytext=(0, 6), textcoords="offset points")
    ax.set_xticks(range(len(groups)))
    ax.set_xlim(-0.6, len(groups) - 0.4)
    ax.set_xticklabels([_group_label(g) for g in groups], fontsize=9)
    ax.grid(True, axis="y", alpha=0.4)
    if what == "ns":
        pos = [y for y in ys_all if y > 0]
        if pos and max(pos) / min(pos) > 30:
            ax.set_yscale("log")
        ax.set_ylabel("ns per iteration" + (" (log)" if ax.get_yscale() == "log" else ""))
        title = "csgb %s %d: wall time per iteration, per mode\n(%s; whiskers: min–max; " \
                "lower is better)" % (w, n, _runs_note(cases))
    else:
        ax.set_ylim(bottom=0)
        ax.set_ylabel("context switches per iteration")
        title = "csgb %s %d: context switches per iteration\n(whole process, getrusage; %s; " \
                "solid: voluntary, hatched: involuntary)" % (w, n, _runs_note(cases))
    _finish(fig, [[ax]], title, out)


def _bar_counters(w, cases, out):
    groups, modes = _bar_positions(cases)
    width = min(0.8 / max(1, len(modes)), 0.25)
    fig, axes = plt.subplots(1, len(COUNTER_METRICS),
                             figsize=(max(4.0, 1.8 * len(groups) + 1.5) * len(COUNTER_METRICS)
                                      + LEGEND_IN, 5.0), squeeze=False)
    for j, (key, label) in enumerate(COUNTER_METRICS):
        ax = axes[0][j]
        drawn = False
        for k, m in enumerate(modes):
            xs, ys = [], []
            for gi, g in enumerate(groups):
                c = _find(cases, g, m)
                if c is not None and _num(c["summary"].get(key)):
                    xs.append(gi + (k - (len(modes) - 1) / 2) * width)
                    ys.append(c["summary"][key])
            if xs:
                drawn = True
                ax.bar(xs, ys, width, color=COLORS[m], label=m)
        ax.set_xticks(range(len(groups)))
        ax.set_xlim(-0.6, len(groups) - 0.4)
        ax.set_xticklabels([_group_label(g) for g in groups], fontsize=8)
        ax.set_ylabel(label, fontsize=9)
        if drawn:
            ax.grid(True, axis="y", alpha=0.4)
        else:
            _missing_text(ax, cases)
    handles = [plt.Rectangle((0, 0), 1, 1, color=COLORS[m], label=m) for m in modes]
    _finish(fig, axes, "csgb %s %d: hardware counters per iteration\n(perf, separate "
            "--counters runs; missing bars: not counted, never 0)" % (w, cases[0]["n"]), out,
            (handles, [h.get_label() for h in handles]))


def plot_all(outdir, doc):
    """Draws every plot of the sweep described by doc (results.json). Returns
    (file names, notes for the summary)."""
    outdir = Path(outdir)
    _set_modes(doc)
    cases = [c for c in doc["cases"] if c.get("summary")]
    files, notes = [], []
    workloads = list(dict.fromkeys(c["workload"] for c in cases))
    global _DRAWN_MODES
    for w in workloads:
        every = [c for c in cases if c["workload"] == w]
        # Plot only what ran: a case without a successful timing run (unsupported on
        # this machine, every run failed) gets no point, and a panel or bar group
        # with no such case is not drawn at all; the note names what was left out.
        wc = [c for c in every if _num(c["summary"].get("ns_per_iteration"))]
        if not wc:
            notes.append("%s: no successful run, nothing to plot" % w)
            continue
        if len(wc) < len(every):
            notes.append("%s: %d case(s) without a successful run are not plotted (%s)"
                         % (w, len(every) - len(wc), "; ".join(c["id"] for c in every if c not in wc)[:600]))
        _DRAWN_MODES = tuple(m for m in MODES if any(c["mode"] == m for c in wc))
        multi_n = len({c["n"] for c in wc}) >= 2
        for name, fn in (("ns_per_iteration", _line_ns if multi_n else
                          (lambda w_, c_, o_: _bars(w_, c_, o_, "ns"))),
                         ("switches", _line_switches if multi_n else
                          (lambda w_, c_, o_: _bars(w_, c_, o_, "switches")))):
            f = "%s-%s.png" % (w, name)
            fn(w, wc, outdir / f)
            files.append(f)
        has_hw = any(_num(c["summary"].get(k)) for c in wc for k, _ in COUNTER_METRICS)
        counter_runs = sum(c["summary"].get("counter_runs_ok") or 0 for c in wc)
        if has_hw:
            f = "%s-counters.png" % w
            (_line_counters if multi_n else _bar_counters)(w, wc, outdir / f)
            files.append(f)
        elif counter_runs:
            notes.append("%s: IPC, cache and dTLB misses not plotted: not supported on this "
                         "machine (null in all %d counter run(s); never plotted as 0)"
                         % (w, counter_runs))
    return files, notes


def main(argv):
    json_out = "--json-out" in argv
    args = [a for a in argv if a != "--json-out"]
    if len(args) != 1:
        print("usage: plot.py RESULTS_DIR   (a directory written by experiments/sweep.py)",
              file=sys.stderr)
        return 64
    outdir = Path(args[0])
    from results_folder import FolderError, check_writable, read_results
    try:
        doc = read_results(outdir, nonempty=True)
        check_writable(outdir)
    except FolderError as e:
        print("plot.py: %s" % e, file=sys.stderr)
        return e.code
    files, notes = plot_all(outdir, doc)
    if json_out:
        print(json.dumps({"files": files, "notes": notes}))
    else:
        for f in files:
            print(outdir / f)
        for n in notes:
            print("note:", n)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
