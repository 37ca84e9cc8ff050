#!/usr/bin/env python3
"""Tests of the experiment drivers that need processes but no real csgb: the sweep
against a fake csgb (a small script written here that answers `csgb info` with a
recorded document and prints made-up reports), signals sent to the sweep and to its
process group, results folders, --resume and --merge, and compare.py's statistics on
seeded samples with known answers. Standard library only; `make test` runs it.

    python3 experiments/tests/experiments_test.py            # every test
    python3 experiments/tests/experiments_test.py -k resume  # the tests whose name holds "resume"

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

TESTS = Path(__file__).resolve().parent
HERE = TESTS.parent                 # experiments/: the drivers
sys.path[:0] = [str(HERE / "lib"), str(HERE), str(TESTS)]

from csgb_common import run_once  # noqa: E402
from sweep_selftest import RECORDED_INFO  # noqa: E402

SWEEP = HERE / "sweep.py"
DRIVERS_DIR = HERE

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
    if args[:1] == ["--version"]:
        print("csgb 0.1.0 (commit fake)")
        sys.exit(0)
    if "--largest-n" in args:
        # $FAKE_CSGB_LARGEST: the largest N this fake machine allows
        largest = int(os.environ.get("FAKE_CSGB_LARGEST", "1000000"))
        print("%%d\\nN = %%d: a fake limit" %% (largest, largest + 1))
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
    # $FAKE_CSGB_FAILED = "K:N" makes run K report N failed transfers (exit 0, as csgb
    # did before exit 3); $FAKE_CSGB_EXIT3 = "K" makes run K exit 3 with its report.
    at, _, failed = os.environ.get("FAKE_CSGB_FAILED", "").partition(":")
    failed = int(failed) if at and int(at) == run else 0
    exit3 = os.environ.get("FAKE_CSGB_EXIT3", "") == str(run)
    workload, n = args[0], int(args[1])
    mode = args[args.index("--mode") + 1] if "--mode" in args else "thread"
    print(json.dumps({"workload": workload, "mode": mode, "n": n,
                      "ns_per_iteration": 1000.0 * run, "iterations": 1000,
                      "seconds": 0.01 if stopped_by[0] == "duration" else 0.004,
                      "warmup_complete": warm, "stopped_by": stopped_by[0],
                      "voluntary_switches_per_iteration": 2.0,
                      "involuntary_switches_per_iteration": 0.1, "eagain": 0,
                      "fairness": {"min": 1, "max": 1, "cv": 0.0}, "os_threads": 2,
                      # measured, and different in every run: never part of a case
                      "resident_bytes_at_gate": 4096 * (1000 + run),
                      "warmup_note": None if run %% 2 else "warm-up took %%d ms" %% run,
                      "failed_transfers": failed, "claims": {"eagain_zero": True},
                      "environment": {"hostname": "fake", "kernel": "test",
                                      "cpu_model": "fake cpu", "build": "release"}}))
    if exit3:
        print("csgb: the run did not do what it claims: an actor was lost", file=sys.stderr)
        sys.exit(3)
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
    now = datetime.datetime(2026, 12, 1, 17, 30, 5, tzinfo=datetime.timezone.utc)
    root = fx.tmp / "results"
    a = sweep.new_results_dir(root, "hostx.example", now, "default")
    (a / "results.json").write_text("{}")
    b = sweep.new_results_dir(root, "hostx.example", now, "default")
    # the one naming of results folders: <date>T<time>-<host>-<what>, UTC
    assert a != b and a.name == "2026-12-01T173005-hostx-default" and b.exists(), (a, b)
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


# ---------------------------------------------------------------- signal_stress's classes

def stress_trial(**fields):
    trial = {"trial": 1, "command": "socket 1 -d 30", "signal": "SIGTERM", "target": "csgb", "delay_s": 0.001,
             "exec_to_signal_ms": 0.8, "caught_at_signal": True, "exit": 130, "seconds_to_exit": 0.01,
             "lost": False, "left": [], "stopped_by": None, "stderr": ""}
    trial.update(fields)
    return trial


def test_signal_stress_classes_deaths_before_the_handlers(fx):
    import signal_stress
    early = stress_trial(caught_at_signal=False, exit=-15)
    assert signal_stress.before_handlers(early) and signal_stress.broken(early) == [], early
    # The same death once the handler was seen installed is csgb's fault.
    late = stress_trial(caught_at_signal=True, exit=-15)
    assert not signal_stress.before_handlers(late) and signal_stress.broken(late) == ["exit -15"]
    # Not caught yet but handled all the same (installed meanwhile): a pass.
    handled = stress_trial(caught_at_signal=False, exit=130)
    assert not signal_stress.before_handlers(handled) and signal_stress.broken(handled) == []
    # Another signal's death is not this one's default action.
    other = stress_trial(caught_at_signal=False, exit=-9)
    assert not signal_stress.before_handlers(other) and signal_stress.broken(other) == ["exit -9"]
    window = {"measured": False, "reason": "test"}
    for r in (early, late, handled):
        r["broken"] = signal_stress.broken(r)
    text, status = signal_stress.summary_text([early, handled], window, [])
    assert status == 2, text
    assert "passed: 1; broken: 0; before the handlers (not passes, not csgb's fault): 1" in text, text
    assert "signalled 0.80–0.80 ms after exec" in text, text
    text, status = signal_stress.summary_text([early, late, handled], window, [])
    assert status == 1 and "broken: 1" in text, text
    assert signal_stress.summary_text([handled], window, [])[1] == 0


# ---------------------------------------------------------------- --resume and --merge

def test_resume_completes_without_rerunning(fx):
    """A sweep stopped after 3 of its 6 runs, resumed: only the 3 missing runs run
    (the fake csgb's log of the second pass), the 3 completed ones are kept as they
    were, and the folder ends with all 6."""
    out = fx.tmp / "stopped"
    code, err, first = fx.sweep("--out", str(out), env={"FAKE_CSGB_SIGNAL": "4:TERM:parent"})
    assert code == 130 and len(first) == 4, (code, first)
    before = results(out)
    kept = [r for r in before["runs"] if r["status"] == "ok"]
    assert [(r["case_id"].split()[2], r["repeat"]) for r in kept] == \
        [("thread", 1), ("green", 1), ("thread", 2)], kept
    code, err, second = fx.sweep("--resume", str(out), manifest=False)
    assert code == 0, (code, err)
    modes = sorted(line.split()[line.split().index("--mode") + 1] for line in second)
    assert modes == ["green", "green", "thread"], second      # green 2, thread 3, green 3
    after = results(out)
    assert len(after["runs"]) == 6 and all(r["status"] == "ok" for r in after["runs"])
    for r in kept:                                            # completed runs untouched
        same = [x for x in after["runs"] if (x["case_id"], x["repeat"]) == (r["case_id"], r["repeat"])]
        assert same == [r], (r, same)
    assert len(after["resumed"]) == 1 and after["started"] == before["started"], after["resumed"]
    thread = next(c for c in after["cases"] if c["mode"] == "thread")["summary"]
    assert thread["runs_ok"] == 3, thread
    # resuming a complete sweep runs nothing
    code, err, third = fx.sweep("--resume", str(out), manifest=False)
    assert code == 0 and third == [] and "nothing to resume" in err, (code, err)


def test_resume_refuses_another_host(fx):
    out = fx.tmp / "other"
    code, err, _ = fx.sweep("--out", str(out), env={"FAKE_CSGB_SIGNAL": "2:TERM:parent"})
    assert code == 130
    doc = results(out)
    doc["csgb_info"]["hostname"] = "elsewhere"
    (out / "results.json").write_text(json.dumps(doc))
    code, err, ran = fx.sweep("--resume", str(out), manifest=False)
    assert code == 64 and "hostname" in err and ran == [], (code, err)


def test_merge_two_hosts(fx):
    """Two sweep folders labelled as two hosts: one folder, one summary with a host
    column and a "Hosts side by side" table, plots with a column of panels per host."""
    a, b = fx.tmp / "a", fx.tmp / "b"
    assert fx.sweep("--out", str(a))[0] == 0 and fx.sweep("--out", str(b))[0] == 0
    merged = fx.tmp / "merged"
    code, err, _ = fx.sweep("--merge", str(a), str(b), "--host-label", "hostA,hostB",
                            "--out", str(merged), manifest=False)
    assert code == 0, err
    doc = results(merged)
    assert doc["host_labels"] == ["hostA", "hostB"] and len(doc["cases"]) == 4, doc["host_labels"]
    assert {c["host_label"] for c in doc["cases"]} == {"hostA", "hostB"}
    summary = (merged / "summary.md").read_text()
    side = summary[summary.index("## Hosts side by side"):]
    assert "| case | hostA | hostB | hostB / hostA |" in side, side
    assert "too few samples: n = 3" in side, side
    assert "[host hostA]" in summary and "[host hostB]" in summary   # ratios per host
    code, err, _ = fx.sweep("--merge", str(a), str(b), "--host-label", "x", manifest=False)
    assert code == 64 and "1 label(s) for 2 folder(s)" in err, err
    # with matplotlib: the plot has a panel column per host
    from sweep_runner import matplotlib_interpreter
    interp = matplotlib_interpreter()
    if interp is None:
        print("         plots: skipped: needs matplotlib")
        return
    p = subprocess.run([interp, str(SWEEP), "--merge", str(a), str(b), "--host-label",
                        "hostA,hostB", "--out", str(fx.tmp / "mp")],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert p.returncode == 0, p.stderr
    png = fx.tmp / "mp" / "socket-ns_per_iteration.png"
    assert png.exists(), sorted(os.listdir(fx.tmp / "mp"))
    titles = json.loads((fx.tmp / "mp" / "results.json").read_text())["plots"]
    assert "socket-ns_per_iteration.png" in titles


# ---------------------------------------------------------------- compare.py

def synthetic(column, values, **config):
    cfg = {"workload": "socket", "n": 1, "mode": "thread", "cpus": "0"}
    cfg.update(config)
    return [{"config": dict(cfg), "metrics": {"ns_per_iteration": v},
             "prov": {"input": column, "hostname": column}} for v in values]


def verdicts(trials, make):
    """How many of the seeded trials compare.py calls significant, and how many "~"."""
    import random
    import compare
    significant = similar = 0
    for t in range(trials):
        rng = random.Random(t)
        a, b = make(rng)
        _, rows, _, _ = compare.analyse(synthetic("A", a) + synthetic("B", b),
                                        "ns_per_iteration", None, 0.05)
        row = next(r for r in rows if r["input"] == "B")
        text = compare.change_text(row, 0.05)
        if row["significant"]:
            significant += 1
        elif text.startswith("~"):
            similar += 1
    return significant, similar


def test_compare_same_distribution_is_not_significant(fx):
    """Two draws of one distribution (n = 10, 2 % spread). A correct test at α = 0.05
    calls about 5 % of such pairs significant by chance (the exact U test at n = 10 has
    size 4.3 %): checked over 2,000 seeded trials, so that a wrong variance, tie
    handling or p-value (which give 8-15 %) fails. The first 100 trials are the literal
    check; at a true size of 4.3 % their count of "~" is 95.7 ± 2, printed here."""
    draw = lambda rng: ([rng.gauss(1000, 20) for _ in range(10)],
                        [rng.gauss(1000, 20) for _ in range(10)])
    sig, similar = verdicts(2000, draw)
    assert sig + similar == 2000
    assert sig <= 0.055 * 2000, "false positives: %d of 2000" % sig
    assert sig >= 0.02 * 2000, "too conservative: %d of 2000 significant" % sig
    sig100, similar100 = verdicts(100, draw)
    print("         same distribution: '~' in %d of 100 seeded trials (seeds 0-99), "
          "%d of 2000 significant" % (similar100, sig))
    assert similar100 >= 90, similar100


def test_compare_ten_percent_shift_is_significant(fx):
    draw = lambda rng: ([rng.gauss(1000, 20) for _ in range(10)],
                        [rng.gauss(1100, 22) for _ in range(10)])
    sig, _ = verdicts(100, draw)
    assert sig >= 95, sig


def test_compare_too_few_samples(fx):
    import compare
    _, rows, _, _ = compare.analyse(synthetic("A", [1000, 1010, 990]) +
                                    synthetic("B", [2000, 2010, 1990]),
                                    "ns_per_iteration", None, 0.05)
    row = next(r for r in rows if r["input"] == "B")
    assert row["significant"] is None and row["note"] == "too few samples (n = 3; want ≥ 5)", row
    assert "too few samples (n = 3; want ≥ 5)" in compare.change_text(row, 0.05)


def test_compare_statistics_known_values(fx):
    import math
    from compare_stats import _u_counts, mann_whitney, median_interval
    assert sum(_u_counts(7, 9)) == math.comb(16, 7)
    u, p, method = mann_whitney([1, 2, 3, 4, 5], [6, 7, 8, 9, 10])
    assert method == "exact" and abs(p - 2 / 252) < 1e-12, p          # 2 of C(10,5) orderings
    u, p, method = mann_whitney([1, 2, 3], [1, 2, 3])
    assert method == "normal" and p == 1.0, p                          # ties: normal, no difference
    # ties, by hand: ranks of [1,2,2,4,5 | 6,7,8,8,10]; U = 0, sigma^2 = 25/12 (11 - 12/90)
    u, p, method = mann_whitney([1, 2, 2, 4, 5], [6, 7, 8, 8, 10])
    z = (12.5 - 0.5) / math.sqrt(25 / 12 * (11 - 12 / 90))
    assert method == "normal" and abs(p - math.erfc(z / math.sqrt(2))) < 1e-12, p
    lo, hi, conf = median_interval(list(range(1, 11)))
    assert (lo, hi) == (2, 9) and abs(conf - (1 - 2 * 11 / 1024)) < 1e-12
    lo, hi, conf = median_interval([5, 1, 3, 2, 4])
    assert (lo, hi) == (1, 5) and abs(conf - (1 - 2 / 32)) < 1e-12     # under 95 %: said so


def csgb_report(ns, **extra):
    r = {"workload": "socket", "transport": "unix", "mode": "thread", "io": "direct", "n": 1,
         "cpus": "0", "pin": "set", "work_size": 0, "seconds": 0.5, "warmup_seconds": 0.1,
         "warmup_complete": True, "stopped_by": "duration", "iterations": 12345,
         "ns_per_iteration": ns, "voluntary_switches_per_iteration": 2.0,
         "involuntary_switches_per_iteration": 0.25, "io_uring_enter_per_iteration": None,
         "fairness": {"min": 1, "max": 2, "cv": 0.1}, "version": "0.1.0 (commit abc123)",
         "environment": {"hostname": "h1", "kernel": "6.1", "cpu_model": "X", "build": "release"}}
    r.update(extra)
    return r


def test_compare_inputs_and_case_key(fx):
    """A stream of reports (csgb ... --format json >> file), a bench JSON and a sweep
    folder in one comparison; a configuration field (here stride) separates cases,
    a field case_keys does not know (new_option) does not but is named; a report stopped by a signal is not a sample; cases present in
    one input only are listed; JSON rows carry the promised fields."""
    import compare
    a = fx.tmp / "a.json"
    with open(a, "w") as f:
        for i in range(6):
            f.write(json.dumps(csgb_report(1000 + i), indent=1 if i % 2 else None))
            f.write("\n" if i % 3 else "")
        f.write(json.dumps(csgb_report(5, stopped_by="SIGTERM")))
        f.write(json.dumps(csgb_report(3000, stride=128)))
        f.write(json.dumps(csgb_report(1003, new_option="x")))
    bench = fx.tmp / "bench.json"
    bench.write_text(json.dumps({
        "started": "2026-12-01T00:00:00", "host": "h2", "cpu_model": "Y", "kernel": "6.2",
        "options": {"cpus": "0"},
        "cases": {"thread-socket": {"runs": [
            {"ns_per_iteration": 900.0 + i,
             "csgb_json": csgb_report(900.0 + i, environment={
                 "hostname": "h2", "kernel": "6.2", "cpu_model": "Y", "build": "release",
                 "vulnerabilities": ["spectre_v2: Mitigation: IBPB"], "load_average": [0.5, 1.0]})}
            for i in range(6)]},
            "c-loop": {"runs": [{"ns_per_iteration": 400.0 + i} for i in range(6)]}}}))
    out = fx.tmp / "sweep"
    code, err, _ = fx.sweep("--out", str(out))
    assert code == 0, err
    buf = __import__("io").StringIO()
    assert compare.main([str(a), str(bench), str(out), "--format", "json"], out=buf) == 0
    doc = json.loads(buf.getvalue())
    rows = doc["rows"]
    assert all({"case", "input", "n", "median", "ratio", "p_value", "significant"} <= set(r)
               for r in rows)
    main = [r for r in rows if r["config"].get("mode") == "thread" and "stride" not in r["config"]]
    by_input = {r["input"]: r for r in main}
    assert by_input[str(a)]["n"] == 7 and by_input[str(a)]["median"] == 1003, by_input[str(a)]
    assert doc["unkeyed_variation"] == ["new_option"], doc["unkeyed_variation"]
    assert by_input[str(bench)]["n"] == 6 and abs(by_input[str(bench)]["ratio"] - 902.5 / 1003) < 1e-9
    assert by_input[str(bench)]["significant"] is True
    new = [r for r in rows if r["config"].get("stride") == 128]
    assert [r["n"] for r in new] == [1, 0, 0], new                 # its own case, listed
    assert any(r["case"].startswith("baseline c-loop") and r["n"] == 6 for r in rows)
    diffs = doc["provenance_differences"]
    assert "kernel" in diffs and "load_average" not in diffs, diffs
    assert diffs["vulnerabilities"][str(bench)] == ["spectre_v2: Mitigation: IBPB"], diffs
    # --by host puts the hosts in the columns; the text names what else differs
    buf = __import__("io").StringIO()
    compare.main([str(a), str(bench), "--by", "host"], out=buf)
    text = buf.getvalue()
    assert "[1] h1" in text and "[2] h2" in text and "kernel: h1 = 6.1; h2 = 6.2" in text, text
    assert "geomean" in text


def test_compare_bad_input_exits_64(fx):
    bad = fx.tmp / "bad.json"
    bad.write_text('{"ns_per_iteration": 1, "workload": "socket"} {oops')
    p = subprocess.run([sys.executable, str(HERE / "compare.py"), str(bad), str(bad)],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert p.returncode == 64 and "not a stream of JSON objects" in p.stderr, p.stderr
    assert len(p.stderr.strip().splitlines()) == 1, p.stderr


def test_compare_plot(fx):
    """--plot draws a PNG (under Debian's python3 if this one lacks matplotlib) and
    never overwrites one."""
    from sweep_runner import matplotlib_interpreter
    if matplotlib_interpreter() is None:
        print("         skipped: needs matplotlib (apt-get install python3-matplotlib)")
        return
    a, b = fx.tmp / "a.json", fx.tmp / "b.json"
    for path, base in ((a, 1000), (b, 1100)):
        with open(path, "w") as f:
            for i in range(6):
                f.write(json.dumps(csgb_report(base + i)) + "\n")
                f.write(json.dumps(csgb_report(base / 2 + i, mode="green")) + "\n")
    png = fx.tmp / "plots" / "c.png"
    cmd = [sys.executable, str(HERE / "compare.py"), str(a), str(b), "--plot", str(png)]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert p.returncode == 0, p.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    before = png.read_bytes()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert p.returncode == 64 and "exists" in p.stderr and png.read_bytes() == before, p.stderr


# ---------------------------------------------------------------- case keys

FIXTURES = TESTS / "fixtures"


def compare_json(*args):
    import compare
    buf = __import__("io").StringIO()
    code = compare.main([str(a) for a in args] + ["--format", "json"], out=buf)
    assert code == 0, code
    return json.loads(buf.getvalue())


def test_repeated_plain_runs_compare_as_one_case(fx):
    """Two files of five real runs of `csgb socket 1 --mode green --cpus 0 -d 0.3
    --format json` (fixtures, made once under /work/tools/cpu measure) are one case:
    their resident bytes at the gate, warm-up notes and load all differ, and none of
    them is configuration. The report names the fields that keyed the case."""
    a, b = FIXTURES / "socket1-green-a.json", FIXTURES / "socket1-green-b.json"
    import compare
    reports = compare.json_stream(a.read_text(), a) + compare.json_stream(b.read_text(), b)
    assert len(reports) == 10
    # the fixture is what the test claims: measured fields that differ run to run
    assert len({r["resident_bytes_at_gate"] for r in reports}) > 1, "fixture lost its variety"
    doc = compare_json(a, b)
    cases = {r["case"] for r in doc["rows"] if r["case"] != "geomean"}
    assert len(cases) == 1, cases
    assert [r["n"] for r in doc["rows"]] == [5, 5], doc["rows"]
    assert doc["rows"][1]["note"] == "" and doc["rows"][1]["p_value"] is not None
    assert {"workload", "n", "mode", "cpus"} <= set(doc["case_key_fields"]), doc["case_key_fields"]
    assert "resident_bytes_at_gate" not in doc["case_key_fields"]


def test_measured_field_never_splits_a_case(fx):
    """Every field case_keys knows as measured may differ between two runs of one case
    without splitting it; each configuration field does split it."""
    from case_keys import CONFIG_FIELDS, MEASURED_FIELDS, case_key
    base = csgb_report(1000)
    for field in sorted(MEASURED_FIELDS - {"environment"}):
        other = dict(base, **{field: {"x": 1} if field in ("claims", "fairness") else 987654321})
        assert case_key(other) == case_key(base), field
    for field in CONFIG_FIELDS:
        other = dict(base, **{field: "something else"})
        assert case_key(other) != case_key(base), field
    assert case_key(dict(base, latency_ns={"p50": 1})) != case_key(base)
    assert case_key(dict(base, counters={"scope": "cpu"})) != case_key(dict(base, counters={"scope": "thread"}))
    assert case_key(dict(base, speculation={"ibpb": "force-disabled"})) != case_key(base)


def test_bench_ab_file_compares_by_label(fx):
    """The documented A/B path: `bench.py --csgb X --csgb-b Y --json f` then
    `compare.py f --by label`: the fixture is a real bench run (one case, 5 runs of
    each build, made under /work/tools/cpu measure); each build is one column of one
    case."""
    doc = compare_json(FIXTURES / "bench-ab.json", "--by", "label")
    assert doc["columns"] == ["a", "b"], doc["columns"]
    csgb_rows = [r for r in doc["rows"] if "baseline" not in r["config"]]
    assert len({r["case"] for r in csgb_rows}) == 1, {r["case"] for r in csgb_rows}
    assert [r["n"] for r in csgb_rows] == [5, 5], csgb_rows


def test_two_sweep_folders_compare_case_by_case(fx):
    """Two sweeps of one manifest (the fake csgb reports a different resident size and
    warm-up note in every run) compare one row per case, every run a sample."""
    one, two = fx.tmp / "one", fx.tmp / "two"
    for out in (one, two):
        code, err, _ = fx.sweep("--out", str(out))
        assert code == 0, err
    doc = compare_json(one, two)
    rows = [r for r in doc["rows"]]
    assert len(rows) == 2 * 2, [(r["case"], r["n"]) for r in rows]    # 2 cases x 2 columns
    assert all(r["n"] == 3 for r in rows), rows


# ---------------------------------------------------------------- mode facts

def driver_files():
    """The drivers: every experiments/*.py command (the library and the tests live in
    their own folders)."""
    return sorted(p for p in DRIVERS_DIR.glob("*.py"))


def test_no_driver_names_a_mode(fx):
    """Which options a mode takes, its colour and what carries its actors come from
    `csgb info` (capabilities.mode_facts): no driver names a mode, as a string or in a
    --mode argument. The mode names searched for are csgb's own."""
    import re
    modes = [f["name"] for f in RECORDED_INFO["capabilities"]["mode_facts"]] + ["process"]
    pattern = re.compile(r"""(["'])(%s)\1|--mode["']?\s*,\s*["'](%s)["']"""
                         % ("|".join(modes), "|".join(modes)))
    hits = []
    files = driver_files()
    assert len(files) >= 8, files
    for path in files:
        for i, line in enumerate(path.read_text().splitlines(), 1):
            if pattern.search(line):
                hits.append("%s:%d: %s" % (path.name, i, line.strip()))
    assert not hits, "drivers name modes:\n" + "\n".join(hits)
    # the check itself finds a mode name when one is there
    assert pattern.search('if m != "thread":') and pattern.search('["socket", "--mode", "green"]')


def caps_with_process(accepts_workers=False, facts=True):
    import copy
    from csgb_common import capabilities_of
    from sweep_selftest import PROCESS_FACTS
    info = copy.deepcopy(RECORDED_INFO)
    caps = info["capabilities"]
    caps["modes"].insert(1, "process")
    for w in caps["workloads"]:
        w["modes"].insert(1, "process")
    process = copy.deepcopy(PROCESS_FACTS)
    if accepts_workers:
        process["options"]["--workers"] = None
    caps["mode_facts"].insert(1, process)
    if not facts:
        del caps["mode_facts"]
    return capabilities_of(info)


def test_workers_follow_the_mode_facts(fx):
    """A pinning with workers applies them to the modes whose facts accept --workers;
    a mode whose facts refuse it (process mode here) runs without, csgb's reason kept
    in the settings; a csgb that exports no facts gets --workers and decides itself
    (exit 64 with its own message stops the sweep)."""
    from sweep_manifest import case_argv, expand_manifest
    man = {"matrix": [{"workloads": ["socket"], "modes": ["process", "green"], "n": [4],
                       "pinning": [{"cpus": "0-1", "workers": 2}]}]}
    cases, settings = expand_manifest(man, caps_with_process())
    argv = {c["mode"]: case_argv("csgb", c) for c in cases}
    assert "--workers" not in argv["process"] and "--workers" in argv["green"], argv
    assert settings["workers_not_applied"] == {"process": "process mode runs one process per actor"}
    cases, _ = expand_manifest(man, caps_with_process(accepts_workers=True))
    assert all("--workers" in case_argv("csgb", c) for c in cases)
    cases, _ = expand_manifest(man, caps_with_process(facts=False))
    assert all("--workers" in case_argv("csgb", c) for c in cases)


def test_a_flag_the_mode_refuses_is_refused_in_csgbs_words(fx):
    """A manifest flag that a mode's facts refuse (process mode's --latency here) is
    refused before anything runs, with csgb's own reason; the same flag with the
    modes that take it expands."""
    from sweep_manifest import ManifestError, expand_manifest
    man = {"matrix": [{"workloads": ["socket"], "modes": ["process", "green"], "n": [1],
                       "flags": ["--latency"]}]}
    try:
        expand_manifest(man, caps_with_process())
        raise AssertionError("a flag process mode refuses was expanded")
    except ManifestError as e:
        assert "--latency with --mode process: csgb refuses it: --latency is not available with " \
               "--mode process" in str(e), e
    man["matrix"][0]["modes"] = ["green"]
    cases, _ = expand_manifest(man, caps_with_process())
    assert [c["flags"] for c in cases] == [["--latency"]], cases


def test_the_counter_pass_skips_a_mode_that_refuses_counters(fx):
    """The counter pass adds --counters to every case; a mode whose facts refuse it
    (its actors are other processes) would exit 64 there and stop the sweep, so its
    cases get no counter runs; a csgb without facts gets them all."""
    from sweep_manifest import expand_manifest
    from sweep_runner import plan_runs
    man = {"matrix": [{"workloads": ["socket"], "modes": ["process", "green"], "n": [1]}]}
    caps = caps_with_process()
    cases, settings = expand_manifest(man, caps)
    counted = {c["mode"] for c, kind, _ in plan_runs(cases, settings, True, caps) if kind == "counters"}
    assert counted == {"green"}, counted
    counted = {c["mode"] for c, kind, _ in plan_runs(cases, settings, True, caps_with_process(facts=False))
               if kind == "counters"}
    assert counted == {"process", "green"}, counted


def test_the_real_csgbs_facts_answer_what_the_drivers_ask(fx):
    """Against the csgb built here (`--csgb`, as make test gives): every mode's facts
    state each option the drivers ask about, with csgb's reason where it refuses; a
    manifest of process mode with workers lists process mode without --workers and
    keeps csgb's reason, and one with a flag process mode refuses stops with csgb's
    own message (exit 64), before any run."""
    if not REAL_CSGB:
        print("         skipped: needs the csgb built here (--csgb PATH, as make test gives)")
        return
    info = json.loads(subprocess.run([REAL_CSGB, "info", "--format", "json"], stdout=subprocess.PIPE,
                                     text=True, timeout=60, check=True).stdout)
    facts = info["capabilities"]["mode_facts"]
    for f in facts:
        for option in ("--workers", "--stack-size", "--executor", "--latency", "--counters"):
            assert option in f["options"], (f["name"], option, f["options"])
            assert f["options"][option] is None or isinstance(f["options"][option], str), f
    process = [f["name"] for f in facts if not f["actors_in_this_process"]]
    workers = [f["name"] for f in facts if f["has_workers"]]
    assert process and workers, facts
    manifest = fx.tmp / "m.json"
    manifest.write_text(json.dumps({"matrix": [{"workloads": ["socket"], "modes": process + workers[:1],
                                                "n": [2], "pinning": [{"cpus": "0", "workers": 2}]}]}))
    sweep = [sys.executable, str(DRIVERS_DIR / "sweep.py"), "--csgb", REAL_CSGB]
    listed = subprocess.run(sweep + ["--list", str(manifest)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, timeout=120)
    assert listed.returncode == 0, listed.stderr
    lines = [line for line in listed.stdout.splitlines() if "--mode" in line]
    assert any("--mode %s" % process[0] in line and "--workers" not in line for line in lines), listed.stdout
    assert any("--mode %s" % workers[0] in line and "--workers 2" in line for line in lines), listed.stdout
    manifest.write_text(json.dumps({"matrix": [{"workloads": ["socket"], "modes": process, "n": [1],
                                                "flags": ["--latency"]}]}))
    refused = subprocess.run(sweep + ["--list", str(manifest)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, timeout=120)
    reason = [f for f in facts if f["name"] == process[0]][0]["options"]["--latency"]
    assert refused.returncode == 64 and ("--latency " + reason) in refused.stderr, (refused.returncode, refused.stderr)


def test_estimate_follows_the_carrier(fx):
    """The set-up part of the time estimate follows what carries the actors (kernel
    threads cost more to create than green threads), from the facts."""
    from sweep_manifest import estimate_run_seconds, expand_manifest, prepare_cases
    caps = caps_with_process()
    man = {"defaults": {"duration": 0.1, "warmup": 0, "repeats": 1},
           "matrix": [{"workloads": ["socket"], "modes": ["thread", "process", "green", "async"],
                       "n": [1000]}]}
    cases, _ = expand_manifest(man, caps)
    prepare_cases(cases, fx.csgb, caps)
    est = {c["mode"]: estimate_run_seconds(c) for c in cases}
    assert est["thread"] == est["process"] > est["green"] == est["async"], est


def test_kernel_summary_reads_the_facts(fx):
    """kernel_summary.py compares the modes that switch address space with those that
    do not, and both with the user-mode ones, by their facts: renamed modes give the
    same sentences under their new names."""
    import copy
    import kernel_summary
    caps = caps_with_process().doc
    info = copy.deepcopy(RECORDED_INFO)
    info["capabilities"] = copy.deepcopy(caps)
    rename = {"thread": "kt", "process": "kp", "green": "ut", "async": "ua"}
    info["capabilities"]["modes"] = [rename[m] for m in info["capabilities"]["modes"]]
    for f in info["capabilities"]["mode_facts"]:
        f["name"] = rename[f["name"]]
    cases = []
    for m, ns in (("kt", 2000.0), ("kp", 3000.0), ("ut", 500.0), ("ua", 700.0)):
        cases.append({"id": m, "mode": m, "cpus": "0", "pin": "set", "work_size_label": "0", "flags": [],
                      "summary": {"ns_per_iteration": ns, "ns_min": ns, "ns_max": ns,
                                  "voluntary_switches_per_iteration": 2.0,
                                  "involuntary_switches_per_iteration": 0.0,
                                  "runs_ok": 3, "runs": 3}})
    folder = fx.tmp / "k"
    folder.mkdir()
    runs = [{"case_id": c["id"], "status": "ok"} for c in cases]
    (folder / "results.json").write_text(json.dumps({"cases": cases, "runs": runs,
                                                     "csgb_info": info, "command": "test"}))
    import contextlib
    with contextlib.redirect_stdout(__import__("io").StringIO()):
        assert kernel_summary.main([str(folder)]) == 0
    text = (folder / "kernel-summary.md").read_text()
    assert "| kp over kt, cpus 0, work 0 | +1000 ns per iteration" in text, text
    assert "| kt / ut, work 0 | 4.00x |" in text and "| kp / ua, work 0 |" in text, text


def test_plot_colours_are_csgbs(fx):
    """plot.py colours each mode with csgb's colour for it (mode_facts), whatever the
    order of the modes."""
    from sweep_runner import matplotlib_interpreter
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        interp = matplotlib_interpreter()
        if interp is None:
            print("         skipped: needs matplotlib (apt-get install python3-matplotlib)")
            return
        # the same test under the interpreter that has matplotlib (Debian's python3)
        p = subprocess.run([interp, str(Path(__file__).resolve()), "-k", "plot_colours"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert p.returncode == 0 and "1 test(s), 0 failed" in p.stdout, p.stdout
        return
    import copy
    import plot
    info = copy.deepcopy(RECORDED_INFO)
    info["capabilities"]["modes"].reverse()
    plot._set_modes({"csgb_info": info, "cases": []})
    want = {f["name"]: f["colour"] for f in info["capabilities"]["mode_facts"]}
    assert plot.COLORS == want, plot.COLORS


# ---------------------------------------------------------------- runs that failed

def test_a_run_that_did_not_do_what_it_claims_is_failed(fx):
    """Exit 3, failed transfers, an EAGAIN its claims forbid or a lost actor make a
    run failed (its report kept), in run_once, the sweep and compare; an EAGAIN where
    the claims allow one does not."""
    from csgb_common import run_failure
    ok = csgb_report(1000, failed_transfers=0, eagain=0, claims={"eagain_zero": True})
    assert run_failure(ok) is None
    assert "failed_transfers 6" in run_failure(dict(ok, failed_transfers=6))
    assert "eagain 3" in run_failure(dict(ok, eagain=3))
    assert run_failure(dict(ok, eagain=3, claims={"eagain_zero": False})) is None
    assert "lost_actors" in run_failure(dict(ok, lost_actors=[12345]))
    out = fx.tmp / "out"
    code, err, _ = fx.sweep("--out", str(out), env={"FAKE_CSGB_FAILED": "2:6", "FAKE_CSGB_EXIT3": "4"})
    assert code == 1, (code, err)
    runs = results(out)["runs"]
    assert [r["status"] for r in runs] == ["ok", "failed", "ok", "failed", "ok", "ok"], runs
    assert "failed_transfers 6" in runs[1]["error"] and runs[1]["report"]["failed_transfers"] == 6
    assert runs[3]["exit_code"] == 3 and runs[3]["report"] and "exit 3" in runs[3]["error"], runs[3]
    # compare leaves such a report out and says so by name
    f, g = fx.tmp / "f.json", fx.tmp / "g.json"
    for path in (f, g):
        path.write_text("".join(json.dumps(csgb_report(1000 + i)) for i in range(5)) +
                        json.dumps(csgb_report(1, failed_transfers=6)))
    doc = compare_json(f, g)
    assert [r["n"] for r in doc["rows"] if r["case"] != "geomean"] == [5, 5]
    assert any("failed_transfers 6" in x["reason"] and "report 6" in x["where"]
               for x in doc["left_out"]), doc["left_out"]


# ---------------------------------------------------------------- folders

def test_two_sweeps_on_one_out_one_is_refused(fx):
    """Two sweeps started at once on the same --out: exactly one runs, the other is
    refused with one line before any run, whatever order they reach the folder in;
    a folder some driver has claimed is refused too."""
    out = fx.tmp / "shared"
    procs = []
    for i in range(2):
        env = dict(os.environ, FAKE_CSGB_LOG=str(fx.tmp / ("race-%d.log" % i)))
        procs.append(subprocess.Popen(
            [sys.executable, str(SWEEP), str(fx.manifest), "--csgb", str(fx.csgb), "--no-plots",
             "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env))
    got = [(p.wait(timeout=120), p.stderr.read()) for p in procs]
    codes = sorted(c for c, _ in got)
    assert codes == [0, 64], got
    refused = next(e for c, e in got if c == 64)
    assert len(refused.strip().splitlines()) == 1, refused
    assert len(results(out)["runs"]) == 6
    ran = [(fx.tmp / ("race-%d.log" % i)) for i in range(2)]
    assert sorted(len(p.read_text().splitlines()) if p.exists() else 0 for p in ran) == [0, 6]
    # a claim left by another driver
    other = fx.tmp / "other"
    other.mkdir()
    (other / ".claimed").write_text("sweep.py x, pid 1\n")
    code, err, ran = fx.sweep("--out", str(other))
    assert code == 64 and "claimed" in err and ran == [] and len(err.strip().splitlines()) == 1, err


def read_only(fx, folder, command):
    """Runs `command` (argv) with `folder` read-only: a read-only tmpfs or bind mount in
    a private mount namespace (unshare -rm), so that root cannot write either. None
    when this machine cannot make one (then the caller skips)."""
    import shlex
    import shutil
    if shutil.which("unshare") is None:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    empty = not any(folder.iterdir())
    mount = ("mount -t tmpfs -o ro none %s" % folder if empty else
             "mount --bind %s %s && mount -o remount,bind,ro %s" % (folder, folder, folder))
    probe = subprocess.run(["unshare", "-rm", "sh", "-c",
                            mount + " && ! touch %s/x 2>/dev/null" % folder],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if probe.returncode != 0:
        return None
    return subprocess.run(["unshare", "-rm", "sh", "-c", mount + " && exec " + shlex.join(command)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          env=dict(os.environ, FAKE_CSGB_LOG=str(fx.tmp / "ro.log")), timeout=120)


def test_unwritable_out_is_refused_before_any_run(fx):
    """--out on a read-only folder, or below one, and --resume of a folder that became
    read-only: one line, exit 73, no run made (so none is lost)."""
    ro = fx.tmp / "ro"
    base = [sys.executable, str(SWEEP), str(fx.manifest), "--csgb", str(fx.csgb), "--no-plots"]
    p = read_only(fx, ro, base + ["--out", str(ro)])
    if p is None:
        print("         skipped: needs a private mount namespace (unshare -rm) for a read-only folder")
        return
    assert p.returncode == 73 and len(p.stderr.strip().splitlines()) == 1, (p.returncode, p.stderr)
    assert "cannot write" in p.stderr and not (fx.tmp / "ro.log").exists(), p.stderr
    p = read_only(fx, ro, base + ["--out", str(ro / "sub")])
    assert p.returncode == 73 and len(p.stderr.strip().splitlines()) == 1, (p.returncode, p.stderr)
    assert "Traceback" not in p.stderr and not (fx.tmp / "ro.log").exists()
    stopped = fx.tmp / "stopped"
    code, _, _ = fx.sweep("--out", str(stopped), env={"FAKE_CSGB_SIGNAL": "2:TERM:parent"})
    assert code == 130
    before = tree_digest(stopped)
    p = read_only(fx, stopped, [sys.executable, str(SWEEP), "--resume", str(stopped),
                                "--csgb", str(fx.csgb), "--no-plots"])
    assert p.returncode == 73 and len(p.stderr.strip().splitlines()) == 1, (p.returncode, p.stderr)
    assert not (fx.tmp / "ro.log").exists() and tree_digest(stopped) == before


def test_merge_names_what_differs_and_refuses_one_folder_twice(fx):
    """--merge of two folders swept with another commit, kernel and CPU: the summary
    names each difference; the same folder twice is refused."""
    a, b = fx.tmp / "a", fx.tmp / "b"
    assert fx.sweep("--out", str(a))[0] == 0 and fx.sweep("--out", str(b))[0] == 0
    doc = results(b)
    doc["git"] = "v0-99-gdeadbee"
    doc["csgb_info"]["kernel"] = "7.0.0-other"
    doc["csgb_info"]["cpu_model"] = "Other CPU"
    (b / "results.json").write_text(json.dumps(doc))
    merged = fx.tmp / "merged"
    code, err, _ = fx.sweep("--merge", str(a), str(b), "--host-label", "A,B", "--out", str(merged),
                            manifest=False)
    assert code == 0, err
    side = (merged / "summary.md").read_text().split("## Hosts side by side")[1]
    for line in ("commit (git describe) differs", "kernel differs: A = ", "B = 7.0.0-other",
                 "CPU model differs", "B = Other CPU"):
        assert line in side, (line, side[:1500])
    code, err, _ = fx.sweep("--merge", str(a), str(a), "--host-label", "A,B", manifest=False)
    assert code == 64 and "given twice" in err and len(err.strip().splitlines()) == 1, err


# ---------------------------------------------------------------- bad input

BAD_RESULTS = {"truncated": '{"cases": [{"id": "x"', "empty list": "[]",
               "no manifest": json.dumps({"cases": [], "runs": []})}


def one_line(p, code):
    err = p.stderr.strip()
    assert p.returncode == code, (p.args, p.returncode, err)
    assert len(err.splitlines()) == 1 and "Traceback" not in err, (p.args, err)


def run_py(script, *args):
    return subprocess.run([sys.executable, str(HERE / script)] + [str(a) for a in args],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120,
                          env=dict(os.environ, FAKE_CSGB_LOG=os.devnull))


def test_bad_input_is_one_line_and_a_documented_code(fx):
    """Every bad input of the issue, fed to every entry point that reads it: one line
    on stderr and the exit code experiments/README.md documents (64 bad input, 73 an
    unwritable output); never a traceback, never a folder half written."""
    good_sweep = fx.tmp / "good-sweep"
    assert fx.sweep("--out", str(good_sweep))[0] == 0
    for name, text in BAD_RESULTS.items():
        d = fx.tmp / name.replace(" ", "-")
        d.mkdir()
        (d / "results.json").write_text(text)
        one_line(run_py("sweep.py", "--resume", d, "--csgb", fx.csgb), 64)
        one_line(run_py("sweep.py", "--resummarize", d), 64)
        merged = fx.tmp / ("m-" + d.name)
        one_line(run_py("sweep.py", "--merge", good_sweep, d, "--out", merged), 64)
        assert not merged.exists()
        for script in ("kernel_summary.py", "scale_summary.py"):
            one_line(run_py(script, d), 64)
        one_line(run_py("compare.py", d, good_sweep), 64)
    # manifests: refused at validation, before any folder or run
    for bad in ({"defaults": {"duration": 1e308}, "matrix": TINY_MANIFEST["matrix"]},
                {"matrix": [dict(TINY_MANIFEST["matrix"][0], n=[10000000])]},
                {"description": "no matrix"}, [],
                {"matrix": [dict(TINY_MANIFEST["matrix"][0], n=[10 ** 400])]}):
        m = fx.tmp / "bad-manifest.json"
        m.write_text(json.dumps(bad))
        out = fx.tmp / "never"
        p = subprocess.run([sys.executable, str(SWEEP), str(m), "--csgb", str(fx.csgb), "--out", str(out)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           env=dict(os.environ, FAKE_CSGB_LOG=str(fx.tmp / "bad.log"),
                                    FAKE_CSGB_LARGEST="5000000"))
        one_line(p, 64)
        assert not out.exists() and not (fx.tmp / "bad.log").exists(), bad
    # compare
    cases = {"environment a list": csgb_report(1000, environment=["x"]),
             "version a number": csgb_report(1000, version=5),
             "ns beyond a float": csgb_report(10 ** 400), "ns NaN": csgb_report(float("nan")),
             "ns Infinity": csgb_report(float("inf")), "ns negative": csgb_report(-5)}
    for name, report in cases.items():
        f = fx.tmp / "c.json"
        f.write_text(json.dumps(report))
        p = run_py("compare.py", f, fx.tmp / "good-sweep")
        one_line(p, 64)
        assert "c.json" in p.stderr, (name, p.stderr)
    good, good2 = fx.tmp / "good.json", fx.tmp / "good2.json"
    for path in (good, good2):
        path.write_text("".join(json.dumps(csgb_report(1000 + i)) for i in range(5)))
    existing = fx.tmp / "exists.png"
    existing.write_bytes(b"not a plot")
    one_line(run_py("compare.py", good, good2, "--plot", existing), 64)
    assert existing.read_bytes() == b"not a plot"
    p = read_only(fx, fx.tmp / "roplot", [sys.executable, str(HERE / "compare.py"), str(good),
                                          str(good2), "--plot", str(fx.tmp / "roplot")])
    if p is None:
        print("         read-only --plot: skipped: needs unshare -rm")
    else:
        one_line(p, 73)
    # every driver that writes a file refuses an existing one before any run
    for script, args in (("bench.py", ["--json", existing, "--cases", "c-loop"]),
                         ("cells.py", ["io", "--json", existing, "--csgb", fx.csgb])):
        one_line(run_py(script, *args), 64)
        assert existing.read_bytes() == b"not a plot"
    one_line(run_py("bench.py", "--json", "/proc/no/such/dir/x.json"), 73)
    for name in BAD_RESULTS:
        one_line(run_py("plot.py", fx.tmp / name.replace(" ", "-")), 64)
    one_line(run_py("compare.py", good, "--alpha", "2"), 64)
    one_line(run_py("compare.py", good, "--no-such-flag"), 64)
    one_line(run_py("sweep.py", "--no-such-flag"), 64)


# ---------------------------------------------------------------- plots and noise

def under_matplotlib(test_name):
    """None when this python3 has matplotlib (run the test here); else runs the test
    under the interpreter that has it and returns True, or prints the skip and
    returns True when there is none."""
    try:
        import matplotlib  # noqa: F401
        return None
    except ImportError:
        pass
    from sweep_runner import matplotlib_interpreter
    interp = matplotlib_interpreter()
    if interp is None:
        print("         skipped: needs matplotlib (apt-get install python3-matplotlib)")
        return True
    p = subprocess.run([interp, str(Path(__file__).resolve()), "-k", test_name],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert p.returncode == 0 and "1 test(s), 0 failed" in p.stdout, p.stdout
    return True


def plot_case(mode, n, pinning, ns, pinning_index=0):
    s = {"ns_per_iteration": ns, "ns_min": ns, "ns_max": ns, "runs_ok": 1 if ns else 0,
         "voluntary_switches_per_iteration": 0.0 if ns else None,
         "involuntary_switches_per_iteration": 0.0 if ns else None}
    return {"id": "%s %s %d" % (pinning, mode, n), "workload": "socket", "mode": mode, "n": n,
            "pinning": pinning, "pinning_index": pinning_index, "work_size": 0,
            "work_size_label": "0", "transport": "unix", "io": "direct", "flags": [],
            "repeats": 1, "duration": 0.1, "summary": s}


def test_plots_draw_only_what_ran_and_keep_overlaps_visible(fx):
    """A pinning whose cases never ran (unsupported here) gets no panel, and a note
    names them; two modes with equal values at the same N are drawn apart (dodged
    sideways, their own line styles)."""
    if under_matplotlib("plots_draw_only_what_ran"):
        return
    import plot
    cases = [plot_case(m, n, "cpus 0", 1000.0) for m in ("green", "async") for n in (1, 10)]
    cases += [plot_case(m, n, "cpus 0-1", None, 1) for m in ("green", "async") for n in (1, 10)]
    drawn = []
    real_finish = plot._finish

    def capture(fig, axes, title, path, legend_handles=None):
        drawn.append(sum(1 for row in axes for ax in row if ax.get_visible()))
        lines = [l for row in axes for ax in row for l in ax.get_lines() if len(l.get_xdata())]
        drawn.append(sorted({tuple(l.get_xdata()) for l in lines}))
        real_finish(fig, axes, title, path, legend_handles)
    plot._finish = capture
    try:
        out = fx.tmp / "plots"
        out.mkdir()
        files, notes = plot.plot_all(out, {"csgb_info": RECORDED_INFO, "cases": cases})
    finally:
        plot._finish = real_finish
    assert files == ["socket-ns_per_iteration.png", "socket-switches.png"], files
    assert drawn[0] == 1 and drawn[2] == 1, drawn            # one panel each, not two
    assert any("4 case(s) without a successful run are not plotted" in n for n in notes), notes
    xs = drawn[1]
    assert len(xs) >= 2 and xs[0] != xs[1], xs                 # green and async apart
    assert plot._style("green")["linestyle"] != plot._style("async")["linestyle"]


def test_noisy_cases_say_why(fx):
    """A NOISY case names its cause where it is known: the load average above the
    CPU count, other runnable tasks, csgb's own warning; else the spread itself."""
    from sweep_runner import noise_causes
    s = {"ns_cv": 0.2, "ns_min": 900.0, "ns_max": 1500.0}

    def run(load=None, runnable=None, env_load=None, warnings=()):
        env = {"online_cpus": 2}
        if env_load is not None:
            env["load_average"] = [env_load, 1.0, 1.0]
        return {"load_average": load, "runnable_tasks": runnable,
                "report": {"environment": env, "warnings": list(warnings)}}
    assert noise_causes([run(load=0.5, runnable=1)], s) == \
        ["the runs themselves: CV 20 % (min 900, max 1,500 ns)"]
    assert noise_causes([run(load=3.5, runnable=1)], s) == ["load average up to 3.5 on 2 CPUs"]
    assert noise_causes([run(env_load=7.25, runnable=1)], s) == ["load average up to 7.2 on 2 CPUs"]
    assert noise_causes([run(load=0.5, runnable=4)], s) == \
        ["up to 3 other task(s) runnable as a run started"]
    got = noise_causes([run(load=0.5, runnable=1,
                            warnings=["warning: 2 runnable tasks on CPU 0 during the window"])], s)
    assert got == ["csgb: warning: 2 runnable tasks on CPU 0 during the window"], got
    # and the summary says it beside NOISY
    out = fx.tmp / "noisy"
    code, err, _ = fx.sweep("--out", str(out))
    assert code == 0, err
    summary = (out / "summary.md").read_text()
    assert "NOISY (" in summary, summary[:2000]


# ---------------------------------------------------------------- manifests

def test_actors_follow_the_workload_unit(fx):
    """What one N counts comes from `csgb info`'s unit, never from a workload's name:
    a workload csgb adds later, counted in pairs, gets two actors per N."""
    import copy
    from csgb_common import capabilities_of
    from sweep_manifest import actors, expand_manifest, prepare_cases
    info = copy.deepcopy(RECORDED_INFO)
    info["capabilities"]["workloads"].append(
        {"name": "relay", "modes": ["thread"], "unit": "pair", "transports": []})
    info["capabilities"]["workloads"].append(
        {"name": "spin", "modes": ["thread"], "unit": "actor", "transports": []})
    caps = capabilities_of(info)
    man = {"defaults": {"duration": 0.1, "warmup": 0, "repeats": 1},
           "matrix": [{"workloads": ["relay", "spin", "socket", "yield"], "modes": ["thread"],
                       "n": [5]}]}
    cases, _ = expand_manifest(man, caps)
    prepare_cases(cases, fx.csgb, caps)
    got = {c["workload"]: actors(c) for c in cases}
    assert got == {"relay": 10, "spin": 5, "socket": 10, "yield": 5}, got


def test_max_runs_as_max_and_stays_one_row(fx):
    """A case planned as N = max keeps the N csgb found for it, but runs as `max`, so
    that csgb resolves it again at the run's moment and tasks started since the plan
    cannot refuse it; its runs, a task or two apart, stay one row of the summary."""
    from csgb_common import capabilities_of
    from scale_summary import resolved_max, series
    from sweep_manifest import expand_manifest, prepare_cases
    caps = capabilities_of(RECORDED_INFO)
    man = {"defaults": {"duration": 0.1, "warmup": 0, "repeats": 2},
           "matrix": [{"workloads": ["yield"], "modes": ["thread"], "n": [10, "max"]}]}
    cases, _ = expand_manifest(man, caps, largest_n=lambda case: 32425)
    prepare_cases(cases, fx.csgb, caps)
    top = [c for c in cases if c["n"] == 32425]
    assert len(top) == 1 and top[0]["argv"][2] == "max", [c["argv"][:3] for c in cases]
    assert [c["argv"][2] for c in cases if c["n"] == 10] == ["10"]
    report = {"workload": "yield", "mode": "thread", "ns_per_iteration": 6000.0,
              "memory_per_actor_bytes": 9700, "setup_seconds": 1.2}
    runs = [{"case_id": top[0]["id"], "status": "ok", "report": dict(report, n=n)} for n in (32425, 32427)]
    results = {"cases": cases, "runs": runs}
    assert list(series(results)[("yield", "thread")]) == [32425], series(results)
    assert resolved_max(results) == [("yield", "thread", 32425, [32425, 32427])], resolved_max(results)


# ---------------------------------------------------------------- runner

# The csgb built here, for the tests that ask the real one (`--csgb PATH`); without
# it they say they were skipped.
REAL_CSGB = None


def main(argv):
    global REAL_CSGB
    pattern = argv[argv.index("-k") + 1] if "-k" in argv else ""
    if "--csgb" in argv:
        REAL_CSGB = os.path.abspath(argv[argv.index("--csgb") + 1])
    tests = [(n, f) for n, f in sorted(globals().items())
             if n.startswith("test_") and callable(f) and pattern in n]
    failed = []
    for name, fn in tests:
        with tempfile.TemporaryDirectory(prefix="csgb-exp-test-") as tmp:
            try:
                fn(Fixture(tmp))
                print("ok       %s" % name)
            except (Exception, SystemExit):
                failed.append(name)
                print("FAILED   %s" % name)
                traceback.print_exc()
    print("experiments_test: %d test(s), %d failed%s"
          % (len(tests), len(failed), (": " + ", ".join(failed)) if failed else ""))
    return 1 if failed or not tests else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
