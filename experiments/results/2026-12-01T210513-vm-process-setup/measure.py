#!/usr/bin/env python3
"""Process-mode set-up before and after the descriptor feed, at N = 1k, 5k, 9,968.

Usage (run alone: it forks up to 19,936 processes on CPU 0):
  measure.py OLD_CSGB NEW_CSGB OUT_DIR
Each run: `csgb socket N --mode process --cpus 0 -d 0.5 --warmup 0.1 --format json`
with --window-file; records seconds from start to `ready` (every actor at the gate),
to `open`, and to exit, and the report's setup_seconds. A run still going 60 s after
its window opened is killed (SIGKILL to its group) and recorded as such: the old
build's teardown at 5,000 pairs and more takes minutes.
"""
import json, os, signal, subprocess, sys, time

old, new, out = sys.argv[1], sys.argv[2], sys.argv[3]
plan = [(1000, 2), (5000, 2), (9968, 1)]

def leftovers():
    r = subprocess.run(["pgrep", "-f", "__process-actors"], capture_output=True, text=True)
    return len(r.stdout.split())

def run(binary, label, n, trial):
    while leftovers() > 0:
        time.sleep(0.5)
    window = f"/tmp/csgb-setup-window-{os.getpid()}"
    if os.path.exists(window):
        os.unlink(window)
    stem = f"{out}/{label}-n{n}-t{trial}"
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
        for binary, label in ((old, "before"), (new, "after")):
            rows.append(run(binary, label, n, trial))
json.dump(rows, open(f"{out}/runs.json", "w"), indent=1)
