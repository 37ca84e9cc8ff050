"""sweep.py --self-test: synthetic reports through manifest expansion, medians, CSV,
JSON, plots and the summary (the io_uring section included), against a recorded
`csgb info --format json`, so that it needs no csgb binary (it runs in `make test`)."""

import csv
import json
import math
import os
import shlex
import sys
import tempfile
from pathlib import Path

from csgb_common import capabilities_of
from sweep_manifest import ManifestError, case_argv, expand_manifest, parse_size, prepare_cases
from results_folder import read_results
from sweep_runner import (flatten, matplotlib_interpreter, resummarize, summarize_case,
                          write_outputs)
from sweep_summary import compute_ratios

# `csgb info --format json` of the build that added --transport and --io (hostname,
# kernel and the like trimmed). The self-test expands its manifests against this, not
# against a binary; a csgb that lists more names changes nothing here.
RECORDED_INFO = {
    "hostname": "test", "online_cpus": 2, "allowed_cpus": "0-1", "hardware_pmu": False,
    "io_uring": "available", "build": "release",
    "capabilities": {
        "modes": ["thread", "green", "async"],
        "executors": ["dedicated", "global"],
        "io": ["direct", "uring"],
        "transports": ["unix", "pipe", "tcp"],
        "workloads": [
            {"name": "socket", "modes": ["thread", "green", "async"], "unit": "pair",
             "transports": ["unix", "pipe", "tcp"]},
            {"name": "yield", "modes": ["thread", "green", "async"], "unit": "actor",
             "transports": []},
            {"name": "futex", "modes": ["thread"], "unit": "pair", "transports": []},
        ],
        # The contract of csgb's mode facts (ModeTraits exported by `csgb info`).
        "mode_facts": [
            {"name": "thread", "summary": "kernel threads, blocking syscalls", "colour": "#1f77b4",
             "carrier": "kernel thread", "kernel_switching": True, "switches_address_space": False,
             "actors_in_this_process": True, "workloads": ["socket", "yield", "futex"],
             "options": {"--workers": "thread mode runs one kernel thread per actor",
                         "--stack-size": "green mode only", "--executor": "async mode only",
                         "--latency": None, "--counters": None}},
            {"name": "green", "summary": "green threads on our own stacks", "colour": "#2ca02c",
             "carrier": "green thread", "kernel_switching": False, "switches_address_space": False,
             "actors_in_this_process": True, "workloads": ["socket", "yield"],
             "options": {"--workers": None, "--stack-size": None, "--executor": "async mode only",
                         "--latency": None, "--counters": None}},
            {"name": "async", "summary": "Swift tasks on one thread per worker", "colour": "#ff7f0e",
             "carrier": "Swift task", "kernel_switching": False, "switches_address_space": False,
             "actors_in_this_process": True, "workloads": ["socket", "yield"],
             "options": {"--workers": None, "--stack-size": "green mode only", "--executor": None,
                         "--latency": None, "--counters": None}},
        ],
    },
}

# A process mode's facts, for tests that add the mode to RECORDED_INFO.
PROCESS_FACTS = {
    "name": "process", "summary": "one process per actor", "colour": "#d62728",
    "carrier": "process", "kernel_switching": True, "switches_address_space": True,
    "actors_in_this_process": False, "workloads": ["socket", "yield", "futex"],
    "options": {"--workers": "process mode runs one process per actor",
                "--stack-size": "green mode only", "--executor": "async mode only",
                "--latency": "is not available with --mode process: each actor's histogram would "
                             "live in its own process",
                "--counters": "counts csgb's own threads and getrusage, and the actors of --mode "
                              "process are other processes"}}


def self_test(keep_dir=None):
    """Synthetic reports through expansion, medians, CSV, plots and summary. The
    files go to a temporary directory, or to keep_dir (--out) to look at."""
    man = {
        "defaults": {"duration": 0.2, "warmup": 0.05, "repeats": 2},
        "counters": "on",
        "matrix": [
            {"workloads": ["socket"], "modes": ["thread", "green", "async"], "n": [1, 10],
             "pinning": [{"cpus": "0"}, {"cpus": "0-1", "pin": "each", "workers": 2}],
             "work_sizes": [0, "64K"]},
            {"workloads": ["yield", "futex"], "modes": ["thread", "green"], "n": [2]},
            {"workloads": ["socket"], "modes": ["thread", "green", "async"], "n": [1],
             "pinning": [{"cpus": "0"}], "transports": ["pipe", "tcp"]},
            {"workloads": ["socket"], "modes": ["thread", "green", "async"], "n": [1, 10, 100],
             "pinning": [{"cpus": "0"}], "io": ["direct", "uring"]},
        ],
        "exclude": [{"workload": "yield", "mode": "green", "pinning": "unpinned"}],
    }
    caps = capabilities_of(RECORDED_INFO)
    cases, settings = expand_manifest(man, caps)
    # 24 socket + yield thread + futex thread + 6 over pipe/tcp + 3 direct at N=100
    # + 9 uring (direct at N = 1, 10 are block 1's cases: duplicates dropped)
    assert len(cases) == 24 + 2 + 6 + 3 + 9, len(cases)
    assert settings["excluded"] == 2, settings                    # futex green, yield green
    tcp = next(c for c in cases if c["transport"] == "tcp" and c["mode"] == "async")
    a = case_argv("csgb", tcp)
    assert a[a.index("--transport") + 1] == "tcp" and a[a.index("--io") + 1] == "direct", a
    assert "tr=tcp" in tcp["id"] and "io=direct" in tcp["id"], tcp["id"]
    ring = next(c for c in cases if c["io"] == "uring" and c["n"] == 100 and c["mode"] == "green")
    a = case_argv("csgb", ring)
    assert a[a.index("--io") + 1] == "uring" and a[a.index("--transport") + 1] == "unix", a
    y = next(c for c in cases if c["workload"] == "yield")
    assert y["transport"] is None and "--transport" not in case_argv("csgb", y), y
    assert all(c["mode"] in caps.modes_for(c["workload"]) for c in cases)
    # Names come from csgb info: a transport or io path it does not list is an error;
    # one it lists but the workload does not take is dropped and counted.
    for bad in ({"matrix": {"workloads": ["socket"], "modes": ["thread"], "n": [1],
                            "transports": ["udp"]}},
                {"matrix": {"workloads": ["socket"], "modes": ["thread"], "n": [1],
                            "io": ["epoll"]}},
                {"matrix": {"workloads": ["socket"], "modes": ["thread"], "n": [1],
                            "flags": ["--io", "uring"]}}):
        try:
            expand_manifest(bad, caps)
        except ManifestError:
            continue
        raise AssertionError("accepted a bad manifest: %r" % bad)
    narrow = json.loads(json.dumps(RECORDED_INFO))
    narrow["capabilities"]["workloads"][0]["transports"] = ["unix", "pipe"]
    narrow["capabilities"]["workloads"][0]["modes"] = ["thread", "green"]
    few, st = expand_manifest({"matrix": {"workloads": ["socket", "yield"], "modes": ["thread", "async"],
                                          "n": [1], "transports": ["pipe", "tcp"]}},
                              capabilities_of(narrow))
    assert sorted(c["id"] for c in few) == ["socket n=1 thread unpinned ws=0 tr=pipe io=direct",
                                            "yield n=1 async unpinned ws=0 io=direct",
                                            "yield n=1 thread unpinned ws=0 io=direct"], few
    assert st["excluded"] == 3, st   # socket over tcp (2 modes), socket async over pipe
    a = case_argv("csgb", next(c for c in cases if c["mode"] == "green" and c["workers"] and c["n"] == 10))
    assert a[a.index("--workers") + 1] == "2" and a[a.index("--pin") + 1] == "each", a
    one = next(c for c in cases if c["mode"] == "green" and c["workers"] and c["n"] == 1)
    assert one["workers"] == 1, one                               # never more workers than pairs
    t = next(c for c in cases if c["mode"] == "thread" and c["cpus"] == "0-1")
    assert t["workers"] is None and "--workers" not in case_argv("csgb", t)
    assert "--work-size" in case_argv("csgb", next(c for c in cases if c["work_size"] == 65536))
    for bad in ({"matrix": {"workloads": ["sockets"], "modes": ["thread"], "n": [1]}},
                {"matrix": {"workloads": ["socket"], "modes": ["thread"], "n": [0]}},
                {"matrix": {"workloads": ["socket"], "modes": ["thread"], "n": [1],
                            "pinning": [{"cpus": "zero"}]}},
                {"matrix": {"workloads": ["socket"], "modes": ["thread"], "n": [1],
                            "flags": ["--mode", "green"]}},
                {"matrix": []}, {"defaults": {"durations": 1}, "matrix": {}}):
        try:
            expand_manifest(bad, caps)
        except ManifestError:
            continue
        raise AssertionError("accepted a bad manifest: %r" % bad)
    assert parse_size("64k", "x") == (65536, "64K") and parse_size(0, "x") == (0, "0")
    assert flatten({"a": {"b": 1, "c": {"d": None}}, "counters": {"events": {"x": 1}, "ipc": None}}) \
        == {"a_b": 1, "a_c_d": None, "counters_ipc": None}

    prepare_cases(cases, "csgb", caps)
    base = {"thread": 11000.0, "green": 3800.0, "async": 5200.0}
    runs = []
    for c in cases:
        for rep in (1, 2):
            ns = base[c["mode"]] * (1 + 0.3 * math.log10(c["n"])) * (1 + 0.01 * rep) \
                * (1.5 if c["work_size"] else 1)
            enters = None
            if c["io"] == "uring":
                # made up: the ring loses in thread mode and at small N, and wins from
                # N = 100 in green and async, where one enter serves many round trips
                ns *= 1.2 if c["mode"] == "thread" or c["n"] < 100 else 0.7
                enters = 2.0 if c["mode"] == "thread" else 1.0 / c["n"]
            sw = 2.7 if c["mode"] == "thread" else 1e-5
            rpt = {"workload": c["workload"], "mode": c["mode"], "n": c["n"],
                   "ns_per_iteration": ns, "voluntary_switches_per_iteration": sw * 0.9,
                   "involuntary_switches_per_iteration": sw * 0.1, "eagain": 0,
                   "fairness": {"min": 10, "max": 12, "cv": 0.01}, "os_threads": 2,
                   "cpus": c["cpus"] or "", "work_size": c["work_size"],
                   "transport": c["transport"], "io": c["io"],
                   "io_uring_enter_per_iteration": enters,
                   "sqes_per_enter": None if enters is None else 2.0 / enters,
                   "environment": {"kernel": "test"}}
            runs.append({"case": c, "kind": "timing", "repeat": rep, "status": "ok",
                         "exit_code": 0, "wall_seconds": 0.3, "error": "", "report": rpt,
                         "command": shlex.join(c["argv"])})
        # counter runs: socket has made-up hardware figures except on 0-1, yield all null
        hw = c["workload"] == "socket" and c["cpus"] == "0"
        cnt = {"hardware": "supported" if hw else "not supported",
               "ipc": 0.8 + 0.1 * caps.mode_rank(c["mode"]) if hw else None,
               "cache_misses_per_iteration": 20.0 * c["n"] if hw else None,
               "dtlb_load_misses_per_iteration": None,
               "context_switches_per_iteration": 2.7, "events": {"cycles:u": {"count": 1}}}
        runs.append({"case": c, "kind": "counters", "repeat": 1, "status": "ok", "exit_code": 0,
                     "wall_seconds": 0.3, "error": "", "command": "x",
                     "report": {"ns_per_iteration": 1.0, "counters": cnt}})
    bad_case = cases[0]
    runs.append({"case": bad_case, "kind": "timing", "repeat": 3, "status": "failed",
                 "exit_code": 71, "wall_seconds": 0.1, "error": "exit 71: too many threads",
                 "stderr": "csgb: too many threads\n", "command": "csgb socket 1"})
    for c in cases:
        c["summary"] = summarize_case(c, [r for r in runs if r["case"] is c])
    s = next(c for c in cases if c["workload"] == "socket" and c["mode"] == "thread"
             and c["n"] == 1 and c["cpus"] == "0" and not c["work_size"])["summary"]
    assert abs(s["ns_per_iteration"] - 11000 * 1.015) < 1e-6, s
    assert s["counters_ipc"] == 0.8 and s["counters_dtlb_load_misses_per_iteration"] is None, s
    ratios = compute_ratios(cases, caps)
    r = next(r for g, n, r in ratios if g[0] == "socket" and n == 1)
    assert abs(r["green/thread"] - 3800 / 11000) < 1e-9, r
    assert not any(g[0] == "yield" for g, n, r in ratios)   # one mode only: no ratio
    assert all(r["async/thread"] is not None for g, n, r in ratios)

    with tempfile.TemporaryDirectory(prefix="sweep-selftest-") as tmp:
        out = Path(keep_dir or tmp)
        doc = {"started": "now", "finished": "now", "elapsed_seconds": 1.0,
               "estimated_seconds": 1.0, "command": "sweep.py --self-test",
               "manifest_path": "selftest.json", "manifest": man, "settings": settings,
               "csgb": "csgb", "csgb_info": dict(RECORDED_INFO, hardware_pmu=True),
               "git": None, "python": sys.executable}
        write_outputs(out, doc, cases, runs, "counters: synthetic", caps)
        names = sorted(os.listdir(out))
        for f in ("results.csv", "results.json", "summary.md"):
            assert f in names, names
        with open(out / "results.csv") as f:
            rows = list(csv.DictReader(f))
        assert len(rows) == len(runs), (len(rows), len(runs))
        assert rows[0]["fairness_cv"] == "0.01" and "counters_ipc" in rows[0], rows[0].keys()
        assert any(r["status"] == "failed" and "too many" in r["stderr"] for r in rows)
        assert {"transport", "io", "io_uring_enter_per_iteration"} <= set(rows[0]), rows[0].keys()
        assert any(r["transport"] == "pipe" for r in rows) and any(r["io"] == "uring" for r in rows)
        summary = (out / "summary.md").read_text()
        assert "too many threads" in summary and "green/thread" in summary
        io_part = summary[summary.index("## io_uring against direct"):summary.index("## Failures")]
        assert "thread mode: uring never beats direct here" in io_part, io_part
        assert "green mode: uring beats direct at N = 100 (N=100:" in io_part, io_part
        assert "not at N = 1, 10" in io_part, io_part
        assert "async mode: uring beats direct at N = 100" in io_part, io_part
        green100 = [l for l in io_part.splitlines() if l.startswith("| green | 100 |")]
        assert len(green100) == 1 and "0.70×" in green100[0] and "0.0100" in green100[0], green100
        verdicts = [l for l in io_part.splitlines() if l.startswith("- ")]
        assert len(verdicts) == 3 and not any("ranges overlap" in l for l in verdicts), verdicts   # 0.70x and 1.20x against runs 1 % apart
        # --resummarize rebuilds the same summary from results.json alone
        resummarize(out, capabilities_of, read_results(out, need=("cases", "runs", "csgb_info")))
        assert (out / "summary.md").read_text() == summary
        doc2 = json.loads((out / "results.json").read_text())
        assert len(doc2["io_comparison"]) == 9, len(doc2["io_comparison"])
        assert any(r.get("transport") == "tcp" for r in doc2["ratios"]), doc2["ratios"][:2]
        pngs = [n for n in names if n.endswith(".png")]
        if matplotlib_interpreter() is not None:
            assert "socket-counters.png" in pngs and "socket-ns_per_iteration.png" in pngs, pngs
            assert "yield-ns_per_iteration.png" in pngs, pngs
        print("self-test: ok (%d cases, %d runs; files: %s)" % (len(cases), len(runs),
                                                                ", ".join(names)))
    return 0
