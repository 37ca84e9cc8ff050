#!/usr/bin/env python3
"""measure.py with two changes, for a second pass: before each run it waits until the
machine's task count (/proc/loadavg) is back under 600, since a killed run's 19,936
processes go on exiting after pgrep stops seeing them, and it takes the builds to run
(`before`, `after` or both) as a fourth argument, each N once, `after` first.

Usage (run alone):
  measure_drained.py OLD_CSGB NEW_CSGB OUT_DIR BUILDS
Each run: `csgb socket N --mode process --cpus 0 -d 0.5 --warmup 0.1 --format json`
with --window-file; records seconds from start to `ready` (every actor at the gate),
to `open`, and to exit, and the report's setup_seconds. A run still going 60 s after
its window opened is killed (SIGKILL to its group) and recorded as such: the old
build's teardown at 5,000 pairs and more takes minutes.
"""
import json, os, signal, subprocess, sys, time

old, new, out = sys.argv[1], sys.argv[2], sys.argv[3]
builds = sys.argv[4].split(",")
plan = [(1000, 1), (5000, 1), (9968, 1)]

def leftovers():
    r = subprocess.run(["pgrep", "-f", "__process-actors"], capture_output=True, text=True)
    return len(r.stdout.split())

def tasks():
    return int(open("/proc/loadavg").read().split()[3].split("/")[1])

def run(binary, label, n, trial):
    while leftovers() > 0 or tasks() > 600:
        time.sleep(0.5)
    window = f"/tmp/csgb-setup-window-{os.getpid()}"
    if os.path.exists(window):
        os.unlink(window)
    stem = f"{out}/drained-{label}-n{n}-t{trial}"
    args = [binary, "socket", str(n), "--mode", "process", "--cpus", "0", "-d", "0.5", "--warmup", "0.1",
            "--format", "json", "--window-file", window]
    with open(stem + ".json", "w") as stdout, open(stem + ".stderr", "w") as stderr:
        start = time.monotonic()
        child = subprocess.Popen(args, stdout=stdout, stderr=stderr, start_new_session=True)
        ready = opened = None
        killed = False
        while child.poll() is None:
            try:
                state = open(window).read().strip()
            except OSError:
                state = ""
            now = time.monotonic() - start
            if ready is None and state in ("ready", "open"):
                ready = now
            if opened is None and state == "open":
                opened = now
            if opened is not None and now - opened > 60 and not killed:
                os.killpg(child.pid, signal.SIGKILL)
                killed = True
            time.sleep(0.01)
        ended = time.monotonic() - start
    setup = None
    try:
        setup = json.load(open(stem + ".json")).get("setup_seconds")
    except (OSError, ValueError):
        pass
    row = {"build": label, "n": n, "trial": trial, "command": " ".join(args), "exit": child.returncode,
           "seconds_to_ready": ready, "seconds_to_open": opened, "seconds_to_exit": ended,
           "killed_60s_after_open": killed, "setup_seconds": setup, "loadavg_after": open("/proc/loadavg").read().strip()}
    print(json.dumps(row), flush=True)
    return row

rows = []
for n, trials in plan:
    for trial in range(trials):
        for binary, label in ((new, "after"), (old, "before")):
            if label in builds:
                rows.append(run(binary, label, n, trial))
json.dump(rows, open(f"{out}/runs-drained.json", "w"), indent=1)
