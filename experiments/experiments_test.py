#!/usr/bin/env python3
"""Tests of the experiment drivers that need processes but no real csgb: the sweep
against a fake csgb (a small script written here that answers `csgb info` with a
recorded document and prints made-up reports), signals sent to the sweep and to its
process group, results folders, --resume and --merge, and compare.py's statistics on
seeded samples with known answers. Standard library only; `make test` runs it.

    python3 experiments/experiments_test.py            # every test
    python3 experiments/experiments_test.py -k resume  # the tests whose name holds "resume"

No test decides an order by sleeping: the fake csgb itself sends the signal at a
given run, so what ran before the signal is known exactly.
"""

import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from csgb_common import run_once  # noqa: E402
from sweep_selftest import RECORDED_INFO  # noqa: E402

SWEEP = HERE / "sweep.py"

# The fake csgb. Every run appends its argv to $FAKE_CSGB_LOG and reports
# ns_per_iteration = 1000 * (its run number). $FAKE_CSGB_SIGNAL = "K:NAME:target"
# sends signal NAME at run K to the sweep ("parent") or to the whole process group
# ("group", itself included: like csgb it then reports stopped_by NAME and exits 0).
# $FAKE_CSGB_STOPPED_BY = "K:NAME" makes run K report stopped_by NAME without any
# signal; $FAKE_CSGB_NO_WARMUP = "K" makes run K report warmup_complete false.
FAKE_CSGB = textwrap.dedent('''\
    #!%(python)s
    import json, os, signal, sys
    INFO = %(info)s
    args = sys.argv[1:]
    if args[:1] == ["info"]:
        print(json.dumps(INFO))
        sys.exit(0)
    log = os.environ["FAKE_CSGB_LOG"]
    with open(log, "a") as f:
        f.write(" ".join(args) + "\\n")
    with open(log) as f:
        run = sum(1 for _ in f)
    stopped_by = ["duration"]
    def note(signum, frame):
        stopped_by[0] = signal.Signals(signum).name
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(s, note)
    at, _, rest = os.environ.get("FAKE_CSGB_SIGNAL", "").partition(":")
    if at and int(at) == run:
        name, _, target = rest.partition(":")
        sig = getattr(signal, "SIG" + name)
        if target == "group":
            os.killpg(os.getpgid(0), sig)
        else:
            os.kill(os.getppid(), sig)
    at, _, name = os.environ.get("FAKE_CSGB_STOPPED_BY", "").partition(":")
    if at and int(at) == run:
        stopped_by[0] = name
    warm = os.environ.get("FAKE_CSGB_NO_WARMUP", "") != str(run)
    workload, n = args[0], int(args[1])
    mode = args[args.index("--mode") + 1] if "--mode" in args else "thread"
    print(json.dumps({"workload": workload, "mode": mode, "n": n,
                      "ns_per_iteration": 1000.0 * run, "iterations": 1000,
                      "seconds": 0.01 if stopped_by[0] == "duration" else 0.004,
                      "warmup_complete": warm, "stopped_by": stopped_by[0],
                      "voluntary_switches_per_iteration": 2.0,
                      "involuntary_switches_per_iteration": 0.1, "eagain": 0,
                      "fairness": {"min": 1, "max": 1, "cv": 0.0}, "os_threads": 2,
                      "environment": {"hostname": "fake", "kernel": "test",
                                      "cpu_model": "fake cpu", "build": "release"}}))
''')

TINY_MANIFEST = {
    "description": "experiments_test: one case per workload, tiny runs against a fake csgb",
    "defaults": {"duration": 0.01, "warmup": 0, "repeats": 3, "timeout": 30},
    "counters": "off",
    "matrix": [{"workloads": ["socket"], "modes": ["thread", "green"], "n": [1],
                "pinning": [{"cpus": "0"}]}],
}


class Fixture:
    """A temporary folder with the fake csgb and the tiny manifest."""

    def __init__(self, tmp):
        self.tmp = Path(tmp)
        self.csgb = self.tmp / "csgb"
        self.csgb.write_text(FAKE_CSGB % {"python": sys.executable,
                                          "info": repr(RECORDED_INFO)})
        self.csgb.chmod(0o755)
        self.manifest = self.tmp / "tiny.json"
        self.manifest.write_text(json.dumps(TINY_MANIFEST))
        self.logs = 0

    def sweep(self, *args, env=None, new_session=False, manifest=True):
        """Runs sweep.py; returns (exit code, stderr, the fake csgb's log lines)."""
        self.logs += 1
        log = self.tmp / ("csgb-%d.log" % self.logs)
        full_env = dict(os.environ, FAKE_CSGB_LOG=str(log), **(env or {}))
        argv = [sys.executable, str(SWEEP)] + ([str(self.manifest)] if manifest else []) + \
            ["--csgb", str(self.csgb), "--no-plots"] + list(args)
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           env=full_env, timeout=120, start_new_session=new_session)
        lines = log.read_text().splitlines() if log.exists() else []
        return p.returncode, p.stderr, lines


def results(folder):
    with open(Path(folder) / "results.json") as f:
        return json.load(f)


def tree_digest(folder):
    h = hashlib.sha256()
    for p in sorted(Path(folder).rglob("*")):
        h.update(str(p.relative_to(folder)).encode())
        if p.is_file():
            h.update(p.read_bytes())
    return h.hexdigest()


# ---------------------------------------------------------------- results folders

def test_out_with_files_is_refused(fx):
    """--out naming a folder that holds files: exit 64, one line, nothing changed."""
    out = fx.tmp / "old"
    out.mkdir()
    (out / "results.json").write_text('{"keep": true}\n')
    (out / "plot.png").write_bytes(b"png")
    before = tree_digest(out)
    code, err, ran = fx.sweep("--out", str(out))
    assert code == 64, (code, err)
    assert "holds files" in err and len(err.strip().splitlines()) == 1, err
    assert tree_digest(out) == before, "the folder was changed"
    assert ran == [], ran


def test_second_sweep_to_same_out_refused(fx):
    out = fx.tmp / "first"
    code, err, _ = fx.sweep("--out", str(out))
    assert code == 0, (code, err)
    before = tree_digest(out)
    code, err, ran = fx.sweep("--out", str(out))
    assert code == 64 and ran == [] and tree_digest(out) == before, (code, err)


def test_default_folders_are_new_each_time(fx):
    """Two sweeps started in the same second get two folders; neither is reused."""
    import datetime
    import sweep
    now = datetime.datetime(2026, 12, 1, 17, 30, 5)
    root = fx.tmp / "results"
    a = sweep.new_results_dir(root, "hostx", now)
    (a / "results.json").write_text("{}")
    b = sweep.new_results_dir(root, "hostx", now)
    assert a != b and a.name == "2026-12-01T173005-hostx" and b.exists(), (a, b)
    assert (a / "results.json").read_text() == "{}"


# ---------------------------------------------------------------- stop signals

def check_stopped_sweep(fx, name, target):
    out = fx.tmp / ("stopped-%s-%s" % (name, target))
    code, err, ran = fx.sweep("--out", str(out), env={"FAKE_CSGB_SIGNAL": "4:%s:%s" % (name, target)},
                              new_session=(target == "group"))
    assert code == 130, (name, target, code, err[-2000:])
    doc = results(out)
    ok = [r for r in doc["runs"] if r["status"] == "ok"]
    # Runs 1-3 completed before the signal; run 4 (the one that sent it) is never a figure.
    assert len(ok) == 3, (name, target, [(r["repeat"], r["status"]) for r in doc["runs"]])
    assert doc["interrupted"] == "SIG" + name, doc["interrupted"]
    assert (out / "summary.md").exists() and (out / "results.csv").exists()
    assert "SWEEP INTERRUPTED (SIG%s)" % name in (out / "summary.md").read_text()
    assert len(ran) == 4, ran   # nothing ran after the signal


def test_stop_signals_keep_completed_runs(fx):
    """SIGINT, SIGTERM, SIGHUP, SIGQUIT, to the sweep alone and to its process group:
    exit 130, the three runs completed before the signal written, nothing run after."""
    failures = []
    for name in ("INT", "TERM", "HUP", "QUIT"):
        for target in ("parent", "group"):
            try:
                check_stopped_sweep(fx, name, target)
            except AssertionError as e:
                failures.append("SIG%s to the %s: %s" % (name, target, str(e)[:160]))
            except OSError as e:   # no results.json
                failures.append("SIG%s to the %s: %s" % (name, target, e))
    assert not failures, "\n  ".join([""] + failures)


# ---------------------------------------------------------------- interrupted children

def test_child_stopped_by_signal_is_not_a_figure(fx):
    """A csgb run stopped by SIGTERM (or whose warm-up did not complete) is recorded
    as interrupted and stays out of the medians."""
    out = fx.tmp / "child"
    # Runs interleave: thread rep 1 (run 1), green rep 1 (2), thread rep 2 (3), ...
    code, err, ran = fx.sweep("--out", str(out), env={"FAKE_CSGB_STOPPED_BY": "3:SIGTERM",
                                                      "FAKE_CSGB_NO_WARMUP": "5"})
    assert code == 1, (code, err)   # a run that did not complete is not a success
    doc = results(out)
    statuses = [(r["case_id"].split()[2], r["repeat"], r["status"]) for r in doc["runs"]]
    assert statuses == [("thread", 1, "ok"), ("green", 1, "ok"), ("thread", 2, "interrupted"),
                        ("green", 2, "ok"), ("thread", 3, "interrupted"), ("green", 3, "ok")], statuses
    thread = next(c for c in doc["cases"] if c["mode"] == "thread")["summary"]
    assert thread["runs_ok"] == 1 and thread["ns_per_iteration"] == 1000.0, thread
    assert "stopped by SIGTERM" in doc["runs"][2]["error"], doc["runs"][2]
    assert "warm-up" in doc["runs"][4]["error"], doc["runs"][4]


def test_run_once_statuses(fx):
    """The shared runner itself: exit 130 and a report stopped by a signal are
    interrupted; a clean report is ok."""
    script = fx.tmp / "exit130"
    script.write_text("#!/bin/sh\necho 'stopped before the run started' >&2\nexit 130\n")
    script.chmod(0o755)
    assert run_once([str(script)], 10)["status"] == "interrupted"
    env_log = fx.tmp / "run_once.log"
    os.environ["FAKE_CSGB_LOG"] = str(env_log)
    os.environ["FAKE_CSGB_STOPPED_BY"] = "1:SIGHUP"
    try:
        rec = run_once([str(fx.csgb), "socket", "1", "--format", "json"], 10)
        assert rec["status"] == "interrupted" and "SIGHUP" in rec["error"], rec
        rec = run_once([str(fx.csgb), "socket", "1", "--format", "json"], 10)
        assert rec["status"] == "ok", rec
    finally:
        del os.environ["FAKE_CSGB_STOPPED_BY"], os.environ["FAKE_CSGB_LOG"]


# ---------------------------------------------------------------- runner

def main(argv):
    pattern = argv[argv.index("-k") + 1] if "-k" in argv else ""
    tests = [(n, f) for n, f in sorted(globals().items())
             if n.startswith("test_") and callable(f) and pattern in n]
    failed = []
    for name, fn in tests:
        with tempfile.TemporaryDirectory(prefix="csgb-exp-test-") as tmp:
            try:
                fn(Fixture(tmp))
                print("ok       %s" % name)
            except Exception:
                failed.append(name)
                print("FAILED   %s" % name)
                traceback.print_exc()
    print("experiments_test: %d test(s), %d failed%s"
          % (len(tests), len(failed), (": " + ", ".join(failed)) if failed else ""))
    return 1 if failed or not tests else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
