#!/usr/bin/env python3
"""The summary of `make sweep-kernel`: from a sweep folder's results.json, ns per
round trip of socket 1 per mode, pinning, work size, speculation control and
scheduling policy, and what each knob adds per switch: the difference of two
medians divided by the switches per iteration of the case with the knob.

    python3 experiments/kernel_summary.py experiments/results/<folder>

Writes <folder>/kernel-summary.md (never over an existing one) and prints it."""

import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))  # the library
from csgb_common import CapabilitiesError, capabilities_of, publish_summary, summary_inputs


def knobs(case):
    flags = case.get("flags") or []
    spec = "ibpb" if "ibpb" in flags else "none"
    sched = flags[flags.index("--sched") + 1] if "--sched" in flags else "other"
    return spec, sched


def main(argv):
    inputs = summary_inputs(argv, __doc__, "kernel-summary.md", "kernel_summary")
    if isinstance(inputs, int):
        return inputs
    results, out_path = inputs
    folder = argv[0]
    # Which modes switch in the kernel, and which of those change address space, are
    # csgb's facts (results.json's `csgb info`), never a mode's name.
    try:
        caps = capabilities_of(results.get("csgb_info"))
    except CapabilitiesError as e:
        print("kernel_summary: %s: %s" % (folder, e), file=sys.stderr)
        return 64
    kernel_modes = caps.modes_where(kernel_switching=True)
    same_space = caps.modes_where(kernel_switching=True, switches_address_space=False)
    other_space = caps.modes_where(kernel_switching=True, switches_address_space=True)
    user_modes = caps.modes_where(kernel_switching=False)
    if not kernel_modes:
        print("kernel_summary: %s: its csgb info has no mode facts (kernel_switching); "
              "rebuild csgb and rerun the sweep" % folder, file=sys.stderr)
        return 64
    table = {}
    for case in results["cases"]:
        s = case["summary"]
        spec, sched = knobs(case)
        pin = case["cpus"] + (" each" if case.get("pin") == "each" else "")
        key = (case["mode"], pin, case["work_size_label"], spec, sched)
        switches = None
        if s.get("voluntary_switches_per_iteration") is not None:
            switches = s["voluntary_switches_per_iteration"] + (s.get("involuntary_switches_per_iteration") or 0)
        table[key] = {"ns": s.get("ns_per_iteration"), "min": s.get("ns_min"), "max": s.get("ns_max"),
                      "switches": switches, "ok": s.get("runs_ok", 0), "runs": s.get("runs", 0),
                      "unsupported": s.get("unsupported", 0), "noisy": s.get("noisy")}

    lines = ["# make sweep-kernel: %s" % folder, "",
             "Started %s on %s; %s." % (results.get("started"), results.get("host", {}).get("hostname", "?")
                                        if isinstance(results.get("host"), dict) else results.get("host"),
                                        results.get("command")),
             "", "Medians of the runs of each case (min-max), socket 1 (one pair, a 1-byte echo), "
             "switches = voluntary + involuntary per iteration (the actors' own getrusage).", "",
             "| mode | cpus | work | spec | sched | ns/iteration (min-max) | switches/iteration | runs ok |",
             "|---|---|---|---|---|---|---|---|"]

    def fmt(x, digits=0):
        return "-" if x is None else ("{:,.%df}" % digits).format(x)

    for key in sorted(table, key=lambda k: (k[1], k[2], k[0], k[3], k[4])):
        r = table[key]
        cell = ("unsupported on this machine" if r["unsupported"] and not r["ok"]
                else "%s (%s-%s)%s" % (fmt(r["ns"]), fmt(r["min"]), fmt(r["max"]), " noisy" if r["noisy"] else ""))
        lines.append("| %s | %s | %s | %s | %s | %s | %s | %d/%d |" % (
            key[0], key[1], key[2], key[3], key[4], cell, fmt(r["switches"], 3), r["ok"], r["runs"]))

    def per_switch(a, b, label):
        """What going from case b to case a adds per switch of a."""
        ra, rb = table.get(a), table.get(b)
        if not ra or not rb or ra["ns"] is None or rb["ns"] is None:
            why = "not measured" if not ra or not rb else "unsupported on this machine"
            return "| %s | %s | %s |" % (label, why, "")
        diff = ra["ns"] - rb["ns"]
        sw = ra["switches"] or 0
        return "| %s | %+.0f ns per iteration | %s |" % (
            label, diff, "%+.0f ns per switch (%.2f switches)" % (diff / sw, sw) if sw > 0 else "no switches")

    lines += ["", "## What each knob adds", "",
              "| knob | difference of medians | per switch |", "|---|---|---|"]
    pins = sorted({k[1] for k in table})
    works = sorted({k[2] for k in table})
    for pin in pins:
        for work in works:
            where = "cpus %s, work %s" % (pin, work)
            for a in other_space:
                for b in same_space:
                    lines.append(per_switch((a, pin, work, "none", "other"), (b, pin, work, "none", "other"),
                                            "%s over %s, %s" % (a, b, where)))
            for mode in kernel_modes:
                lines.append(per_switch((mode, pin, work, "ibpb", "other"), (mode, pin, work, "none", "other"),
                                        "--spec ibpb in %s mode, %s" % (mode, where)))
                lines.append(per_switch((mode, pin, work, "none", "fifo"), (mode, pin, work, "none", "other"),
                                        "--sched fifo in %s mode, %s" % (mode, where)))
    lines += ["", "## Beside user-mode switching (CPU 0)", "", "| ratio | value |", "|---|---|"]
    for work in works:
        for kernel in kernel_modes:
            for user in user_modes:
                a = table.get((kernel, "0", work, "none", "other"))
                b = table.get((user, "0", work, "none", "other"))
                if a and b and a["ns"] and b["ns"]:
                    lines.append("| %s / %s, work %s | %.2fx |" % (kernel, user, work, a["ns"] / b["ns"]))
                for sched in ("fifo",):
                    af = table.get((kernel, "0", work, "none", sched))
                    if af and b and af["ns"] and b["ns"]:
                        lines.append("| %s --sched %s / %s, work %s | %.2fx |" % (kernel, sched, user, work, af["ns"] / b["ns"]))
    return publish_summary(out_path, lines)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
