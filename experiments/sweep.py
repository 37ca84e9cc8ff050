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

Results go to a new experiments/results/<YYYY-MM-DD>T<HHMMSS>-<host>-<manifest>/ (or --out,
a new or empty folder; a sweep never rewrites results); run from an unpacked archive
(make dist: no Package.swift beside experiments/), to a new folder of that name under
the current directory, with the archive's bin/csgb:
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

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))  # the library
from csgb_common import (DEFAULT_CSGB, EXIT_USAGE, REPO, RESULTS_ROOT, ArgumentParser,
                         CapabilitiesError, UsageError, capabilities_of, csgb_info, first_line,
                         new_folder, resolve_binary)
from sweep_manifest import (ManifestError, case_argv, estimate_run_seconds, expand_manifest,
                            load_manifest, prepare_cases)
from sweep_runner import (ResumeError, completed_runs, decide_counters, defer_stop_signals,
                          git_describe, install_stop_signals, log, plan_runs, resummarize,
                          run_plan, stop_deferred, write_outputs)
from results_folder import CLAIM, EXIT_CANTCREAT, FolderError, claim, read_results, release
from sweep_summary import workers_not_applied

EXIT_BAD_INPUT = EXIT_USAGE


def parse_args(argv):
    ap = ArgumentParser(description="Run a manifest's matrix of csgb cases; write "
                                 "results.csv, results.json, plots and summary.md.")
    ap.add_argument("manifest", nargs="?", help="manifest JSON (experiments/manifests/*.json)")
    ap.add_argument("--out", help="output directory, new or empty (default: a new "
                    "experiments/results/<date>T<time>-<host>-<manifest>/ per sweep, or under the "
                    "current directory when run from an unpacked archive); a folder that holds "
                    "files is refused (exit 64), never rewritten")
    ap.add_argument("--no-plots", action="store_true", help="write no PNG (CSV, JSON and "
                    "summary only)")
    ap.add_argument("--csgb", default=None,
                    help="csgb executable (default .build/release/csgb, or bin/csgb of an unpacked "
                    "archive); --list needs it too, "
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
    for d in ([opts.resume] if opts.resume else []) + (opts.merge or []) + \
            ([opts.resummarize] if opts.resummarize else []):
        if not (Path(d) / "results.json").is_file():
            ap.exit(EXIT_USAGE, "sweep: %s: no results.json (not a sweep's folder)\n" % d)
    if opts.merge:
        real = [os.path.realpath(d) for d in opts.merge]
        twice = sorted({d for d in opts.merge if real.count(os.path.realpath(d)) > 1})
        if twice:
            ap.exit(EXIT_USAGE, "sweep: --merge: %s given twice: a folder is one host's runs, "
                    "and merging it with itself would compare it with itself\n" % ", ".join(twice))
    if opts.resume and opts.out:
        ap.exit(EXIT_USAGE, "sweep: --resume writes into its own folder; --out goes with a "
                "manifest or --merge\n")
    try:
        # Read and checked once here: a truncated or foreign results.json is one line.
        opts.previous = read_results(opts.resume, need=("cases", "runs", "manifest")) \
            if opts.resume else None
        opts.merged = [read_results(d, nonempty=True) for d in opts.merge] if opts.merge else None
        opts.resummarized = read_results(opts.resummarize, need=("cases", "runs", "csgb_info")) \
            if opts.resummarize else None
    except FolderError as e:
        ap.exit(e.code, "sweep: %s\n" % e)
    if opts.resume and opts.csgb is None:
        opts.csgb = opts.previous.get("csgb")
        if not isinstance(opts.csgb, str):
            opts.csgb = None
    opts.csgb = resolve_binary(opts.csgb or str(DEFAULT_CSGB), REPO)
    if opts.out is not None:
        if not opts.out:
            ap.exit(EXIT_USAGE, "sweep: --out: expected a folder, got ''\n")
        out = Path(opts.out)
        if (out / CLAIM).exists():
            ap.exit(EXIT_USAGE, "sweep: --out %s: claimed by another run (%s)\n"
                    % (out, (out / CLAIM).read_text().strip() or "no details"))
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            ap.exit(EXIT_USAGE, "sweep: --out %s: %s; a sweep never rewrites results: name a "
                    "new folder, or leave --out out for a new dated one\n"
                    % (out, "holds files" if out.is_dir() else "exists and is not a folder"))
    return opts


def new_results_dir(root, host, now, what):
    """Creates and returns a new folder root/<YYYY-MM-DD>T<HHMMSS>-<host>-<what> (UTC,
    the one naming of experiments/results/); a second sweep started in the same second
    gets -2, -3, ... (never an existing folder)."""
    utc = now.astimezone(datetime.timezone.utc)
    base = "%s-%s-%s" % (utc.strftime("%Y-%m-%dT%H%M%S"), host.split(".")[0], what)
    return Path(new_folder(str(root / base)))


def largest_n(csgb, case):
    """The largest N csgb's own limit checks allow for `case` (given with n = "max"):
    csgb answers, so the sweep repeats no limit of its own."""
    import subprocess
    argv = case_argv(csgb, case) + ["--largest-n"]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise ManifestError("%s: cannot ask csgb for the largest N: %s" % (" ".join(argv[1:3]), e))
    if done.returncode != 0:
        raise ManifestError("%s: %s" % (" ".join(argv[1:3]), first_line(done.stderr)
                                        or "exit %d" % done.returncode))
    lines = done.stdout.strip().splitlines()
    try:
        return int(lines[0].split()[0]), (lines[1].strip() if len(lines) > 1 else "csgb's limit")
    except (IndexError, ValueError):
        raise ManifestError("%s: csgb --largest-n printed %r, not a number"
                            % (" ".join(argv[1:3]), done.stdout[:80]))


def within_limits(csgb, cases):
    """Refuses (ManifestError, csgb's words) a case whose N is beyond what csgb's own
    limit checks allow on this machine, before anything runs: csgb answers
    `<workload> max <options> --largest-n` once per set of options, so a manifest
    with n = 10000000 is refused here instead of leaving a folder of one failed run.
    A csgb that refuses the options themselves is refused here too, with its message."""
    largest = {}
    for c in cases:
        if c.get("program") or c.get("n_argument") == "max":
            continue
        probe = {k: v for k, v in c.items() if k != "n_argument"}
        probe["n"] = "max"
        key = tuple(case_argv(csgb, probe))
        if key not in largest:
            largest[key] = largest_n(csgb, probe)
        if c["n"] > largest[key][0]:
            raise ManifestError("%s: N = %d is beyond this machine's limits: csgb allows at most "
                                "%d here (%s)" % (c["id"], c["n"], largest[key][0], largest[key][1]))


def main(argv):
    opts = parse_args(argv)
    if opts.self_test:
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "tests"))
        from sweep_selftest import self_test
        return self_test(opts.out)
    if opts.resummarize:
        folder = Path(opts.resummarize)
        try:
            claimed = claim(folder, "sweep.py --resummarize", allow_files=True)
        except FolderError as e:
            log("sweep: --resummarize: %s" % e)
            return e.code
        try:
            resummarize(folder, capabilities_of, opts.resummarized)
        except CapabilitiesError as e:
            log("sweep: --resummarize %s: %s" % (folder, e))
            return EXIT_USAGE
        except (KeyError, TypeError, ValueError) as e:
            log("sweep: --resummarize %s: results.json is not laid out as a sweep writes it "
                "(%s: %s)" % (folder, type(e).__name__, e))
            return EXIT_USAGE
        finally:
            release(claimed)
        log("sweep: rewrote %s" % (folder / "summary.md"))
        return 0
    if opts.merge:
        from sweep_merge import merge
        if opts.out:
            outdir = Path(opts.out)
        else:
            try:
                outdir = new_results_dir(RESULTS_ROOT, socket.gethostname(),
                                         datetime.datetime.now().astimezone(), "merge")
            except OSError as e:
                log("sweep: --merge: cannot create a folder in %s (%s)" % (RESULTS_ROOT, e.strerror or e))
                return EXIT_CANTCREAT
        return merge([Path(d) for d in opts.merge], opts.host_label, outdir,
                     plots=not opts.no_plots, docs=opts.merged)
    previous = None
    if opts.resume:
        previous = opts.previous
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
        cases, settings = expand_manifest(manifest, caps, largest_n=lambda case: largest_n(opts.csgb, case)[0])
        if not opts.list:
            within_limits(opts.csgb, cases)
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
    else:
        try:
            outdir = new_results_dir(RESULTS_ROOT, host, started,
                                     Path(str(opts.manifest)).stem or "sweep")
        except OSError as e:
            log("sweep: cannot create a results folder in %s (%s)" % (RESULTS_ROOT, e.strerror or e))
            return EXIT_CANTCREAT
    # The folder is claimed before the first run: writable, and this sweep's alone (a
    # second sweep on the same --out, or a second --resume, is refused here).
    try:
        claimed = claim(outdir, "sweep.py %s" % " ".join(argv), allow_files=previous is not None)
    except FolderError as e:
        log("sweep: %s" % e)
        return e.code
    try:
        return sweep_into(opts, argv, outdir, previous, done, info, caps, cases, settings,
                          manifest, started, estimate, counter_estimate)
    finally:
        release(claimed)


def sweep_into(opts, argv, outdir, previous, done, info, caps, cases, settings, manifest,
               started, estimate, counter_estimate):
    """Runs the plan into the claimed folder and writes it; the exit status."""

    collect, counter_note = decide_counters(settings["counters"], info, opts.csgb, cases)
    plan = plan_runs(cases, settings, collect, caps)
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
    for mode, reason in sorted(settings.get("workers_not_applied", {}).items()):
        log("sweep: %s" % workers_not_applied(mode, reason))
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
    try:
        write_outputs(outdir, doc, cases, runs, counter_note, caps, plots=not opts.no_plots)
    except OSError as e:
        # checked writable before the first run; lost since (a full disk, a remount)
        log("sweep: cannot write %s (%s); the runs are lost" % (outdir, e.strerror or e))
        return EXIT_CANTCREAT
    failed = [r for r in runs if r["status"] == "failed"]
    stopped = [r for r in runs if r["status"] == "interrupted"]
    unsupported = [r for r in runs if r["status"] == "unsupported"]
    log("sweep: %d run(s) in %.0f s (estimated %.0f s): %d ok, %d failed, %d interrupted%s"
        % (len(runs), doc["elapsed_seconds"], estimate,
           len(runs) - len(failed) - len(stopped) - len(unsupported), len(failed), len(stopped),
           ", %d unsupported on this machine" % len(unsupported) if unsupported else ""))
    for name in sorted(os.listdir(outdir)):
        if not name.startswith("."):
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
