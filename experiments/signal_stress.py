#!/usr/bin/env python3
"""Stop signals at random moments: csgb must never lose one, never exit outside
{0, 130}, never leave a process behind, and stop within 0.3 s.

Usage (as root: csgb stat and explain run perf; alone on the machine, since the
0.3 s bound is a timing):
    python3 experiments/signal_stress.py [--csgb .build/release/csgb]
        [--trials 200] [--seed 1] [--out DIR]

Each trial starts one command in a session of its own (as a terminal starts a
job), waits a random time (a quarter of the trials in the first 20 ms, while csgb
is still starting; the rest up to 1.5 s, through set-up, warm-up and window), sends
SIGINT, SIGTERM, SIGQUIT or SIGHUP to csgb alone or to its whole group, and waits.
Every command would run 30 s on its own, so a run that is still there 5 s after the
signal lost it (it is then killed). After the exit, every process of the session
must be gone. The time to stop is from the signal to csgb's exit.

Writes DIR/trials.jsonl (one line per trial) and DIR/summary.md, and prints the
summary; exits 1 when any trial broke a rule.
"""
import argparse
import json
import os
import random
import signal
import subprocess
import sys
import time

from csgb_common import signal_session

COMMANDS = [
    ["socket", "1", "-d", "30"],
    ["socket", "1", "--mode", "green", "--cpus", "0", "-d", "30"],
    ["socket", "1", "--mode", "async", "-d", "30"],
    ["socket", "100", "--transport", "pipe", "-d", "30"],
    ["socket", "200", "--transport", "tcp", "-d", "30"],
    ["yield", "2", "-d", "30"],
    ["yield", "2", "--mode", "green", "-d", "30"],
    ["futex", "1", "-d", "30"],
    ["socket", "2", "--mode", "process", "-d", "30"],
    ["stat", "--", "socket", "1", "-d", "30"],
    ["stat", "--", "yield", "1", "--mode", "green", "-d", "30"],
    ["explain", "--seconds", "30", "--timeline-seconds", "30", "--", "socket", "1"],
]
SIGNALS = [signal.SIGINT, signal.SIGTERM, signal.SIGQUIT, signal.SIGHUP]
LOST_AFTER = 5.0
STOP_WITHIN = 0.3


def session_processes(sid):
    """Pids whose session is `sid`."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                text = f.read()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2:].split()
        # After the command: state, ppid, pgrp, session.
        if len(fields) > 3 and int(fields[3]) == sid and fields[0] != "Z":
            found.append(int(name))
    return found


def trial(binary, command, delay, sig, group, scratch):
    args = list(command)
    if args[0] == "explain":
        args[1:1] = ["--out", os.path.join(scratch, f"explain-{time.monotonic_ns()}")]
    out = open(os.path.join(scratch, "stdout"), "w+")
    err = open(os.path.join(scratch, "stderr"), "w+")
    started = time.monotonic()
    p = subprocess.Popen([binary] + args, stdout=out, stderr=err, start_new_session=True)
    time.sleep(max(0.0, delay - (time.monotonic() - started)))
    sent = time.monotonic()
    signal_session(p.pid, sig, group)
    lost = False
    try:
        p.wait(timeout=LOST_AFTER)
    except subprocess.TimeoutExpired:
        lost = True
        os.killpg(p.pid, signal.SIGKILL)
        for pid in session_processes(p.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        p.wait()
    took = time.monotonic() - sent
    left = session_processes(p.pid)
    if left:
        time.sleep(0.2)
        left = session_processes(p.pid)
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    out.seek(0)
    err.seek(0)
    stderr = err.read().strip().splitlines()
    stdout = out.read()
    stopped_by = None
    try:
        stopped_by = json.loads(stdout).get("stopped_by")
    except Exception:
        for line in stdout.splitlines():
            if line.startswith("measured:") and "stopped by" in line:
                stopped_by = line.rsplit("stopped by", 1)[1].strip()
    code = p.returncode
    return {
        "command": " ".join(command), "signal": signal.Signals(sig).name, "target": "group" if group else "csgb",
        "delay_s": round(delay, 4), "exit": code, "seconds_to_exit": round(took, 4), "lost": lost,
        "left": left, "stopped_by": stopped_by, "stderr": stderr[0][:200] if stderr else "",
    }


def broken(result):
    reasons = []
    if result["lost"]:
        reasons.append("lost")
    if result["exit"] not in (0, 130):
        reasons.append(f"exit {result['exit']}")
    if result["left"]:
        reasons.append(f"left {result['left']}")
    if not result["lost"] and result["seconds_to_exit"] > STOP_WITHIN:
        reasons.append(f"slow {result['seconds_to_exit']:.3f} s")
    if result["exit"] == 0 and result["stopped_by"] == "duration":
        reasons.append("ran to its duration")
    return reasons


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--csgb", default=".build/release/csgb")
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", default=None)
    options = parser.parse_args()
    binary = os.path.abspath(options.csgb)
    out_dir = options.out or os.path.join("experiments", "results", time.strftime("%Y-%m-%d-signal-stress", time.gmtime()))
    os.makedirs(out_dir, exist_ok=True)
    scratch = os.path.join(out_dir, ".scratch")
    os.makedirs(scratch, exist_ok=True)
    rng = random.Random(options.seed)
    results = []
    load_before = open("/proc/loadavg").read().split()[:3]
    with open(os.path.join(out_dir, "trials.jsonl"), "w") as log:
        for index in range(options.trials):
            command = COMMANDS[index % len(COMMANDS)]
            delay = rng.uniform(0, 0.02) if rng.random() < 0.25 else rng.uniform(0.02, 1.5)
            sig = rng.choice(SIGNALS)
            group = rng.random() < 0.5
            result = trial(binary, command, delay, sig, group, scratch)
            result["trial"] = index + 1
            result["broken"] = broken(result)
            results.append(result)
            log.write(json.dumps(result) + "\n")
            log.flush()
            mark = "BROKEN " + ", ".join(result["broken"]) if result["broken"] else "ok"
            print(f"{index + 1:3d} {result['signal']:7s} {result['target']:5s} at {delay:.3f} s: {result['command']}: "
                  f"exit {result['exit']} in {result['seconds_to_exit']:.3f} s: {mark}", flush=True)
    for name in os.listdir(scratch):
        path = os.path.join(scratch, name)
        if os.path.isdir(path):
            subprocess.run(["rm", "-rf", path])
        else:
            os.unlink(path)
    os.rmdir(scratch)
    bad = [r for r in results if r["broken"]]
    times = sorted(r["seconds_to_exit"] for r in results if not r["lost"])
    exits = {}
    for r in results:
        exits[r["exit"]] = exits.get(r["exit"], 0) + 1
    lines = [
        f"# Signal stress, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        "",
        f"`python3 experiments/signal_stress.py --csgb {options.csgb} --trials {options.trials} --seed {options.seed}` "
        f"on `{os.uname().nodename}`, kernel {os.uname().release}; load average {' '.join(load_before)} before, "
        f"{' '.join(open('/proc/loadavg').read().split()[:3])} after.",
        "",
        f"- trials: {len(results)}; broken: {len(bad)}",
        f"- lost signals: {sum(r['lost'] for r in results)}",
        f"- exits: " + ", ".join(f"{k}: {v}" for k, v in sorted(exits.items(), key=lambda kv: str(kv[0]))),
        f"- processes left: {sum(bool(r['left']) for r in results)}",
        f"- seconds from the signal to the exit: median {times[len(times) // 2]:.3f}, "
        f"max {times[-1]:.3f}, over {STOP_WITHIN} s: {sum(t > STOP_WITHIN for t in times)}" if times else "- no exits",
        "",
    ]
    if bad:
        lines += ["| trial | command | signal | target | at (s) | exit | to exit (s) | broken | stderr |", "|---|---|---|---|---|---|---|---|---|"]
        for r in bad:
            lines.append(f"| {r['trial']} | `{r['command']}` | {r['signal']} | {r['target']} | {r['delay_s']} | {r['exit']} | "
                         f"{r['seconds_to_exit']} | {', '.join(r['broken'])} | {r['stderr'].replace('|', '/')} |")
    summary = "\n".join(lines) + "\n"
    with open(os.path.join(out_dir, "summary.md"), "w") as f:
        f.write(summary)
    print(summary)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
