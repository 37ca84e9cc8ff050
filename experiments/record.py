#!/usr/bin/env python3
"""Where the time goes, per mode: `perf record -g` of one pinned `socket 1` run of
each mode (frame-pointer release build), folded into a few buckets.

Buckets, by the sampled function (self time):
  scheduler        the kernel's schedule(), __schedule, context-switch code
  syscall entry    syscall entry/exit and return-to-user paths
  kernel: socket   the rest of the kernel (the socket read/write work itself)
  swift runtime    libswift_Concurrency, libswiftCore (retain/release, tasks)
  libc             libc (the syscall wrappers)
  csgb             csgb's own code (interpreters, scheduler, executor, switch)
Then, from the call graphs (inclusive time): the share under __schedule() and the
share under the socket wake-ups (sock_def_readable on write, unix_write_space on
read), which together are what kernel threads pay for switching.
This VM has no hardware PMU, so samples come from the cpu-clock software timer; in a
VM, samples taken with interrupts off land where they are turned back on
(finish_task_switch, _raw_spin_unlock_irqrestore), which the inclusive shares absorb.
"""
import argparse
import collections
import os
import subprocess
import sys

SCHEDULER = ("schedule", "__schedule", "finish_task_switch", "__switch_to", "pick_next", "enqueue_task",
             "dequeue_task", "update_curr", "try_to_wake_up", "ttwu", "switch_mm", "prepare_task_switch",
             "psi_", "update_load", "set_next_entity", "put_prev", "select_task_rq", "sched_", "wake_q",
             "resched", "check_preempt", "__wake_up", "autoremove_wake", "pick_eevdf", "place_entity")
ENTRY = ("entry_SYSCALL", "do_syscall_64", "syscall_exit", "exit_to_user_mode", "syscall_return",
         "__x64_sys_", "x64_sys_call", "fdget", "fput", "irqentry", "native_irq_return", "syscall_enter")


def bucket(dso, symbol):
    if "kernel" in dso:
        if any(symbol.startswith(p) or p in symbol for p in SCHEDULER):
            return "scheduler"
        if any(symbol.startswith(p) for p in ENTRY):
            return "syscall entry"
        return "kernel: socket and rest"
    if "libswift" in dso:
        return "swift runtime"
    if dso.startswith("libc") or "ld-linux" in dso or dso == "[vdso]":
        return "libc"
    return "csgb"


def record(csgb, mode, seconds, out_dir):
    data = os.path.join(out_dir, f"perf-{mode}.data")
    subprocess.run(["perf", "record", "-e", "cpu-clock", "-F", "4999", "-g", "-o", data, "--",
                    csgb, "socket", "1", "--mode", mode, "--cpus", "0", "--duration", str(seconds)],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    report = subprocess.run(["perf", "report", "-i", data, "--no-children", "--sort", "dso,sym", "--stdio",
                             "-g", "none", "--percent-limit", "0"],
                            check=True, capture_output=True, text=True).stdout
    inclusive_report = subprocess.run(["perf", "report", "-i", data, "--children", "--sort", "sym", "--stdio",
                                       "-g", "none", "--percent-limit", "0"],
                                      check=True, capture_output=True, text=True).stdout
    inclusive = collections.Counter()
    for line in inclusive_report.splitlines():
        parts = line.split()
        if len(parts) >= 4 and parts[0].endswith("%") and parts[2] == "[k]":
            inclusive[parts[3]] = float(parts[0].rstrip("%"))
    shares = collections.Counter()
    top = []
    for line in report.splitlines():
        parts = line.split()
        if len(parts) < 4 or not parts[0].endswith("%"):
            continue
        share = float(parts[0].rstrip("%"))
        dso = parts[1]
        symbol = " ".join(parts[3:])
        shares[bucket(dso, symbol)] += share
        top.append((share, dso, symbol))
    shares["__schedule (incl.)"] = inclusive["__schedule"]
    shares["wake-ups (incl.)"] = inclusive["sock_def_readable"] + inclusive["unix_write_space"]
    return shares, sorted(top, reverse=True)[:8]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csgb", default=".build-fp/release/csgb")
    parser.add_argument("--seconds", type=float, default=2)
    parser.add_argument("--out", default="experiments/results/record")
    options = parser.parse_args()
    if not os.access(options.csgb, os.X_OK):
        sys.exit(f"record: {options.csgb} not found; `make record` builds it with frame pointers")
    os.makedirs(options.out, exist_ok=True)
    names = ["scheduler", "syscall entry", "kernel: socket and rest", "swift runtime", "libc", "csgb",
             "__schedule (incl.)", "wake-ups (incl.)"]
    lines = ["| mode | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    details = []
    for mode in ["thread", "green", "async"]:
        shares, top = record(options.csgb, mode, options.seconds, options.out)
        lines.append(f"| {mode} | " + " | ".join(f"{shares[n]:.1f} %" for n in names) + " |")
        details.append(f"\n{mode}: top functions (self time)")
        demangled = subprocess.run(["swift", "demangle", "--simplified"], input="\n".join(s for _, _, s in top),
                                   capture_output=True, text=True).stdout.splitlines() or [s for _, _, s in top]
        for (share, dso, _), name in zip(top, demangled):
            details.append(f"  {share:5.1f} %  {dso:24} {name[:90]}")
    text = "\n".join(lines + details)
    print(text)
    with open(os.path.join(options.out, "summary.md"), "w") as f:
        f.write("# Where the time goes: `csgb socket 1 --cpus 0`, perf record -g (cpu-clock)\n\n" + text + "\n")


if __name__ == "__main__":
    main()
