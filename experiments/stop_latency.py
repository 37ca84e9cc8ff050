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

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))  # the library
from csgb_common import (ArgumentParser, DEFAULT_CSGB, start_run, EXIT_OK, CapabilitiesError, capabilities, median,
                         resolve_binary)

def cases(caps):
    """(name, args) per case: every workload in every mode csgb lists for it, at a
    small N and at a large one, and socket 4 with each further executor of a mode
    that takes --executor. The large N follows what carries the actors (csgb info's
    facts): 5,000 on green threads or tasks, 500 on kernel threads, 50 processes. A
    csgb without facts gets the small N only."""
    out = []
    for workload in caps.workloads:
        small = 1 if caps.unit_of(workload) == "pair" else 2
        for mode in caps.modes_for(workload):
            out.append((f"{mode} {workload} {small}", [workload, str(small), "--mode", mode]))
            if caps.fact(mode, "kernel_switching") is None:
                continue
            large = (5000 if not caps.fact(mode, "kernel_switching")
                     else 500 if caps.fact(mode, "actors_in_this_process") else 50)
            if workload == "socket" and large == 50 and "pipe" in caps.transports_for(workload):
                out.append((f"{mode} {workload} pipe {large}",
                            [workload, str(large), "--mode", mode, "--transport", "pipe"]))
            elif workload == "socket":
                out.append((f"{mode} {workload} {large}", [workload, str(large), "--mode", mode]))
    for mode in caps.modes:
        if caps.accepts(mode, "--executor") and "socket" in caps.workloads \
                and mode in caps.modes_for("socket"):
            for executor in caps.executors[1:]:
                out.append((f"{mode} {executor} socket 4",
                            ["socket", "4", "--mode", mode, "--executor", executor]))
    return out


def one_run(csgb, args, sig, settle):
    process = start_run([csgb] + args + ["--warmup", "0", "--format", "json"])
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
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csgb", default=str(DEFAULT_CSGB))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--settle", type=float, default=1.0, help="seconds of running before the signal")
    parser.add_argument("--limit-ms", type=float, default=100.0)
    options = parser.parse_args()
    options.csgb = str(resolve_binary(options.csgb))
    if not os.access(options.csgb, os.X_OK):
        sys.exit(f"stop_latency: {options.csgb} not found; run `make release` first")
    try:
        plan = cases(capabilities(options.csgb))
    except CapabilitiesError as e:
        sys.exit(f"stop_latency: {e}")
    print(f"{'case':24} {'signal':7} {'report median/worst ms':>22} {'exit median/worst ms':>22}")
    failed = []
    for index, (name, args) in enumerate(plan):
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
