#!/usr/bin/env python3
"""What --phases costs: socket 1 on CPU 0 in thread and green mode, with and without
--phases, interleaved run by run for ROUNDS rounds; medians of ns/iteration and the
ratio on/off per mode. Usage: phases_overhead.py CSGB [ROUNDS] [SECONDS]."""
import json
import statistics
import subprocess
import sys

csgb = sys.argv[1]
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 7
seconds = sys.argv[3] if len(sys.argv) > 3 else "2"
cases = [(mode, phases) for mode in ("thread", "green") for phases in (False, True)]
results = {case: [] for case in cases}
print(open("/proc/loadavg").read().strip(), "(load before)")
for round_ in range(rounds):
    for mode, phases in cases:
        argv = [csgb, "socket", "1", "--mode", mode, "--cpus", "0", "-d", seconds, "--format", "json"]
        if phases:
            argv.append("--phases")
        report = json.loads(subprocess.run(argv, check=True, capture_output=True, text=True).stdout)
        ns = report["ns_per_iteration"]
        results[(mode, phases)].append(ns)
        extra = ""
        if phases:
            extra = " work+hand-offs %.3f of ns/iteration, clock read %.1f ns" % (
                report["phases_accounted_ratio"], report["phases_clock_read_ns"])
        print("round %d %-6s phases=%-5s %9.1f ns/iteration%s" % (round_ + 1, mode, phases, ns, extra), flush=True)
print(open("/proc/loadavg").read().strip(), "(load after)")
for mode in ("thread", "green"):
    off = statistics.median(results[(mode, False)])
    on = statistics.median(results[(mode, True)])
    print("%-6s median off %9.1f  on %9.1f  on/off %.4f" % (mode, off, on, on / off))
