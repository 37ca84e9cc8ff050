#!/usr/bin/env python3
"""Compare csgb modes with the baselines (C, C++, tokio, Go), all pinned to the same CPUs.

Each case is one command line. Every case runs R times for D seconds; the runs
are interleaved round-robin (run 1 of every case, then run 2, ...) so slow
drift of the machine affects every case alike. The median ns/iteration of each
case feeds the ratios, each checked against its target.

    make -C experiments/baselines
    python3 experiments/bench.py                      # all cases whose binaries exist
    python3 experiments/bench.py --cases c-loop,green-socket --runs 5 --duration 3
    python3 experiments/bench.py --list               # show the command lines

Exit status: 0 when every case ran (missed targets are printed, not fatal),
1 when a case crashed (non-zero exit, timeout, unparsable output), 64 for bad
arguments, 64 when a run exited 64 (its command line is wrong: the bench stops with
csgb's message). A case whose mode or io path the build's `csgb info` does not list
is skipped with that reason. Standard library only.
"""

import argparse
import datetime
import json
import math
import os
import platform
import re
import shlex
import socket
import subprocess
import sys
import time
from pathlib import Path

from collections import namedtuple

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))  # the library
from results_folder import FolderError, check_new_file, write_new_file  # noqa: E402
from csgb_common import (ArgumentParser, BASELINES, CPULIST_RE, DEFAULT_CSGB, EXIT_USAGE, NOISY_CV, REPO,
                         CapabilitiesError, UsageError, baseline_argv, baseline_binary,
                         capabilities, csgb_argv, cv, is_noisy, median, resolve_binary,
                         run_once)

# A case: a baseline program of csgb_common.BASELINES at some N, or a csgb run.
# kind "baseline": `program` names the BASELINES entry (C, C++, Rust, Go or Swift, all
# with the harness of common.h: same options, pinning, start barrier, window, output).
# kind "csgb": `csgb workload N --mode mode [flags]`; "csgb-b" is the same from the
# second build (--csgb-b, or --csgb-static), named <label-b>-<case>.
Case = namedtuple("Case", "kind program n mode flags what")


BENCH_CASES = Path(__file__).resolve().parent / "manifests" / "bench.json"


def load_cases(path=BENCH_CASES):
    """The named cases, ratios and floor routes of manifests/bench.json: the cases are
    data (each names its csgb mode there), so that no code here names a mode."""
    with open(path) as f:
        doc = json.load(f)
    cases = {}
    for name, c in doc["cases"].items():
        if "program" in c:
            cases[name] = Case("baseline", c["program"], c["n"], None, (),
                               c.get("what") or BASELINES[c["program"]].what)
        else:
            cases[name] = Case("csgb", c["workload"], c["n"], c["mode"],
                               tuple(c.get("flags", ())), c["what"])
    ratios = [(a, b, t) for a, b, t in doc["ratios"]]
    floors = {k: (v["label"], v["numerator"], list(v["denominators"]), v["bound"], v["floor"],
                  v["competitor"]) for k, v in doc["floor_routes"].items()}
    return cases, ratios, floors


# (numerator, denominator, target or None for informational) in RATIOS; in
# FLOOR_ALTERNATIVES, ratio label -> (label, numerator, [denominator cases], bound,
# floor case, competitor case): when the floor program (the runtime alone, no csgb)
# is already slower than the competitor, csgb must come within `bound` of that floor.
CASES, RATIOS, FLOOR_ALTERNATIVES = load_cases()


def floor_alternative(label, summaries):
    """(text, passed) for the floor route of a missed target, or None when the
    cases it needs were not run."""
    if label not in FLOOR_ALTERNATIVES:
        return None
    alt, num, dens, bound, floor, rival = FLOOR_ALTERNATIVES[label]
    needed = [num, floor, rival] + dens
    if any(n not in summaries for n in needed):
        return None
    med = lambda n: summaries[n]["median_ns"]
    value = med(num) / sum(med(d) for d in dens)
    floor_above = med(floor) > med(rival)
    passed = floor_above and value <= bound
    text = ("%s: %.2fx (target <= %g) and %s / %s = %.2fx (%s)"
            % (alt, value, bound, floor, rival, med(floor) / med(rival),
               "floor slower than the competitor: floor route open" if floor_above
               else "floor not slower than the competitor: no floor route"))
    return text, passed


class CaseError(Exception):
    """The case failed: a non-zero exit, a signal, a timeout, output we cannot read."""


# The figures of a run kept in bench's records (csgb's report and a baseline's output
# name them alike); csgb's whole report is kept beside them as csgb_json.
RUN_FIELDS = ("ns_per_iteration", "iterations", "iterations_per_second", "seconds",
              "voluntary_switches_per_iteration", "involuntary_switches_per_iteration",
              "eagain")


def case_argv(name, opts):
    case = CASES[name]
    if case.kind == "baseline":
        return baseline_argv(case.program, case.n, opts.duration, opts.warmup, opts.cpus)
    return csgb_argv(case_binary(name, opts), case.program, case.n, mode=case.mode,
                     cpus=opts.cpus, flags=case.flags, duration=opts.duration,
                     warmup=opts.warmup)


def case_binary(name, opts):
    case = CASES[name]
    if case.kind == "baseline":
        return baseline_binary(case.program)
    return Path(opts.csgb_b if case.kind == "csgb-b" else opts.csgb)


def ibpb_refusal():
    """Why this kernel does not let a task ask for IBPB (PR_SPEC_PRCTL missing from
    PR_GET_SPECULATION_CTRL of PR_SPEC_INDIRECT_BRANCH), or None when it does."""
    import ctypes
    bits = ctypes.CDLL(None, use_errno=True).prctl(52, 1, 0, 0, 0)
    if bits >= 0 and bits & 1:
        return None
    try:
        with open("/sys/devices/system/cpu/vulnerabilities/spectre_v2") as f:
            line = f.read().strip()
    except OSError:
        line = "unreadable"
    return ("this kernel does not let a task ask for IBPB (PR_GET_SPECULATION_CTRL = %d; "
            "spectre_v2: %s; boot with spectre_v2_user=prctl)" % (bits, line))


def unsupported_reason(name, opts, caps_by_binary):
    """Why the csgb build of this case cannot run it, per its `csgb info`, or why
    this kernel cannot run it; None when it can."""
    case = CASES[name]
    if "ibpb" in case.flags or case.program == "echo_processes_ibpb":
        reason = ibpb_refusal()
        if reason:
            return reason
    if case.kind == "baseline":
        return None
    caps = caps_by_binary[str(case_binary(name, opts))]
    io = case.flags[case.flags.index("--io") + 1] if "--io" in case.flags else None
    return caps.lacks(workload=case.program, mode=case.mode, io=io)


def run_case(name, opts):
    """Runs one case once through csgb_common.run_once. Returns its record
    (wall_seconds, RUN_FIELDS, csgb_json for csgb); raises CaseError on a failed run
    and UsageError on exit 64."""
    argv = case_argv(name, opts)
    rec = run_once(argv, opts.warmup + opts.duration + opts.timeout_slack,
                   baseline=CASES[name].kind == "baseline")
    if rec["status"] != "ok":
        raise CaseError(rec["error"])
    report = rec["report"]
    record = {"wall_seconds": rec["wall_seconds"]}
    record.update({k: report[k] for k in RUN_FIELDS
                   if isinstance(report.get(k), (int, float)) and not isinstance(report[k], bool)})
    if CASES[name].kind != "baseline":
        record["csgb_json"] = report
        record["build"] = opts.label_b if CASES[name].kind == "csgb-b" else opts.label_a
    return record


def summarize(runs):
    ns = [r["ns_per_iteration"] for r in runs]
    spread = cv(ns)

    def med(key):
        return median(r[key] for r in runs if key in r)

    return {
        "runs": len(ns),
        "median_ns": median(ns),
        "min_ns": min(ns),
        "max_ns": max(ns),
        "cv": spread,
        "noisy": is_noisy(spread),
        "voluntary_switches_per_iteration": med("voluntary_switches_per_iteration"),
        "involuntary_switches_per_iteration": med("involuntary_switches_per_iteration"),
        "eagain": max((r["eagain"] for r in runs if "eagain" in r), default=None),
    }


def fmt_num(x, digits=1):
    if x is None:
        return "-"
    if digits == 1 and abs(x) < 100:
        digits = 2
    return "%.*f" % (digits, x)


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def print_hop_breakdown(summaries):
    """Where a round trip of the async echo goes: its 4 syscalls are the
    non-blocking 4-syscall loop; the rest is 2 hops (notify, enqueue, run of the
    woken task). The floor programs do the hops alone."""
    med = lambda n: summaries[n]["median_ns"] if n in summaries else None
    syscalls = med("c-loop-nb")
    rows = []
    for label, echo, floor in (("csgb async", "async-socket", "swift-floor-notify"),
                               ("tokio", "tokio-socket", "tokio-notify")):
        e, f = med(echo), med(floor)
        if e is None or syscalls is None:
            continue
        rows.append("  %-10s echo %7.1f ns = 4 syscalls %7.1f + 2 hops of %6.1f ns;"
                    " the runtime alone (%s): %s"
                    % (label, e, syscalls, (e - syscalls) / 2, floor,
                       "%.1f ns/hop" % (f / 2) if f is not None else "n/a"))
    e, f = med("async-socket"), med("swift-floor-notify")
    if None not in (e, f, syscalls):
        rows.append("  async-socket / (c-loop-nb + swift-floor-notify): %.2fx"
                    " (csgb's echo against the 4 syscalls plus the Swift runtime's 2 hops)"
                    % (e / (syscalls + f)))
    y, fy = med("async-yield"), med("swift-floor-yield")
    if None not in (y, fy):
        rows.append("  async-yield / swift-floor-yield: %.2fx (csgb's yield against the runtime's)"
                    % (y / fy))
    if rows:
        print()
        print("per-hop breakdown (N=1; hop = (echo - c-loop-nb) / 2):")
        for r in rows:
            print(r)


def parse_args(argv):
    ap = ArgumentParser(
        description="Run csgb and the baselines (C, C++, tokio, Go) pinned to the same CPUs and compare them.",
        epilog="cases: " + ", ".join(CASES))
    ap.add_argument("--cases", help="comma-separated case names (default: every case whose "
                    "binary exists)")
    ap.add_argument("--runs", type=int, default=5, help="runs per case (default 5)")
    ap.add_argument("--duration", type=float, default=2.0,
                    help="measured seconds per run (default 2)")
    ap.add_argument("--warmup", type=float, default=0.5,
                    help="unmeasured warm-up seconds per run (default 0.5)")
    ap.add_argument("--cpus", default="0", help="CPU list every case is pinned to (default 0)")
    ap.add_argument("--csgb", default=str(DEFAULT_CSGB),
                    help="csgb executable (default .build/release/csgb)")
    ap.add_argument("--csgb-b", metavar="PATH",
                    help="a second csgb build (before/after a change): every csgb case also "
                    "runs from it as <label-b>-<case>, interleaved run by run with the first "
                    "build's, with the ratio <label-b>-<case> / <case>; each run's record "
                    "names its build (compare.py --by label)")
    ap.add_argument("--label-a", default="a", metavar="NAME",
                    help="name of the --csgb build in the records (default a)")
    ap.add_argument("--label-b", metavar="NAME",
                    help="name of the --csgb-b build (default b; static with --csgb-static)")
    ap.add_argument("--csgb-static", metavar="PATH",
                    help="also run every csgb case with this build (e.g. `swift build -c release "
                    "--static-swift-stdlib`) as static-<case>, interleaved, with its ratio")
    ap.add_argument("--json", metavar="OUT", help="also write raw runs, medians and ratios here")
    ap.add_argument("--timeout-slack", type=float, default=30.0,
                    help="a run is killed after warm-up + duration + this many seconds")
    ap.add_argument("--list", action="store_true", help="print the cases and their commands")
    opts = ap.parse_args(argv)
    if opts.csgb_static:
        if opts.csgb_b:
            ap.error("--csgb-static is --csgb-b PATH --label-b static: give one of them")
        opts.csgb_b, opts.label_b = opts.csgb_static, opts.label_b or "static"
    opts.label_b = opts.label_b or "b"
    if opts.csgb_b:
        if opts.label_b == opts.label_a or not re.match(r"^[A-Za-z0-9_.]+$", opts.label_b):
            ap.error("--label-b: expected a name of letters, digits, '_' or '.' other than "
                     "--label-a's")
        opts.csgb_b = resolve_binary(opts.csgb_b, REPO)
        both = {}
        for name, case in CASES.items():
            both[name] = case
            if case.kind == "csgb":
                # right after its twin, so that within a round both builds run side by side
                what = case.what + (" (static Swift runtime)" if opts.label_b == "static"
                                    else " (build %s)" % opts.label_b)
                both["%s-%s" % (opts.label_b, name)] = case._replace(kind="csgb-b", what=what)
                RATIOS.append(("%s-%s" % (opts.label_b, name), name, None))
        CASES.clear()
        CASES.update(both)
    if opts.runs < 1:
        ap.error("--runs: expected an integer >= 1")
    if not (opts.duration > 0):
        ap.error("--duration: expected seconds > 0")
    if not (opts.warmup >= 0):
        ap.error("--warmup: expected seconds >= 0")
    if not CPULIST_RE.match(opts.cpus):
        ap.error("--cpus: expected a CPU list such as 0, 0-1 or 0,2")
    if opts.cases:
        names = [c.strip() for c in opts.cases.split(",") if c.strip()]
        unknown = [c for c in names if c not in CASES]
        if unknown:
            ap.error("--cases: unknown %s (known: %s)" % (", ".join(unknown), ", ".join(CASES)))
        if opts.csgb_b:   # each csgb case named brings its twin of the second build
            names = [x for c in names for x in
                     ([c, "%s-%s" % (opts.label_b, c)] if CASES[c].kind == "csgb" else [c])]
        opts.case_list = list(dict.fromkeys(names))
        opts.explicit_cases = True
    else:
        opts.case_list = list(CASES)
        opts.explicit_cases = False
    opts.csgb = resolve_binary(opts.csgb, REPO)
    if opts.json:
        try:
            check_new_file(opts.json)   # before any run: never overwritten, and writable
        except FolderError as e:
            ap.exit(e.code, "bench.py: --json: %s\n" % e)
    return opts


def main(argv):
    opts = parse_args(argv)
    log = lambda *a: print(*a, file=sys.stderr, flush=True)

    if opts.list:
        for name in CASES:
            print("%-14s %s" % (name, CASES[name].what))
            print("%14s $ %s" % ("", shlex.join(case_argv(name, opts))))
        return 0

    status = {}   # name -> "ok" | "skipped" | "crashed"
    reasons = {}
    runs = {name: [] for name in opts.case_list}
    active = []
    for name in opts.case_list:
        binary = case_binary(name, opts)
        if os.access(binary, os.X_OK):
            active.append(name)
        else:
            status[name] = "skipped"
            reasons[name] = "binary missing: %s" % binary
    if not opts.explicit_cases:
        missing = [n for n in opts.case_list if status.get(n) == "skipped"]
        if missing:
            log("not run (binary missing): %s" % ", ".join(missing))
            if any(CASES[n].kind == "baseline" for n in missing):
                log("  build the baselines with: make -C experiments/baselines")
    caps_by_binary = {}
    for name in list(active):
        binary = str(case_binary(name, opts))
        if CASES[name].kind != "baseline" and binary not in caps_by_binary:
            try:
                caps_by_binary[binary] = capabilities(binary)
            except CapabilitiesError as e:
                log("bench: %s" % e)
                return 2
        reason = unsupported_reason(name, opts, caps_by_binary)
        if reason:
            active.remove(name)
            status[name] = "skipped"
            reasons[name] = reason
            log("not run: %s: %s" % (name, reason))
    if not active:
        log("no case to run")
        return 1

    started = datetime.datetime.now(datetime.timezone.utc)
    log("bench: %d case(s) x %d run(s), %gs + %gs warm-up each, cpus %s"
        % (len(active), opts.runs, opts.duration, opts.warmup, opts.cpus))
    usage_error = None
    for r in range(1, opts.runs + 1):
        for name in active:
            if status.get(name) in ("skipped", "crashed"):
                continue
            try:
                rec = run_case(name, opts)
            except CaseError as e:
                status[name] = "crashed"
                reasons[name] = str(e)
                log("[run %d/%d] %-14s CRASHED: %s" % (r, opts.runs, name, e))
                log("    $ %s" % shlex.join(case_argv(name, opts)))
                continue
            except UsageError as e:
                usage_error = e
                log("bench: stopped: %s" % e)
                break
            rec["run"] = r
            runs[name].append(rec)
            status[name] = "ok"
            log("[run %d/%d] %-14s %10.1f ns/iteration" % (r, opts.runs, name,
                                                           rec["ns_per_iteration"]))
        if usage_error:
            break

    if usage_error:
        for name in opts.case_list:
            if not runs[name] and name not in reasons:
                reasons[name] = "the bench stopped (a run exited 64)"
    summaries = {n: summarize(runs[n]) for n in opts.case_list
                 if status.get(n) == "ok" and runs[n]}

    # Table
    print()
    print("host %s, %s, kernel %s; cpus %s; %d run(s) x %gs (+%gs warm-up)"
          % (socket.gethostname(), cpu_model(), platform.release(), opts.cpus,
             opts.runs, opts.duration, opts.warmup))
    if opts.duration < 1 or opts.runs < 3:
        print("SMOKE RUN: figures from runs this short or this few are not measurements")
    hdr = ("case", "runs", "median ns/it", "min", "max", "CV %", "vol sw/it",
           "invol sw/it", "note")
    rows = []
    for name in opts.case_list:
        st = status.get(name)
        if st == "ok" and name in summaries:
            s = summaries[name]
            notes = []
            if s["noisy"]:
                notes.append("NOISY (CV > %d %%)" % round(NOISY_CV * 100))
            if s["eagain"]:
                notes.append("EAGAIN %d" % s["eagain"])
            rows.append((name, str(s["runs"]), fmt_num(s["median_ns"]), fmt_num(s["min_ns"]),
                         fmt_num(s["max_ns"]),
                         fmt_num(None if s["cv"] is None else s["cv"] * 100, 2),
                         fmt_num(s["voluntary_switches_per_iteration"], 3),
                         fmt_num(s["involuntary_switches_per_iteration"], 3),
                         "; ".join(notes)))
        else:
            rows.append((name, "-", "-", "-", "-", "-", "-", "-",
                         "%s: %s" % ((st or "not run").upper(), reasons.get(name, ""))))
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(hdr)]
    right = {1, 2, 3, 4, 5, 6, 7}

    def line(cells):
        return "  ".join((c.rjust(w) if i in right else c.ljust(w))
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    print(line(hdr))
    print(line(["-" * w for w in widths]))
    for row in rows:
        print(line(row))

    # Ratios
    print()
    print("ratios of median ns/iteration:")
    ratio_records, misses = [], []
    for num, den, target in RATIOS:
        if num not in opts.case_list or den not in opts.case_list:
            continue
        label = "%s / %s" % (num, den)
        rec = {"name": label, "numerator": num, "denominator": den, "target": target}
        if num in summaries and den in summaries:
            value = summaries[num]["median_ns"] / summaries[den]["median_ns"]
            rec["value"] = value
            if target is None:
                print("  %s: %.2fx (informational)" % (label, value))
            else:
                ok = value <= target
                rec["pass"] = ok
                print("  %s: %.2fx (target <= %g) %s" % (label, value, target,
                                                        "PASS" if ok else "FAIL"))
                alternative = None if ok else floor_alternative(label, summaries)
                if alternative:
                    text, met = alternative
                    rec["floor_route"] = {"text": text, "pass": met}
                    print("    or through the runtime floor: %s %s" % (text, "PASS" if met else "FAIL"))
                    ok = met
                if not ok:
                    misses.append("%s = %.2fx, target <= %g" % (label, value, target))
        else:
            absent = [c for c in (num, den) if c not in summaries]
            rec["value"] = None
            print("  %s: n/a (%s)" % (label, ", ".join(
                "%s %s" % (c, status.get(c, "not run")) for c in absent)))
        ratio_records.append(rec)
    if not ratio_records:
        print("  (none: each ratio needs both of its cases)")
    print_hop_breakdown(summaries)

    noisy = [n for n, s in summaries.items() if s["noisy"]]
    crashed = [n for n in opts.case_list if status.get(n) == "crashed"]
    print()
    if misses:
        print("MISSED TARGETS (%d):" % len(misses))
        for m in misses:
            print("  " + m)
    if noisy:
        print("noisy cases (CV > %d %%): %s" % (round(NOISY_CV * 100), ", ".join(noisy)))
    if crashed:
        print("CRASHED: %s" % ", ".join("%s (%s)" % (n, reasons[n]) for n in crashed))

    if opts.json:
        doc = {
            "started": started.isoformat(),
            "host": socket.gethostname(),
            "cpu_model": cpu_model(),
            "kernel": platform.release(),
            "options": {"runs": opts.runs, "duration": opts.duration, "warmup": opts.warmup,
                        "cpus": opts.cpus, "csgb": str(opts.csgb), "label_a": opts.label_a,
                        "csgb_b": str(opts.csgb_b) if opts.csgb_b else None,
                        "label_b": opts.label_b if opts.csgb_b else None},
            "cases": {
                n: {"argv": case_argv(n, opts), "status": status.get(n, "not run"),
                    "reason": reasons.get(n), "runs": runs[n], "summary": summaries.get(n)}
                for n in opts.case_list},
            "ratios": ratio_records,
            "missed_targets": misses,
            "stopped_by_usage_error": str(usage_error) if usage_error else None,
        }
        out = Path(opts.json)
        try:
            write_new_file(out, json.dumps(doc, indent=2) + "\n")
        except FileExistsError:
            log("bench: %s appeared during the bench; results are never overwritten, so "
                "they go to %s.2" % (out, out))
            out = Path(str(out) + ".2")
            write_new_file(out, json.dumps(doc, indent=2) + "\n")
        log("wrote %s" % out)

    if usage_error:
        log("bench: a run exited 64 (its command line is wrong), so the bench stopped: %s"
            % usage_error)
        return EXIT_USAGE
    return 1 if crashed else 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit(130)
    except BrokenPipeError:  # e.g. piped into head
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
