#!/usr/bin/env python3
"""What --counters --latency cost: socket 1 pinned to CPU 0, plain against both
flags, interleaved run by run so that drift hits both alike; medians of R runs.

usage: python3 experiments/measure_overhead.py [MODES] [RUNS]   (default: every mode
       `csgb info` lists, 7 runs; csgb from .build/release/csgb)
"""
import subprocess
import sys

from csgb_common import DEFAULT_CSGB, capabilities, csgb_argv, median, parse_report

csgb = DEFAULT_CSGB
modes = sys.argv[1].split(",") if len(sys.argv) > 1 else capabilities(csgb).modes
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 7
variants = {"plain": [], "counters+latency": ["--counters", "--latency"]}
res = {(m, v): [] for m in modes for v in variants}
for r in range(runs):
    for m in modes:
        for v, flags in variants.items():
            argv = csgb_argv(csgb, "socket", 1, mode=m, cpus="0", flags=flags, duration=1)
            out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
            res[(m, v)].append(parse_report(out)["ns_per_iteration"])
for m in modes:
    p = median(res[(m, "plain")])
    c = median(res[(m, "counters+latency")])
    print(f"{m}: plain median {p:.1f} ns, counters+latency median {c:.1f} ns, "
          f"overhead {100*(c/p-1):+.1f} %  (runs {runs})")
