#!/usr/bin/env python3
"""make sweep-indirect: what a switch costs, direct and indirect, against working set.

    python3 experiments/sweep_indirect.py [experiments/manifests/indirect.json]
        [--csgb .build/release/csgb] [--out FOLDER] [--rounds R] [--duration S]
    python3 experiments/sweep_indirect.py --redraw FOLDER     # summary and plots again

For every working set per actor, walk (`--access`) and stride of the manifest, and
every pair of modes its series name (roles resolved from `csgb info --format json`:
capabilities.mode_facts' kernel_switching, so no mode is named here), it runs one
`csgb cost` and keeps its JSON. The split (total, direct and indirect ns per switch,
each with its 95 % interval) is csgb cost's own arithmetic, read back, never redone
here. Writes a new folder experiments/results/<date>T<time>-<host>-indirect/ (never an
existing one) with:

  manifest.json, environment.json  what ran, on what (csgb info, caches, THP, commit)
  raw/<case>.json                  every csgb cost report as printed (with its runs'
                                   own reports inside)
  results.json, results.csv        one record per case: the split, the intervals, the
                                   medians, /proc/loadavg before and after
  summary.md                       where the indirect cost peaks, and how it compares
                                   with the direct cost
  indirect-<walk>.png              total, direct and indirect ns per switch against
                                   working set (log axis), one line per mode pair and
                                   stride, bars for the 95 % intervals, this machine's
                                   L1d, L2 and L3 (sysfs) drawn in

Needs matplotlib for the plots (Debian: python3-matplotlib); without it the plots are
skipped with a message and the rest is written.
"""

import argparse
import csv
import datetime
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))  # the library
from csgb_common import (DEFAULT_CSGB, REPO, RESULTS_ROOT, CapabilitiesError, csgb_info,  # noqa: E402
                         fmt, new_folder, resolve_binary)

DEFAULT_MANIFEST = Path(__file__).resolve().parent / "manifests" / "indirect.json"
CACHE_ROOT = "/sys/devices/system/cpu/cpu0/cache"
SPLIT = ("total", "direct", "indirect")


# ---------------------------------------------------------------- what the machine has

def parse_size(text):
    """'4K', '2M', '0', '64' as bytes."""
    text = str(text).strip().upper()
    scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    if text and text[-1] in scale:
        return int(float(text[:-1]) * scale[text[-1]])
    return int(text)


def size_label(n):
    for unit, shift in (("G", 30), ("M", 20), ("K", 10)):
        if n >= 1 << shift and n % (1 << shift) == 0:
            return "%d%s" % (n >> shift, unit)
    return str(n)


def caches(root=CACHE_ROOT):
    """[(name, bytes)] of cpu0's data and unified caches, from sysfs: L1d, L2, L3."""
    found = []
    try:
        entries = sorted(os.listdir(root))
    except OSError:
        return found
    for entry in entries:
        if not entry.startswith("index"):
            continue
        def read(name):
            try:
                with open(os.path.join(root, entry, name)) as f:
                    return f.read().strip()
            except OSError:
                return None
        kind, level, size = read("type"), read("level"), read("size")
        if kind == "Instruction" or not level or not size:
            continue
        name = "L%s%s" % (level, "d" if kind == "Data" else "")
        try:
            found.append((name, parse_size(size)))
        except ValueError:
            continue
    return found


def thp_mode():
    try:
        with open("/sys/kernel/mm/transparent_hugepage/enabled") as f:
            return f.read().strip()
    except OSError:
        return None


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return f.read().strip()
    except OSError:
        return None


def commit():
    try:
        return subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True, timeout=10).stdout.strip() or None
    except (OSError, subprocess.TimeoutExpired):
        return None


# ---------------------------------------------------------------- the plan

def mode_roles(info):
    """(kernel-switching modes, user-mode ones), each in csgb's order, from csgb info."""
    facts = (info.get("capabilities") or {}).get("mode_facts")
    if not isinstance(facts, list) or not facts:
        raise CapabilitiesError("csgb info lists no capabilities.mode_facts (rebuild csgb: make release)")
    kernel = [f["name"] for f in facts if f.get("kernel_switching") is True]
    user = [f["name"] for f in facts if f.get("kernel_switching") is False]
    if not kernel or not user:
        raise CapabilitiesError("csgb info lists no kernel-switching mode or no user-mode one")
    return kernel, user


def resolve(role, modes, what):
    if role == "all":
        return list(modes)
    if role == "first":
        return modes[:1]
    if role == "others":
        return modes[1:]
    raise ValueError("manifest: %s must be all, first or others, got %r" % (what, role))


def plan(manifest, info):
    """Every case: (kernel, user, access, stride, size) in the manifest's order."""
    kernel_modes, user_modes = mode_roles(info)
    cases = []
    for series in manifest["series"]:
        for kernel in resolve(series.get("kernel", "all"), kernel_modes, "kernel"):
            for user in resolve(series.get("user", "first"), user_modes, "user"):
                for stride in series["strides"]:
                    for size in series["sizes"]:
                        cases.append({"kernel": kernel, "user": user, "access": series.get("access", "stride"),
                                      "stride": parse_size(stride), "size": parse_size(size)})
    return cases


def case_key(case):
    return "%s-%s-%s-s%d-%s" % (case["kernel"], case["user"], case["access"], case["stride"], size_label(case["size"]))


def cost_argv(csgb, manifest, case, rounds, duration, probe):
    workload = list(manifest["workload"]) + ["--cpus", str(manifest["cpus"]), "--duration", str(duration),
                                             "--warmup", str(manifest.get("warmup", 0.1))]
    if case["size"] > 0:
        workload += ["--work-size", str(case["size"]), "--stride", str(case["stride"]), "--access", case["access"]]
    return [str(csgb), "cost", "--modes", "%s,%s" % (case["kernel"], case["user"]), "--rounds", str(rounds),
            "--format", "json"] + ([] if probe else ["--no-switch-probe"]) + ["--"] + workload


# ---------------------------------------------------------------- running

class Stopped(Exception):
    pass


def run_cost(argv, timeout):
    """Runs one csgb cost in a session of its own (a stop here reaches it as SIGINT,
    and it stops its own child); its JSON, or raises with its message."""
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.send_signal(signal.SIGINT)
        out, err = p.communicate()
        raise RuntimeError("timed out after %g s: %s" % (timeout, " ".join(argv)))
    except KeyboardInterrupt:
        p.send_signal(signal.SIGINT)
        p.communicate()
        raise Stopped()
    if p.returncode != 0:
        raise RuntimeError("exit %d: %s" % (p.returncode, (err.strip().splitlines() or ["no message"])[0]))
    return json.loads(out)


def record(case, report, before, after, seconds):
    rec = dict(case)
    rec["key"] = case_key(case)
    rec["size_label"] = size_label(case["size"])
    for part in SPLIT + ("indirect_minus_direct",):
        for suffix in ("", "_ci_low", "_ci_high", "_resolved"):
            rec[part + "_ns_per_switch" + suffix] = report.get(part + "_ns_per_switch" + suffix)
    for key in ("dominant", "switches_per_iteration", "rounds_done", "interval_coverage", "user_switch_ns",
                "stopped_by"):
        rec[key] = report.get(key)
    medians = report.get("medians") or {}
    for side, mode in (("kernel", case["kernel"]), ("user", case["user"])):
        for figure, value in (medians.get(mode) or {}).items():
            rec["%s_%s" % (side, figure)] = value
    rec["loadavg_before"] = before
    rec["loadavg_after"] = after
    rec["wall_seconds"] = round(seconds, 2)
    return rec


# ---------------------------------------------------------------- summary

def summary_lines(results, environment):
    lines = ["# Direct and indirect cost of a switch against working set", ""]
    env = environment
    lines.append("Command: `%s`; commit %s; host %s; %s; started %s, %s s in all." % (
        env.get("command"), env.get("commit"), env.get("hostname"), env.get("cpu_model"), env.get("started"),
        fmt(env.get("wall_seconds"), 0)))
    lines.append("Caches (cpu0, sysfs): %s. THP: %s." % (
        ", ".join("%s %s" % (n, size_label(b)) for n, b in env.get("caches", [])) or "unknown", env.get("thp")))
    lines.append("Each point is one `csgb cost` (its own JSON in raw/): %s rounds of each mode, %s s each; the split and "
                 "its intervals are csgb cost's (%s)." % (env.get("rounds"), env.get("duration"), env.get("interval_method")))
    lines.append("")
    ok = [r for r in results if r.get("error") is None]
    failed = [r for r in results if r.get("error") is not None]
    by_series = {}
    for r in ok:
        by_series.setdefault((r["kernel"], r["user"], r["access"], r["stride"]), []).append(r)
    lines.append("## Where the indirect cost peaks")
    lines.append("")
    lines.append("| modes | walk | stride | peak indirect ns/switch (95 % interval) | at | direct there | dominant there | direct at 0 |")
    lines.append("|---|---|---|---|---|---|---|---|")
    for (kernel, user, access, stride), rows in by_series.items():
        resolved = [r for r in rows if r.get("indirect_ns_per_switch") is not None]
        if not resolved:
            continue
        peak = max(resolved, key=lambda r: r["indirect_ns_per_switch"])
        zero = next((r for r in rows if r["size"] == 0), None)
        lines.append("| %s − %s | %s | %d | %s (%s to %s)%s | %s | %s | %s | %s |" % (
            kernel, user, access, stride, fmt(peak["indirect_ns_per_switch"], 0),
            fmt(peak["indirect_ns_per_switch_ci_low"], 0), fmt(peak["indirect_ns_per_switch_ci_high"], 0),
            "" if peak.get("indirect_ns_per_switch_resolved") else " not resolved", peak["size_label"],
            fmt(peak["direct_ns_per_switch"], 0), peak.get("dominant") or "not resolved",
            fmt(zero["direct_ns_per_switch"], 0) if zero else "–"))
    lines.append("")
    lines.append("## Every point")
    lines.append("")
    lines.append("| modes | walk | stride | size | total | direct | indirect | dominant | switches/it | load before |")
    lines.append("|---|---|---|---|---|---|---|---|---|---|")
    for r in ok:
        def cell(part):
            v = r.get(part + "_ns_per_switch")
            lo, hi = r.get(part + "_ns_per_switch_ci_low"), r.get(part + "_ns_per_switch_ci_high")
            mark = "" if r.get(part + "_ns_per_switch_resolved") else "?"
            return "%s%s [%s, %s]" % (fmt(v, 0), mark, fmt(lo, 0), fmt(hi, 0))
        lines.append("| %s − %s | %s | %d | %s | %s | %s | %s | %s | %s | %s |" % (
            r["kernel"], r["user"], r["access"], r["stride"], r["size_label"], cell("total"), cell("direct"),
            cell("indirect"), r.get("dominant") or "–", fmt(r.get("switches_per_iteration"), 3),
            (r.get("loadavg_before") or "").split(" ")[0]))
    lines.append("")
    lines.append("`?`: the 95 % interval includes 0 (not resolved). ns per switch of the first mode; "
                 "total = (ns/iteration K − U) ÷ K's switches/iteration, indirect = the same with the work's ns "
                 "(--phases), direct = total − indirect.")
    probes = [r.get("user_switch_ns") for r in ok if r.get("user_switch_ns") is not None]
    if probes:
        lines.append("")
        lines.append("User-mode switch alone (yield 2 in the user mode, from the size-0 points): %s ns." %
                     ", ".join(fmt(p, 1) for p in probes))
    if failed:
        lines.append("")
        lines.append("## Points without a figure")
        lines.append("")
        for r in failed:
            lines.append("- %s: %s" % (r["key"], r["error"]))
    return lines


# ---------------------------------------------------------------- plots

def plot(folder, results, environment):
    try:
        import matplotlib
    except ImportError:
        if os.path.exists("/usr/bin/python3") and os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3"):
            subprocess.run(["/usr/bin/python3", os.path.abspath(__file__), "--plot-only", str(folder)], check=False)
            return
        print("sweep_indirect.py: matplotlib is not installed (Debian: python3-matplotlib); plots skipped",
              file=sys.stderr)
        return
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    ok = [r for r in results if r.get("error") is None]
    colours = {f["name"]: f.get("colour") for f in environment.get("mode_facts", [])}
    sizes = sorted({r["size"] for r in ok if r["size"] > 0})
    zero_at = (sizes[0] / 4) if sizes else 1024
    for access in sorted({r["access"] for r in ok}):
        rows = [r for r in ok if r["access"] == access]
        fig, axes = plt.subplots(1, 3, figsize=(17, 5.2), sharex=True)
        series = {}
        for r in rows:
            series.setdefault((r["kernel"], r["user"], r["stride"]), []).append(r)
        for ax, part in zip(axes, SPLIT):
            for (kernel, user, stride), points in series.items():
                points = sorted(points, key=lambda r: r["size"])
                xs = [r["size"] if r["size"] > 0 else zero_at for r in points]
                ys = [r.get(part + "_ns_per_switch") for r in points]
                lo = [r.get(part + "_ns_per_switch_ci_low") for r in points]
                hi = [r.get(part + "_ns_per_switch_ci_high") for r in points]
                keep = [i for i, y in enumerate(ys) if y is not None]
                if not keep:
                    continue
                xs, ys = [xs[i] for i in keep], [ys[i] for i in keep]
                err = [[max(ys[j] - (lo[i] if lo[i] is not None else ys[j]), 0) for j, i in enumerate(keep)],
                       [max((hi[i] if hi[i] is not None else ys[j]) - ys[j], 0) for j, i in enumerate(keep)]]
                ax.errorbar(xs, ys, yerr=err, marker="o" if stride == 64 else "s", markersize=4, capsize=2,
                            linestyle="-" if stride == 64 else "--", color=colours.get(kernel),
                            alpha=1.0 if user == rows[0]["user"] else 0.55,
                            label="%s − %s, stride %d" % (kernel, user, stride))
            for name, size in environment.get("caches", []):
                ax.axvline(size, color="grey", linestyle=":", linewidth=1)
                ax.text(size, 1.0, " " + name, transform=ax.get_xaxis_transform(), va="top", fontsize=8, color="grey")
            ax.axhline(0, color="black", linewidth=0.6)
            ax.set_xscale("log", base=2)
            ax.set_yscale("symlog", linthresh=1000)
            ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: "0" if abs(x - zero_at) < 1 else size_label(int(x))))
            ax.set_xlabel("working set per actor (bytes, log)")
            ax.set_ylabel("%s ns per switch" % part)
            ax.set_title(part)
            ax.grid(True, which="major", alpha=0.3)
        axes[0].legend(fontsize=7)
        fig.suptitle("socket 1 on CPU %s, --access %s: ns per switch of the kernel-switching mode (bars: 95 %% intervals)"
                     % (environment.get("cpus"), access), fontsize=10)
        fig.tight_layout()
        path = os.path.join(folder, "indirect-%s.png" % access)
        fig.savefig(path, dpi=110)
        plt.close(fig)
        print("wrote %s" % path)


# ---------------------------------------------------------------- main

def write_outputs(folder, results, environment, plots=True):
    with open(os.path.join(folder, "results.json"), "w") as f:
        json.dump({"environment": environment, "results": results}, f, indent=1)
    columns = []
    for r in results:
        for k in r:
            if k not in columns:
                columns.append(k)
    with open(os.path.join(folder, "results.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        for r in results:
            writer.writerow(r)
    with open(os.path.join(folder, "summary.md"), "w") as f:
        f.write("\n".join(summary_lines(results, environment)) + "\n")
    if plots:
        plot(folder, results, environment)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("manifest", nargs="?", default=str(DEFAULT_MANIFEST))
    parser.add_argument("--csgb", default=str(DEFAULT_CSGB))
    parser.add_argument("--out", help="results folder (default experiments/results/<date>T<time>-<host>-indirect)")
    parser.add_argument("--rounds", type=int, help="override the manifest's rounds")
    parser.add_argument("--duration", type=float, help="override the manifest's seconds per run")
    parser.add_argument("--cpus", help="override the manifest's CPU (e.g. when another program is pinned to it)")
    parser.add_argument("--only", help="only cases whose key contains this text (for a quick look)")
    parser.add_argument("--redraw", metavar="FOLDER", help="summary and plots of an existing folder, again")
    parser.add_argument("--plot-only", metavar="FOLDER", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.plot_only or args.redraw:
        folder = args.plot_only or args.redraw
        with open(os.path.join(folder, "results.json")) as f:
            doc = json.load(f)
        if args.plot_only:
            plot(folder, doc["results"], doc["environment"])
        else:
            # Never overwrite: redrawn files go beside the old ones.
            redo = new_folder(os.path.join(folder, "redraw"))
            write_outputs(redo, doc["results"], doc["environment"])
        return 0

    with open(args.manifest) as f:
        manifest = json.load(f)
    if args.cpus:
        manifest["cpus"] = args.cpus
    csgb = resolve_binary(args.csgb)
    try:
        info = csgb_info(csgb)
        cases = plan(manifest, info)
    except (CapabilitiesError, ValueError, KeyError) as e:
        print("sweep_indirect.py: %s" % e, file=sys.stderr)
        return 64
    if args.only:
        cases = [c for c in cases if args.only in case_key(c)]
    rounds = args.rounds or manifest.get("rounds", 6)
    duration = args.duration or manifest.get("duration", 0.2)
    started = datetime.datetime.now(datetime.timezone.utc)
    host = socket.gethostname()
    folder = new_folder(args.out or str(RESULTS_ROOT / ("%s-%s-indirect" % (started.strftime("%Y-%m-%dT%H%M%S"), host))))
    os.makedirs(os.path.join(folder, "raw"))
    with open(os.path.join(folder, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    environment = {
        "command": "python3 experiments/sweep_indirect.py " + " ".join(argv),
        "commit": commit(), "hostname": host, "started": started.isoformat(timespec="seconds"),
        "cpu_model": (info.get("cpu_model") or info.get("environment", {}).get("cpu_model")),
        "caches": caches(), "thp": thp_mode(), "cpus": manifest["cpus"], "rounds": rounds, "duration": duration,
        "mode_facts": (info.get("capabilities") or {}).get("mode_facts", []), "csgb_info": info,
    }
    print("sweep-indirect: %d cases into %s" % (len(cases), folder), flush=True)
    results = []
    t0 = time.monotonic()
    probed = set()
    try:
        for i, case in enumerate(cases):
            # One user-mode switch probe per user mode, at its first size-0 point.
            probe = case["size"] == 0 and case["user"] not in probed
            argv_ = cost_argv(csgb, manifest, case, rounds, duration, probe)
            before = loadavg()
            t = time.monotonic()
            try:
                report = run_cost(argv_, manifest.get("timeout", 180))
            except RuntimeError as e:
                rec = dict(case, key=case_key(case), size_label=size_label(case["size"]), error=str(e))
                results.append(rec)
                print("  %s: %s" % (rec["key"], e), flush=True)
                continue
            if probe:
                probed.add(case["user"])
            with open(os.path.join(folder, "raw", case_key(case) + ".json"), "x") as f:
                json.dump({"command": " ".join(argv_), "report": report}, f)
            rec = record(case, report, before, loadavg(), time.monotonic() - t)
            rec["error"] = None
            results.append(rec)
            print("  [%d/%d] %s: total %s direct %s indirect %s ns/switch (%.1f s)" % (
                i + 1, len(cases), rec["key"], fmt(rec["total_ns_per_switch"], 0), fmt(rec["direct_ns_per_switch"], 0),
                fmt(rec["indirect_ns_per_switch"], 0), rec["wall_seconds"]), flush=True)
    except Stopped:
        print("sweep-indirect: stopped; writing the %d cases done" % len(results), file=sys.stderr)
        environment["stopped"] = True
    environment["wall_seconds"] = round(time.monotonic() - t0, 1)
    environment["interval_method"] = next((json.load(open(os.path.join(folder, "raw", f)))["report"].get("interval_method")
                                           for f in sorted(os.listdir(os.path.join(folder, "raw")))), None)
    write_outputs(folder, results, environment)
    print("sweep-indirect: %s (%.0f s)" % (folder, environment["wall_seconds"]))
    return 130 if environment.get("stopped") else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
