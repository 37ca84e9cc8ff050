"""The Markdown summary of a sweep (summary.md): environment, medians per case,
ratios between modes, io_uring against direct, failures. Also the ratio and io
comparisons results.json stores."""

import json
from pathlib import Path

from csgb_common import NOISY_CV, fmt, fmt_seconds, median

HARDWARE_COUNTER_FIELDS = ("ipc", "cache_misses_per_iteration",
                           "dtlb_load_misses_per_iteration")


def ws_text(label):
    return "none" if label == "0" else label


def md_table(header, rows, right=()):
    out = ["| " + " | ".join(header) + " |",
           "|" + "|".join("---:" if i in right else "---" for i in range(len(header))) + "|"]
    for r in rows:
        out.append("| " + " | ".join(str(x).replace("|", "\\|") for x in r) + " |")
    return "\n".join(out)


def flags_text(c):
    """The case's extra flags, and the host of a merged sweep (--merge), which keeps
    each host's cases apart in the ratios."""
    text = " ".join(c["flags"])
    if c.get("host_label"):
        text = (text + " " if text else "") + "[host %s]" % c["host_label"]
    return text


def group_key(c):
    """Cases whose ratios are taken against each other: everything but the mode."""
    return (c["workload"], c["pinning"], c["work_size_label"], c.get("transport") or "",
            c.get("io") or "", flags_text(c))


def group_fields(g):
    return {"workload": g[0], "pinning": g[1], "work_size": g[2], "transport": g[3] or None,
            "io": g[4] or None, "flags": g[5]}


def group_text(g):
    """Work size, then transport, io and flags when present, for a table cell."""
    parts = [ws_text(g[2])] + [x for x in (g[3], g[4] and "io " + g[4], g[5]) if x]
    return ", ".join(parts)


def ratio_pairs(caps):
    """Every later mode over every earlier one, in csgb's order of modes
    (thread, green, async: green/thread, async/thread, async/green)."""
    return [(a, b) for i, a in enumerate(caps.modes) for b in caps.modes[:i]]


def compute_ratios(cases, caps):
    """[(group, n, {"green/thread": r, ...})] over cases sharing workload, pinning,
    work size, transport, io and flags (modes differ)."""
    by = {}
    for c in cases:
        ns = c["summary"]["ns_per_iteration"]
        if ns:
            by.setdefault((group_key(c), c["n"]), {})[c["mode"]] = ns
    out = []
    for (g, n), modes in by.items():
        r = {}
        for a, b in ratio_pairs(caps):
            r["%s/%s" % (a, b)] = modes[a] / modes[b] if a in modes and b in modes else None
        for c in cases:
            if c.get("program") and c["mode"] in modes and (group_key(c), c["n"]) == (g, n):
                a = c["compare"]
                r["%s/%s" % (a, c["mode"])] = modes[a] / modes[c["mode"]] if a in modes else None
        if any(v is not None for v in r.values()):
            out.append((g, n, r))
    return out


def io_comparison(cases, caps):
    """Each csgb case run over another io path (uring) beside the same case over the
    default one (direct): one row per (workload, pinning, work size, transport, flags,
    mode, N, io) with both medians, their ratio and the other path's enters and
    batch size per iteration. Rows follow csgb's order of modes, then N."""
    ref = caps.default_io
    by = {}
    for c in cases:
        if c.get("program") or not c.get("io"):
            continue
        key = (c["workload"], c["pinning"], c["work_size_label"], c.get("transport") or "",
               flags_text(c), c["mode"], c["n"])
        by.setdefault(key, {})[c["io"]] = c["summary"]
    rows = []
    for key, per_io in by.items():
        if ref not in per_io:
            continue
        for io, s in per_io.items():
            if io == ref:
                continue
            d_ns, o_ns = per_io[ref]["ns_per_iteration"], s["ns_per_iteration"]
            lo, hi = sorted((per_io[ref], s), key=lambda x: x["ns_per_iteration"] or 0)
            # The faster one's slowest run is slower than the other's fastest: the
            # medians differ by less than the runs' spread.
            overlap = None if None in (lo.get("ns_max"), hi.get("ns_min")) \
                else lo["ns_max"] >= hi["ns_min"]
            rows.append({"workload": key[0], "pinning": key[1], "work_size": key[2],
                         "transport": key[3] or None, "flags": key[4], "mode": key[5],
                         "n": key[6], "reference_io": ref, "io": io,
                         "reference_ns_per_iteration": d_ns, "ns_per_iteration": o_ns,
                         "ratio": o_ns / d_ns if d_ns and o_ns else None,
                         "io_uring_enter_per_iteration": s.get("io_uring_enter_per_iteration"),
                         "sqes_per_enter": s.get("sqes_per_enter"),
                         "noisy": bool(per_io[ref].get("noisy") or s.get("noisy")),
                         "ranges_overlap": overlap})
    rows.sort(key=lambda r: (r["workload"], r["pinning"], r["work_size"], r["transport"] or "",
                             r["flags"], r["io"], caps.mode_rank(r["mode"]), r["n"]))
    return rows


def io_verdicts(rows, caps):
    """Per (group, io, mode): one sentence saying at which N the other io path has
    the lower median than the default one, or that it never does, with the numbers."""
    out = []
    groups = {}
    for r in rows:
        g = (r["workload"], r["pinning"], r["work_size"], r["transport"] or "", r["flags"],
             r["io"], r["mode"])
        groups.setdefault(g, []).append(r)
    for g, rs in groups.items():
        rs = sorted(rs, key=lambda r: r["n"])
        ok = [r for r in rs if r["ratio"] is not None]
        ref, io, mode = rs[0]["reference_io"], g[5], g[6]
        if not ok:
            out.append((g, "%s mode: no N with both %s and %s figures." % (mode, ref, io)))
            continue
        wins = [r for r in ok if r["ratio"] < 1]

        def figs(r):
            return "N=%d: %s vs %s ns, %.2f×%s" % (
                r["n"], fmt(r["ns_per_iteration"]), fmt(r["reference_ns_per_iteration"]),
                r["ratio"], ", min–max ranges overlap" if r.get("ranges_overlap") else "")
        if not wins:
            text = ("%s mode: %s never beats %s here (%s/%s %s)"
                    % (mode, io, ref, io, ref, "; ".join(figs(r) for r in ok)))
        else:
            text = ("%s mode: %s beats %s at N = %s (%s)"
                    % (mode, io, ref, ", ".join(str(r["n"]) for r in wins),
                       "; ".join(figs(r) for r in wins)))
            losses = [r for r in ok if r["ratio"] >= 1]
            if losses:
                text += ", not at N = %s (%s)" % (", ".join(str(r["n"]) for r in losses),
                                                   "; ".join(figs(r) for r in losses))
        if any(r["noisy"] for r in ok):
            text += "; some of these cases are NOISY"
        out.append((g, text + "."))
    return out


def workers_not_applied(mode, reason):
    """The line saying that a pinning's workers were left out for `mode`, in csgb's
    words (its facts refuse --workers)."""
    return "--mode %s ran without the pinning's --workers: csgb: --workers %s" % (mode, reason or "refused")


def write_summary(path, doc, cases, runs, plot_files, plot_notes, counter_note, caps):
    L = []
    man = doc["manifest"]
    L.append("# csgb sweep: %s" % Path(doc["manifest_path"]).name)
    L.append("")
    if man.get("description"):
        L.append(man["description"])
        L.append("")
    n_ok = sum(1 for r in runs if r["status"] == "ok")
    L.append("- started %s, finished %s, %.0f s in all (estimated %.0f s)"
             % (doc["started"], doc["finished"], doc["elapsed_seconds"], doc["estimated_seconds"]))
    interrupted = doc.get("interrupted")
    L.append("- %d case(s), %d run(s): %d ok, %d failed, %d interrupted%s%s"
             % (len(cases), len(runs), n_ok, sum(1 for r in runs if r["status"] == "failed"),
                sum(1 for r in runs if r["status"] == "interrupted"),
                "".join(", %d unsupported" % k for k in
                        [sum(1 for r in runs if r["status"] == "unsupported")] if k),
                (", SWEEP INTERRUPTED (%s): the runs completed before it are kept"
                 % (interrupted if isinstance(interrupted, str) else "SIGINT"))
                if interrupted else ""))
    L.append("- command: `%s`" % doc["command"])
    L.append("- raw data: [results.csv](results.csv) (one row per run), "
             "[results.json](results.json) (every report, the manifest, `csgb info`)")
    durations = {c["duration"] for c in cases}
    repeats = {c["repeats"] for c in cases}
    if min(durations) < 1 or min(repeats) < 3:
        L.append("")
        L.append("> **Smoke-scale runs** (%s s, %s repeat(s)): good for shapes and ratios "
                 "between modes, not for absolute figures to quote. A case whose runs vary "
                 "by more than %d %% is marked NOISY."
                 % ("/".join(fmt_seconds(d) for d in sorted(durations)),
                    "/".join(str(r) for r in sorted(repeats)), round(NOISY_CV * 100)))
    L.append("")

    L.append("## Environment")
    L.append("")
    info = doc["csgb_info"]
    env_rows = [(k, info[k] if isinstance(info[k], str) else json.dumps(info[k])) for k in info]
    env_rows += [("csgb", doc["csgb"]), ("git", doc.get("git") or "–"),
                 ("python", doc["python"])]
    L.append(md_table(("", "value"), env_rows))
    L.append("")

    L.append("## Plots")
    L.append("")
    if plot_files:
        for f in plot_files:
            L.append("- [%s](%s)" % (f, f))
        L.append("")
        for f in plot_files:
            L.append("![%s](%s)" % (f, f))
            L.append("")
    for note in plot_notes:
        L.append("- %s" % note)
    L.append("- %s" % counter_note)
    for mode, reason in sorted(((doc.get("settings") or {}).get("workers_not_applied") or {}).items()):
        L.append("- %s" % workers_not_applied(mode, reason))
    L.append("")

    show_counters = any(c["summary"]["counters_" + f] is not None
                        for c in cases for f in HARDWARE_COUNTER_FIELDS)
    L.append("## Medians per case")
    L.append("")
    L.append("ns/iteration: median over the case's runs, min–max and coefficient of variation "
             "beside it. Switches: context switches of the whole process per iteration "
             "(getrusage). fairness cv: spread of passes between actors (0 = all equal).")
    L.append("")
    show_io = any(c.get("io") and c["io"] != caps.default_io for c in cases) or \
        any(c["summary"].get("io_uring_enter_per_iteration") is not None for c in cases)
    hosts = any(c.get("host_label") for c in cases)
    header = (["host"] if hosts else []) + ["workload", "N", "mode", "pinning", "work size", "transport", "io", "runs ok",
              "ns/iteration",
              "min–max", "CV %", "vol sw/it", "invol sw/it", "fairness cv", "OS threads"]
    if show_io:
        header += ["enters/it", "SQEs/enter"]
    if show_counters:
        header += ["IPC", "cache miss/it", "dTLB miss/it"]
    header.append("note")
    rows = []
    for c in cases:
        s = c["summary"]
        notes = []
        if s["noisy"]:
            causes = s.get("noise_causes") or []
            notes.append("NOISY" + (" (%s)" % "; ".join(causes) if causes else ""))
        if s["eagain"]:
            notes.append("EAGAIN %d" % s["eagain"])
        if s["fairness_min"] == 0:
            notes.append("an actor starved")
        if s["failures"]:
            notes.append("%d failed" % s["failures"])
        if s.get("interrupted"):
            notes.append("%d interrupted" % s["interrupted"])
        if s["unsupported"]:
            notes.append("unsupported")
        row = ([c.get("host_label") or ""] if hosts else []) + [c["workload"], c["n"], c["mode"], c["pinning"], ws_text(c["work_size_label"]),
               c.get("transport") or "–", c.get("io") or "–",
               "%d/%d" % (s["runs_ok"], s["runs"]), fmt(s["ns_per_iteration"]),
               "%s–%s" % (fmt(s["ns_min"]), fmt(s["ns_max"])) if s["ns_min"] is not None else "–",
               fmt(None if s["ns_cv"] is None else 100 * s["ns_cv"], 1),
               fmt(s["voluntary_switches_per_iteration"], 4),
               fmt(s["involuntary_switches_per_iteration"], 4),
               fmt(s["fairness_cv"], 4), fmt(s["os_threads"])]
        if show_io:
            row += [fmt(s.get("io_uring_enter_per_iteration"), 4), fmt(s.get("sqes_per_enter"), 2)]
        if show_counters:
            row += [fmt(s["counters_ipc"], 2), fmt(s["counters_cache_misses_per_iteration"]),
                    fmt(s["counters_dtlb_load_misses_per_iteration"])]
        row.append(", ".join(notes))
        rows.append(row)
    L.append(md_table(header, rows, right={i for i, h in enumerate(header)
                                           if h not in ("host", "workload", "mode", "pinning",
                                                        "work size", "transport", "io",
                                                        "note")}))
    L.append("")

    ratios = compute_ratios(cases, caps)
    L.append("## Ratios between modes")
    L.append("")
    L.append("Median ns/iteration of one mode over another's, same workload, N, pinning, "
             "work size, transport and io path. Below 1: the first mode is faster.")
    L.append("")
    if ratios:
        # csgb's mode pairs first, then "mode/baseline" columns of the manifest's baselines.
        keys = list(dict.fromkeys(k for _, _, r in ratios for k in r))
        header = ["workload", "pinning", "work size, transport, io", "N"] + keys
        rows = [[g[0], g[1], group_text(g), n] +
                [("%.2f×" % r[k]) if r.get(k) is not None else "–" for k in keys]
                for g, n, r in ratios]
        L.append(md_table(header, rows, right=set(range(3, len(header)))))
        L.append("")
        L.append("### Notable")
        L.append("")
        groups = {}
        for g, n, r in ratios:
            for k, v in r.items():
                if v is not None:
                    groups.setdefault((g, k), []).append((n, v))
        for (g, k), pts in groups.items():
            where = "%s, %s, work size %s" % (g[0], g[1], group_text(g))
            if len(pts) == 1:
                L.append("- %s: %s %.2f× at N=%d" % (where, k, pts[0][1], pts[0][0]))
            else:
                lo = min(pts, key=lambda p: p[1])
                hi = max(pts, key=lambda p: p[1])
                L.append("- %s: %s from %.2f× (N=%d) to %.2f× (N=%d)"
                         % (where, k, lo[1], lo[0], hi[1], hi[0]))
        L.append("")
    else:
        L.append("(none: no two modes of the same case both succeeded)")
        L.append("")

    L += io_section(cases, caps)
    L += hosts_section(cases, runs, doc.get("hosts"))

    bad = [r for r in runs if r["status"] != "ok"]
    L.append("## Failures")
    L.append("")
    if bad:
        rows = [[r["case"]["id"], r["kind"], r["repeat"], r["status"],
                 r.get("exit_code") if r.get("exit_code") is not None else "–",
                 r.get("error", ""), "`%s`" % r.get("command", "")] for r in bad]
        L.append(md_table(("case", "pass", "repeat", "status", "exit", "error", "command"), rows))
        L.append("")
        L.append("Full stderr of each: results.json (`runs[].stderr`) and the `stderr` column "
                 "of results.csv.")
    else:
        L.append("None.")
    L.append("")
    with open(path, "w") as f:
        f.write("\n".join(L))



def io_section(cases, caps):
    """"io_uring against direct": per mode, ns/iteration over each io path at each N,
    the enters and SQEs per enter of the ring, and the sentence saying where the
    ring wins. Empty when the sweep ran one io path only."""
    rows = io_comparison(cases, caps)
    if not rows:
        return []
    ref = caps.default_io
    L = ["## io_uring against %s" % ref, ""]
    L.append("The same case (workload, N, mode, pinning, work size, transport) with "
             "`--io %s` (read(2)/write(2)) and with each other io path: median ns/iteration "
             "of both, their ratio (below 1: the ring is faster), and the ring's "
             "`io_uring_enter` calls per iteration and SQEs per enter (batch size)." % ref)
    L.append("")
    blocks = {}
    for r in rows:
        blocks.setdefault((r["workload"], r["pinning"], r["work_size"], r["transport"] or "",
                           r["flags"], r["io"]), []).append(r)
    verdicts = io_verdicts(rows, caps)
    for b, rs in blocks.items():
        L.append("### %s, %s, work size %s%s%s: %s against %s"
                 % (b[0], b[1], ws_text(b[2]), (", " + b[3]) if b[3] else "",
                    (" " + b[4]) if b[4] else "", b[5], ref))
        L.append("")
        header = ["mode", "N", "%s ns/it" % ref, "%s ns/it" % b[5], "%s/%s" % (b[5], ref),
                  "enters/it", "SQEs/enter", "note"]
        L.append(md_table(header, [[r["mode"], r["n"], fmt(r["reference_ns_per_iteration"]),
                                    fmt(r["ns_per_iteration"]),
                                    ("%.2f×" % r["ratio"]) if r["ratio"] is not None else "–",
                                    fmt(r["io_uring_enter_per_iteration"], 4),
                                    fmt(r["sqes_per_enter"], 2),
                                    "NOISY" if r["noisy"] else ""] for r in rs],
                          right={1, 2, 3, 4, 5, 6}))
        L.append("")
        L.append("\"Beats\" below means a lower median; where the two cases' min–max "
                 "ranges overlap, the sentence says so and the difference is within the "
                 "runs' spread.")
        L.append("")
        for g, text in verdicts:
            if g[:6] == b:
                L.append("- " + text)
        L.append("")
    return L


# What a merged sweep's hosts are compared on besides the host: (label, how to read
# it from one host's record in results.json's "hosts").
HOST_FACTS = (
    ("commit (git describe)", lambda h: h.get("git")),
    ("csgb version", lambda h: (h.get("csgb_info") or {}).get("version") or h.get("version")),
    ("kernel", lambda h: (h.get("csgb_info") or {}).get("kernel") or (h.get("host") or {}).get("kernel")),
    ("CPU model", lambda h: (h.get("csgb_info") or {}).get("cpu_model")),
    ("online CPUs", lambda h: (h.get("csgb_info") or {}).get("online_cpus")),
    ("build", lambda h: (h.get("csgb_info") or {}).get("build")),
    ("hypervisor", lambda h: (h.get("csgb_info") or {}).get("hypervisor")),
    ("preemption", lambda h: (h.get("csgb_info") or {}).get("preemption")),
    ("mitigations", lambda h: "; ".join((h.get("csgb_info") or {}).get("vulnerabilities") or []) or None),
)


def host_differences(hosts):
    """Lines naming every fact (HOST_FACTS) on which the merged hosts differ, each
    host's value beside its label; [] when they agree."""
    lines = []
    for label, read in HOST_FACTS:
        values = [(h.get("label"), read(h)) for h in hosts]
        if len({json.dumps(v, sort_keys=True, default=str) for _, v in values}) > 1:
            lines.append("- %s differs: %s" % (label, "; ".join(
                "%s = %s" % (l, "(not recorded)" if v is None else v) for l, v in values)))
    return lines


def hosts_section(cases, runs, host_records=None):
    """"Hosts side by side" of a merged sweep: what differs between the hosts besides
    the host (commit, csgb version, kernel, CPU, build, ...), then every case by host,
    its median and 95 % interval, and each later host's ratio to the first with the
    Mann-Whitney U p-value over the timing runs (compare.py's statistics)."""
    from compare_stats import MIN_SAMPLES, mann_whitney, median_interval
    hosts = list(dict.fromkeys(c["host_label"] for c in cases if c.get("host_label")))
    if len(hosts) < 2:
        return []
    diffs = host_differences(host_records or [])
    prelude = ["## Hosts side by side", ""]
    if diffs:
        prelude += ["Besides the host, the merged folders differ in (a ratio below mixes "
                    "these with the host):", ""] + diffs + [""]
    elif host_records:
        prelude += ["The merged folders agree on commit, csgb version, kernel, CPU model, "
                    "build and mitigations.", ""]
    from case_keys import baseline_key, case_key, key_text
    # Runs meet across hosts by what they ran (case_keys, as compare.py groups them),
    # never by a measured field; each row is labelled with the first case id seen.
    values, labels = {}, {}
    for r in runs:
        c = r["case"]
        if r["kind"] == "timing" and r["status"] == "ok" and c.get("host_label"):
            key = key_text(baseline_key(c["program"], c["n"], c.get("cpus")) if c.get("program")
                           else case_key(r["report"]))
            labels.setdefault(key, c.get("case_id", c["id"]))
            values.setdefault(key, {}).setdefault(c["host_label"], []).append(
                r["report"]["ns_per_iteration"])
    L = prelude + [
         "Median ns/iteration of each case on each host, its 95 %% interval (order statistics; "
         "a lower confidence in parentheses when the runs are too few for 95 %%), and each host "
         "against %s: ratio of medians and the Mann–Whitney U p-value (`~`: not significant at "
         "0.05; under %d runs on either side: too few samples to tell)." % (hosts[0], MIN_SAMPLES), ""]
    header = ["case"] + [h for h in hosts] + ["%s / %s" % (h, hosts[0]) for h in hosts[1:]]
    rows = []
    for key, per in values.items():
        row = [labels[key]]
        for h in hosts:
            xs = per.get(h)
            if not xs:
                row.append("–")
                continue
            lo, hi, conf = median_interval(xs)
            row.append("%s [%s, %s]%s" % (fmt(median(xs)), fmt(lo), fmt(hi),
                                          "" if conf >= 0.95 else " (%d %%)" % round(100 * conf)))
        base = per.get(hosts[0])
        for h in hosts[1:]:
            xs = per.get(h)
            if not xs or not base:
                row.append("–")
                continue
            ratio = median(xs) / median(base)
            _, p, _ = mann_whitney(base, xs)
            if min(len(xs), len(base)) < MIN_SAMPLES:
                row.append("%.2f× (too few samples: n = %d)" % (ratio, min(len(xs), len(base))))
            elif p >= 0.05:
                row.append("~ %.2f× (p=%.3f)" % (ratio, p))
            else:
                row.append("%.2f× (p=%.3f)" % (ratio, p))
        rows.append(row)
    L.append(md_table(header, rows, right=set(range(1, len(header)))))
    L.append("")
    return L
