"""A sweep manifest: loading, validating against what the csgb binary can run
(`csgb info` capabilities), and expanding into cases with their command lines
and the time estimate. See experiments/README.md, "Manifest"."""

import json
import re

from csgb_common import BASELINES, CPULIST_RE, baseline_argv, csgb_argv

DEFAULTS = {"duration": 0.5, "warmup": 0.1, "repeats": 3, "timeout": 60.0}
BLOCK_KEYS = {"workloads", "modes", "n", "pinning", "work_sizes", "transports", "io", "flags",
              "duration", "warmup", "repeats", "timeout"}
TOP_KEYS = {"description", "defaults", "matrix", "exclude", "flags", "mode_flags",
            "counters", "counter_repeats", "baselines"}
BASELINE_KEYS = {"program", "n", "pinning", "compare", "duration", "warmup", "repeats",
                 "timeout"}
# The baseline programs a manifest may name: those of csgb_common.BASELINES that do
# the work of a csgb workload (program -> (workload, the mode it is the reference of)).
BASELINE_PROGRAMS = {name: (b.workload, b.reference) for name, b in BASELINES.items()
                     if b.workload is not None}
# The baselines' socket loops use a Unix socketpair and read(2)/write(2).
BASELINE_TRANSPORT, BASELINE_IO = "unix", "direct"
PIN_KEYS = {"cpus", "pin", "workers", "label"}
EXCLUDE_KEYS = {"workload", "mode", "n", "pinning", "cpus", "pin", "workers", "work_size",
                "transport", "io"}
SIZE_RE = re.compile(r"^(\d+)([KMG]?)$", re.IGNORECASE)
# Flags the matrix sets itself; refused in `flags` so that a case is what its id says.
MATRIX_FLAGS = ("--format", "--duration", "-d", "--warmup", "--mode", "-m", "--cpus",
                "--pin", "--work-size", "--workers", "-w", "--transport", "--io")

# Start-up cost of one run beyond duration + warm-up (process start, creating the
# actors, the start gate, the report), measured on the 2-vCPU development VM:
# about 0.03 s for small N, 0.26 s for `socket 1000` with kernel threads as carriers
# (2,000 threads), 0.09 s for `socket 1000` on green threads. Used only for the estimate printed up front.
STARTUP_BASE_S = 0.03
STARTUP_PER_THREAD_S = 1.3e-4
STARTUP_PER_GREEN_S = 4.5e-5


class ManifestError(Exception):
    pass


def parse_size(value, where):
    """Work size: an int (bytes) or a string such as "64K". Returns (bytes, label)."""
    if isinstance(value, bool):
        raise ManifestError("%s: expected bytes, got %r" % (where, value))
    if isinstance(value, int):
        if value < 0:
            raise ManifestError("%s: negative size %r" % (where, value))
        return value, str(value)
    if isinstance(value, str):
        m = SIZE_RE.match(value.strip())
        if m:
            mult = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}[m.group(2).upper()]
            return int(m.group(1)) * mult, value.strip().upper()
    raise ManifestError("%s: expected bytes such as 0, 4096 or \"64K\", got %r" % (where, value))


def as_list(block, key, where):
    v = block.get(key)
    if v is None:
        raise ManifestError("%s: missing %r" % (where, key))
    if not isinstance(v, list) or not v:
        raise ManifestError("%s: %r must be a non-empty list" % (where, key))
    return v


def names(block, key, known, where, default):
    """A list of names from `known` (csgb's capabilities), or `default` when absent."""
    if key not in block:
        return list(default)
    values = as_list(block, key, where)
    for v in values:
        if v not in known:
            raise ManifestError("%s: unknown %s %r (this csgb knows: %s)"
                                % (where, key.rstrip("s"), v, ", ".join(known)))
    return values


def check_flags(v, where):
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise ManifestError("%s: expected a list of strings (command-line flags)" % where)
    for f in v:
        if f in MATRIX_FLAGS:
            raise ManifestError("%s: %s is set by the matrix, not by flags" % (where, f))
    return list(v)


# Upper bounds of a manifest's numbers: a run of more than a day, or more repeats
# than anyone waits for, is a typo (1e308 s once ended in a traceback).
MAX_SECONDS = 86400.0
MAX_REPEATS = 10000


def number(v, where, minimum, integer=False, maximum=None):
    ok = isinstance(v, int) if integer else isinstance(v, (int, float))
    if not ok or isinstance(v, bool) or not (v >= minimum) or v != v \
            or (maximum is not None and v > maximum):
        raise ManifestError("%s: expected %s from %g%s, got %r"
                            % (where, "an integer" if integer else "a number", minimum,
                               " to %g" % maximum if maximum is not None else "", v))
    return v


def pin_label(p):
    if p.get("label"):
        return str(p["label"])
    if "cpus" not in p:
        return "unpinned"
    label = "cpus %s" % p["cpus"]
    if p.get("pin") == "each":
        label += " each"
    if p.get("workers"):
        label += ", %d workers" % p["workers"]
    return label


def load_manifest(path):
    try:
        with open(path) as f:
            doc = json.load(f)
    except OSError as e:
        raise ManifestError("cannot read %s: %s" % (path, e))
    except ValueError as e:
        raise ManifestError("%s is not valid JSON: %s" % (path, e))
    return doc


def check_pinnings(pinnings, where):
    if not isinstance(pinnings, list) or not pinnings:
        raise ManifestError("%s: 'pinning' must be a non-empty list of objects" % where)
    for p in pinnings:
        if not isinstance(p, dict):
            raise ManifestError("%s.pinning: expected objects such as {\"cpus\": \"0\"}" % where)
        bad = set(p) - PIN_KEYS
        if bad:
            raise ManifestError("%s.pinning: unknown key(s) %s (known: %s)"
                                % (where, ", ".join(sorted(bad)), ", ".join(sorted(PIN_KEYS))))
        if "cpus" in p and not (isinstance(p["cpus"], str) and CPULIST_RE.match(p["cpus"])):
            raise ManifestError("%s.pinning: cpus must be a CPU list such as \"0\", \"0-1\", "
                                "\"0,2\"; got %r" % (where, p["cpus"]))
        if "pin" in p and p["pin"] not in ("set", "each"):
            raise ManifestError("%s.pinning: pin must be \"set\" or \"each\"" % where)
        if "pin" in p and "cpus" not in p:
            raise ManifestError("%s.pinning: pin needs cpus" % where)
        if "workers" in p:
            number(p["workers"], where + ".pinning.workers", 1, integer=True)
    return pinnings


def excluded_by(case, excludes):
    return any(all(str(case.get(k)) == str(v) or
                   (k == "work_size" and str(case["work_size_label"]) == str(v).upper())
                   for k, v in e.items()) for e in excludes)


def expand_manifest(doc, caps, largest_n=None):
    """Validates a manifest against csgb's capabilities (csgb_common.Capabilities) and
    returns (cases, settings). Each case is a dict of its parameters; cases keep
    manifest order, duplicates dropped. A workload x mode or workload x transport
    that csgb cannot run (futex in green mode, yield over tcp) is dropped and
    counted in settings["excluded"]. An N given as "max" becomes the largest N
    csgb's limit checks allow for that case (`largest_n(case)`, which asks csgb
    itself: `csgb <workload> max ... --largest-n`)."""
    if not isinstance(doc, dict):
        raise ManifestError("the manifest must be a JSON object")
    unknown = set(doc) - TOP_KEYS
    if unknown:
        raise ManifestError("unknown top-level key(s): %s (known: %s)"
                            % (", ".join(sorted(unknown)), ", ".join(sorted(TOP_KEYS))))
    defaults = dict(DEFAULTS)
    d = doc.get("defaults", {})
    if not isinstance(d, dict):
        raise ManifestError("defaults: expected an object")
    for k, v in d.items():
        if k not in DEFAULTS:
            raise ManifestError("defaults: unknown key %r (known: %s)" % (k, ", ".join(DEFAULTS)))
        defaults[k] = number(v, "defaults.%s" % k, 1 if k in ("repeats", "timeout") else 0,
                             integer=(k == "repeats"),
                             maximum=MAX_REPEATS if k == "repeats" else MAX_SECONDS)
    global_flags = check_flags(doc.get("flags", []), "flags")
    mode_flags = doc.get("mode_flags", {})
    if not isinstance(mode_flags, dict):
        raise ManifestError("mode_flags: expected an object {mode: [flags]}")
    for m, fl in mode_flags.items():
        if m not in caps.modes:
            raise ManifestError("mode_flags: unknown mode %r (this csgb knows: %s)"
                                % (m, ", ".join(caps.modes)))
        check_flags(fl, "mode_flags.%s" % m)
    counters = doc.get("counters", "auto")
    if counters not in ("off", "auto", "on"):
        raise ManifestError("counters: expected \"off\", \"auto\" or \"on\", got %r" % counters)
    counter_repeats = number(doc.get("counter_repeats", 1), "counter_repeats", 1, integer=True,
                             maximum=MAX_REPEATS)
    excludes = doc.get("exclude", [])
    if not isinstance(excludes, list) or not all(isinstance(e, dict) and e for e in excludes):
        raise ManifestError("exclude: expected a list of objects such as "
                            "{\"workload\": \"yield\", \"mode\": \"async\"}")
    for e in excludes:
        bad = set(e) - EXCLUDE_KEYS
        if bad:
            raise ManifestError("exclude: unknown key(s) %s (known: %s)"
                                % (", ".join(sorted(bad)), ", ".join(sorted(EXCLUDE_KEYS))))

    matrix = doc.get("matrix")
    if isinstance(matrix, dict):
        matrix = [matrix]
    if not isinstance(matrix, list) or not matrix:
        raise ManifestError("matrix: expected a block object or a non-empty list of blocks")

    cases, seen, excluded, refused = [], set(), 0, {}
    for bi, block in enumerate(matrix):
        where = "matrix[%d]" % bi
        if not isinstance(block, dict):
            raise ManifestError("%s: expected an object" % where)
        unknown = set(block) - BLOCK_KEYS
        if unknown:
            raise ManifestError("%s: unknown key(s) %s (known: %s)"
                                % (where, ", ".join(sorted(unknown)), ", ".join(sorted(BLOCK_KEYS))))
        workloads = names(block, "workloads", caps.workloads, where, None) \
            if "workloads" in block else as_list(block, "workloads", where)
        modes = names(block, "modes", caps.modes, where, None) \
            if "modes" in block else as_list(block, "modes", where)
        transports = names(block, "transports", caps.transports, where, [None])
        ios = names(block, "io", caps.io, where, [caps.default_io])
        ns = [n if n == "max" else number(n, where + ".n", 1, integer=True) for n in as_list(block, "n", where)]
        pinnings = check_pinnings(block.get("pinning", [{}]), where)
        sizes = [parse_size(s, where + ".work_sizes") for s in block.get("work_sizes", [0])]
        flags = check_flags(block.get("flags", []), where + ".flags")
        duration = number(block.get("duration", defaults["duration"]), where + ".duration", 0.001,
                          maximum=MAX_SECONDS)
        warmup = number(block.get("warmup", defaults["warmup"]), where + ".warmup", 0,
                        maximum=MAX_SECONDS)
        repeats = number(block.get("repeats", defaults["repeats"]), where + ".repeats", 1,
                         integer=True, maximum=MAX_REPEATS)
        timeout = number(block.get("timeout", defaults["timeout"]), where + ".timeout", 1,
                         maximum=MAX_SECONDS)

        for w in workloads:
            # A workload that takes no --transport (yield, futex) runs once per other
            # combination, whatever the block's transports; one that does runs over
            # each listed transport it accepts (csgb's default when none is listed).
            accepted = caps.transports_for(w)
            if not accepted:
                w_transports = [None]
            else:
                w_transports = [t or caps.default_transport(w) for t in transports]
                excluded += sum(1 for t in w_transports if t not in accepted) * len(modes)
                w_transports = [t for t in w_transports if t in accepted]
            for m in modes:
                if m not in caps.modes_for(w):
                    excluded += len(w_transports)
                    continue
                for t in w_transports:
                    for io in ios:
                        for n in ns:
                            for p in pinnings:
                                for size, size_label in sizes:
                                    # A pinning's workers apply to the modes whose
                                    # facts in `csgb info` accept --workers; a mode
                                    # that refuses it runs the pinning without (its
                                    # reason, csgb's words, is kept in settings). A
                                    # csgb without facts gets --workers and decides.
                                    workers = p.get("workers")
                                    if workers and caps.accepts(m, "--workers") is False:
                                        refused.setdefault(m, caps.refusal(m, "--workers"))
                                        workers = None
                                    case = {
                                        "workload": w, "mode": m, "n": n,
                                        "pinning": pin_label(p), "cpus": p.get("cpus"),
                                        "pin": p.get("pin", "set") if "cpus" in p else None,
                                        "workers": workers, "work_size": size,
                                        "work_size_label": size_label if size else "0",
                                        "transport": t, "io": io,
                                        "flags": global_flags + list(mode_flags.get(m, [])) + flags,
                                        "duration": duration, "warmup": warmup,
                                        "repeats": repeats, "timeout": timeout,
                                    }
                                    # A flag the mode's facts refuse would end the
                                    # sweep at its first run with exit 64: refused
                                    # here, in csgb's own words, before anything runs.
                                    for f in case["flags"]:
                                        reason = caps.refusal(m, f)
                                        if reason:
                                            raise ManifestError("%s: %s with --mode %s: csgb refuses it: %s %s"
                                                                % (where, f, m, f, reason))
                                    if n == "max":
                                        if largest_n is None:
                                            raise ManifestError("%s: n = max needs csgb to find the largest N" % where)
                                        case["n"] = largest_n(case)
                                        # Run as `max` all the same: csgb resolves it again at the
                                        # run's moment without repeating the checks its search
                                        # passed, so tasks that came since the plan (the previous
                                        # case's threads still exiting) cannot refuse the case. The
                                        # report's n is the N it ran; the case keeps this one.
                                        case["n_argument"] = "max"
                                    if workers is not None:
                                        # csgb rejects more workers than pairs (socket)
                                        # or actors (yield): the extra ones would sit idle.
                                        case["workers"] = min(workers, case["n"])
                                    if excluded_by(case, excludes):
                                        excluded += 1
                                        continue
                                    case["id"] = case_id(case)
                                    if case["id"] in seen:
                                        continue
                                    seen.add(case["id"])
                                    cases.append(case)
    for case in expand_baselines(doc.get("baselines", []), defaults, caps):
        if case["id"] not in seen:
            seen.add(case["id"])
            cases.append(case)
    if not cases:
        raise ManifestError("the matrix expands to no case")
    settings = {"defaults": defaults, "counters": counters, "counter_repeats": counter_repeats,
                "excluded": excluded, "workers_not_applied": refused}
    return cases, settings


def expand_baselines(entries, defaults, caps):
    """The optional "baselines" list: [{"program": "tokio_echo", "n": [1, 100],
    "pinning": [{"cpus": "0"}], "compare": MODE}, ...]. Each becomes a case whose
    mode is the program's name, beside the csgb cases of the same workload, N,
    pinning, transport (unix) and io (direct); its ratio to the csgb mode named by
    "compare" is in the summary."""
    if not isinstance(entries, list):
        raise ManifestError("baselines: expected a list of objects")
    cases = []
    for bi, e in enumerate(entries):
        where = "baselines[%d]" % bi
        if not isinstance(e, dict):
            raise ManifestError("%s: expected an object" % where)
        unknown = set(e) - BASELINE_KEYS
        if unknown:
            raise ManifestError("%s: unknown key(s) %s (known: %s)"
                                % (where, ", ".join(sorted(unknown)), ", ".join(sorted(BASELINE_KEYS))))
        prog = e.get("program")
        if prog not in BASELINE_PROGRAMS:
            raise ManifestError("%s: program must be one of %s, got %r"
                                % (where, ", ".join(BASELINE_PROGRAMS), prog))
        workload, compare = BASELINE_PROGRAMS[prog]
        compare = e.get("compare", compare)
        if compare not in caps.modes:
            raise ManifestError("%s: compare must be a csgb mode (%s)" % (where, ", ".join(caps.modes)))
        ns = [number(n, where + ".n", 1, integer=True) for n in as_list(e, "n", where)]
        pinnings = e.get("pinning", [{}])
        if not isinstance(pinnings, list) or not pinnings or not all(
                isinstance(p, dict) and set(p) <= {"cpus", "label"} for p in pinnings):
            raise ManifestError("%s: pinning must be a non-empty list such as [{\"cpus\": \"0\"}] "
                                "(a baseline pins every thread to the set)" % where)
        for p in pinnings:
            if "cpus" in p and not (isinstance(p["cpus"], str) and CPULIST_RE.match(p["cpus"])):
                raise ManifestError("%s.pinning: cpus must be a CPU list such as \"0\"" % where)
        transport = BASELINE_TRANSPORT if caps.transports_for(workload) else None
        for n in ns:
            for p in pinnings:
                case = {
                    "workload": workload, "mode": prog, "program": prog, "compare": compare,
                    "n": n, "pinning": pin_label(p), "cpus": p.get("cpus"),
                    "pin": "set" if "cpus" in p else None, "workers": None,
                    "work_size": 0, "work_size_label": "0",
                    "transport": transport, "io": BASELINE_IO, "flags": [],
                    "duration": number(e.get("duration", defaults["duration"]), where + ".duration",
                                       0.001, maximum=MAX_SECONDS),
                    "warmup": number(e.get("warmup", defaults["warmup"]), where + ".warmup", 0,
                                     maximum=MAX_SECONDS),
                    "repeats": number(e.get("repeats", defaults["repeats"]), where + ".repeats", 1,
                                      integer=True, maximum=MAX_REPEATS),
                    "timeout": number(e.get("timeout", defaults["timeout"]), where + ".timeout", 1,
                                      maximum=MAX_SECONDS),
                }
                case["id"] = case_id(case)
                cases.append(case)
    return cases


def case_id(c):
    """Workload, N, mode, pinning, work size, then the transport (workloads that take
    one) and the io path, then any extra flags."""
    s = "%s n=%d %s %s ws=%s" % (c["workload"], c["n"], c["mode"], c["pinning"],
                                 c["work_size_label"])
    if c.get("transport"):
        s += " tr=%s" % c["transport"]
    if c.get("io"):
        s += " io=%s" % c["io"]
    if c["flags"]:
        s += " " + " ".join(c["flags"])
    return s


def case_argv(csgb, c, counters=False):
    if c.get("program"):
        return baseline_argv(c["program"], c["n"], c["duration"], c["warmup"], c["cpus"])
    return csgb_argv(csgb, c["workload"], c.get("n_argument", c["n"]), mode=c["mode"], cpus=c["cpus"],
                     pin=c["pin"], workers=c["workers"],
                     work_size=c["work_size_label"] if c["work_size"] else None,
                     transport=c.get("transport"), io=c.get("io"), flags=c["flags"],
                     duration=c["duration"], warmup=c["warmup"], counters=counters)


def prepare_cases(cases, csgb, caps):
    """Numbers the pinnings in manifest order, attaches each case's argv and sorts
    the cases as the tables show them."""
    pin_order = list(dict.fromkeys(c["pinning"] for c in cases))
    for c in cases:
        c["pinning_index"] = pin_order.index(c["pinning"])
        c["argv"] = case_argv(csgb, c)
        c["actors_per_n"] = caps.actors_per_unit(c["workload"])
        # What carries the actors decides the set-up cost in the estimate.
        c["kernel_carriers"] = bool(caps.fact(c["mode"], "kernel_switching"))
    cases.sort(key=lambda c: sort_key(c, caps))
    return cases


def sort_key(c, caps):
    io_rank = caps.io.index(c["io"]) if c.get("io") in caps.io else len(caps.io)
    tr = c.get("transport")
    tr_rank = caps.transports.index(tr) if tr in caps.transports else -1
    return (caps.workload_rank(c["workload"]), c["pinning_index"], c["work_size"], tr_rank,
            io_rank, c["n"], caps.mode_rank(c["mode"]), c["id"])


def actors(c):
    # prepare_cases() sets actors_per_n from the workload's unit in `csgb info`.
    return c.get("actors_per_n", 1) * c["n"]


def estimate_run_seconds(c):
    per = STARTUP_PER_THREAD_S if c.get("kernel_carriers") else STARTUP_PER_GREEN_S
    return c["duration"] + c["warmup"] + STARTUP_BASE_S + per * actors(c)
