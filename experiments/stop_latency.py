#!/usr/bin/env python3
"""How long csgb takes from SIGINT/SIGTERM to exit, report printed, per mode.

The spec asks every mode to stop within 100 ms. Each case starts csgb without a
duration, waits until the report would be meaningful, sends the signal, and times
until the process has exited (so the time includes stopping every actor, joining
every thread, unmapping stacks and printing the report). Prints the median and the
worst of R runs per case and exits 1 if any worst case exceeds the limit.
"""
import argparse
import os
import signal
import statistics
import subprocess
import sys
import time

CASES = [
    ("thread socket 1", ["socket", "1", "--mode", "thread"]),
    ("thread socket 500", ["socket", "500", "--mode", "thread"]),
    ("thread futex 100", ["futex", "100", "--mode", "thread"]),
    ("thread yield 2", ["yield", "2", "--mode", "thread"]),
    ("green socket 1", ["socket", "1", "--mode", "green"]),
    ("green socket 5000", ["socket", "5000", "--mode", "green"]),
    ("green yield 2", ["yield", "2", "--mode", "green"]),
    ("async socket 1", ["socket", "1", "--mode", "async"]),
    ("async socket 5000", ["socket", "5000", "--mode", "async"]),
    ("async yield 2", ["yield", "2", "--mode", "async"]),
    ("async global socket 4", ["socket", "4", "--mode", "async", "--executor", "global"]),
]


def one_run(csgb, args, sig, settle):
    process = subprocess.Popen([csgb] + args + ["--warmup", "0", "--format", "json"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(settle)
    sent = time.monotonic()
    process.send_signal(sig)
    out, err = process.communicate(timeout=30)
    elapsed = time.monotonic() - sent
    if process.returncode != 0 or not out.startswith(b"{"):
        raise RuntimeError(f"{args}: exit {process.returncode}: {err.decode().strip()}")
    return elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csgb", default=".build/release/csgb")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--settle", type=float, default=1.0, help="seconds of running before the signal")
    parser.add_argument("--limit-ms", type=float, default=100.0)
    options = parser.parse_args()
    if not os.access(options.csgb, os.X_OK):
        sys.exit(f"stop_latency: {options.csgb} not found; run `make release` first")
    print(f"{'case':24} {'signal':7} {'median ms':>9} {'worst ms':>9}")
    failed = []
    for index, (name, args) in enumerate(CASES):
        sig = signal.SIGINT if index % 2 == 0 else signal.SIGTERM
        times = [one_run(options.csgb, args, sig, options.settle) * 1000 for _ in range(options.runs)]
        worst = max(times)
        mark = "" if worst <= options.limit_ms else f"  OVER {options.limit_ms:.0f} ms"
        if mark:
            failed.append(name)
        print(f"{name:24} {sig.name:7} {statistics.median(times):9.1f} {worst:9.1f}{mark}")
    if failed:
        print(f"over the limit: {', '.join(failed)}")
        sys.exit(1)


if __name__ == "__main__":
    main()
