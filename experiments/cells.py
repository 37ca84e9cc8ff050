#!/usr/bin/env python3
"""Interleaved runs of a small grid of csgb cases, medians, as a Markdown table.

    python3 experiments/cells.py transports   # socket 1 in every mode over unix, pipe, tcp
    python3 experiments/cells.py io           # socket 1 and 100, every mode, --io direct and uring (+ --sqpoll)

Every case runs --runs times (default 3), round-robin over the cases so that drift
of a shared machine hits every case alike, pinned to --cpus (default 0). The table
gives median ns/iteration, switches/iteration and, for io_uring, enters per
iteration and entries per enter; --json keeps every raw report. Standard library
only. Used for the README's transport and io_uring tables.
"""
import os
import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))  # the library
from results_folder import FolderError, check_new_file, write_new_file  # noqa: E402
from csgb_common import (ArgumentParser, DEFAULT_CSGB, UsageError, capabilities, csgb_argv, fmt, median,
                         resolve_binary, run_once)


def grids(name, caps):
    """(label, workload, n, mode, flags, cpus or None for --cpus) per case; the modes
    and transports are the ones the binary's `csgb info` lists."""
    modes = caps.modes_for("socket")
    if name == "transports":
        return [(f"{m} {t}", "socket", 1, m, ["--transport", t], None)
                for t in caps.transports_for("socket") for m in modes]
    if name == "io":
        cases = []
        for n in (1, 100):
            for m in modes:
                for io in caps.io:
                    cases.append((f"{m} {io} N={n}", "socket", n, m, ["--io", io], None))
                if "uring" not in caps.io:
                    continue
                # The poller wants a CPU of its own: the worker on CPU 0, the poller on
                # CPU 1 (csgb puts it on the last listed CPU when workers leave one
                # free). A mode without workers (csgb info: it refuses --workers) has a
                # ring and a poller per actor and no CPU to spare: shown once, on one
                # CPU, for what it costs.
                sqpoll = ["--io", "uring", "--sqpoll"]
                if caps.accepts(m, "--workers") is not False:
                    cases.append((f"{m} uring+sqpoll N={n} (cpus 0-1)", "socket", n, m,
                                  sqpoll + ["--pin", "each"], "0-1"))
                elif n == 1:
                    cases.append((f"{m} uring+sqpoll N={n} (cpu 0)", "socket", n, m, sqpoll, None))
        return cases
    raise SystemExit(f"unknown grid {name!r}: transports or io")


def run(csgb, case, opts):
    _, workload, n, mode, flags, cpus = case
    argv = csgb_argv(csgb, workload, n, mode=mode, cpus=cpus or opts.cpus, flags=flags,
                     duration=opts.duration, warmup=opts.warmup)
    rec = run_once(argv, opts.duration + opts.warmup + 60)
    if rec["status"] != "ok":
        raise SystemExit(f"cells: {rec['command']}: {rec['error']}")
    return rec["report"]


def main(argv):
    ap = ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("grid", choices=("transports", "io"))
    ap.add_argument("--csgb", default=str(DEFAULT_CSGB))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--duration", type=float, default=1.0)
    ap.add_argument("--warmup", type=float, default=0.2)
    ap.add_argument("--cpus", default="0")
    ap.add_argument("--json", metavar="OUT")
    opts = ap.parse_args(argv)
    opts.csgb = resolve_binary(opts.csgb)
    if opts.json:
        try:
            check_new_file(opts.json)       # before any run: never overwritten, writable
        except FolderError as e:
            ap.exit(e.code, "cells: --json: %s\n" % e)
    cases = grids(opts.grid, capabilities(opts.csgb))
    reports = {case[0]: [] for case in cases}
    for round_ in range(opts.runs):
        for case in cases:
            label = case[0]
            try:
                report = run(opts.csgb, case, opts)
            except UsageError as e:
                raise SystemExit(f"cells: stopped: {e}")
            reports[label].append(report)
            print(f"[run {round_ + 1}/{opts.runs}] {label:28s} {report['ns_per_iteration']:10.1f} ns/iteration",
                  file=sys.stderr, flush=True)
    if opts.json:
        write_new_file(opts.json, json.dumps({"argv": argv, "reports": reports}, indent=1))
    print(f"| case | ns/iteration (median of {opts.runs}) | switches/iteration | io_uring_enter/iteration | entries/enter | SQ poller cpu s | eagain |")
    print("|---|---|---|---|---|---|---|")
    for case in cases:
        runs = reports[case[0]]
        label = case[0]
        ns = median([r["ns_per_iteration"] for r in runs])
        switches = median([(r["voluntary_switches_per_iteration"] or 0) + (r["involuntary_switches_per_iteration"] or 0)
                           for r in runs])
        enters = median([r.get("io_uring_enter_per_iteration") for r in runs])
        batch = median([r.get("sqes_per_enter") for r in runs])
        poller = median([r.get("sqpoll_cpu_seconds") for r in runs])
        eagain = sum(r["eagain"] for r in runs)
        print(f"| {label} | {fmt(ns, 0)} | {fmt(switches, 4)} | {fmt(enters, 4)} | {fmt(batch, 1)} | {fmt(poller, 3)} | {eagain} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
