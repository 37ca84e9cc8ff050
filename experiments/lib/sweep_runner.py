"""Running a sweep's cases: one csgb (or baseline) run at a time, the repeats
interleaved round-robin, the optional counter pass, per-case medians, and the
results directory (results.csv, results.json, plots via plot.py, summary.md via
sweep_summary)."""

import csv
import importlib.util
import json
import os
import signal
import subprocess
import sys

from csgb_common import (HERE, REPO, UsageError, cv, fmt, is_noisy, median, run_once)
from sweep_manifest import case_argv
from sweep_summary import compute_ratios, group_fields, io_comparison, write_summary

# Per-case figures taken as medians over the successful timing runs.
MEDIAN_FIELDS = ("ns_per_iteration", "iterations_per_second",
                 "voluntary_switches_per_iteration", "involuntary_switches_per_iteration",
                 "fairness_cv", "latency_ns_p50", "latency_ns_p99", "user_seconds",
                 "system_seconds", "io_uring_enter_per_iteration", "sqes_per_enter",
                 "sqpoll_cpu_seconds")
# Counter figures, medians over the non-null values of the counter runs.
COUNTER_FIELDS = ("ipc", "cache_misses_per_iteration", "dtlb_load_misses_per_iteration",
                  "instructions_per_iteration", "cycles_per_iteration",
                  "context_switches_per_iteration")

# Columns describing the case of a run; the flattened report follows them.
CASE_COLUMNS = ("case_id", "kind", "repeat", "status", "exit_code", "wall_seconds",
                "load_average", "runnable_tasks", "error", "workload", "mode", "n", "pinning", "cpus", "pin", "workers",
                "work_size", "work_size_label", "transport", "io", "flags", "command")


def log(*args):
    """A progress line on stderr; a terminal that went away (SIGHUP) loses the line,
    never the sweep."""
    try:
        print(*args, file=sys.stderr, flush=True)
    except OSError:
        pass


# Signals that stop a sweep the way Ctrl-C does: the run under way is abandoned (its
# csgb child killed), every completed run is kept and the results folder written.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)


class Stopped(KeyboardInterrupt):
    """A stop signal arrived; args[0] is its name."""


def _stop(signum, frame):
    # Further stop signals must not cut the writing of what was completed.
    defer_stop_signals()
    raise Stopped(signal.Signals(signum).name)


_deferred = []


def _defer(signum, frame):
    _deferred.append(signal.Signals(signum).name)


def install_stop_signals():
    """SIGINT, SIGTERM, SIGHUP and SIGQUIT raise Stopped (a KeyboardInterrupt)."""
    for s in STOP_SIGNALS:
        signal.signal(s, _stop)


def defer_stop_signals():
    """From now on a stop signal is only noted (stop_deferred()), so that the results
    folder is written whole; the sweep then exits as interrupted."""
    for s in STOP_SIGNALS:
        signal.signal(s, _defer)


def stop_deferred():
    """The name of the first stop signal noted since defer_stop_signals(), or None."""
    return _deferred[0] if _deferred else None


def flatten(obj, prefix="", out=None):
    """Nested report -> flat dict with keys joined by '_' (csgb's CSV style).
    counters.events is left to results.json (one entry per perf event)."""
    if out is None:
        out = {}
    for k, v in obj.items():
        key = prefix + k
        if isinstance(v, dict):
            if key == "counters_events":
                continue
            flatten(v, key + "_", out)
        elif isinstance(v, list):
            out[key] = json.dumps(v)
        else:
            out[key] = v
    return out


def decide_counters(setting, info, csgb, cases):
    """Returns (collect, note). Counters run in a separate pass: per-thread perf
    events cost ~1.4 us per context switch here (docs/verification.md), so thread
    mode with --counters is slower; timing medians never come from those runs."""
    if setting == "off":
        return False, "counters: off in the manifest"
    pmu = info.get("hardware_pmu")
    if setting == "auto" and pmu is not True:
        return False, ("counters: not collected: no hardware PMU on this machine "
                       "(csgb info: hardware_pmu %s), so IPC, cache and dTLB misses would be "
                       "null; context switches come from getrusage in every run"
                       % json.dumps(pmu))
    csgb_cases = [c for c in cases if not c.get("program")]
    if not csgb_cases:
        return False, "counters: not collected: the manifest has no csgb case"
    probe = dict(csgb_cases[0], n=1, workers=None, work_size=0, work_size_label="0",
                 flags=[], duration=0.05, warmup=0.0)
    rec = run_once(case_argv(csgb, probe, counters=True), 30)
    if rec["status"] != "ok":
        return False, "counters: not collected: probe failed (%s)" % rec["error"]
    hw = (rec["report"].get("counters") or {}).get("hardware")
    return True, ("counters: collected in a separate pass with --counters (hardware: %s); "
                  "timing figures come from runs without it" % hw)


def machine_load():
    """(1-minute load average, tasks running or runnable on the machine now, from
    /proc/loadavg's fourth field), each None when unreadable: recorded before every
    run, so that a NOISY case can say why."""
    try:
        with open("/proc/loadavg") as f:
            fields = f.read().split()
        return float(fields[0]), int(fields[3].split("/")[0])
    except (OSError, ValueError, IndexError):
        return None, None


def noise_causes(ok, s):
    """Why a case's runs varied, where it is known: the load average above the CPU
    count (csgb's environment, or the sweep's own reading before the run), other
    tasks runnable when a run started, csgb's own warning about its run; else the
    spread itself, with its figures."""
    causes = []
    cpus = None
    loads, runnable, warnings = [], [], []
    for r in ok:
        env = (r.get("report") or {}).get("environment") or {}
        if isinstance(env.get("online_cpus"), int):
            cpus = env["online_cpus"]
        la = env.get("load_average")
        if isinstance(la, list) and la and isinstance(la[0], (int, float)):
            loads.append(la[0])
        if isinstance(r.get("load_average"), (int, float)):
            loads.append(r["load_average"])
        if isinstance(r.get("runnable_tasks"), int):
            runnable.append(r["runnable_tasks"])
        for w in (r.get("report") or {}).get("warnings") or []:
            if isinstance(w, str) and ("load" in w or "runnable" in w) and w not in warnings:
                warnings.append(w)
    cpus = cpus or os.cpu_count()
    if loads and cpus and max(loads) > cpus:
        causes.append("load average up to %.1f on %d CPUs" % (max(loads), cpus))
    # the sweep itself is one runnable task when it reads /proc/loadavg
    if runnable and max(runnable) > 1:
        causes.append("up to %d other task(s) runnable as a run started" % (max(runnable) - 1))
    causes += ["csgb: " + w[:120] for w in warnings[:1]]
    if not causes:
        causes.append("the runs themselves: CV %.0f %% (min %s, max %s ns)"
                      % (100 * s["ns_cv"], fmt(s["ns_min"], 0), fmt(s["ns_max"], 0)))
    return causes


def summarize_case(c, runs):
    ok = [r for r in runs if r["kind"] == "timing" and r["status"] == "ok"]
    cruns = [r for r in runs if r["kind"] == "counters" and r["status"] == "ok"]
    s = {"runs": len([r for r in runs if r["kind"] == "timing"]), "runs_ok": len(ok)}
    flats = [flatten(r["report"]) for r in ok]
    for f in MEDIAN_FIELDS:
        s[f] = median(x.get(f) for x in flats)
    ns = [x["ns_per_iteration"] for x in flats]
    s["ns_min"] = min(ns) if ns else None
    s["ns_max"] = max(ns) if ns else None
    s["ns_cv"] = cv(ns)
    s["noisy"] = is_noisy(s["ns_cv"])
    s["noise_causes"] = noise_causes(ok, s) if s["noisy"] else []
    s["eagain"] = max((x.get("eagain") or 0 for x in flats), default=None)
    s["fairness_min"] = min((x["fairness_min"] for x in flats
                             if isinstance(x.get("fairness_min"), (int, float))), default=None)
    s["os_threads"] = flats[0].get("os_threads") if flats else None
    s["counter_runs_ok"] = len(cruns)
    cflats = [(r["report"].get("counters") or {}) for r in cruns]
    for f in COUNTER_FIELDS:
        s["counters_" + f] = median(x.get(f) for x in cflats)
    s["counters_hardware"] = cflats[0].get("hardware") if cflats else None
    s["failures"] = len([r for r in runs if r["status"] == "failed"])
    s["interrupted"] = len([r for r in runs if r["status"] == "interrupted"])
    s["unsupported"] = len([r for r in runs if r["status"] == "unsupported"])
    return s


# ---------------------------------------------------------------- output

def write_csv(path, runs):
    rows, report_cols = [], []
    seen = set(CASE_COLUMNS)
    for r in runs:
        c = r["case"]
        row = {"case_id": c["id"], "kind": r["kind"], "repeat": r["repeat"],
               "status": r["status"], "exit_code": r.get("exit_code"),
               "wall_seconds": r.get("wall_seconds"), "load_average": r.get("load_average"),
               "runnable_tasks": r.get("runnable_tasks"), "error": r.get("error", ""),
               "workload": c["workload"], "mode": c["mode"], "n": c["n"],
               "pinning": c["pinning"], "cpus": c["cpus"], "pin": c["pin"],
               "workers": c["workers"], "work_size": c["work_size"],
               "work_size_label": c["work_size_label"], "transport": c.get("transport"),
               "io": c.get("io"), "flags": " ".join(c["flags"]),
               "command": r.get("command", "")}
        if r["status"] != "ok" and r.get("stderr"):
            row["stderr"] = r["stderr"]
            if "stderr" not in seen:
                seen.add("stderr")
                report_cols.append("stderr")
        for k, v in flatten(r.get("report") or {}).items():
            if k in CASE_COLUMNS:
                if row[k] is None:          # e.g. workers: csgb's default, as it reports it
                    row[k] = v
                    continue
                if str(v) == str(row[k]) or v is None:
                    continue
                k = "report_" + k
            row[k] = v
            if k not in seen:
                seen.add(k)
                report_cols.append(k)
        rows.append(row)
    cols = list(CASE_COLUMNS) + report_cols

    def cell(v):
        if v is None:
            return ""
        if isinstance(v, bool):
            return "true" if v else "false"
        return v

    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols)
        w.writeheader()
        for row in rows:
            w.writerow({k: cell(row.get(k)) for k in cols})



def git_describe():
    try:
        p = subprocess.run(["git", "-C", str(REPO), "describe", "--always", "--dirty"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, timeout=10)
        return p.stdout.strip() if p.returncode == 0 else None
    except (OSError, subprocess.TimeoutExpired):
        return None


def matplotlib_interpreter():
    """The interpreter to plot with: this one if it has matplotlib, else
    /usr/bin/python3 (Debian's python3-matplotlib) if that one has it, else None."""
    if importlib.util.find_spec("matplotlib") is not None:
        return sys.executable
    for cand in ("/usr/bin/python3", "/usr/local/bin/python3"):
        if os.path.realpath(cand) == os.path.realpath(sys.executable) or not os.access(cand, os.X_OK):
            continue
        try:
            p = subprocess.run([cand, "-c", "import matplotlib"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, timeout=60)
            if p.returncode == 0:
                return cand
        except (OSError, subprocess.TimeoutExpired):
            pass
    return None


def make_plots(outdir, doc):
    """Returns (files, notes). Plots in this process when it has matplotlib, else
    through experiments/plot.py under an interpreter that has it."""
    interp = matplotlib_interpreter()
    if interp is None:
        return [], ["plots skipped: matplotlib is not installed for %s "
                    "(Debian: apt-get install python3-matplotlib)" % sys.executable]
    if interp == sys.executable:
        sys.path.insert(0, str(HERE))
        import plot
        return plot.plot_all(outdir, doc)
    p = subprocess.run([interp, str(HERE / "plot.py"), str(outdir), "--json-out"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        return [], ["plots failed (%s experiments/plot.py): %s" % (interp, p.stderr.strip()[-500:])]
    res = json.loads(p.stdout)
    return res["files"], res["notes"] + ["plotted with %s (matplotlib is not installed for %s)"
                                         % (interp, sys.executable)]


def clean_old_plots(outdir):
    old = outdir / "results.json"
    if not old.exists():
        return
    try:
        with open(old) as f:
            files = json.load(f).get("plots", [])
    except (OSError, ValueError):
        return
    for name in files:
        p = outdir / name
        if p.parent == outdir and p.suffix == ".png" and p.exists():
            p.unlink()


def write_json(path, doc):
    """Written beside and renamed over, so that a results.json is never half written."""
    tmp = path.with_name(path.name + ".partial")
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    os.replace(tmp, path)


def write_outputs(outdir, doc, cases, runs, counter_note, caps, plots=True):
    outdir.mkdir(parents=True, exist_ok=True)
    clean_old_plots(outdir)
    public_cases = [{"id": c["id"], **{k: c[k] for k in (
        "workload", "mode", "n", "pinning", "cpus", "pin", "workers", "work_size",
        "work_size_label", "transport", "io", "flags", "duration", "warmup", "repeats",
        "pinning_index")},
        **{k: c[k] for k in ("program", "compare", "host_label", "case_id") if k in c},
        "argv": c["argv"], "summary": c["summary"]} for c in cases]
    doc["cases"] = public_cases
    doc["ratios"] = [{**group_fields(g), "n": n, **r} for g, n, r in compute_ratios(cases, caps)]
    doc["io_comparison"] = io_comparison(cases, caps)
    doc["runs"] = [{"case_id": r["case"]["id"], **{k: v for k, v in r.items() if k != "case"}}
                   for r in runs]
    doc["counters_note"] = counter_note
    doc["plots"] = []
    write_csv(outdir / "results.csv", runs)
    write_json(outdir / "results.json", doc)
    files, notes = make_plots(outdir, doc) if plots else ([], ["plots not drawn (--no-plots)"])
    doc["plots"] = files
    doc["plot_notes"] = notes
    write_json(outdir / "results.json", doc)   # again, now listing the plots
    write_summary(outdir / "summary.md", doc, cases, runs, files, notes, counter_note, caps)



def plan_runs(cases, settings, collect_counters, caps=None):
    """(case, kind, repeat) in the order they run: repeat 1 of every case, then
    repeat 2, ... (drift of a shared machine hits every case alike), then the
    counter pass, which skips baselines and the cases whose mode refuses --counters
    by csgb's facts (`caps`; its actors are not csgb's threads): such a run would
    exit 64 and stop the sweep."""
    plan = []
    for r in range(1, max(c["repeats"] for c in cases) + 1):
        plan += [(c, "timing", r) for c in cases if r <= c["repeats"]]
    if collect_counters:
        counted = [c for c in cases if not c.get("program")
                   and (caps is None or caps.accepts(c["mode"], "--counters") is not False)]
        for r in range(1, settings["counter_repeats"] + 1):
            plan += [(c, "counters", r) for c in counted]
    return plan


def run_plan(plan, csgb, settings, done=()):
    """Runs the plan, one progress line per run on stderr. Returns (runs, interrupted):
    Ctrl-C stops it and keeps the runs so far; so does a run that exits 64 (its
    command line is wrong), whose UsageError is re-raised after the summaries, with
    the runs attached (error.runs), for the caller to write them and stop."""
    runs, interrupted, usage_error = list(done), False, None
    width = len(str(len(plan)))
    try:
        for i, (c, kind, rep) in enumerate(plan, 1):
            cmd = case_argv(csgb, c, counters=(kind == "counters"))
            load, runnable = machine_load()
            rec = run_once(cmd, c["duration"] + c["warmup"] + c["timeout"],
                           baseline=bool(c.get("program")))
            rec.update(load_average=load, runnable_tasks=runnable)
            rec.update(case=c, kind=kind, repeat=rep)
            runs.append(rec)
            label = "%s%s rep %d/%d" % (c["id"], " [counters]" if kind == "counters" else "",
                                        rep, settings["counter_repeats"] if kind == "counters"
                                        else c["repeats"])
            if rec["status"] == "ok":
                rpt = rec["report"]
                detail = "%10s ns/it  sw/it vol %.3f invol %.3f" % (
                    fmt(rpt["ns_per_iteration"], 1),
                    rpt.get("voluntary_switches_per_iteration") or 0,
                    rpt.get("involuntary_switches_per_iteration") or 0)
                if rpt.get("io_uring_enter_per_iteration") is not None:
                    detail += "  enters/it %.3f" % rpt["io_uring_enter_per_iteration"]
            else:
                detail = "%s: %s" % (rec["status"].upper(), rec["error"])
            log("[%*d/%d] %-58s %s  (%.2f s)" % (width, i, len(plan), label, detail,
                                                rec.get("wall_seconds") or 0))
    except KeyboardInterrupt as e:
        interrupted = e.args[0] if isinstance(e, Stopped) else "SIGINT"
        defer_stop_signals()
        log("sweep: interrupted by %s; writing the %d run(s) so far" % (interrupted, len(runs)))
    except UsageError as e:
        usage_error = e
        log("sweep: stopped: %s" % e)
    for c in {id(c): c for c, _, _ in plan + [(r["case"], 0, 0) for r in runs]}.values():
        c["summary"] = summarize_case(c, [r for r in runs if r["case"] is c])
    if usage_error:
        usage_error.runs = runs
        raise usage_error
    return runs, interrupted


class ResumeError(Exception):
    pass


def csgb_version(csgb):
    """`csgb --version` without its leading "csgb ", as reports carry it; None if it
    cannot be run."""
    try:
        p = subprocess.run([str(csgb), "--version"], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = p.stdout.strip()
    return text[len("csgb "):] if p.returncode == 0 and text.startswith("csgb ") else None


def completed_runs(previous, cases, info, csgb):
    """The runs of a stopped sweep's results.json to keep when it is resumed: every run
    that completed (ok or failed), linked to this expansion's cases; runs that were
    interrupted are left out, so that they run again. Raises ResumeError when the
    folder was swept on another host or kernel, by another csgb build, or from cases
    this csgb no longer expands to."""
    old = previous.get("csgb_info") or {}
    for k in ("hostname", "kernel", "build", "cpu_model"):
        if k in old and old.get(k) != info.get(k):
            raise ResumeError("it was swept with %s %r, this csgb reports %r: resuming would mix "
                              "two machines or builds in one folder" % (k, old.get(k), info.get(k)))
    version = csgb_version(csgb)
    seen = {r["report"].get("version") for r in previous.get("runs", [])
            if r.get("status") == "ok" and isinstance(r.get("report"), dict)
            and r["report"].get("version")}
    if version and seen and seen != {version}:
        raise ResumeError("its runs come from csgb %s, this is %s" % (", ".join(sorted(seen)), version))
    by_id = {c["id"]: c for c in cases}
    kept = []
    for r in previous.get("runs", []):
        if r.get("status") == "interrupted":
            continue
        c = by_id.get(r["case_id"])
        if c is None:
            raise ResumeError("its case %r is not in this csgb's expansion of the manifest"
                              % r["case_id"])
        kept.append(dict({k: v for k, v in r.items() if k != "case_id"}, case=c))
    return kept


def resummarize(outdir, caps_of, doc):
    """Rewrites summary.md (and results.json's ratios and io comparison) of an
    existing results directory from its results.json (`doc`, as read and checked by
    results_folder.read_results): no run, no plot."""
    caps = caps_of(doc["csgb_info"])
    cases = doc["cases"]
    by_id = {c["id"]: c for c in cases}
    runs = [dict(r, case=by_id[r["case_id"]]) for r in doc["runs"]]
    doc["ratios"] = [{**group_fields(g), "n": n, **r} for g, n, r in compute_ratios(cases, caps)]
    doc["io_comparison"] = io_comparison(cases, caps)
    write_json(outdir / "results.json", doc)
    write_summary(outdir / "summary.md", doc, cases, runs, doc.get("plots", []),
                  doc.get("plot_notes", []), doc.get("counters_note", ""), caps)
