#!/usr/bin/env python3
"""Run a matrix of csgb cases from a manifest; write CSV, JSON, plots and a summary.

    python3 experiments/sweep.py experiments/manifests/default.json
    python3 experiments/sweep.py experiments/manifests/quick.json --out /tmp/sweep-test
    python3 experiments/sweep.py experiments/manifests/default.json --list   # cases, commands, estimate
    python3 experiments/sweep.py --self-test                                  # no csgb runs

A manifest (JSON) names the defaults (duration, warm-up, repeats) and one or more
matrix blocks (workloads x modes x N x pinning x work sizes x transports x io); the
workloads, modes, transports and io paths it may name are the ones `csgb info
--format json` lists under `capabilities`. See
experiments/README.md, section "Sweeps". Every case runs `repeats` times with
`--format json`; the repeats are interleaved round-robin (repeat 1 of every case,
then repeat 2, ...) so that drift of a shared machine hits every case alike. A run
that fails is recorded with its stderr and the sweep goes on.

Results go to a new experiments/results/<YYYY-MM-DD>T<HHMMSS>-<hostname>/ (or --out,
a new or empty folder; a sweep never rewrites results):
results.csv (one row per run), results.json (every raw report, the manifest,
`csgb info`), PNG plots (experiments/plot.py, matplotlib) and summary.md.

Exit status: 0 when every run succeeded, 1 when a run failed (non-zero exit,
timeout, unreadable output), 2 for a bad manifest or bad arguments, 64 when a run
exited 64 (its command line is wrong: the sweep stops with csgb's message and writes
the runs so far), 130 when interrupted (results so far are still written). A case
that csgb info does not list (a workload x mode or transport the build lacks) is
dropped when the manifest is expanded and counted as excluded. Standard library only, plus matplotlib for the plots.

This file is the command line only: sweep_manifest.py (load, validate, expand),
sweep_runner.py (run, interleave, CSV/JSON, plots), sweep_summary.py (summary.md,
ratios, io_uring against direct), sweep_selftest.py (--self-test), csgb_common.py
(what every experiment script shares).
"""

import argparse
import datetime
import json
import os
import platform
import shlex
import socket
import sys
import time
from pathlib import Path

from csgb_common import (DEFAULT_CSGB, EXIT_USAGE, REPO, RESULTS_ROOT, CapabilitiesError,
                         UsageError, capabilities_of, csgb_info, new_folder, resolve_binary)
from sweep_manifest import (ManifestError, case_argv, estimate_run_seconds, expand_manifest,
                            load_manifest, prepare_cases)
from sweep_runner import (ResumeError, completed_runs, decide_counters, defer_stop_signals,
                          git_describe, install_stop_signals, log, plan_runs, resummarize,
                          run_plan, stop_deferred, write_outputs)

EXIT_BAD_INPUT = 2


def parse_args(argv):
    ap = argparse.ArgumentParser(description="Run a manifest's matrix of csgb cases; write "
                                 "results.csv, results.json, plots and summary.md.")
    ap.add_argument("manifest", nargs="?", help="manifest JSON (experiments/manifests/*.json)")
    ap.add_argument("--out", help="output directory, new or empty (default: a new "
                    "experiments/results/<date>T<time>-<host>/ per sweep); a folder that holds "
                    "files is refused (exit 64), never rewritten")
    ap.add_argument("--no-plots", action="store_true", help="write no PNG (CSV, JSON and "
                    "summary only)")
    ap.add_argument("--csgb", default=None,
                    help="csgb executable (default .build/release/csgb); --list needs it too, "
                    "for the workloads, modes, transports and io paths it knows")
    ap.add_argument("--list", action="store_true",
                    help="print the cases, their commands and the time estimate; run nothing")
    ap.add_argument("--self-test", action="store_true",
                    help="check manifests, flattening, medians, CSV, plots and summary on "
                    "synthetic reports and a recorded `csgb info`; runs no csgb (files kept "
                    "in --out if given)")
    ap.add_argument("--resume", metavar="DIR",
                    help="complete a stopped sweep in DIR: run only what its results.json lacks "
                    "(runs never completed or interrupted), same manifest, same csgb, same host")
    ap.add_argument("--merge", metavar="DIR", nargs="+",
                    help="one summary and one set of plots (a column per host) from several "
                    "sweep folders, e.g. the same manifest run on several hosts; runs nothing")
    ap.add_argument("--host-label", action="append", default=[], metavar="LABEL[,LABEL...]",
                    help="with --merge: a label per folder, in order (default: each folder's "
                    "host name)")
    ap.add_argument("--resummarize", metavar="DIR",
                    help="rewrite summary.md of a results directory from its results.json "
                    "(after a change to the summary); runs nothing")
    opts = ap.parse_args(argv)
    modes = [x for x in (opts.manifest, opts.self_test, opts.resummarize, opts.resume, opts.merge) if x]
    if len(modes) != 1:
        ap.exit(EXIT_USAGE, "sweep: give one of: a manifest, --resume DIR, --merge DIR..., "
                "--self-test, --resummarize DIR\n")
    opts.host_label = [x for arg in opts.host_label for x in arg.split(",") if x]
    if opts.host_label and not opts.merge:
        ap.exit(EXIT_USAGE, "sweep: --host-label goes with --merge\n")
    if opts.merge and opts.host_label and len(opts.host_label) != len(opts.merge):
        ap.exit(EXIT_USAGE, "sweep: --host-label: %d label(s) for %d folder(s)\n"
                % (len(opts.host_label), len(opts.merge)))
    for d in ([opts.resume] if opts.resume else []) + (opts.merge or []):
        if not (Path(d) / "results.json").is_file():
            ap.exit(EXIT_USAGE, "sweep: %s: no results.json (not a sweep's folder)\n" % d)
    if opts.resume and opts.out:
        ap.exit(EXIT_USAGE, "sweep: --resume writes into its own folder; --out goes with a "
                "manifest or --merge\n")
    if opts.resume and opts.csgb is None:
        with open(Path(opts.resume) / "results.json") as f:
            opts.csgb = json.load(f).get("csgb")
    opts.csgb = resolve_binary(opts.csgb or str(DEFAULT_CSGB), REPO)
    if opts.out is not None:
        if not opts.out:
            ap.exit(EXIT_USAGE, "sweep: --out: expected a folder, got ''\n")
        out = Path(opts.out)
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            ap.exit(EXIT_USAGE, "sweep: --out %s: %s; a sweep never rewrites results: name a "
                    "new folder, or leave --out out for a new dated one\n"
                    % (out, "holds files" if out.is_dir() else "exists and is not a folder"))
    return opts


def new_results_dir(root, host, now):
    """Creates and returns a new folder root/<YYYY-MM-DD>T<HHMMSS>-<host>; a second
    sweep started in the same second gets -2, -3, ... (never an existing folder)."""
    base = "%sT%s-%s" % (now.strftime("%Y-%m-%d"), now.strftime("%H%M%S"), host)
    return Path(new_folder(str(root / base)))


def largest_n(csgb, case):
    """The largest N csgb's own limit checks allow for `case` (given with n = "max"):
    csgb answers, so the sweep repeats no limit of its own."""
    import subprocess
    argv = case_argv(csgb, case) + ["--largest-n"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise ManifestError("%s: %s" % (" ".join(argv[1:3]), done.stderr.strip() or "exit %d" % done.returncode))
    return int(done.stdout.split()[0])


def main(argv):
    opts = parse_args(argv)
    if opts.self_test:
        from sweep_selftest import self_test
        return self_test(opts.out)
    if opts.resummarize:
        resummarize(Path(opts.resummarize), capabilities_of)
        log("sweep: rewrote %s" % (Path(opts.resummarize) / "summary.md"))
        return 0
    if opts.merge:
        from sweep_merge import merge
        outdir = Path(opts.out) if opts.out else new_results_dir(
            RESULTS_ROOT, "merged", datetime.datetime.now().astimezone())
        return merge([Path(d) for d in opts.merge], opts.host_label, outdir,
                     plots=not opts.no_plots)
    previous = None
    if opts.resume:
        with open(Path(opts.resume) / "results.json") as f:
            previous = json.load(f)
        manifest = previous["manifest"]
        opts.manifest = previous.get("manifest_path", "(resumed)")
    else:
        try:
            manifest = load_manifest(opts.manifest)
        except ManifestError as e:
            log("sweep: %s: %s" % (opts.manifest, e))
            return EXIT_BAD_INPUT
    if not os.access(opts.csgb, os.X_OK):
        log("sweep: csgb not found or not executable: %s (build it with: make release)" % opts.csgb)
        return EXIT_BAD_INPUT
    try:
        info = csgb_info(opts.csgb)
        caps = capabilities_of(info)
    except CapabilitiesError as e:
        log("sweep: %s" % e)
        return EXIT_BAD_INPUT
    try:
        cases, settings = expand_manifest(manifest, caps, largest_n=lambda case: largest_n(opts.csgb, case))
    except ManifestError as e:
        log("sweep: %s: %s" % (opts.manifest, e))
        return EXIT_BAD_INPUT
    prepare_cases(cases, opts.csgb, caps)

    timing_runs = sum(c["repeats"] for c in cases)
    estimate = sum(c["repeats"] * estimate_run_seconds(c) for c in cases)
    counter_estimate = settings["counter_repeats"] * sum(
        estimate_run_seconds(c) for c in cases if not c.get("program"))
    if opts.list:
        for c in cases:
            print("%-50s x%d  $ %s" % (c["id"], c["repeats"], shlex.join(c["argv"])))
        print("%d case(s), %d timing run(s), estimated %.0f s (+%.0f s if counters are "
              "collected: %s)" % (len(cases), timing_runs, estimate, counter_estimate,
                                  settings["counters"]))
        return 0

    host = info.get("hostname") or socket.gethostname()
    started = datetime.datetime.now().astimezone()
    done = []
    if previous is not None:
        try:
            done = completed_runs(previous, cases, info, opts.csgb)
        except ResumeError as e:
            log("sweep: --resume %s: %s" % (opts.resume, e))
            return EXIT_USAGE
        outdir = Path(opts.resume)
    elif opts.out:
        outdir = Path(opts.out)
        outdir.mkdir(parents=True, exist_ok=True)
    else:
        outdir = new_results_dir(RESULTS_ROOT, host, started)

    collect, counter_note = decide_counters(settings["counters"], info, opts.csgb, cases)
    plan = plan_runs(cases, settings, collect)
    if collect:
        estimate += counter_estimate
    if previous is not None:
        have = {(r["case"]["id"], r["kind"], r["repeat"]) for r in done}
        plan = [step for step in plan if (step[0]["id"], step[1], step[2]) not in have]
        log("sweep: resuming %s: %d run(s) kept, %d to run" % (outdir, len(done), len(plan)))
        if not plan:
            log("sweep: nothing to resume: every run of the manifest completed")
            return 0
        estimate = sum(estimate_run_seconds(c) for c, _, _ in plan)
    log("sweep: %s: %d case(s), %d run(s), estimated %.0f s; results to %s"
        % (opts.manifest, len(cases), len(plan), estimate, outdir))
    log("sweep: %s" % counter_note)
    if settings["excluded"]:
        log("sweep: %d combination(s) excluded (a mode or transport the workload does not "
            "take, per csgb info; manifest excludes)" % settings["excluded"])

    install_stop_signals()
    t0 = time.monotonic()
    usage_error = None
    try:
        runs, interrupted = run_plan(plan, opts.csgb, settings, done=done)
    except UsageError as e:
        usage_error, runs, interrupted = e, e.runs, False
    defer_stop_signals()
    finished = datetime.datetime.now().astimezone()
    doc = {
        "started": started.isoformat(timespec="seconds"),
        "finished": finished.isoformat(timespec="seconds"),
        "elapsed_seconds": round(time.monotonic() - t0, 1),
        "resumed": [],
        "estimated_seconds": round(estimate, 1),
        "interrupted": interrupted,
        "stopped_by_usage_error": str(usage_error) if usage_error else None,
        "command": shlex.join([os.path.basename(sys.argv[0])] + list(argv)),
        "manifest_path": str(opts.manifest),
        "manifest": manifest,
        "settings": settings,
        "csgb": str(opts.csgb),
        "csgb_info": info,
        "git": git_describe(),
        "python": "%s %s" % (sys.executable, platform.python_version()),
        "host": {"hostname": socket.gethostname(), "kernel": platform.release(),
                 "machine": platform.machine(), "cpu_count": os.cpu_count()},
    }
    if previous is not None:
        # The sweep is the one that started first; each resumption is recorded.
        doc["resumed"] = list(previous.get("resumed") or []) + [{
            "started": doc["started"], "finished": doc["finished"],
            "elapsed_seconds": doc["elapsed_seconds"], "runs_kept": len(done),
            "runs_run": len(runs) - len(done), "command": doc["command"]}]
        doc["started"] = previous.get("started", doc["started"])
        doc["elapsed_seconds"] = round(doc["elapsed_seconds"] +
                                       (previous.get("elapsed_seconds") or 0), 1)
        doc["command"] = previous.get("command", doc["command"])
    write_outputs(outdir, doc, cases, runs, counter_note, caps, plots=not opts.no_plots)
    failed = [r for r in runs if r["status"] == "failed"]
    stopped = [r for r in runs if r["status"] == "interrupted"]
    unsupported = [r for r in runs if r["status"] == "unsupported"]
    log("sweep: %d run(s) in %.0f s (estimated %.0f s): %d ok, %d failed, %d interrupted%s"
        % (len(runs), doc["elapsed_seconds"], estimate,
           len(runs) - len(failed) - len(stopped) - len(unsupported), len(failed), len(stopped),
           ", %d unsupported on this machine" % len(unsupported) if unsupported else ""))
    for name in sorted(os.listdir(outdir)):
        log("  %s" % (outdir / name))
    if usage_error:
        log("sweep: a run exited 64 (its command line is wrong), so the sweep stopped: %s"
            % usage_error)
        return EXIT_USAGE
    if interrupted or stop_deferred():
        return 130
    return 1 if failed or stopped else 0


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:   # a stop signal before the first run: nothing to keep
        sys.exit(130)
    except BrokenPipeError:  # e.g. --list piped into head
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
