#!/usr/bin/env python3
"""Stop signals at random moments: csgb must never lose one, never exit outside
{0, 130}, never leave a process behind, and stop within 0.3 s.

Usage (as root: csgb stat and explain run perf; alone on the machine, since the
0.3 s bound is a timing):
    python3 experiments/signal_stress.py [--csgb .build/release/csgb]
        [--trials 200] [--seed 1] [--window-runs 20] [--out DIR]

Each trial starts one command in a session of its own (as a terminal starts a
job), waits a random time (a quarter of the trials in the first 20 ms, while csgb
is still starting; the rest up to 1.5 s, through set-up, warm-up and window), sends
SIGINT, SIGTERM, SIGQUIT or SIGHUP to csgb alone or to its whole group, and waits.
Every command would run 30 s on its own, so a run that is still there 5 s after the
signal lost it (it is then killed). After the exit, every process of the session
must be gone. The time to stop is from the signal to csgb's exit.

Right before each signal the script reads csgb's /proc/PID/status: whether the
signal is caught (SigCgt). A trial whose csgb died of that signal's default action
while it was not yet caught is classed apart, "before the handlers": the signal came
while the kernel and the dynamic loader were still starting csgb (exec, loading,
relocation), before any code of csgb's could run (csgb installs its handlers first
thing, docs/decisions.md). Such a trial is not a pass and not csgb's fault; the
summary gives their count and their delay from exec. A death by the default action
after the handler was seen installed is broken like any other.

With perf on the machine, the script first measures that window directly: the kernel's
timestamps of csgb's exec and of its first rt_sigaction(SIGINT, handler), over
--window-runs starts (0 to skip).

Writes DIR/trials.jsonl (one line per trial), DIR/window.json and DIR/summary.md
into a new folder (an existing one is refused: results are never overwritten), and
prints the summary; exits 0 when every trial passed, 1 when any broke a rule, 2 when
the only failures are signals before the handlers.
"""
import argparse
import json
import os
import random
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))  # the library
from csgb_common import signal_session, start_run

# The commands, one per trial kind, are data (manifests/signal-stress.json).
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "manifests",
                       "signal-stress.json")) as _f:
    COMMANDS = json.load(_f)["commands"]
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


def caught(pid, sig):
    """Whether process `pid` has a handler for `sig` now (its SigCgt mask); None when
    it cannot be read (already gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("SigCgt:"):
                    return bool(int(line.split()[1], 16) >> (sig - 1) & 1)
    except OSError:
        return None
    return None


def trial(binary, command, delay, sig, group, scratch):
    args = list(command)
    if args[0] == "explain":
        args[1:1] = ["--out", os.path.join(scratch, f"explain-{time.monotonic_ns()}")]
    out = open(os.path.join(scratch, "stdout"), "w+")
    err = open(os.path.join(scratch, "stderr"), "w+")
    started = time.monotonic()
    # Popen returns once the child's exec has succeeded (its error pipe closes on exec).
    p = start_run([binary] + args, stdout=out, stderr=err, new_session=True)
    execed = time.monotonic()
    time.sleep(max(0.0, delay - (time.monotonic() - started)))
    handler = caught(p.pid, sig)
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
        "delay_s": round(delay, 4), "exec_to_signal_ms": round((sent - execed) * 1000, 2), "caught_at_signal": handler,
        "exit": code, "seconds_to_exit": round(took, 4), "lost": lost,
        "left": left, "stopped_by": stopped_by, "stderr": stderr[0][:200] if stderr else "",
    }


def before_handlers(result):
    """csgb died of the signal's default action while the signal was not yet caught:
    it came before csgb could run any code (see the module's doc)."""
    return (not result["lost"] and result["caught_at_signal"] is False
            and result["exit"] == -signal.Signals[result["signal"]].value)


def broken(result):
    """The rules a trial broke; a death before the handlers is classed apart."""
    if before_handlers(result):
        return []
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


# rt_sigaction's number, for the window's tracepoint filter.
RT_SIGACTION = {"x86_64": 13, "aarch64": 134}
SYSCALL_RE = re.compile(r"^\s*(\d+\.\d+):\s+(\S+):.*?NR (\d+) \(([0-9a-f]+), ([0-9a-f]+)")
EXEC_RE = re.compile(r"^\s*(\d+\.\d+):\s+sched:sched_process_exec:")


def exec_window(binary, runs, scratch):
    """Milliseconds from csgb's exec to its first rt_sigaction(SIGINT, handler), by the
    kernel's own timestamps (perf record of sched:sched_process_exec and
    raw_syscalls:sys_enter), over `runs` starts; or a reason it was not measured."""
    number = RT_SIGACTION.get(os.uname().machine)
    if runs <= 0:
        return {"measured": False, "reason": "--window-runs 0"}
    if number is None:
        return {"measured": False, "reason": f"rt_sigaction's number on {os.uname().machine} is not known here"}
    data = os.path.join(scratch, "window.data")
    values = []
    for _ in range(runs):
        record = subprocess.run(["perf", "record", "-q", "-o", data, "-e", "sched:sched_process_exec",
                                 "-e", "raw_syscalls:sys_enter", "--filter", f"id == {number}", "--",
                                 binary, "yield", "1", "-d", "0.02"], capture_output=True, text=True)
        if record.returncode != 0:
            return {"measured": False, "reason": "perf record failed: " + (record.stderr.strip().splitlines() or ["no message"])[0]}
        script = subprocess.run(["perf", "script", "-i", data, "-F", "time,event,trace"], capture_output=True, text=True)
        exec_at = handler_at = None
        for line in script.stdout.splitlines():
            if exec_at is None and EXEC_RE.match(line):
                exec_at = float(EXEC_RE.match(line).group(1))
            m = SYSCALL_RE.match(line)
            if exec_at is not None and m and int(m.group(3)) == number and int(m.group(4), 16) == signal.SIGINT \
                    and int(m.group(5), 16) != 0:
                handler_at = float(m.group(1))
                break
        if exec_at is None or handler_at is None:
            return {"measured": False, "reason": "perf script showed no exec or no rt_sigaction(SIGINT, handler)"}
        values.append(round((handler_at - exec_at) * 1000, 2))
    os.unlink(data)
    values.sort()
    return {"measured": True, "runs": runs, "command": "yield 1 -d 0.02", "ms": values,
            "min_ms": values[0], "median_ms": values[len(values) // 2], "max_ms": values[-1]}


def summary_text(results, window, header):
    """The summary: counts, the rules broken, and the trials before the handlers
    apart, with their delays from exec."""
    bad = [r for r in results if r["broken"]]
    early = [r for r in results if before_handlers(r)]
    passed = len(results) - len(bad) - len(early)
    times = sorted(r["seconds_to_exit"] for r in results if not r["lost"])
    exits = {}
    for r in results:
        exits[r["exit"]] = exits.get(r["exit"], 0) + 1
    handled_early = sorted(r["exec_to_signal_ms"] for r in results
                           if r["caught_at_signal"] is False and not before_handlers(r))
    lines = header + [
        f"- trials: {len(results)}; passed: {passed}; broken: {len(bad)}; "
        f"before the handlers (not passes, not csgb's fault): {len(early)}",
        f"- lost signals: {sum(r['lost'] for r in results)}",
        "- exits: " + ", ".join(f"{k}: {v}" for k, v in sorted(exits.items(), key=lambda kv: str(kv[0]))),
        f"- processes left: {sum(bool(r['left']) for r in results)}",
        (f"- seconds from the signal to the exit: median {times[len(times) // 2]:.3f}, "
         f"max {times[-1]:.3f}, over {STOP_WITHIN} s: {sum(t > STOP_WITHIN for t in times)}") if times else "- no exits",
    ]
    if early:
        delays = sorted(r["exec_to_signal_ms"] for r in early)
        lines.append(f"- before the handlers: {len(early)} trials, signalled {delays[0]:.2f}–{delays[-1]:.2f} ms after exec "
                     f"(each: {', '.join(f'{d:.2f}' for d in delays)} ms); csgb's handler was not yet installed, "
                     f"it died of the default action")
    if handled_early:
        lines.append(f"- signals sent before the handler was seen installed but handled all the same (installed meanwhile): "
                     f"{len(handled_early)}, at {handled_early[0]:.2f}–{handled_early[-1]:.2f} ms after exec")
    if window.get("measured"):
        lines.append(f"- exec to csgb's handler, by the kernel's timestamps over {window['runs']} starts of "
                     f"`csgb {window['command']}`: min {window['min_ms']:.2f}, median {window['median_ms']:.2f}, "
                     f"max {window['max_ms']:.2f} ms")
    else:
        lines.append(f"- exec to csgb's handler: not measured ({window.get('reason')})")
    lines.append("")
    if bad:
        lines += ["| trial | command | signal | target | at (s) | exit | to exit (s) | broken | stderr |", "|---|---|---|---|---|---|---|---|---|"]
        for r in bad:
            lines.append(f"| {r['trial']} | `{r['command']}` | {r['signal']} | {r['target']} | {r['delay_s']} | {r['exit']} | "
                         f"{r['seconds_to_exit']} | {', '.join(r['broken'])} | {r['stderr'].replace('|', '/')} |")
        lines.append("")
    if early:
        lines += ["Before the handlers:", "", "| trial | command | signal | target | ms after exec | exit |", "|---|---|---|---|---|---|"]
        for r in early:
            lines.append(f"| {r['trial']} | `{r['command']}` | {r['signal']} | {r['target']} | {r['exec_to_signal_ms']} | {r['exit']} |")
        lines.append("")
    return "\n".join(lines) + "\n", (1 if bad else 2 if early else 0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--csgb", default=".build/release/csgb")
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--window-runs", type=int, default=20)
    parser.add_argument("--out", default=None)
    options = parser.parse_args()
    binary = os.path.abspath(options.csgb)
    out_dir = options.out or os.path.join("experiments", "results", time.strftime("%Y-%m-%dT%H%M-signal-stress", time.gmtime()))
    try:
        os.makedirs(out_dir)
    except FileExistsError:
        print(f"signal_stress: {out_dir} exists; results are never overwritten (give another --out)", file=sys.stderr)
        sys.exit(64)
    scratch = os.path.join(out_dir, ".scratch")
    os.makedirs(scratch)
    rng = random.Random(options.seed)
    results = []
    load_before = open("/proc/loadavg").read().split()[:3]
    window = exec_window(binary, options.window_runs, scratch)
    with open(os.path.join(out_dir, "window.json"), "w") as f:
        f.write(json.dumps(window, indent=1) + "\n")
    with open(os.path.join(out_dir, "trials.jsonl"), "w") as log:
        for index in range(options.trials):
            command = COMMANDS[index % len(COMMANDS)]
            delay = rng.uniform(0, 0.02) if rng.random() < 0.25 else rng.uniform(0.02, 1.5)
            sig = rng.choice(SIGNALS)
            group = rng.random() < 0.5
            result = trial(binary, command, delay, sig, group, scratch)
            result["trial"] = index + 1
            result["broken"] = broken(result)
            result["before_handlers"] = before_handlers(result)
            results.append(result)
            log.write(json.dumps(result) + "\n")
            log.flush()
            mark = ("BROKEN " + ", ".join(result["broken"]) if result["broken"]
                    else f"BEFORE THE HANDLERS ({result['exec_to_signal_ms']:.2f} ms after exec)" if result["before_handlers"] else "ok")
            print(f"{index + 1:3d} {result['signal']:7s} {result['target']:5s} at {delay:.3f} s: {result['command']}: "
                  f"exit {result['exit']} in {result['seconds_to_exit']:.3f} s: {mark}", flush=True)
    for name in os.listdir(scratch):
        path = os.path.join(scratch, name)
        if os.path.isdir(path):
            subprocess.run(["rm", "-rf", path])
        else:
            os.unlink(path)
    os.rmdir(scratch)
    header = [
        f"# Signal stress, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        "",
        f"`python3 experiments/signal_stress.py --csgb {options.csgb} --trials {options.trials} --seed {options.seed} "
        f"--window-runs {options.window_runs}` "
        f"on `{os.uname().nodename}`, kernel {os.uname().release}; load average {' '.join(load_before)} before, "
        f"{' '.join(open('/proc/loadavg').read().split()[:3])} after.",
        "",
    ]
    summary, status = summary_text(results, window, header)
    with open(os.path.join(out_dir, "summary.md"), "w") as f:
        f.write(summary)
    print(summary)
    sys.exit(status)


if __name__ == "__main__":
    main()
