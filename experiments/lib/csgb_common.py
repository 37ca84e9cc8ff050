"""What the experiment scripts share: repository paths, csgb's exit codes, medians and
the noise threshold, number formatting, the registry of baseline programs, a case's
command line, the one runner every driver uses for a csgb or baseline run (`run_once`),
reading csgb's JSON report and a baseline's key: value output, and what the binary can
run (`csgb info --format json`).

Standard library only, so every script (bench.py, sweep*.py, cells.py, plot.py,
stop_latency.py, measure_overhead.py, explain_findings.py, compare.py) imports it
without matplotlib.
"""
import argparse
import json
import os
import sys
import math
import re
import shlex
import statistics
import subprocess
import time
from collections import namedtuple
from pathlib import Path

LIB = Path(__file__).resolve().parent
HERE = LIB.parent          # experiments/: the drivers
REPO = HERE.parent
# A source checkout has Package.swift beside experiments/. An unpacked archive (make
# dist) has bin/csgb there instead: its csgb is that one (or csgb on PATH, installed),
# and results go under the current directory, never into the archive or an installed tree.
SOURCE_CHECKOUT = (REPO / "Package.swift").is_file()
if SOURCE_CHECKOUT:
    DEFAULT_CSGB = REPO / ".build" / "release" / "csgb"
    RESULTS_ROOT = HERE / "results"
else:
    import shutil
    DEFAULT_CSGB = REPO / "bin" / "csgb"
    if not DEFAULT_CSGB.exists() and shutil.which("csgb"):
        DEFAULT_CSGB = Path(shutil.which("csgb"))
    RESULTS_ROOT = Path.cwd()
BASELINE_BIN = HERE / "baselines" / "bin"

# csgb's exit codes (README, "Exit codes and errors").
EXIT_OK = 0
EXIT_EXPECTATION_FAILED = 3   # csgb stat: an expectation failed
EXIT_RUN_FAILED = 3           # a run that did not do what it claims (its report is printed)
EXIT_USAGE = 64               # bad arguments, or a mode this machine cannot run
EXIT_UNAVAILABLE = 69         # perf missing or not permitted, io_uring unavailable
EXIT_OS_LIMIT = 71
EXIT_OUTPUT = 74
EXIT_INTERRUPTED = 130

NOISY_CV = 0.05   # a case whose runs vary more than this (stdev / mean) is flagged NOISY

CPULIST_RE = re.compile(r"^\d+(-\d+)?(,\d+(-\d+)?)*$")


class ArgumentParser(argparse.ArgumentParser):
    """argparse with csgb's exit code for bad arguments: 64 (EX_USAGE) and one line,
    instead of argparse's 2 and its usage block."""

    def error(self, message):
        self.exit(EXIT_USAGE, "%s: %s (see --help)\n" % (self.prog, message))


# ---------------------------------------------------------------- statistics

def finite_numbers(values):
    return [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)
            and math.isfinite(v)]


def median(values):
    """Median of the finite numbers among values; None when there are none."""
    vals = finite_numbers(values)
    return statistics.median(vals) if vals else None


def cv(values):
    """Coefficient of variation (sample stdev / mean); None under 2 values."""
    vals = finite_numbers(values)
    if len(vals) < 2:
        return None
    mean = statistics.fmean(vals)
    return statistics.stdev(vals) / mean if mean > 0 else None


def is_noisy(cv_value):
    return cv_value is not None and cv_value > NOISY_CV


def fmt_seconds(x):
    return "%g" % x


def fmt(x, digits=None):
    """A figure for a table: thousands grouped, digits by magnitude unless given;
    "–" for a missing one."""
    if x is None:
        return "–"
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, int) and digits is None:
        return "{:,}".format(x)
    if digits is None:
        a = abs(x)
        digits = 0 if a >= 1000 else 1 if a >= 100 else 2 if a >= 1 else 4
    return "{:,.{}f}".format(x, digits)


# ---------------------------------------------------------------- baseline programs

# Every program of experiments/baselines/bin (built by `make baselines`, `make floor`),
# once: the binary and its leading arguments, the csgb workload it does the same work
# as (None: no csgb workload, e.g. a notify ping-pong without sockets), the csgb mode
# it is the reference of (what the sweep compares it with by default), and what it is.
# bench.py names its cases after these; a sweep manifest's "baselines" may name any
# program that has a workload.
Baseline = namedtuple("Baseline", "binary args workload reference what")
BASELINES = {
    "echo_loop": Baseline("echo_loop", (), "socket", "green",
                          "one thread, write/read/write/read on a blocking socket pair: "
                          "the 4-syscall floor"),
    "echo_loop_nonblocking": Baseline("echo_loop_nonblocking", (), "socket", "async",
                                      "the same 4 syscalls on a non-blocking pair (as green/"
                                      "async use it)"),
    "echo_threads": Baseline("echo_threads", (), "socket", "thread",
                             "socket pair echo, one kernel thread per side, blocking"),
    "echo_processes": Baseline("echo_processes", (), "socket", "process",
                               "socket pair echo, one forked process per side, blocking"),
    "echo_processes_ibpb": Baseline("echo_processes", ("-i",), "socket", "process",
                                    "echo_processes with PR_SPEC_INDIRECT_BRANCH force-disabled "
                                    "(an IBPB at every address-space switch)"),
    "tokio_echo": Baseline("tokio_echo", (), "socket", "async",
                           "tokio current-thread echo, Notify pairing, non-blocking pair"),
    "go_echo": Baseline("go_echo", (), "socket", "async",
                        "Go goroutine echo through the netpoller"),
    "swift_floor_echo": Baseline("swift_floor", ("echo",), "socket", "async",
                                 "tokio_echo's design in minimal Swift: tasks, continuation "
                                 "notify, the same 4 syscalls, no csgb code (`make floor`)"),
    # The same echoes with send(2)/recv(2) (-S), as Rust's UnixStream moves bytes:
    # compared with `csgb socket --syscalls send-recv`.
    "echo_loop_sendrecv": Baseline("echo_loop", ("-S",), "socket", "green",
                                   "echo_loop with send/recv instead of write/read"),
    "echo_threads_sendrecv": Baseline("echo_threads", ("-S",), "socket", "thread",
                                      "echo_threads with send/recv instead of write/read"),
    "tokio_echo_sendrecv": Baseline("tokio_echo", ("-S",), "socket", "async",
                                    "tokio_echo with send/recv instead of write/read"),
    "go_echo_sendrecv": Baseline("go_echo", ("-S",), "socket", "async",
                                 "go_echo with sendto/recvfrom on the netpoller's descriptor"),
    "yield_threads": Baseline("yield_threads", (), "yield", "thread",
                              "kernel threads calling sched_yield"),
    "fiber_yield": Baseline("fiber_yield", (), "yield", "green",
                            "Boost.Context fibers jumping round-robin (no scheduler)"),
    "fiber_rr_yield": Baseline("fiber_rr_yield", (), "yield", "async",
                               "Boost.Fiber yield under its round_robin scheduler"),
    "go_gosched": Baseline("go_gosched", (), "yield", "async",
                           "Go goroutines yielding with runtime.Gosched"),
    "swift_floor_yield": Baseline("swift_floor", ("yield",), "yield", "async",
                                  "Swift tasks yielding through the enqueue hook, no sockets"),
    "swift_floor_static_yield": Baseline("swift_floor_static", ("yield",), "yield", "async",
                                         "swift_floor_yield with the Swift runtime linked "
                                         "statically"),
    "tokio_notify": Baseline("tokio_notify", (), None, None,
                             "tokio Notify ping-pong, no sockets (2 hops per iteration)"),
    "swift_floor_notify": Baseline("swift_floor", ("notify",), None, None,
                                   "Swift tasks ping-ponging through continuations, no sockets "
                                   "(2 hops per iteration; `make floor`)"),
    "swift_floor_static_notify": Baseline("swift_floor_static", ("notify",), None, None,
                                          "swift_floor_notify with the Swift runtime linked "
                                          "statically"),
}


# ---------------------------------------------------------------- command lines

def csgb_argv(csgb, workload, n, mode=None, cpus=None, pin=None, workers=None,
              work_size=None, transport=None, io=None, flags=(), duration=None,
              warmup=None, counters=False, report_format="json"):
    """One csgb run's argv, options in a fixed order; None leaves csgb's default."""
    argv = [str(csgb), workload, str(n)]
    if mode is not None:
        argv += ["--mode", mode]
    if transport is not None:
        argv += ["--transport", transport]
    if io is not None:
        argv += ["--io", io]
    if cpus is not None:
        argv += ["--cpus", cpus]
        if pin is not None:
            argv += ["--pin", pin]
    if workers:
        argv += ["--workers", str(workers)]
    if work_size:
        argv += ["--work-size", str(work_size)]
    argv += list(flags)
    if counters and "--counters" not in flags:
        argv.append("--counters")
    if duration is not None:
        argv += ["--duration", fmt_seconds(duration)]
    if warmup is not None:
        argv += ["--warmup", fmt_seconds(warmup)]
    if report_format is not None:
        argv += ["--format", report_format]
    return argv


def baseline_binary(program):
    """The executable of a BASELINES entry."""
    return BASELINE_BIN / BASELINES[program].binary


def baseline_argv(program, n, duration, warmup, cpus=None):
    """A BASELINES program: `BINARY [args] -n N -d D -w W [-c CPUS]`."""
    argv = [str(baseline_binary(program))] + list(BASELINES[program].args) + [
        "-n", str(n), "-d", fmt_seconds(duration), "-w", fmt_seconds(warmup)]
    return argv + (["-c", cpus] if cpus is not None else [])


# ---------------------------------------------------------------- reading output

def parse_report(stdout):
    """The report object from csgb's stdout. csgb prints exactly one JSON object;
    anything around it (a wrapper's banner) is tolerated. Raises ValueError when
    there is no report or it lacks ns_per_iteration."""
    text = stdout.strip()
    try:
        doc = json.loads(text)
    except ValueError:
        start, end = text.find("{"), text.rfind("}")
        if start < 0 or end <= start:
            raise ValueError("no JSON object in stdout")
        try:
            doc = json.loads(text[start:end + 1])
        except ValueError as error:
            raise ValueError("unparsable JSON: %s" % error)
    if not isinstance(doc, dict):
        raise ValueError("stdout is JSON but not an object")
    ns = doc.get("ns_per_iteration")
    if not isinstance(ns, (int, float)) or isinstance(ns, bool):
        raise ValueError("report lacks ns_per_iteration")
    return doc


# The key: value lines of a baseline's output (experiments/baselines/common.h).
BASELINE_OUTPUT_KEYS = {
    "total iterations": "iterations",
    "seconds": "seconds",
    "ns_per_iteration": "ns_per_iteration",
    "iterations_per_second": "iterations_per_second",
    "voluntary_switches_per_iteration": "voluntary_switches_per_iteration",
    "involuntary_switches_per_iteration": "involuntary_switches_per_iteration",
}
BASELINE_REQUIRED = ("iterations", "seconds", "ns_per_iteration", "iterations_per_second")


def parse_baseline_output(stdout, stderr):
    """A baseline's figures from its stdout and stderr. Raises ValueError when a
    line cannot be read, a required figure is missing or there were no iterations."""
    values = {}
    for line in (stdout + "\n" + stderr).splitlines():
        key, sep, value = line.partition(":")
        key = key.strip()
        if sep and key in BASELINE_OUTPUT_KEYS:
            try:
                values[BASELINE_OUTPUT_KEYS[key]] = float(value.strip())
            except ValueError:
                raise ValueError("cannot read %r" % line)
    missing = [k for k in BASELINE_REQUIRED if k not in values]
    if missing:
        raise ValueError("output lacks %s" % ", ".join(missing))
    if not values["iterations"]:
        raise ValueError("no iterations in the baseline's output")
    return values


# ---------------------------------------------------------------- running one case

STDERR_KEEP = 4000   # characters of a run's stderr kept in its record


class UsageError(Exception):
    """A run exited 64: its command line is wrong (a misspelt flag, a value out of
    range). That is a bug in the driver or its manifest, not a result: the driver
    stops with csgb's own message instead of skipping the case."""

    def __init__(self, command, message):
        Exception.__init__(self, "%s: exit 64: %s" % (command, message))
        self.command = command
        self.message = message


def first_line(text):
    return next((l.strip() for l in (text or "").splitlines() if l.strip()), "")


def run_once(argv, timeout, baseline=False):
    """Runs one csgb case (argv ending in --format json) or one baseline program and
    returns its record: command, status, exit_code, wall_seconds, error, stderr, and
    report (csgb's JSON object, or the baseline's figures) when it has one.

    status: "ok"; "interrupted" (csgb stopped by a signal instead of its duration,
    a warm-up that did not complete, or exit 130: stopped before the run started);
    "failed" (exit 3 or a report whose failed transfers, EAGAINs or lost actors say
    the run did not do what it claims (run_failure; the report is kept), another
    non-zero exit, a signal, a timeout, output that cannot be read, no iterations); "unsupported" (csgb exit 69: this machine cannot run the case).
    Only "ok" runs are figures. Raises UsageError on exit 64."""
    t0 = time.monotonic()
    rec = {"command": shlex.join(argv)}
    try:
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        err = e.stderr.decode(errors="replace") if isinstance(e.stderr, bytes) else (e.stderr or "")
        rec.update(status="failed", exit_code=None, wall_seconds=round(time.monotonic() - t0, 3),
                   error="timed out after %g s" % timeout, stderr=err[-STDERR_KEEP:])
        return rec
    except OSError as e:
        rec.update(status="failed", exit_code=None, wall_seconds=0.0,
                   error="cannot start %s: %s" % (argv[0], e), stderr="")
        return rec
    rec["wall_seconds"] = round(time.monotonic() - t0, 3)
    rec["exit_code"] = p.returncode
    rec["stderr"] = p.stderr[-STDERR_KEEP:]
    message = first_line(p.stderr) or "(no message)"
    if p.returncode == EXIT_USAGE:
        raise UsageError(rec["command"], message)
    if p.returncode == EXIT_INTERRUPTED:
        rec.update(status="interrupted", error="exit 130: %s" % message)
        return rec
    if p.returncode == EXIT_UNAVAILABLE and not baseline:
        # What this machine cannot do (a speculation control its kernel does not let a
        # task choose, io_uring disabled): not a failure of the run, but no figure.
        rec.update(status="unsupported", error="exit 69: %s" % message)
        return rec
    if p.returncode == EXIT_RUN_FAILED and not baseline:
        # csgb ran but the run did not do what it claims (a failed transfer, an EAGAIN
        # where none may occur, an actor lost): its report is kept, its figure is not one.
        try:
            rec["report"] = parse_report(p.stdout)
        except ValueError:
            pass
        why = run_failure(rec["report"]) if "report" in rec else None
        rec.update(status="failed", error="exit %d: %s" % (EXIT_RUN_FAILED, why or message))
        return rec
    if p.returncode != 0:
        sig = " (signal %d)" % -p.returncode if p.returncode < 0 else ""
        rec.update(status="failed", error="exit %d%s: %s" % (p.returncode, sig, message))
        return rec
    try:
        report = parse_baseline_output(p.stdout, p.stderr) if baseline else parse_report(p.stdout)
    except ValueError as e:
        rec.update(status="failed", error="unreadable report: %s" % e,
                   stdout=p.stdout[-STDERR_KEEP:])
        return rec
    rec["report"] = report
    failure = None if baseline else run_failure(report)
    if failure:
        rec.update(status="failed", error=failure)
        return rec
    stop = interruption(report)
    if stop:
        rec.update(status="interrupted", error=stop)
        return rec
    ns = report["ns_per_iteration"]
    if not (math.isfinite(ns) and ns > 0):
        rec.update(status="failed", error="ns_per_iteration is %r (no iterations?)" % ns)
        return rec
    rec.update(status="ok", error="")
    return rec


def start_run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, new_session=False):
    """Starts one csgb run and returns its Popen, for the drivers that must act on a
    live run (send it a signal, watch it stop: stop_latency.py, signal_stress.py);
    they read its report with parse_report and judge it with run_failure and
    interruption, as run_once does. new_session: its own session and process group,
    as a terminal starts a job."""
    return subprocess.Popen([str(a) for a in argv], stdout=stdout, stderr=stderr,
                            start_new_session=new_session)


def interruption(report):
    """Why a csgb report is not a full measurement, or None: a run given a duration
    that something else stopped (`stopped_by` names the signal), or whose warm-up did
    not complete. A baseline's figures carry neither field."""
    stopped_by = report.get("stopped_by")
    if stopped_by is not None and stopped_by != "duration":
        return "stopped by %s after %s s, not by its duration" % (
            stopped_by, fmt(report.get("seconds"), 3))
    if report.get("warmup_complete") is False:
        return "stopped during its warm-up (warmup_complete false)"
    return None


# Report fields that name actors a run lost (a killed actor process, say), in the
# spellings a csgb may use; a non-empty list or a count above zero is a failed run.
LOST_ACTOR_FIELDS = ("lost_actors", "actors_lost")


def run_failure(report):
    """Why a csgb report is not a valid run though it may have run its full window,
    or None: bytes that did not arrive (failed_transfers), an EAGAIN where its claims
    say none may occur (claims.eagain_zero), or an actor lost. csgb exits 3 for such
    a run; a csgb from before that exit code reported the same fields with exit 0,
    so the fields are read whatever the exit code."""
    reasons = []
    failed = report.get("failed_transfers")
    if isinstance(failed, int) and not isinstance(failed, bool) and failed > 0:
        reasons.append("failed_transfers %d" % failed)
    eagain = report.get("eagain")
    claims = report.get("claims") if isinstance(report.get("claims"), dict) else {}
    if isinstance(eagain, int) and not isinstance(eagain, bool) and eagain > 0 \
            and claims.get("eagain_zero") is True:
        reasons.append("eagain %d where its claims allow none" % eagain)
    for field in LOST_ACTOR_FIELDS:
        lost = report.get(field)
        if (isinstance(lost, list) and lost) or (isinstance(lost, int) and not isinstance(lost, bool)
                                                  and lost > 0):
            reasons.append("%s %s" % (field, lost if isinstance(lost, int) else ", ".join(map(str, lost))))
    if not reasons:
        return None
    return "the run did not do what it claims: " + "; ".join(reasons)


def resolve_binary(path, repo=REPO):
    """`path` as given, or relative to the repository when it does not exist from
    the current directory (so the scripts work from anywhere)."""
    path = Path(path)
    if not path.is_absolute() and not path.exists():
        path = Path(repo) / path
    return path


# ---------------------------------------------------------------- what csgb can run

class CapabilitiesError(Exception):
    pass


def signal_session(pid, sig, group):
    """Sends `sig` to the session leader `pid` alone or to its whole process group
    (as a terminal's Ctrl-C does); a process already gone is not an error."""
    try:
        if group:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
    except ProcessLookupError:
        pass


def new_folder(path):
    """Creates and returns a new folder at `path`, or at path-2, path-3, ... when one
    exists: an earlier run's results are never written into."""
    candidate, k = path, 2
    while True:
        try:
            os.makedirs(candidate)
            return candidate
        except FileExistsError:
            candidate = "%s-%d" % (path, k)
            k += 1


def summary_inputs(argv, doc, name, tool):
    """What a summary script of one sweep folder starts from: (results.json as a dict,
    the path of its new summary `name` in the folder), or an exit status when the
    arguments are wrong (64 with `doc`) or the summary already exists (results are
    never overwritten)."""
    if len(argv) != 1:
        print(doc, file=sys.stderr)
        return 64
    folder = argv[0]
    from results_folder import FolderError, read_results
    try:
        results = read_results(folder, nonempty=True)
    except FolderError as e:
        print("%s: %s" % (tool, e), file=sys.stderr)
        return e.code
    out_path = os.path.join(folder, name)
    if os.path.exists(out_path):
        print("%s: %s exists; results are never overwritten" % (tool, out_path), file=sys.stderr)
        return 64
    return results, out_path


def publish_summary(out_path, lines):
    """Writes a summary from summary_inputs() (exclusively: one that appeared meanwhile
    is never overwritten), prints it and returns exit status 0."""
    text = "\n".join(lines) + "\n"
    with open(out_path, "x") as f:
        f.write(text)
    print(text)
    return 0


def csgb_info(csgb, timeout=30):
    """`csgb info --format json` as a dict. Raises CapabilitiesError with the reason
    when the binary cannot be run or prints something else."""
    try:
        p = subprocess.run([str(csgb), "info", "--format", "json"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise CapabilitiesError("cannot run %s info: %s" % (csgb, e))
    if p.returncode != 0:
        raise CapabilitiesError("%s info exited %d: %s" % (csgb, p.returncode, p.stderr.strip()))
    try:
        info = json.loads(p.stdout)
    except ValueError as e:
        raise CapabilitiesError("%s info printed no JSON: %s" % (csgb, e))
    if not isinstance(info, dict):
        raise CapabilitiesError("%s info printed JSON that is not an object" % csgb)
    return info


class Capabilities:
    """The `capabilities` object of `csgb info --format json`: the modes, io paths and
    transports the binary knows, and per workload the modes and transports that can
    run it. Lists keep csgb's order, which the tables and plots follow."""

    def __init__(self, doc):
        try:
            self.modes = [str(m) for m in doc["modes"]]
            self.io = [str(i) for i in doc["io"]]
            self.transports = [str(t) for t in doc["transports"]]
            self.executors = [str(e) for e in doc.get("executors", [])]
            self._workloads = {str(w["name"]): {"modes": [str(m) for m in w["modes"]],
                                                "transports": [str(t) for t in w.get("transports", [])],
                                                "unit": str(w.get("unit") or "actor")}
                               for w in doc["workloads"]}
        except (KeyError, TypeError) as e:
            raise CapabilitiesError("csgb info: capabilities object lacks %s" % e)
        if not self.modes or not self._workloads or not self.io:
            raise CapabilitiesError("csgb info: capabilities list no mode, workload or io path")
        self.workloads = list(self._workloads)
        self.doc = doc
        # Each mode's facts (csgb's ModeTraits): what carries its actors, its colour,
        # the options it accepts (null) or refuses (csgb's reason). A csgb from before
        # it exported them has none: then every question below answers "unknown"
        # (None) and csgb itself decides at run time, with its own message.
        facts = doc.get("mode_facts") or []
        if not isinstance(facts, list) or not all(isinstance(f, dict) and isinstance(f.get("name"), str)
                                                  for f in facts):
            raise CapabilitiesError("csgb info: capabilities.mode_facts is not a list of objects with a name")
        self.mode_facts = {f["name"]: f for f in facts}

    def fact(self, mode, name):
        """One fact of a mode from `csgb info` (colour, carrier, kernel_switching,
        switches_address_space, actors_in_this_process, summary), or None when this
        csgb does not export it."""
        return self.mode_facts.get(mode, {}).get(name)

    def refusal(self, mode, option):
        """csgb's reason why `mode` refuses `option` (e.g. "--workers"), or None when it
        accepts it or this csgb does not say (then csgb decides when it runs)."""
        options = self.mode_facts.get(mode, {}).get("options") or {}
        reason = options.get(option)
        return reason if isinstance(reason, str) else None

    def accepts(self, mode, option):
        """True when csgb's facts say `mode` takes `option`, False when they say it
        refuses it, None when this csgb exports no facts for the mode."""
        options = self.mode_facts.get(mode, {}).get("options")
        if not isinstance(options, dict) or option not in options:
            return None
        return options[option] is None

    def colour(self, mode):
        return self.fact(mode, "colour")

    def modes_where(self, **facts):
        """The modes (csgb's order) whose facts match every given value, e.g.
        modes_where(kernel_switching=True, switches_address_space=False)."""
        return [m for m in self.modes
                if all(self.fact(m, k) == v for k, v in facts.items())]

    def modes_for(self, workload):
        return list(self._workloads[workload]["modes"])

    def transports_for(self, workload):
        """The transports `--transport` accepts for this workload; [] when it takes none."""
        return list(self._workloads[workload]["transports"])

    def unit_of(self, workload):
        """What one N counts for this workload ("pair", "actor"), from `csgb info`; an
        older csgb that lists no unit counts actors."""
        return self._workloads[workload]["unit"] if workload in self._workloads else "actor"

    def actors_per_unit(self, workload):
        # A pair is two actors that echo to each other; every other unit is one actor.
        return 2 if self.unit_of(workload) == "pair" else 1

    def lacks(self, workload=None, mode=None, io=None, transport=None):
        """Why this build cannot run the case, from its `csgb info` (e.g. green mode on
        a machine whose build has no green mode); None when it lists everything."""
        if workload is not None and workload not in self._workloads:
            return "csgb info lists no workload %s (it has %s)" % (workload, ", ".join(self.workloads))
        if mode is not None and mode not in self.modes:
            return "csgb info lists no mode %s (it has %s)" % (mode, ", ".join(self.modes))
        if workload is not None and mode is not None and mode not in self.modes_for(workload):
            return "csgb info does not list %s in %s mode" % (workload, mode)
        if io is not None and io not in self.io:
            return "csgb info lists no io path %s (it has %s)" % (io, ", ".join(self.io))
        if transport is not None and workload is not None \
                and transport not in self.transports_for(workload):
            return "csgb info does not list %s over %s" % (workload, transport)
        return None

    def mode_rank(self, mode):
        return self.modes.index(mode) if mode in self.modes else len(self.modes)

    def workload_rank(self, workload):
        return self.workloads.index(workload) if workload in self.workloads else len(self.workloads)

    def default_transport(self, workload):
        ts = self.transports_for(workload)
        return ts[0] if ts else None

    @property
    def default_io(self):
        return self.io[0]


def capabilities_of(info):
    """Capabilities from a parsed `csgb info` document."""
    caps = info.get("capabilities") if isinstance(info, dict) else None
    if not isinstance(caps, dict):
        raise CapabilitiesError("csgb info has no capabilities object (a csgb older than "
                                "--transport/--io? rebuild with: make release)")
    return Capabilities(caps)


def capabilities(csgb):
    """What the csgb binary at `csgb` can run, from `csgb info --format json`."""
    return capabilities_of(csgb_info(csgb))
