#!/usr/bin/env python3
"""How long csgb takes from SIGINT/SIGTERM to its report and to its exit, per mode.

The spec asks every mode to stop within 100 ms. Each case starts csgb without a
duration, lets it run, sends the signal, and times two moments: the report's
arrival on stdout (every actor stopped, figures computed) and the process's exit.
Prints the median and the worst of R runs per case and exits 1 if any worst exit
exceeds the limit.
"""
import argparse
import os
import signal
import subprocess
import sys
import threading
import time

from csgb_common import DEFAULT_CSGB, EXIT_OK, capabilities, median, resolve_binary

CASES = [
    ("thread socket 1", ["socket", "1", "--mode", "thread"]),
    ("thread socket 500", ["socket", "500", "--mode", "thread"]),
    ("thread futex 100", ["futex", "100", "--mode", "thread"]),
    ("thread yield 2", ["yield", "2", "--mode", "thread"]),
    ("process socket 1", ["socket", "1", "--mode", "process"]),
    ("process socket pipe 50", ["socket", "50", "--mode", "process", "--transport", "pipe"]),
    ("process futex 10", ["futex", "10", "--mode", "process"]),
    ("green socket 1", ["socket", "1", "--mode", "green"]),
    ("green socket 5000", ["socket", "5000", "--mode", "green"]),
    ("green yield 2", ["yield", "2", "--mode", "green"]),
    ("async socket 1", ["socket", "1", "--mode", "async"]),
    ("async socket 5000", ["socket", "5000", "--mode", "async"]),
    ("async yield 2", ["yield", "2", "--mode", "async"]),
    ("async global socket 4", ["socket", "4", "--mode", "async", "--executor", "global"]),
]


def check_cases(csgb):
    """Every case's workload and mode must be one this csgb lists (csgb info)."""
    caps = capabilities(csgb)
    for name, args in CASES:
        workload, mode = args[0], args[args.index("--mode") + 1]
        if workload not in caps.workloads or mode not in caps.modes_for(workload):
            sys.exit(f"stop_latency: case {name!r}: csgb info does not list {workload} "
                     f"in {mode} mode")


def one_run(csgb, args, sig, settle):
    process = subprocess.Popen([csgb] + args + ["--warmup", "0", "--format", "json"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first_output = []

    def read_stdout():
        chunk = process.stdout.read(1)
        first_output.append(time.monotonic())
        chunks.append(chunk + process.stdout.read())

    chunks = []
    reader = threading.Thread(target=read_stdout)
    reader.start()
    time.sleep(settle)
    sent = time.monotonic()
    process.send_signal(sig)
    err = process.stderr.read()
    process.wait(timeout=30)
    exited = time.monotonic()
    reader.join(timeout=30)
    out = b"".join(chunks)
    if process.returncode != EXIT_OK or not out.startswith(b"{"):
        raise RuntimeError(f"{args}: exit {process.returncode}: {err.decode().strip()}")
    return first_output[0] - sent, exited - sent


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csgb", default=str(DEFAULT_CSGB))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--settle", type=float, default=1.0, help="seconds of running before the signal")
    parser.add_argument("--limit-ms", type=float, default=100.0)
    options = parser.parse_args()
    options.csgb = str(resolve_binary(options.csgb))
    if not os.access(options.csgb, os.X_OK):
        sys.exit(f"stop_latency: {options.csgb} not found; run `make release` first")
    check_cases(options.csgb)
    print(f"{'case':24} {'signal':7} {'report median/worst ms':>22} {'exit median/worst ms':>22}")
    failed = []
    for index, (name, args) in enumerate(CASES):
        sig = signal.SIGINT if index % 2 == 0 else signal.SIGTERM
        runs = [one_run(options.csgb, args, sig, options.settle) for _ in range(options.runs)]
        report = [r * 1000 for r, _ in runs]
        exit_ = [e * 1000 for _, e in runs]
        mark = "" if max(exit_) <= options.limit_ms else f"  OVER {options.limit_ms:.0f} ms"
        if mark:
            failed.append(name)
        print(f"{name:24} {sig.name:7} {median(report):10.1f} / {max(report):9.1f} "
              f"{median(exit_):10.1f} / {max(exit_):9.1f}{mark}")
    if failed:
        print(f"over the limit: {', '.join(failed)}")
        sys.exit(1)


if __name__ == "__main__":
    main()
