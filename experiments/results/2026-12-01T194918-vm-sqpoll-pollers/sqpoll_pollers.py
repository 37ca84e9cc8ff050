#!/usr/bin/env python3
"""`--sqpoll` at scale: how many SQ poller threads a thread-mode run has, how long
its window of 0.3 s really lasts, and how long it takes to stop on SIGTERM.

Usage (alone on the machine; each run is short):
    python3 experiments/results/2026-12-01T194918-vm-sqpoll-pollers/sqpoll_pollers.py CSGB [--n 200,500] [--out DIR]

For each N: (1) `CSGB socket N --io uring --sqpoll -d 0.3 --format json`, counting the
`iou-sqp-*` threads in /proc/PID/task once the window is open (csgb announces it in
its --window-file), then the wall time and the report's `seconds` and
`sqpoll_pollers`; (2) the same with `-d 30`, SIGTERM to csgb 0.2 s after the window
opened, and the time from the signal to the exit. A run still alive 60 s after the
signal is killed (SIGKILL to its group) and recorded as such.

Raw reports and stderr go into DIR (default experiments/results/DATE-sqpoll-pollers),
made new: a DIR that exists gets a -2, -3 … sibling, never overwritten.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import time

# A one-off kept beside the results it made: the library (and the tests' fake
# csgb) are found from experiments/, two folders up.
_EXPERIMENTS = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path[:0] = [os.path.join(_EXPERIMENTS, "lib")]
from csgb_common import new_folder, signal_session

KILL_AFTER = 60.0


def pollers(pid):
    count = 0
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return None
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                if f.read().startswith("iou-sqp"):
                    count += 1
        except FileNotFoundError:
            pass
    return count


def wait_open(path, process, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with open(path) as f:
                if f.read().strip() == "open":
                    return True
        except FileNotFoundError:
            pass
        time.sleep(0.002)
    return False


def one(csgb, n, duration, term_after, folder, label):
    window = os.path.join(folder, f"{label}.window")
    out = open(os.path.join(folder, f"{label}.json"), "w")
    err = open(os.path.join(folder, f"{label}.stderr"), "w")
    argv = [csgb, "socket", str(n), "--io", "uring", "--sqpoll", "-d", str(duration), "--format", "json",
            "--window-file", window]
    started = time.monotonic()
    p = subprocess.Popen(argv, stdout=out, stderr=err, start_new_session=True)
    opened = wait_open(window, p, KILL_AFTER)
    opened_at = time.monotonic()
    counted = pollers(p.pid) if opened else None
    signalled_at = None
    if term_after is not None and opened:
        time.sleep(term_after)
        signalled_at = time.monotonic()
        signal_session(p.pid, signal.SIGTERM, False)
    try:
        p.wait(timeout=KILL_AFTER + (0 if signalled_at else duration))
        rc = p.returncode
    except subprocess.TimeoutExpired:
        signal_session(p.pid, signal.SIGKILL, True)
        p.wait()
        rc = "killed"
    ended = time.monotonic()
    out.close()
    err.close()
    try:
        os.unlink(window)
    except FileNotFoundError:
        pass
    report = {}
    try:
        with open(os.path.join(folder, f"{label}.json")) as f:
            report = json.load(f)
    except (ValueError, OSError):
        pass
    return {
        "label": label, "n": n, "duration": duration, "command": " ".join(argv[:-2]), "exit": rc,
        "window_opened": opened, "pollers_in_proc": counted, "sqpoll_pollers": report.get("sqpoll_pollers"),
        "measured_seconds": report.get("seconds"), "stopped_by": report.get("stopped_by"),
        "wall_seconds": round(ended - started, 3),
        "setup_to_open_seconds": round(opened_at - started, 3) if opened else None,
        "signal_to_exit_seconds": round(ended - signalled_at, 3) if signalled_at else None,
        "sqpoll_cpu_seconds": report.get("sqpoll_cpu_seconds"),
        "iterations": report.get("iterations"),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("csgb")
    parser.add_argument("--n", default="200,500")
    parser.add_argument("--out", default=os.path.join("experiments", "results",
                                                      time.strftime("%Y-%m-%d", time.gmtime()) + "-sqpoll-pollers"))
    options = parser.parse_args()
    folder = new_folder(options.out)
    with open("/proc/loadavg") as f:
        load_before = f.read().strip()
    rows = []
    for n in [int(x) for x in options.n.split(",")]:
        rows.append(one(options.csgb, n, 0.3, None, folder, f"n{n}-window"))
        rows.append(one(options.csgb, n, 30, 0.2, folder, f"n{n}-sigterm"))
        print(json.dumps(rows[-2]), json.dumps(rows[-1]), sep="\n", flush=True)
    with open("/proc/loadavg") as f:
        load_after = f.read().strip()
    version = subprocess.run([options.csgb, "--version"], capture_output=True, text=True).stdout.strip()
    with open(os.path.join(folder, "runs.jsonl"), "w") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
    with open(os.path.join(folder, "summary.md"), "w") as f:
        f.write(f"# --sqpoll at scale, thread mode\n\n`python3 experiments/results/2026-12-01T194918-vm-sqpoll-pollers/sqpoll_pollers.py {options.csgb} --n {options.n}` "
                f"on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.uname().nodename}, kernel {os.uname().release}, "
                f"{version}; /proc/loadavg before: {load_before}; after: {load_after}.\n\n"
                "| run | exit | pollers in /proc | sqpoll_pollers | measured s | wall s | signal → exit s | stopped by |\n"
                "|---|---|---|---|---|---|---|---|\n")
        for r in rows:
            f.write(f"| {r['command']} | {r['exit']} | {r['pollers_in_proc']} | {r['sqpoll_pollers']} | {r['measured_seconds']} | "
                    f"{r['wall_seconds']} | {r['signal_to_exit_seconds'] if r['signal_to_exit_seconds'] is not None else '—'} | {r['stopped_by']} |\n")
    print(f"wrote {folder}", file=sys.stderr)


if __name__ == "__main__":
    main()
