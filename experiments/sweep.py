#!/usr/bin/env python3
"""Run a matrix of csgb cases from a manifest; write CSV, JSON, plots and a summary.

    python3 experiments/sweep.py experiments/manifests/default.json
    python3 experiments/sweep.py experiments/manifests/quick.json --out /tmp/sweep-test
    python3 experiments/sweep.py experiments/manifests/default.json --list   # cases, commands, estimate
    python3 experiments/sweep.py --self-test                                  # no csgb runs

A manifest (JSON) names the defaults (duration, warm-up, repeats) and one or more
matrix blocks (workloads x modes x N x pinning x work sizes); see
experiments/README.md, section "Sweeps". Every case runs `repeats` times with
`--format json`; the repeats are interleaved round-robin (repeat 1 of every case,
then repeat 2, ...) so that drift of a shared machine hits every case alike. A run
that fails is recorded with its stderr and the sweep goes on.

Results go to experiments/results/<YYYY-MM-DD>-<hostname>/ (or --out):
results.csv (one row per run), results.json (every raw report, the manifest,
`csgb info`), PNG plots (experiments/plot.py, matplotlib) and summary.md.

Exit status: 0 when every run succeeded or was unsupported (csgb exit 64),
1 when a run failed (other non-zero exit, timeout, unreadable output),
2 for a bad manifest or bad arguments, 130 when interrupted (results so far are
still written). Standard library only, plus matplotlib for the plots.
"""

import argparse
import csv
import datetime
import importlib.util
import json
import math
import os
import platform
import re
import shlex
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from csgb_report import parse_report, resolve_binary

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEFAULT_CSGB = REPO / ".build" / "release" / "csgb"
RESULTS_ROOT = HERE / "results"

WORKLOADS = ("socket", "yield", "futex")
MODES = ("thread", "green", "async")
THREAD_ONLY_WORKLOADS = ("futex",)   # csgb: futex exists in thread mode only
EXIT_NOT_SUPPORTED = 64              # csgb: bad arguments / mode not supported here
NOISY_CV = 0.05                      # flag a case whose runs vary more than this
STDERR_KEEP = 4000                   # characters of a failed run's stderr kept

DEFAULTS = {"duration": 0.5, "warmup": 0.1, "repeats": 3, "timeout": 60.0}
BLOCK_KEYS = {"workloads", "modes", "n", "pinning", "work_sizes", "flags",
              "duration", "warmup", "repeats", "timeout"}
TOP_KEYS = {"description", "defaults", "matrix", "exclude", "flags", "mode_flags",
            "counters", "counter_repeats", "baselines"}
BASELINE_KEYS = {"program", "n", "pinning", "compare", "duration", "warmup", "repeats",
                 "timeout"}
BASELINE_BIN = HERE / "baselines" / "bin"
# Baseline program (experiments/baselines/bin, built by `make baselines`) -> the csgb
# workload it runs and the csgb mode it is compared with by default.
BASELINE_PROGRAMS = {
    "echo_threads": ("socket", "thread"),
    "echo_loop": ("socket", "green"),
    "echo_loop_nonblocking": ("socket", "async"),
    "tokio_echo": ("socket", "async"),
    "go_echo": ("socket", "async"),
    "yield_threads": ("yield", "thread"),
    "fiber_yield": ("yield", "green"),
    "fiber_rr_yield": ("yield", "async"),
    "go_gosched": ("yield", "async"),
}
# The key: value lines of a baseline's output (experiments/baselines/common.h).
BASELINE_KEYS_OUT = {"total iterations": "iterations", "seconds": "seconds",
                     "ns_per_iteration": "ns_per_iteration",
                     "iterations_per_second": "iterations_per_second",
                     "voluntary_switches_per_iteration": "voluntary_switches_per_iteration",
                     "involuntary_switches_per_iteration": "involuntary_switches_per_iteration"}
PIN_KEYS = {"cpus", "pin", "workers", "label"}
EXCLUDE_KEYS = {"workload", "mode", "n", "pinning", "cpus", "pin", "workers", "work_size"}
CPULIST_RE = re.compile(r"^\d+(-\d+)?(,\d+(-\d+)?)*$")
SIZE_RE = re.compile(r"^(\d+)([KMG]?)$", re.IGNORECASE)

# Start-up cost of one run beyond duration + warm-up (process start, creating the
# actors, the start gate, the report), measured on the 2-vCPU development VM:
# about 0.03 s for small N, 0.26 s for `socket 1000` in thread mode (2,000 threads),
# 0.09 s for `socket 1000` green. Used only for the estimate printed up front.
STARTUP_BASE_S = 0.03
STARTUP_PER_THREAD_S = 1.3e-4
STARTUP_PER_GREEN_S = 4.5e-5

# Per-case figures taken as medians over the successful timing runs.
MEDIAN_FIELDS = ("ns_per_iteration", "iterations_per_second",
                 "voluntary_switches_per_iteration", "involuntary_switches_per_iteration",
                 "fairness_cv", "latency_ns_p50", "latency_ns_p99", "user_seconds",
                 "system_seconds")
# Counter figures, medians over the non-null values of the counter runs.
COUNTER_FIELDS = ("ipc", "cache_misses_per_iteration", "dtlb_load_misses_per_iteration",
                  "instructions_per_iteration", "cycles_per_iteration",
                  "context_switches_per_iteration")
HARDWARE_COUNTER_FIELDS = ("ipc", "cache_misses_per_iteration",
                           "dtlb_load_misses_per_iteration")

# Columns describing the case of a run; the flattened report follows them.
CASE_COLUMNS = ("case_id", "kind", "repeat", "status", "exit_code", "wall_seconds",
                "error", "workload", "mode", "n", "pinning", "cpus", "pin", "workers",
                "work_size", "work_size_label", "flags", "command")

RATIO_PAIRS = (("green", "thread"), ("async", "thread"), ("async", "green"))


class ManifestError(Exception):
    pass


def log(*args):
    print(*args, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- manifest

def parse_size(value, where):
    """Work size: an int (bytes) or a string such as "64K". Returns (bytes, label)."""
    if isinstance(value, bool):
        raise ManifestError("%s: expected bytes, got %r" % (where, value))
    if isinstance(value, int):
        if value < 0:
            raise ManifestError("%s: negative size %r" % (where, value))
        return value, str(value)
    if isinstance(value, str):
        m = SIZE_RE.match(value.strip())
        if m:
            mult = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}[m.group(2).upper()]
            return int(m.group(1)) * mult, value.strip().upper()
    raise ManifestError("%s: expected bytes such as 0, 4096 or \"64K\", got %r" % (where, value))


def as_list(block, key, where):
    v = block.get(key)
    if v is None:
        raise ManifestError("%s: missing %r" % (where, key))
    if not isinstance(v, list) or not v:
        raise ManifestError("%s: %r must be a non-empty list" % (where, key))
    return v


def check_flags(v, where):
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise ManifestError("%s: expected a list of strings (command-line flags)" % where)
    for f in v:
        if f in ("--format", "--duration", "-d", "--warmup", "--mode", "-m", "--cpus",
                 "--pin", "--work-size", "--workers", "-w"):
            raise ManifestError("%s: %s is set by the matrix, not by flags" % (where, f))
    return list(v)


def number(v, where, minimum, integer=False):
    ok = isinstance(v, int) if integer else isinstance(v, (int, float))
    if not ok or isinstance(v, bool) or not (v >= minimum):
        raise ManifestError("%s: expected %s >= %g, got %r"
                            % (where, "an integer" if integer else "a number", minimum, v))
    return v


def pin_label(p):
    if p.get("label"):
        return str(p["label"])
    if "cpus" not in p:
        return "unpinned"
    label = "cpus %s" % p["cpus"]
    if p.get("pin") == "each":
        label += " each"
    if p.get("workers"):
        label += ", %d workers" % p["workers"]
    return label


def load_manifest(path):
    try:
        with open(path) as f:
            doc = json.load(f)
    except OSError as e:
        raise ManifestError("cannot read %s: %s" % (path, e))
    except ValueError as e:
        raise ManifestError("%s is not valid JSON: %s" % (path, e))
    return doc


def expand_manifest(doc):
    """Validates a manifest and returns (cases, settings). Each case is a dict of
    its parameters; cases keep manifest order, duplicates dropped."""
    if not isinstance(doc, dict):
        raise ManifestError("the manifest must be a JSON object")
    unknown = set(doc) - TOP_KEYS
    if unknown:
        raise ManifestError("unknown top-level key(s): %s (known: %s)"
                            % (", ".join(sorted(unknown)), ", ".join(sorted(TOP_KEYS))))
    defaults = dict(DEFAULTS)
    d = doc.get("defaults", {})
    if not isinstance(d, dict):
        raise ManifestError("defaults: expected an object")
    for k, v in d.items():
        if k not in DEFAULTS:
            raise ManifestError("defaults: unknown key %r (known: %s)" % (k, ", ".join(DEFAULTS)))
        defaults[k] = v
    global_flags = check_flags(doc.get("flags", []), "flags")
    mode_flags = doc.get("mode_flags", {})
    if not isinstance(mode_flags, dict):
        raise ManifestError("mode_flags: expected an object {mode: [flags]}")
    for m, fl in mode_flags.items():
        if m not in MODES:
            raise ManifestError("mode_flags: unknown mode %r" % m)
        check_flags(fl, "mode_flags.%s" % m)
    counters = doc.get("counters", "auto")
    if counters not in ("off", "auto", "on"):
        raise ManifestError("counters: expected \"off\", \"auto\" or \"on\", got %r" % counters)
    counter_repeats = number(doc.get("counter_repeats", 1), "counter_repeats", 1, integer=True)
    excludes = doc.get("exclude", [])
    if not isinstance(excludes, list) or not all(isinstance(e, dict) and e for e in excludes):
        raise ManifestError("exclude: expected a list of objects such as "
                            "{\"workload\": \"yield\", \"mode\": \"async\"}")
    for e in excludes:
        bad = set(e) - EXCLUDE_KEYS
        if bad:
            raise ManifestError("exclude: unknown key(s) %s (known: %s)"
                                % (", ".join(sorted(bad)), ", ".join(sorted(EXCLUDE_KEYS))))

    matrix = doc.get("matrix")
    if isinstance(matrix, dict):
        matrix = [matrix]
    if not isinstance(matrix, list) or not matrix:
        raise ManifestError("matrix: expected a block object or a non-empty list of blocks")

    cases, seen, excluded = [], set(), 0
    for bi, block in enumerate(matrix):
        where = "matrix[%d]" % bi
        if not isinstance(block, dict):
            raise ManifestError("%s: expected an object" % where)
        unknown = set(block) - BLOCK_KEYS
        if unknown:
            raise ManifestError("%s: unknown key(s) %s (known: %s)"
                                % (where, ", ".join(sorted(unknown)), ", ".join(sorted(BLOCK_KEYS))))
        workloads = as_list(block, "workloads", where)
        for w in workloads:
            if w not in WORKLOADS:
                raise ManifestError("%s: unknown workload %r (known: %s)" % (where, w, ", ".join(WORKLOADS)))
        modes = as_list(block, "modes", where)
        for m in modes:
            if m not in MODES:
                raise ManifestError("%s: unknown mode %r (known: %s)" % (where, m, ", ".join(MODES)))
        ns = [number(n, where + ".n", 1, integer=True) for n in as_list(block, "n", where)]
        pinnings = block.get("pinning", [{}])
        if not isinstance(pinnings, list) or not pinnings:
            raise ManifestError("%s: 'pinning' must be a non-empty list of objects" % where)
        for p in pinnings:
            if not isinstance(p, dict):
                raise ManifestError("%s.pinning: expected objects such as {\"cpus\": \"0\"}" % where)
            bad = set(p) - PIN_KEYS
            if bad:
                raise ManifestError("%s.pinning: unknown key(s) %s (known: %s)"
                                    % (where, ", ".join(sorted(bad)), ", ".join(sorted(PIN_KEYS))))
            if "cpus" in p and not (isinstance(p["cpus"], str) and CPULIST_RE.match(p["cpus"])):
                raise ManifestError("%s.pinning: cpus must be a CPU list such as \"0\", \"0-1\", "
                                    "\"0,2\"; got %r" % (where, p["cpus"]))
            if "pin" in p and p["pin"] not in ("set", "each"):
                raise ManifestError("%s.pinning: pin must be \"set\" or \"each\"" % where)
            if "pin" in p and "cpus" not in p:
                raise ManifestError("%s.pinning: pin needs cpus" % where)
            if "workers" in p:
                number(p["workers"], where + ".pinning.workers", 1, integer=True)
        sizes = [parse_size(s, where + ".work_sizes") for s in block.get("work_sizes", [0])]
        flags = check_flags(block.get("flags", []), where + ".flags")
        duration = number(block.get("duration", defaults["duration"]), where + ".duration", 0.001)
        warmup = number(block.get("warmup", defaults["warmup"]), where + ".warmup", 0)
        repeats = number(block.get("repeats", defaults["repeats"]), where + ".repeats", 1, integer=True)
        timeout = number(block.get("timeout", defaults["timeout"]), where + ".timeout", 1)

        for w in workloads:
            for m in modes:
                if w in THREAD_ONLY_WORKLOADS and m != "thread":
                    excluded += 1
                    continue
                for n in ns:
                    for p in pinnings:
                        for size, size_label in sizes:
                            # csgb rejects more workers than pairs (socket) or actors
                            # (yield): the extra ones would sit idle.
                            workers = min(p["workers"], n) if m != "thread" and p.get("workers") else None
                            case = {
                                "workload": w, "mode": m, "n": n,
                                "pinning": pin_label(p), "cpus": p.get("cpus"),
                                "pin": p.get("pin", "set") if "cpus" in p else None,
                                "workers": workers, "work_size": size,
                                "work_size_label": size_label if size else "0",
                                "flags": global_flags + list(mode_flags.get(m, [])) + flags,
                                "duration": duration, "warmup": warmup,
                                "repeats": repeats, "timeout": timeout,
                            }
                            if any(all(str(case.get(k)) == str(v) or
                                       (k == "work_size" and str(case["work_size_label"]) == str(v).upper())
                                       for k, v in e.items()) for e in excludes):
                                excluded += 1
                                continue
                            case["id"] = case_id(case)
                            if case["id"] in seen:
                                continue
                            seen.add(case["id"])
                            cases.append(case)
    for case in expand_baselines(doc.get("baselines", []), defaults):
        if case["id"] not in seen:
            seen.add(case["id"])
            cases.append(case)
    if not cases:
        raise ManifestError("the matrix expands to no case")
    settings = {"defaults": defaults, "counters": counters, "counter_repeats": counter_repeats,
                "excluded": excluded}
    return cases, settings


def expand_baselines(entries, defaults):
    """The optional "baselines" list: [{"program": "tokio_echo", "n": [1, 100],
    "pinning": [{"cpus": "0"}], "compare": "async"}, ...]. Each becomes a case whose
    mode is the program's name, beside the csgb cases of the same workload, N and
    pinning; its ratio to the csgb mode named by "compare" is in the summary."""
    if not isinstance(entries, list):
        raise ManifestError("baselines: expected a list of objects")
    cases = []
    for bi, e in enumerate(entries):
        where = "baselines[%d]" % bi
        if not isinstance(e, dict):
            raise ManifestError("%s: expected an object" % where)
        unknown = set(e) - BASELINE_KEYS
        if unknown:
            raise ManifestError("%s: unknown key(s) %s (known: %s)"
                                % (where, ", ".join(sorted(unknown)), ", ".join(sorted(BASELINE_KEYS))))
        prog = e.get("program")
        if prog not in BASELINE_PROGRAMS:
            raise ManifestError("%s: program must be one of %s, got %r"
                                % (where, ", ".join(BASELINE_PROGRAMS), prog))
        workload, compare = BASELINE_PROGRAMS[prog]
        compare = e.get("compare", compare)
        if compare not in MODES:
            raise ManifestError("%s: compare must be a csgb mode (%s)" % (where, ", ".join(MODES)))
        ns = [number(n, where + ".n", 1, integer=True) for n in as_list(e, "n", where)]
        pinnings = e.get("pinning", [{}])
        if not isinstance(pinnings, list) or not pinnings or not all(
                isinstance(p, dict) and set(p) <= {"cpus", "label"} for p in pinnings):
            raise ManifestError("%s: pinning must be a non-empty list such as [{\"cpus\": \"0\"}] "
                                "(a baseline pins every thread to the set)" % where)
        for p in pinnings:
            if "cpus" in p and not (isinstance(p["cpus"], str) and CPULIST_RE.match(p["cpus"])):
                raise ManifestError("%s.pinning: cpus must be a CPU list such as \"0\"" % where)
        for n in ns:
            for p in pinnings:
                case = {
                    "workload": workload, "mode": prog, "program": prog, "compare": compare,
                    "n": n, "pinning": pin_label(p), "cpus": p.get("cpus"),
                    "pin": "set" if "cpus" in p else None, "workers": None,
                    "work_size": 0, "work_size_label": "0", "flags": [],
                    "duration": number(e.get("duration", defaults["duration"]), where + ".duration", 0.001),
                    "warmup": number(e.get("warmup", defaults["warmup"]), where + ".warmup", 0),
                    "repeats": number(e.get("repeats", defaults["repeats"]), where + ".repeats", 1, integer=True),
                    "timeout": number(e.get("timeout", defaults["timeout"]), where + ".timeout", 1),
                }
                case["id"] = case_id(case)
                cases.append(case)
    return cases


def mode_rank(mode):
    return MODES.index(mode) if mode in MODES else len(MODES)


def case_id(c):
    s = "%s n=%d %s %s ws=%s" % (c["workload"], c["n"], c["mode"], c["pinning"],
                                 c["work_size_label"])
    if c["flags"]:
        s += " " + " ".join(c["flags"])
    return s


def fmt_seconds(x):
    return "%g" % x


def case_argv(csgb, c, counters=False):
    if c.get("program"):
        argv = [str(BASELINE_BIN / c["program"]), "-n", str(c["n"]),
                "-d", fmt_seconds(c["duration"]), "-w", fmt_seconds(c["warmup"])]
        return argv + (["-c", c["cpus"]] if c["cpus"] is not None else [])
    argv = [str(csgb), c["workload"], str(c["n"]), "--mode", c["mode"]]
    if c["cpus"] is not None:
        argv += ["--cpus", c["cpus"], "--pin", c["pin"]]
    if c["workers"]:
        argv += ["--workers", str(c["workers"])]
    if c["work_size"]:
        argv += ["--work-size", c["work_size_label"]]
    argv += c["flags"]
    if counters and "--counters" not in c["flags"]:
        argv.append("--counters")
    argv += ["--duration", fmt_seconds(c["duration"]), "--warmup", fmt_seconds(c["warmup"]),
             "--format", "json"]
    return argv


def actors(c):
    return 2 * c["n"] if c["workload"] in ("socket", "futex") else c["n"]


def estimate_run_seconds(c):
    per = STARTUP_PER_THREAD_S if c["mode"] == "thread" else STARTUP_PER_GREEN_S
    return c["duration"] + c["warmup"] + STARTUP_BASE_S + per * actors(c)


# ---------------------------------------------------------------- running

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


def parse_baseline(stdout, stderr):
    """A baseline's key: value lines as a report; ValueError if the figures lack."""
    rpt = {}
    for line in (stdout + "\n" + stderr).splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() in BASELINE_KEYS_OUT:
            rpt[BASELINE_KEYS_OUT[key.strip()]] = float(value)
    if "ns_per_iteration" not in rpt or not rpt.get("iterations"):
        raise ValueError("no ns_per_iteration or no iterations in the baseline's output")
    return rpt


def run_once(argv, timeout, baseline=False):
    """Returns a run record: status ok | unsupported | failed."""
    t0 = time.monotonic()
    rec = {"command": shlex.join(argv)}
    try:
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        err = e.stderr.decode(errors="replace") if isinstance(e.stderr, bytes) else (e.stderr or "")
        rec.update(status="failed", exit_code=None, wall_seconds=round(time.monotonic() - t0, 3),
                   error="timed out after %g s" % timeout, stderr=err[-STDERR_KEEP:])
        return rec
    except OSError as e:
        rec.update(status="failed", exit_code=None, wall_seconds=0.0,
                   error="cannot start %s: %s" % (argv[0], e), stderr="")
        return rec
    rec["wall_seconds"] = round(time.monotonic() - t0, 3)
    rec["exit_code"] = p.returncode
    rec["stderr"] = p.stderr[-STDERR_KEEP:]
    first_err = next((l.strip() for l in p.stderr.splitlines() if l.strip()), "")
    if p.returncode != 0:
        sig = " (signal %d)" % -p.returncode if p.returncode < 0 else ""
        rec["status"] = "unsupported" if p.returncode == EXIT_NOT_SUPPORTED else "failed"
        rec["error"] = "exit %d%s: %s" % (p.returncode, sig, first_err or "(no message)")
        return rec
    try:
        rec["report"] = parse_baseline(p.stdout, p.stderr) if baseline else parse_report(p.stdout)
    except ValueError as e:
        rec["status"] = "failed"
        rec["error"] = "unreadable report: %s" % e
        rec["stdout"] = p.stdout[-STDERR_KEEP:]
        return rec
    rec["status"] = "ok"
    rec["error"] = ""
    return rec


def csgb_info(csgb):
    try:
        p = subprocess.run([str(csgb), "info", "--format", "json"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=30)
        if p.returncode == 0:
            return json.loads(p.stdout)
        return {"error": "csgb info exited %d: %s" % (p.returncode, p.stderr.strip())}
    except (OSError, ValueError, subprocess.TimeoutExpired) as e:
        return {"error": "csgb info: %s" % e}


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
    c = cases[0]
    probe = dict(c, n=1, workload="yield", mode="thread", workers=None, work_size=0,
                 work_size_label="0", flags=[], duration=0.05, warmup=0.0)
    rec = run_once(case_argv(csgb, probe, counters=True), 30)
    if rec["status"] != "ok":
        return False, "counters: not collected: probe failed (%s)" % rec["error"]
    hw = (rec["report"].get("counters") or {}).get("hardware")
    return True, ("counters: collected in a separate pass with --counters (hardware: %s); "
                  "timing figures come from runs without it" % hw)


def summarize_case(c, runs):
    ok = [r for r in runs if r["kind"] == "timing" and r["status"] == "ok"]
    cruns = [r for r in runs if r["kind"] == "counters" and r["status"] == "ok"]
    s = {"runs": len([r for r in runs if r["kind"] == "timing"]), "runs_ok": len(ok)}
    flats = [flatten(r["report"]) for r in ok]
    for f in MEDIAN_FIELDS:
        vals = [x[f] for x in flats if isinstance(x.get(f), (int, float))
                and not isinstance(x.get(f), bool) and math.isfinite(x[f])]
        s[f] = statistics.median(vals) if vals else None
    ns = [x["ns_per_iteration"] for x in flats]
    s["ns_min"] = min(ns) if ns else None
    s["ns_max"] = max(ns) if ns else None
    mean = statistics.fmean(ns) if ns else 0
    s["ns_cv"] = statistics.stdev(ns) / mean if len(ns) >= 2 and mean > 0 else None
    s["noisy"] = s["ns_cv"] is not None and s["ns_cv"] > NOISY_CV
    s["eagain"] = max((x.get("eagain") or 0 for x in flats), default=None)
    s["fairness_min"] = min((x["fairness_min"] for x in flats
                             if isinstance(x.get("fairness_min"), (int, float))), default=None)
    s["os_threads"] = flats[0].get("os_threads") if flats else None
    s["counter_runs_ok"] = len(cruns)
    cflats = [(r["report"].get("counters") or {}) for r in cruns]
    for f in COUNTER_FIELDS:
        vals = [x[f] for x in cflats if isinstance(x.get(f), (int, float))
                and not isinstance(x.get(f), bool)]
        s["counters_" + f] = statistics.median(vals) if vals else None
    s["counters_hardware"] = cflats[0].get("hardware") if cflats else None
    s["failures"] = len([r for r in runs if r["status"] == "failed"])
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
               "wall_seconds": r.get("wall_seconds"), "error": r.get("error", ""),
               "workload": c["workload"], "mode": c["mode"], "n": c["n"],
               "pinning": c["pinning"], "cpus": c["cpus"], "pin": c["pin"],
               "workers": c["workers"], "work_size": c["work_size"],
               "work_size_label": c["work_size_label"], "flags": " ".join(c["flags"]),
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


def fmt(x, digits=None):
    if x is None:
        return "–"
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, int) and digits is None:
        return "{:,}".format(x)
    if digits is None:
        a = abs(x)
        digits = 0 if a >= 1000 else 1 if a >= 100 else 2 if a >= 1 else 4
    return "{:,.{}f}".format(x, digits)


def ws_text(label):
    return "none" if label == "0" else label


def md_table(header, rows, right=()):
    out = ["| " + " | ".join(header) + " |",
           "|" + "|".join("---:" if i in right else "---" for i in range(len(header))) + "|"]
    for r in rows:
        out.append("| " + " | ".join(str(x).replace("|", "\\|") for x in r) + " |")
    return "\n".join(out)


def sort_key(c):
    return (WORKLOADS.index(c["workload"]), c["pinning_index"], c["work_size"], c["n"],
            mode_rank(c["mode"]), c["id"])


def group_key(c):
    return (c["workload"], c["pinning"], c["work_size_label"], " ".join(c["flags"]))


def compute_ratios(cases):
    """[(group, n, {"green/thread": r, ...})] over cases sharing workload, pinning,
    work size and flags (modes differ)."""
    by = {}
    for c in cases:
        ns = c["summary"]["ns_per_iteration"]
        if ns:
            by.setdefault((group_key(c), c["n"]), {})[c["mode"]] = ns
    out = []
    for (g, n), modes in by.items():
        r = {}
        for a, b in RATIO_PAIRS:
            r["%s/%s" % (a, b)] = modes[a] / modes[b] if a in modes and b in modes else None
        for c in cases:
            if c.get("program") and c["mode"] in modes and (group_key(c), c["n"]) == (g, n):
                a = c["compare"]
                r["%s/%s" % (a, c["mode"])] = modes[a] / modes[c["mode"]] if a in modes else None
        if any(v is not None for v in r.values()):
            out.append((g, n, r))
    return out


def write_summary(path, doc, cases, runs, plot_files, plot_notes, counter_note):
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
    L.append("- %d case(s), %d run(s): %d ok, %d failed, %d unsupported%s"
             % (len(cases), len(runs), n_ok, sum(1 for r in runs if r["status"] == "failed"),
                sum(1 for r in runs if r["status"] == "unsupported"),
                ", INTERRUPTED" if doc.get("interrupted") else ""))
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
    L.append("")

    show_counters = any(c["summary"]["counters_" + f] is not None
                        for c in cases for f in HARDWARE_COUNTER_FIELDS)
    L.append("## Medians per case")
    L.append("")
    L.append("ns/iteration: median over the case's runs, min–max and coefficient of variation "
             "beside it. Switches: context switches of the whole process per iteration "
             "(getrusage). fairness cv: spread of passes between actors (0 = all equal).")
    L.append("")
    header = ["workload", "N", "mode", "pinning", "work size", "runs ok", "ns/iteration",
              "min–max", "CV %", "vol sw/it", "invol sw/it", "fairness cv", "OS threads"]
    if show_counters:
        header += ["IPC", "cache miss/it", "dTLB miss/it"]
    header.append("note")
    rows = []
    for c in cases:
        s = c["summary"]
        notes = []
        if s["noisy"]:
            notes.append("NOISY")
        if s["eagain"]:
            notes.append("EAGAIN %d" % s["eagain"])
        if s["fairness_min"] == 0:
            notes.append("an actor starved")
        if s["failures"]:
            notes.append("%d failed" % s["failures"])
        if s["unsupported"]:
            notes.append("unsupported")
        row = [c["workload"], c["n"], c["mode"], c["pinning"], ws_text(c["work_size_label"]),
               "%d/%d" % (s["runs_ok"], s["runs"]), fmt(s["ns_per_iteration"]),
               "%s–%s" % (fmt(s["ns_min"]), fmt(s["ns_max"])) if s["ns_min"] is not None else "–",
               fmt(None if s["ns_cv"] is None else 100 * s["ns_cv"], 1),
               fmt(s["voluntary_switches_per_iteration"], 4),
               fmt(s["involuntary_switches_per_iteration"], 4),
               fmt(s["fairness_cv"], 4), fmt(s["os_threads"])]
        if show_counters:
            row += [fmt(s["counters_ipc"], 2), fmt(s["counters_cache_misses_per_iteration"]),
                    fmt(s["counters_dtlb_load_misses_per_iteration"])]
        row.append(", ".join(notes))
        rows.append(row)
    L.append(md_table(header, rows, right={i for i, h in enumerate(header)
                                           if h not in ("workload", "mode", "pinning",
                                                        "work size", "note")}))
    L.append("")

    ratios = compute_ratios(cases)
    L.append("## Ratios between modes")
    L.append("")
    L.append("Median ns/iteration of one mode over another's, same workload, N, pinning and "
             "work size. Below 1: the first mode is faster.")
    L.append("")
    if ratios:
        # csgb's mode pairs first, then "mode/baseline" columns of the manifest's baselines.
        keys = list(dict.fromkeys(k for _, _, r in ratios for k in r))
        header = ["workload", "pinning", "work size", "N"] + keys
        rows = [[g[0], g[1], ws_text(g[2]) + ((" " + g[3]) if g[3] else ""), n] +
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
            where = "%s, %s, work size %s" % (g[0], g[1], ws_text(g[2]))
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


def write_outputs(outdir, doc, cases, runs, counter_note):
    outdir.mkdir(parents=True, exist_ok=True)
    clean_old_plots(outdir)
    public_cases = [{"id": c["id"], **{k: c[k] for k in (
        "workload", "mode", "n", "pinning", "cpus", "pin", "workers", "work_size",
        "work_size_label", "flags", "duration", "warmup", "repeats", "pinning_index")},
        "argv": c["argv"], "summary": c["summary"]} for c in cases]
    doc["cases"] = public_cases
    doc["ratios"] = [{"workload": g[0], "pinning": g[1], "work_size": g[2], "flags": g[3],
                      "n": n, **r} for g, n, r in compute_ratios(cases)]
    doc["runs"] = [{"case_id": r["case"]["id"], **{k: v for k, v in r.items() if k != "case"}}
                   for r in runs]
    doc["counters_note"] = counter_note
    doc["plots"] = []
    write_csv(outdir / "results.csv", runs)
    with open(outdir / "results.json", "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    files, notes = make_plots(outdir, doc)
    doc["plots"] = files
    doc["plot_notes"] = notes
    with open(outdir / "results.json", "w") as f:   # again, now listing the plots
        json.dump(doc, f, indent=1)
        f.write("\n")
    write_summary(outdir / "summary.md", doc, cases, runs, files, notes, counter_note)


# ---------------------------------------------------------------- main

def parse_args(argv):
    ap = argparse.ArgumentParser(description="Run a manifest's matrix of csgb cases; write "
                                 "results.csv, results.json, plots and summary.md.")
    ap.add_argument("manifest", nargs="?", help="manifest JSON (experiments/manifests/*.json)")
    ap.add_argument("--out", help="output directory (default experiments/results/<date>-<host>/)")
    ap.add_argument("--csgb", default=str(DEFAULT_CSGB),
                    help="csgb executable (default .build/release/csgb)")
    ap.add_argument("--list", action="store_true",
                    help="print the cases, their commands and the time estimate; run nothing")
    ap.add_argument("--self-test", action="store_true",
                    help="check manifests, flattening, medians, CSV, plots and summary on "
                    "synthetic reports; runs no csgb (files kept in --out if given)")
    opts = ap.parse_args(argv)
    if not opts.self_test and not opts.manifest:
        ap.error("a manifest is required (or --self-test)")
    opts.csgb = resolve_binary(opts.csgb, REPO)
    return opts


def main(argv):
    opts = parse_args(argv)
    if opts.self_test:
        return self_test(opts.out)
    try:
        manifest = load_manifest(opts.manifest)
        cases, settings = expand_manifest(manifest)
    except ManifestError as e:
        log("sweep: %s: %s" % (opts.manifest, e))
        return 2
    pin_order = list(dict.fromkeys(c["pinning"] for c in cases))
    for c in cases:
        c["pinning_index"] = pin_order.index(c["pinning"])
        c["argv"] = case_argv(opts.csgb, c)
    cases.sort(key=sort_key)

    timing_runs = sum(c["repeats"] for c in cases)
    estimate = sum(c["repeats"] * estimate_run_seconds(c) for c in cases)
    counter_estimate = settings["counter_repeats"] * sum(estimate_run_seconds(c) for c in cases)
    if opts.list:
        for c in cases:
            print("%-50s x%d  $ %s" % (c["id"], c["repeats"], shlex.join(c["argv"])))
        print("%d case(s), %d timing run(s), estimated %.0f s (+%.0f s if counters are "
              "collected: %s)" % (len(cases), timing_runs, estimate, counter_estimate,
                                  settings["counters"]))
        return 0

    if not os.access(opts.csgb, os.X_OK):
        log("sweep: csgb not found or not executable: %s (build it with: make release)" % opts.csgb)
        return 2
    info = csgb_info(opts.csgb)
    host = info.get("hostname") or socket.gethostname()
    started = datetime.datetime.now().astimezone()
    outdir = Path(opts.out) if opts.out else RESULTS_ROOT / ("%s-%s" % (started.date(), host))

    collect, counter_note = decide_counters(settings["counters"], info, opts.csgb, cases)
    plan = []   # (case, kind, repeat)
    for r in range(1, max(c["repeats"] for c in cases) + 1):
        plan += [(c, "timing", r) for c in cases if r <= c["repeats"]]
    if collect:
        for r in range(1, settings["counter_repeats"] + 1):
            plan += [(c, "counters", r) for c in cases if not c.get("program")]
        estimate += counter_estimate
    log("sweep: %s: %d case(s), %d run(s), estimated %.0f s; results to %s"
        % (opts.manifest, len(cases), len(plan), estimate, outdir))
    log("sweep: %s" % counter_note)
    if settings["excluded"]:
        log("sweep: %d combination(s) excluded (futex is thread-only; manifest excludes)"
            % settings["excluded"])

    runs, t0, interrupted = [], time.monotonic(), False
    width = len(str(len(plan)))
    try:
        for i, (c, kind, rep) in enumerate(plan, 1):
            cmd = case_argv(opts.csgb, c, counters=(kind == "counters"))
            rec = run_once(cmd, c["duration"] + c["warmup"] + c["timeout"],
                           baseline=bool(c.get("program")))
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
            else:
                detail = "%s: %s" % (rec["status"].upper(), rec["error"])
            log("[%*d/%d] %-58s %s  (%.2f s)" % (width, i, len(plan), label, detail,
                                                rec.get("wall_seconds") or 0))
    except KeyboardInterrupt:
        interrupted = True
        log("sweep: interrupted; writing the %d run(s) so far" % len(runs))

    for c in cases:
        c["summary"] = summarize_case(c, [r for r in runs if r["case"] is c])
    finished = datetime.datetime.now().astimezone()
    doc = {
        "started": started.isoformat(timespec="seconds"),
        "finished": finished.isoformat(timespec="seconds"),
        "elapsed_seconds": round(time.monotonic() - t0, 1),
        "estimated_seconds": round(estimate, 1),
        "interrupted": interrupted,
        "command": shlex.join([os.path.basename(sys.argv[0])] + list(argv)),
        "manifest_path": str(opts.manifest),
        "manifest": manifest,
        "settings": settings,
        "csgb": str(opts.csgb),
        "csgb_info": info,
        "git": git_describe(),
        "python": "%s %s" % (sys.executable, platform.python_version()),
        "host": {"hostname": socket.gethostname(), "kernel": platform.release(),
                 "machine": platform.machine(), "cpu_count": os.cpu_count()},
    }
    write_outputs(outdir, doc, cases, runs, counter_note)
    failed = [r for r in runs if r["status"] == "failed"]
    unsupported = [r for r in runs if r["status"] == "unsupported"]
    log("sweep: %d run(s) in %.0f s (estimated %.0f s): %d ok, %d failed, %d unsupported"
        % (len(runs), doc["elapsed_seconds"], estimate,
           len(runs) - len(failed) - len(unsupported), len(failed), len(unsupported)))
    for name in sorted(os.listdir(outdir)):
        log("  %s" % (outdir / name))
    if interrupted:
        return 130
    return 1 if failed else 0


# ---------------------------------------------------------------- self-test

def self_test(keep_dir=None):
    """Synthetic reports through expansion, medians, CSV, plots and summary. The
    files go to a temporary directory, or to keep_dir (--out) to look at."""
    man = {
        "defaults": {"duration": 0.2, "warmup": 0.05, "repeats": 2},
        "counters": "on",
        "matrix": [
            {"workloads": ["socket"], "modes": ["thread", "green", "async"], "n": [1, 10],
             "pinning": [{"cpus": "0"}, {"cpus": "0-1", "pin": "each", "workers": 2}],
             "work_sizes": [0, "64K"]},
            {"workloads": ["yield", "futex"], "modes": ["thread", "green"], "n": [2]},
        ],
        "exclude": [{"workload": "yield", "mode": "green", "pinning": "unpinned"}],
    }
    cases, settings = expand_manifest(man)
    assert len(cases) == 3 * 2 * 2 * 2 + 1 + 1, len(cases)     # 24 socket + yield thread + futex thread
    assert settings["excluded"] == 2, settings                    # futex green, yield green
    a = case_argv("csgb", next(c for c in cases if c["mode"] == "green" and c["workers"] and c["n"] == 10))
    assert a[a.index("--workers") + 1] == "2" and a[a.index("--pin") + 1] == "each", a
    one = next(c for c in cases if c["mode"] == "green" and c["workers"] and c["n"] == 1)
    assert one["workers"] == 1, one                               # never more workers than pairs
    t = next(c for c in cases if c["mode"] == "thread" and c["cpus"] == "0-1")
    assert t["workers"] is None and "--workers" not in case_argv("csgb", t)
    assert "--work-size" in case_argv("csgb", next(c for c in cases if c["work_size"] == 65536))
    for bad in ({"matrix": {"workloads": ["sockets"], "modes": ["thread"], "n": [1]}},
                {"matrix": {"workloads": ["socket"], "modes": ["thread"], "n": [0]}},
                {"matrix": {"workloads": ["socket"], "modes": ["thread"], "n": [1],
                            "pinning": [{"cpus": "zero"}]}},
                {"matrix": {"workloads": ["socket"], "modes": ["thread"], "n": [1],
                            "flags": ["--mode", "green"]}},
                {"matrix": []}, {"defaults": {"durations": 1}, "matrix": {}}):
        try:
            expand_manifest(bad)
        except ManifestError:
            continue
        raise AssertionError("accepted a bad manifest: %r" % bad)
    assert parse_size("64k", "x") == (65536, "64K") and parse_size(0, "x") == (0, "0")
    assert flatten({"a": {"b": 1, "c": {"d": None}}, "counters": {"events": {"x": 1}, "ipc": None}}) \
        == {"a_b": 1, "a_c_d": None, "counters_ipc": None}

    pin_order = list(dict.fromkeys(c["pinning"] for c in cases))
    for c in cases:
        c["pinning_index"] = pin_order.index(c["pinning"])
        c["argv"] = case_argv("csgb", c)
    cases.sort(key=sort_key)
    base = {"thread": 11000.0, "green": 3800.0, "async": 5200.0}
    runs = []
    for c in cases:
        for rep in (1, 2):
            ns = base[c["mode"]] * (1 + 0.3 * math.log10(c["n"])) * (1 + 0.01 * rep) \
                * (1.5 if c["work_size"] else 1)
            sw = 2.7 if c["mode"] == "thread" else 1e-5
            rpt = {"workload": c["workload"], "mode": c["mode"], "n": c["n"],
                   "ns_per_iteration": ns, "voluntary_switches_per_iteration": sw * 0.9,
                   "involuntary_switches_per_iteration": sw * 0.1, "eagain": 0,
                   "fairness": {"min": 10, "max": 12, "cv": 0.01}, "os_threads": 2,
                   "cpus": c["cpus"] or "", "work_size": c["work_size"],
                   "environment": {"kernel": "test"}}
            runs.append({"case": c, "kind": "timing", "repeat": rep, "status": "ok",
                         "exit_code": 0, "wall_seconds": 0.3, "error": "", "report": rpt,
                         "command": shlex.join(c["argv"])})
        # counter runs: socket has made-up hardware figures except on 0-1, yield all null
        hw = c["workload"] == "socket" and c["cpus"] == "0"
        cnt = {"hardware": "supported" if hw else "not supported",
               "ipc": 0.8 + 0.1 * MODES.index(c["mode"]) if hw else None,
               "cache_misses_per_iteration": 20.0 * c["n"] if hw else None,
               "dtlb_load_misses_per_iteration": None,
               "context_switches_per_iteration": 2.7, "events": {"cycles:u": {"count": 1}}}
        runs.append({"case": c, "kind": "counters", "repeat": 1, "status": "ok", "exit_code": 0,
                     "wall_seconds": 0.3, "error": "", "command": "x",
                     "report": {"ns_per_iteration": 1.0, "counters": cnt}})
    bad_case = cases[0]
    runs.append({"case": bad_case, "kind": "timing", "repeat": 3, "status": "failed",
                 "exit_code": 71, "wall_seconds": 0.1, "error": "exit 71: too many threads",
                 "stderr": "csgb: too many threads\n", "command": "csgb socket 1"})
    for c in cases:
        c["summary"] = summarize_case(c, [r for r in runs if r["case"] is c])
    s = next(c for c in cases if c["workload"] == "socket" and c["mode"] == "thread"
             and c["n"] == 1 and c["cpus"] == "0" and not c["work_size"])["summary"]
    assert abs(s["ns_per_iteration"] - 11000 * 1.015) < 1e-6, s
    assert s["counters_ipc"] == 0.8 and s["counters_dtlb_load_misses_per_iteration"] is None, s
    ratios = compute_ratios(cases)
    r = next(r for g, n, r in ratios if g[0] == "socket" and n == 1)
    assert abs(r["green/thread"] - 3800 / 11000) < 1e-9, r
    assert not any(g[0] == "yield" for g, n, r in ratios)   # one mode only: no ratio
    assert all(r["async/thread"] is not None for g, n, r in ratios)

    with tempfile.TemporaryDirectory(prefix="sweep-selftest-") as tmp:
        out = Path(keep_dir or tmp)
        doc = {"started": "now", "finished": "now", "elapsed_seconds": 1.0,
               "estimated_seconds": 1.0, "command": "sweep.py --self-test",
               "manifest_path": "selftest.json", "manifest": man, "settings": settings,
               "csgb": "csgb", "csgb_info": {"hostname": "test", "hardware_pmu": True},
               "git": None, "python": sys.executable}
        write_outputs(out, doc, cases, runs, "counters: synthetic")
        names = sorted(os.listdir(out))
        for f in ("results.csv", "results.json", "summary.md"):
            assert f in names, names
        with open(out / "results.csv") as f:
            rows = list(csv.DictReader(f))
        assert len(rows) == len(runs), (len(rows), len(runs))
        assert rows[0]["fairness_cv"] == "0.01" and "counters_ipc" in rows[0], rows[0].keys()
        assert any(r["status"] == "failed" and "too many" in r["stderr"] for r in rows)
        summary = (out / "summary.md").read_text()
        assert "too many threads" in summary and "green/thread" in summary
        pngs = [n for n in names if n.endswith(".png")]
        if matplotlib_interpreter() is not None:
            assert "socket-counters.png" in pngs and "socket-ns_per_iteration.png" in pngs, pngs
            assert "yield-ns_per_iteration.png" in pngs, pngs
        print("self-test: ok (%d cases, %d runs; files: %s)" % (len(cases), len(runs),
                                                                ", ".join(names)))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except BrokenPipeError:  # e.g. --list piped into head
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
