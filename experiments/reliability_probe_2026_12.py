#!/usr/bin/env python3
"""Reruns the second reliability pass's reproductions against two csgb builds and
writes a Markdown table: item, command, before (exit code and first line), after.

Usage (as root: csgb stat and explain need perf; item 14 mounts a tmpfs):
    python3 experiments/reliability_probe_2026_12.py BEFORE_CSGB AFTER_CSGB \
        [--out docs/reliability-probe-2026-12.md] [--only 1,2,...]

Signal rows start csgb in a session of its own and signal either its whole group
(as a terminal's Ctrl-C does) or csgb alone; rows whose outcome depends on the
moment the signal lands are tried several times and give every exit code seen with
its count, and the first line of the worst outcome. A lost signal is a run that
went on to its end after the signal: it exits 0 having been stopped by "duration".
The sqpoll item (one spinning kernel poller per ring, load average in the
thousands on the old build) is not rerun here.
"""
import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from csgb_common import signal_session

TMP = tempfile.mkdtemp(prefix="csgb-probe-")


def first_line(err, out=""):
    for text, label in ((err, ""), (out, "stdout: ")):
        for line in text.splitlines():
            if line.strip():
                return label + line.strip()[:150]
    return "(no output)"


def shell(command, timeout=120):
    """Runs a shell command; returns (exit code, stdout, stderr). A death by
    signal N is shown as -N, as Python reports it."""
    try:
        p = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=timeout)
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        return "timeout", (e.stdout or b"").decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or ""), f"(still running after {timeout} s)"


def cell(rc, out, err, extra=""):
    return f"{rc}: {first_line(err, out)}" + (f" ({extra})" if extra else "")


def signalled(binary, args, delay, sig, group=True, timeout=60, env=None):
    """Starts `binary args` in its own session, sends `sig` after `delay` s; returns
    (exit code, stdout, stderr, seconds from the signal to the exit)."""
    out = open(os.path.join(TMP, "out"), "w+")
    err = open(os.path.join(TMP, "err"), "w+")
    p = subprocess.Popen([binary] + args, stdout=out, stderr=err, start_new_session=True, env=env)
    time.sleep(delay)
    sent = time.monotonic()
    signal_session(p.pid, sig, group)
    try:
        p.wait(timeout=timeout)
        rc = p.returncode
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
        rc = "killed"
    took = time.monotonic() - sent
    out.seek(0)
    err.seek(0)
    return rc, out.read(), err.read(), took


def tries(binary, args, delays, sig, group=True, timeout=60):
    """Several signalled runs; the exits seen with their counts, and the first
    line of the least common (the failure worth reading)."""
    seen = {}
    for delay in delays:
        rc, out, err, took = signalled(binary, args, delay, sig, group, timeout)
        stopped_by = ""
        try:
            stopped_by = json.loads(out).get("stopped_by", "")
        except Exception:
            if "stopped by duration" in out:
                stopped_by = "duration"
        key = f"{rc}" + (" lost" if rc == 0 and stopped_by == "duration" else "")
        entry = seen.setdefault(key, [0, first_line(err, out), 0.0])
        entry[0] += 1
        entry[2] = max(entry[2], took)
    counts = ", ".join(f"{k} ×{v[0]} (slowest exit {v[2]:.2f} s after the signal)" for k, v in sorted(seen.items(), key=lambda kv: -kv[1][0]))
    rare = min(seen.items(), key=lambda kv: kv[1][0])
    return f"{counts}; e.g. {rare[1][1]}"


def fake_perf(csv_text):
    """A perf that runs the workload and writes `csv_text` as its CSV."""
    d = os.path.join(TMP, "fakeperf")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "stat.csv"), "w", newline="") as f:
        f.write(csv_text)
    script = os.path.join(d, "perf")
    with open(script, "w") as f:
        f.write("""#!/bin/bash
out=""
while (($#)); do case "$1" in -o) out=$2; shift 2;; --) shift; break;; *) shift;; esac; done
child=()
while (($#)); do if [ "$1" = --perf-control ]; then shift 2; else child+=("$1"); shift; fi; done
((${#child[@]})) || exit 0
"${child[@]}"; rc=$?
[ -n "$out" ] && cat "%s" > "$out"
exit $rc
""" % os.path.join(d, "stat.csv"))
    os.chmod(script, 0o755)
    return d


def case_rows(b):
    """(item, command text, function of the binary returning the cell)."""
    rows = []

    def add(item, text, fn):
        rows.append((item, text, fn))

    add("1", "stat -- socket 1 -d 3; SIGINT to the group 30–40 ms after start (8 tries)",
        lambda b: tries(b, ["stat", "--", "socket", "1", "-d", "3"], [0.03 + 0.0013 * i for i in range(8)], signal.SIGINT))
    add("2a", "explain --seconds 1 -- socket 1; Ctrl-C (group SIGINT) at 1.5 s",
        lambda b: explain_stop(b, 1.5, True))
    add("2b", "explain --seconds 1 -- socket 1; SIGINT to csgb alone at 4.5 s",
        lambda b: explain_stop(b, 4.5, False))
    add("3", "socket 2000 --transport tcp -d 1; group SIGINT at 20–80 ms (8 tries)",
        lambda b: tries(b, ["socket", "2000", "--transport", "tcp", "-d", "1"], [0.02 + 0.0085 * i for i in range(8)], signal.SIGINT))
    add("4", "socket 2000 --transport pipe -d 5; SIGTERM to csgb at 0.1–0.4 s (4 tries)",
        lambda b: tries(b, ["socket", "2000", "--transport", "pipe", "-d", "5"], [0.1, 0.2, 0.3, 0.4], signal.SIGTERM, group=False))
    add("5", "socket 1 -d 5; group SIGINT 0–15 ms after start (12 tries)",
        lambda b: tries(b, ["socket", "1", "-d", "5"], [0.0012 * i for i in range(12)], signal.SIGINT))
    add("6", "socket 1 -d 1 --format json; SIGSTOP at 0.4 s, SIGCONT at 1.9 s",
        lambda b: stop_continue(b))
    add("7", "ulimit -Sn 1024; socket 400 --io uring -d 0.3",
        lambda b: cell(*shell(f"ulimit -Sn 1024; {b} socket 400 --io uring -d 0.3")))
    add("9", "ulimit -v 200000; socket 100 -d 0.3 (5 tries)",
        lambda b: repeated(f"ulimit -v 200000; exec {b} socket 100 -d 0.3", 5))
    add("10", "ulimit -s 48; --version",
        lambda b: cell(*shell(f"ulimit -s 48; {b} --version")))
    add("11", "explain --seconds 0.3 --timeline-seconds 0.1 --out D -- socket 1; modes of D's files",
        lambda b: file_modes(b))
    add("12", "explain --out '' -- socket 1",
        lambda b: cell(*shell(f"cd {TMP} && {b} explain --seconds 0.2 --timeline-seconds 0.1 --out '' -- socket 1")))
    add("13", "explain --out X -- socket 1, twice",
        lambda b: twice(b))
    add("14", "explain --out DIR/x -- socket 1, DIR a full 64 KiB tmpfs",
        lambda b: full_tmpfs(b))
    add("15a", "explain … >/dev/full",
        lambda b: cell(*shell(f"{b} explain --seconds 0.2 --timeline-seconds 0.1 --out {TMP}/e15a-$RANDOM -- socket 1 >/dev/full")))
    add("15b", "explain … >&-",
        lambda b: cell(*shell(f"{b} explain --seconds 0.2 --timeline-seconds 0.1 --out {TMP}/e15b-$RANDOM -- socket 1 >&-")))
    add("16a", "stat -- socket 1 -d 0.3 | true",
        lambda b: piped(f"{b} stat -- socket 1 -d 0.3"))
    add("16b", "explain --seconds 0.2 … -- socket 1 | true",
        lambda b: piped(f"{b} explain --seconds 0.2 --timeline-seconds 0.1 --out {TMP}/e16-$RANDOM -- socket 1"))
    add("20", "taskset -c 0 spinner & stat -- socket 1 --mode green --cpus 0 -d 1",
        lambda b: neighbour(b))
    for value, text in (("-5", "-5"), ("0x0", "0x0"), ("garbage", "garbage"), ("crlf", "CRLF endings")):
        add("21", f"fake perf writing {text}; stat -- socket 1 -d 0.3",
            lambda b, value=value: fake_count(b, value))
    add("22a", "yield 1 --io uring --sqpoll --fixed-files --ring-entries 8 -d 0.2",
        lambda b: cell(*shell(f"{b} yield 1 --io uring --sqpoll --fixed-files --ring-entries 8 -d 0.2")))
    add("22b", "futex 1 --io uring -d 0.2",
        lambda b: cell(*shell(f"{b} futex 1 --io uring -d 0.2")))
    add("22c", "stat -- yield 1 --io uring -d 0.3",
        lambda b: cell(*shell(f"{b} stat -- yield 1 --io uring -d 0.3")))
    add("23a", "explain -- futex 1 (seconds to the exit)",
        lambda b: timed(f"{b} explain --out {TMP}/e23-$RANDOM -- futex 1"))
    add("23b", "explain --seconds 1e-9 -- socket 1",
        lambda b: cell(*shell(f"{b} explain --seconds 1e-9 --out {TMP}/e23b-$RANDOM -- socket 1")))
    add("23c", "socket 1 -d=0x1",
        lambda b: cell(*shell(f"{b} socket 1 -d=0x1")))
    add("23d", "explain --seconds 0x0.4p0 -- socket 1",
        lambda b: cell(*shell(f"{b} explain --seconds 0x0.4p0 --out {TMP}/e23d-$RANDOM -- socket 1")))
    add("24a", "stat -- socket 1 --help",
        lambda b: cell(*shell(f"{b} stat -- socket 1 --help")))
    add("24b", "explain --seconds -1 -- socket 1",
        lambda b: cell(*shell(f"{b} explain --seconds -1 -- socket 1")))
    add("24c", "socket 1 --work-size 64G -d 0.2",
        lambda b: cell(*shell(f"{b} socket 1 --work-size 64G -d 0.2")))
    add("24d", "socket 1 --cpus 0-2000000000",
        lambda b: cell(*shell(f"{b} socket 1 --cpus 0-2000000000 -d 0.2")))
    add("24e", "help bogus",
        lambda b: cell(*shell(f"{b} help bogus")))
    add("24f", "socket 1 --io uring --ring-entries 3 -d 0.2 (the io line)",
        lambda b: grep_line(f"{b} socket 1 --io uring --ring-entries 3 -d 0.2", "io:"))
    return rows


def explain_stop(b, delay, group):
    out_dir = os.path.join(TMP, f"e2-{random.randint(0, 1 << 30)}")
    rc, out, err, took = signalled(b, ["explain", "--seconds", "1", "--out", out_dir, "--", "socket", "1"], delay,
                                   signal.SIGINT, group, timeout=60)
    left = "folder left" if os.path.exists(out_dir) else "no folder left"
    return f"{rc}: {first_line(err, out)} ({left}; exit {took:.2f} s after the signal)"


def stop_continue(b):
    p = subprocess.Popen([b, "socket", "1", "-d", "1", "--format", "json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, start_new_session=True)
    time.sleep(0.4)
    os.kill(p.pid, signal.SIGSTOP)
    time.sleep(1.5)
    os.kill(p.pid, signal.SIGCONT)
    out, err = p.communicate(timeout=30)
    try:
        report = json.loads(out)
        return f"{p.returncode}: measured {report['seconds']:.3f} s, stopped by {report['stopped_by']}, suspension: {report.get('suspension') or 'none'}"[:300]
    except Exception:
        return cell(p.returncode, out, err)


def repeated(command, n):
    seen = {}
    for _ in range(n):
        rc, out, err = shell(command, timeout=60)
        key = str(rc)
        seen.setdefault(key, [0, first_line(err, out)])[0] += 1
    return "; ".join(f"{k} ×{v[0]}: {v[1]}" for k, v in seen.items())


def file_modes(b):
    d = os.path.join(TMP, f"e11-{random.randint(0, 1 << 30)}")
    rc, out, err = shell(f"umask 022; {b} explain --seconds 0.3 --timeline-seconds 0.1 --out {d} -- socket 1")
    if rc != 0:
        return cell(rc, out, err)
    modes = sorted({oct(os.stat(os.path.join(d, name)).st_mode & 0o777) for name in os.listdir(d)})
    return f"{rc}: file modes {', '.join(modes)}"


def twice(b):
    d = os.path.join(TMP, f"e13-{random.randint(0, 1 << 30)}")
    command = f"{b} explain --seconds 0.2 --timeline-seconds 0.1 --out {d} -- socket 1"
    shell(command)
    first = os.stat(os.path.join(d, "report.json")).st_mtime_ns if os.path.exists(os.path.join(d, "report.json")) else None
    rc, out, err = shell(command)
    after = os.stat(os.path.join(d, "report.json")).st_mtime_ns if os.path.exists(os.path.join(d, "report.json")) else None
    fate = "first report overwritten" if first != after else "first report kept"
    beside = [name for name in os.listdir(TMP) if name.startswith(os.path.basename(d) + "-")]
    return f"{rc}: {fate}" + (f", second in {beside[0]}" if beside else "")


def full_tmpfs(b):
    d = os.path.join(TMP, f"e14-{random.randint(0, 1 << 30)}")
    os.makedirs(d)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", d]).returncode != 0:
        return "not run: mount failed (needs root)"
    try:
        subprocess.run(["bash", "-c", f"dd if=/dev/zero of={d}/fill bs=4k 2>/dev/null"])
        start = time.monotonic()
        rc, out, err = shell(f"{b} explain --seconds 1 --timeline-seconds 0.2 --out {d}/x -- socket 1")
        took = time.monotonic() - start
        left = os.listdir(d + "/x") if os.path.isdir(d + "/x") else []
        return f"{rc}: {first_line(err, out)} (after {took:.1f} s; {'files left: ' + str(len(left)) if left else 'nothing left'})"
    finally:
        subprocess.run(["umount", d])


def piped(command):
    rc, out, err = shell(f"{command} | true; echo \"rc=${{PIPESTATUS[0]}}\" >&2")
    lines = [l for l in err.splitlines() if l.strip()]
    code = lines[-1].split("=")[1] if lines and lines[-1].startswith("rc=") else "?"
    message = next((l for l in lines if not l.startswith("rc=")), "(no message)")
    return f"{code}: {message[:150]}"


def neighbour(b):
    spinner = subprocess.Popen(["taskset", "-c", "0", "sh", "-c", "while :; do :; done"])
    try:
        return cell(*shell(f"{b} stat -- socket 1 --mode green --cpus 0 -d 1"))
    finally:
        spinner.kill()
        spinner.wait()


def fake_count(b, value):
    if value == "crlf":
        text = "# started\r\n10,,context-switches,1000,100.00,,\r\n20,,syscalls:sys_enter_read,1000,100.00,,\r\n"
    elif value == "garbage":
        text = "this is not perf output\n"
    else:
        text = f"{value},,context-switches,1000,100.00,,\n"
    d = fake_perf(text)
    return cell(*shell(f"PATH={d}:$PATH {b} stat -- socket 1 --mode green -d 0.3"))


def timed(command):
    start = time.monotonic()
    rc, out, err = shell(command)
    return f"{rc} after {time.monotonic() - start:.1f} s: {first_line(err, out)}"


def grep_line(command, prefix):
    rc, out, err = shell(command)
    line = next((l for l in out.splitlines() if l.startswith(prefix)), None)
    return f"{rc}: {line.strip() if line else first_line(err, out)}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--out", default="docs/reliability-probe-2026-12.md")
    parser.add_argument("--only", help="comma-separated items, e.g. 1,2a,21")
    options = parser.parse_args()
    options.before, options.after = os.path.abspath(options.before), os.path.abspath(options.after)
    only = set(options.only.split(",")) if options.only else None
    rows = []
    for item, text, fn in case_rows(None):
        if only and item not in only and item.rstrip("abcdef") not in only:
            continue
        print(f"item {item}: {text}", file=sys.stderr, flush=True)
        cells = [fn(binary).replace("|", "\\|").replace("\n", " ") for binary in (options.before, options.after)]
        rows.append(f"| {item} | `{text}` | {cells[0]} | {cells[1]} |")
    load = open("/proc/loadavg").read().split()[:3]
    header = [
        "# Reliability probe, second pass: before and after",
        "",
        f"Generated by `python3 experiments/reliability_probe_2026_12.py {options.before} {options.after}` on "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, `{os.uname().nodename}`, kernel {os.uname().release}, "
        f"load average {' '.join(load)} at the end (a shared 2-core VM: times are indicative). Each cell is the exit "
        "code (Python's -N for a death by signal N) and the first line of stderr (stdout when stderr was empty). "
        "Rows tried several times list each outcome with its count; \"0 lost\" is a run that went on to its "
        "duration after the signal. Item 8 (sqpoll pollers) is not rerun: on the old build it drives the load "
        "average into the thousands.",
        "",
        "| item | command | before | after |",
        "|---|---|---|---|",
    ]
    with open(options.out, "w") as f:
        f.write("\n".join(header + rows) + "\n")
    shutil.rmtree(TMP, ignore_errors=True)
    print(f"wrote {options.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
