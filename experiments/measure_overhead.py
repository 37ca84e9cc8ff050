#!/usr/bin/env python3
"""What the measuring costs: csgb socket 1 (in the first mode `csgb info` lists unless
--modes says otherwise) pinned to one CPU, plain against

  counters+latency   --counters --latency (per-thread counters)
  cpu+latency        --counters cpu --latency (one event group per listed CPU)
  perf-stat          the plain run under `perf stat -e context-switches,task-clock`
  latency            --latency alone

interleaved run by run so that drift hits every variant alike; medians of R runs,
each variant's cost as a ratio to the plain median of the same session.

usage: python3 experiments/measure_overhead.py [--modes M1,M2,...] [--runs 5]
                                               [--duration 1] [--cpus 0] [--csgb PATH]
                                               [--json OUT]
"""
import os
import argparse
import json
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))  # the library
from results_folder import FolderError, check_new_file, write_new_file  # noqa: E402
from csgb_common import (ArgumentParser, DEFAULT_CSGB, EXIT_USAGE, UsageError, capabilities, csgb_argv, median,
                         resolve_binary, run_once)

VARIANTS = {
    "plain": [],
    "latency": ["--latency"],
    "counters+latency": ["--counters", "--latency"],
    "cpu+latency": ["--counters", "cpu", "--latency"],
    "perf-stat": [],
}
PERF_EVENTS = "context-switches,task-clock"


def run_variant(csgb, mode, variant, opts):
    argv = csgb_argv(csgb, "socket", 1, mode=mode, cpus=opts.cpus, flags=VARIANTS[variant],
                     duration=opts.duration)
    if variant == "perf-stat":
        argv = ["perf", "stat", "-x,", "-e", PERF_EVENTS, "--"] + argv
    try:
        rec = run_once(argv, opts.duration + 60)
    except UsageError as e:
        sys.exit("measure_overhead: stopped: %s" % e)
    if rec["status"] != "ok":
        sys.exit("measure_overhead: %s: %s" % (rec["command"], rec["error"]))
    return rec["report"]["ns_per_iteration"]


def main():
    ap = ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--modes", help="comma-separated modes (default: the first csgb info lists)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--duration", type=float, default=1.0)
    ap.add_argument("--cpus", default="0")
    ap.add_argument("--csgb", default=str(DEFAULT_CSGB))
    ap.add_argument("--json")
    opts = ap.parse_args()
    opts.csgb = str(resolve_binary(opts.csgb))
    if shutil.which("perf") is None:
        sys.exit("measure_overhead: perf is missing (apt-get install linux-perf)")
    if opts.json:
        try:
            check_new_file(opts.json)       # before any run: never overwritten, writable
        except FolderError as e:
            ap.exit(e.code, "measure_overhead: --json: %s\n" % e)
    caps = capabilities(opts.csgb)
    modes = opts.modes.split(",") if opts.modes else caps.modes[:1]
    for m in modes:
        reason = caps.lacks(workload="socket", mode=m)
        if reason:
            print("measure_overhead: --modes %s: %s" % (m, reason), file=sys.stderr)
            sys.exit(EXIT_USAGE)
    ns = {(m, v): [] for m in modes for v in VARIANTS}
    for r in range(opts.runs):
        for m in modes:
            for v in VARIANTS:
                ns[(m, v)].append(run_variant(opts.csgb, m, v, opts))
        print("run %d/%d done" % (r + 1, opts.runs), file=sys.stderr)
    summary = {}
    for m in modes:
        plain = median(ns[(m, "plain")])
        print("%s socket 1, cpus %s, %d runs x %gs (medians, ns/iteration):" % (m, opts.cpus, opts.runs, opts.duration))
        for v in VARIANTS:
            med = median(ns[(m, v)])
            summary["%s/%s" % (m, v)] = {"runs": ns[(m, v)], "median": med, "cost": med / plain - 1}
            print("  %-17s %9.1f  %+6.1f %%   runs %s" % (v, med, 100 * (med / plain - 1),
                                                      " ".join("%.0f" % x for x in ns[(m, v)])))
        c, p = median(ns[(m, "counters+latency")]), median(ns[(m, "perf-stat")])
        cpu = median(ns[(m, "cpu+latency")])
        print("  --counters --latency against perf stat -e %s: %+.1f %% (target: no dearer)"
              % (PERF_EVENTS, 100 * (c / p - 1)))
        print("  --counters cpu --latency against plain: %+.1f %% (target: <= 3 %%)" % (100 * (cpu / plain - 1)))
    if opts.json:
        write_new_file(opts.json, json.dumps({"options": vars(opts), "variants": VARIANTS,
                                              "results": summary}, indent=2) + "\n")


if __name__ == "__main__":
    main()
