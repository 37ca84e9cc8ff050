#!/usr/bin/env python3
"""What --counters --latency cost: socket 1 pinned to CPU 0, plain against both
flags, interleaved run by run so that drift hits both alike; medians of R runs.

usage: python3 experiments/measure_overhead.py [MODES] [RUNS]   (default thread,green,async 7)
"""
import json, statistics, subprocess, sys
B = ".build/release/csgb"
modes = (sys.argv[1] if len(sys.argv) > 1 else "thread,green,async").split(",")
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 7
variants = {"plain": [], "counters+latency": ["--counters", "--latency"]}
res = {(m, v): [] for m in modes for v in variants}
for r in range(runs):
    for m in modes:
        for v, flags in variants.items():
            out = subprocess.run([B, "socket", "1", "--mode", m, "--cpus", "0", "-d", "1", "--format", "json"] + flags,
                                 capture_output=True, text=True, check=True).stdout
            res[(m, v)].append(json.loads(out)["ns_per_iteration"])
for m in modes:
    p = statistics.median(res[(m, "plain")]); c = statistics.median(res[(m, "counters+latency")])
    print(f"{m}: plain median {p:.1f} ns, counters+latency median {c:.1f} ns, overhead {100*(c/p-1):+.1f} %  (runs {runs})")
