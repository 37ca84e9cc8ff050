#!/usr/bin/env python3
"""Compare csgb results across builds, kernels and hosts, with statistics.

    python3 experiments/compare.py a.json b.json                 # a.json: csgb ... --format json >> a.json, repeated
    python3 experiments/compare.py experiments/results/2026-11-23T171005-vm-sweep experiments/results/2026-12-01T065102-vm-sweep
    python3 experiments/compare.py bench-before.json bench-after.json --format markdown
    python3 experiments/compare.py two-builds.json --by commit   # one input, the commits in the columns
    python3 experiments/compare.py a.json b.json --metric switches --plot out/   # + compare-switches.png

An input is a file of csgb JSON reports written one after another, a sweep's folder or
its results.json, or bench.py's --json output, in any mix. Runs are grouped by case:
the configuration the user chose, read from each report's configuration fields
(case_keys.py: workload, N, mode, transport, io, syscalls, cpus, pin, workers, work
size, stride, numa, sched, spec, executor, ring settings, --latency/--counters/
--phases), never a measured figure; the report names the fields that keyed the cases.
Per case and column (an input, or a
value of --by): n, the median, its 95 % distribution-free interval, the ratio of medians
to the first column, and the Mann–Whitney U p-value; "~" when the difference is not
significant at --alpha; "too few samples (n = 3; want >= 5)" when n is too small to
tell. A geomean of the ratios closes the table. The provenance of each column (every
field of the report's environment, the commit and build, the date) is compared, and
what differs besides the --by key is printed, so that two kernels are not compared
while two CPU models are too, unknowingly.

Exit status: 0, 64 for bad arguments or an input that cannot be read (one line naming
it). Standard library only; --plot needs matplotlib.
"""

import argparse
import csv
import json
import math
import os
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "lib"))   # the library

from compare_stats import MIN_SAMPLES, geomean, mann_whitney, median_interval  # noqa: E402
from csgb_common import ArgumentParser, EXIT_USAGE, fmt, median  # noqa: E402
from results_folder import EXIT_CANTCREAT  # noqa: E402
from case_keys import (baseline_key, case_key, key_fields, key_text,  # noqa: E402
                       unknown_fields)

# What the columns may be keyed by (--by), beside every environment field.
PROVENANCE_ALIASES = {"host": "hostname", "cpu": "cpu_model", "build": "build"}
ALPHA = 0.05


class InputError(Exception):
    pass


# ---------------------------------------------------------------- reading inputs

def json_stream(text, where):
    """Every JSON value of text, one after another (csgb ... --format json >> file)."""
    dec = json.JSONDecoder()
    i, out = 0, []
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            return out
        try:
            value, i = dec.raw_decode(text, i)
        except ValueError as e:
            raise InputError("%s: not a stream of JSON objects (%s)" % (where, e))
        out.append(value)


def case_config(report):
    """The case key of a csgb report: the configuration it ran with (case_keys)."""
    return case_key(report)


def commit_of(version):
    m = re.search(r"commit ([0-9a-f]+(-dirty)?)", version or "")
    return m.group(1) if m else None


def report_provenance(report):
    """Every scalar of the report's environment, and each list of names there (the
    CPU vulnerability lines: the mitigations) as one text; lists of numbers (the load
    average) are the moment's state, not the machine's, and are left out."""
    env = report.get("environment") or {}
    prov = {k: v for k, v in env.items() if not isinstance(v, (dict, list))}
    for k, v in env.items():
        if isinstance(v, list) and v and all(isinstance(x, str) for x in v):
            prov[k] = "; ".join(v)
    if report.get("version"):
        prov["version"] = report["version"]
        prov["commit"] = commit_of(report["version"]) or "unknown"
    return prov


def as_float(v):
    """A report's number as a float; one too large for a float (10**400) is infinite,
    so that it is refused as an invalid figure instead of raising."""
    try:
        return float(v)
    except OverflowError:
        return math.inf if v > 0 else -math.inf


def flat_metrics(report, prefix="", out=None):
    """Every number of the report, nested names joined by '_' (latency_ns_p99)."""
    out = {} if out is None else out
    for k, v in report.items():
        if k == "environment":
            continue
        if isinstance(v, dict):
            flat_metrics(v, prefix + k + "_", out)
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            out[prefix + k] = as_float(v)
    vol, invol = out.get(prefix + "voluntary_switches_per_iteration"), \
        out.get(prefix + "involuntary_switches_per_iteration")
    if prefix == "" and vol is not None and invol is not None:
        out["switches"] = vol + invol
    return out


def sample(config, metrics, prov, unkeyed=None, where=None):
    return {"config": config, "metrics": metrics, "prov": prov, "unkeyed": unkeyed or {},
            "where": where}


# Runs an input holds that are not samples, and why: [(where, reason)]; printed under
# the table so that nothing is dropped silently. load_input() fills it.
LEFT_OUT = []


def check_report(report, where):
    """Raises InputError naming the report when it is not one compare can read: an
    environment or version of the wrong type, or an ns_per_iteration that is no
    measurement (NaN, infinite, beyond a float, zero or negative)."""
    if not isinstance(report, dict):
        raise InputError("%s: a report that is not a JSON object" % where)
    env = report.get("environment")
    if env is not None and not isinstance(env, dict):
        raise InputError("%s: environment is a JSON %s, not an object" % (where, type(env).__name__))
    version = report.get("version")
    if version is not None and not isinstance(version, str):
        raise InputError("%s: version is %r, not csgb's version text" % (where, version))
    ns = report.get("ns_per_iteration")
    if not isinstance(ns, (int, float)) or isinstance(ns, bool):
        raise InputError("%s: ns_per_iteration is %r, not a number" % (where, ns))
    value = as_float(ns)
    if not math.isfinite(value) or value <= 0:
        raise InputError("%s: ns_per_iteration is %s: not a measurement (an invalid input)"
                         % (where, "%r" % value if math.isfinite(value) or math.isnan(value)
                            else str(ns)[:24] + ("…" if len(str(ns)) > 24 else "")))


def from_report(report, prov_extra, where=None):
    prov = dict(prov_extra)
    prov.update(report_provenance(report))
    # Fields neither known as configuration nor as figures (a newer csgb's): kept
    # aside, and named if they vary inside one case.
    unkeyed = {k: key_text(report[k]) for k in unknown_fields(report)}
    return sample(case_config(report), flat_metrics(report), prov, unkeyed, where)


def usable(report, where):
    """Checks the report (check_report) and says whether it is a sample; a report that
    is valid JSON but not a valid run is listed in LEFT_OUT with the reason."""
    check_report(report, where)
    from csgb_common import interruption, run_failure
    why = run_failure(report) or interruption(report)
    if why:
        LEFT_OUT.append((where, why))
        return False
    return True


def samples_of_sweep(doc, where):
    prov = {"date": doc.get("started"), "git": doc.get("git")}
    host = doc.get("host") or {}
    if isinstance(host, dict) and host.get("hostname"):
        prov["hostname"] = host["hostname"]
    if doc.get("host_label"):
        prov["host_label"] = doc["host_label"]
    cases = {c["id"]: c for c in doc.get("cases", [])}
    out = []
    for i, r in enumerate(doc.get("runs", [])):
        if r.get("kind", "timing") != "timing":
            continue
        at = "%s: run %d (%s)" % (where, i + 1, r.get("case_id"))
        if r.get("status") != "ok" or not r.get("report"):
            LEFT_OUT.append((at, "%s: %s" % (r.get("status"), r.get("error") or "no report")))
            continue
        c = cases.get(r.get("case_id"), {})
        rp = dict(prov, **({"host_label": c["host_label"]} if c.get("host_label") else {}))
        if c.get("program"):       # a baseline program run beside the csgb cases
            check_report(r["report"], at)
            out.append(sample(baseline_key(c["program"], c["n"], c.get("cpus")),
                              flat_metrics(r["report"]), rp, where=at))
        elif usable(r["report"], at):
            out.append(from_report(r["report"], rp, at))
    return out


def samples_of_bench(doc, where):
    prov = {"date": doc.get("started"), "hostname": doc.get("host"),
            "cpu_model": doc.get("cpu_model"), "kernel": doc.get("kernel")}
    out = []
    for name, c in doc["cases"].items():
        for i, r in enumerate(c.get("runs", [])):
            at = "%s: case %s run %d" % (where, name, i + 1)
            if isinstance(r.get("csgb_json"), dict):
                rp = dict(prov, **({"label": r["build"]} if r.get("build") else {}))
                if usable(r["csgb_json"], at):
                    out.append(from_report(r["csgb_json"], rp, at))
            elif "ns_per_iteration" in r:
                check_report(r, at)
                metrics = {k: as_float(v) for k, v in r.items()
                           if isinstance(v, (int, float)) and not isinstance(v, bool)}
                out.append(sample(baseline_key(name, cpus=doc.get("options", {}).get("cpus")),
                                  metrics, dict(prov), where=at))
    return out


def load_input(path):
    """[samples] of one input path: a sweep folder, a results.json, a bench JSON or a
    stream of csgb reports."""
    p = Path(path)
    if p.is_dir():
        p = p / "results.json"
        if not p.exists():
            raise InputError("%s: a folder without results.json (not a sweep's folder)" % path)
    try:
        text = p.read_text()
    except OSError as e:
        raise InputError("%s: %s" % (path, e.strerror or e))
    objects = json_stream(text, path)
    if not objects:
        raise InputError("%s: no JSON object in it" % path)
    out = []
    mtime = None
    for i, doc in enumerate(objects):
        if not isinstance(doc, dict):
            raise InputError("%s: holds JSON that is not an object" % path)
        try:
            if "runs" in doc and "cases" in doc and isinstance(doc["cases"], list):
                out += samples_of_sweep(doc, path)
            elif "cases" in doc and isinstance(doc["cases"], dict):
                out += samples_of_bench(doc, path)
            elif "ns_per_iteration" in doc and "workload" in doc:
                if mtime is None:
                    import datetime
                    mtime = datetime.datetime.fromtimestamp(p.stat().st_mtime).astimezone() \
                        .isoformat(timespec="seconds") + " (file modified)"
                at = "%s: report %d" % (path, i + 1)
                if usable(doc, at):
                    out.append(from_report(doc, {"date": mtime}, at))
            else:
                raise InputError("%s: a JSON object that is neither a csgb report, a sweep's "
                                 "results.json nor bench.py's JSON" % path)
        except (TypeError, AttributeError, KeyError, ValueError) as e:
            # a document of the right kind whose parts have the wrong shape
            raise InputError("%s: object %d is not laid out as csgb writes it (%s: %s)"
                             % (path, i + 1, type(e).__name__, e))
    for s in out:
        s["prov"]["input"] = str(path)
    return out


# ---------------------------------------------------------------- cases and columns

def key_of(config):
    return key_text(config)


def label_cases(configs):
    """A short label per case: workload N mode (or the baseline's name), then the
    fewest of the other fields whose values tell the cases apart."""
    head_fields = ("baseline", "workload", "n", "mode")
    fields = list(dict.fromkeys(k for c in configs for k in c if k not in head_fields))
    varying = [k for k in fields if len({json.dumps(c.get(k), default=str) for c in configs}) > 1]

    def head(c):
        if "baseline" in c:
            return ["baseline %s" % c["baseline"]] + (["%s" % c["n"]] if c.get("n") else [])
        return [str(c[k]) for k in ("workload", "n", "mode") if k in c]

    def labels(keep):
        return [" ".join(head(c) + ["%s=%s" % (k, c[k]) for k in keep
                                    if c.get(k) is not None]) for c in configs]

    distinct = len({key_of(c) for c in configs})
    keep = list(varying)
    for k in reversed(varying):        # later fields are the less telling ones
        trial = [x for x in keep if x != k]
        if len(set(labels(trial))) == distinct:
            keep = trial
    return labels(keep)


def reconcile_keys(samples):
    """Fields that some columns' reports have and others lack (a csgb that did not
    report it yet) cannot tell cases apart when they hold one value per column: they
    leave the key, so that the same case still meets across versions, and are
    returned as {field: {column: values}} for the provenance lines. A field that takes
    several values inside one column stays: it separates cases there."""
    columns = list(dict.fromkeys(s["column"] for s in samples))
    present = {c: set() for c in columns}
    fields = set()
    for s in samples:
        present[s["column"]].update(s["config"])
        fields.update(s["config"])
    everywhere = set.intersection(*present.values()) if present else set()
    values = {}
    for s in samples:
        for k in fields:
            # a field some runs of a column lack and others have separates cases there
            v = json.dumps(s["config"][k], default=str) if k in s["config"] else "(absent)"
            values.setdefault(k, {}).setdefault(s["column"], set()).add(v)
    dropped = {}
    for k, per in values.items():
        if k in everywhere or any(len(v) > 1 for v in per.values()):
            continue
        dropped[k] = {c: sorted(x for x in per.get(c, {"(absent)"}))
                      for c in columns}
    if dropped:
        for s in samples:
            s["config"] = {k: v for k, v in s["config"].items() if k not in dropped}
    return dropped


def column_key(s, by):
    if by is None:
        return s["prov"]["input"]
    name = PROVENANCE_ALIASES.get(by, by)
    v = s["prov"].get(name)
    return str(v) if v is not None else "(no %s)" % by


def provenance_differences(samples, columns, by):
    """{field: {column: [values]}} for every provenance field whose values differ
    between the columns (the --by key itself left out)."""
    skip = {"input", PROVENANCE_ALIASES.get(by, by) if by else "input", "version"}
    per = {}
    for s in samples:
        col = s["column"]
        for k, v in s["prov"].items():
            if k in skip:
                continue
            per.setdefault(k, {}).setdefault(col, set()).add(str(v))
    out = {}
    for k, cols in per.items():
        seen = [frozenset(cols.get(c, {"(absent)"})) for c in columns]
        if len(set(seen)) > 1:
            out[k] = {c: sorted(cols.get(c, {"(absent)"})) for c in columns}
    return out


def parse_value(text):
    try:
        return json.loads(text)
    except ValueError:
        return text


def parse_assumption(text):
    """"FIELD=VALUE[:FIELD=VALUE...]": the first pair is what to assume, the others the
    condition (transport=unix:workload=socket). None when malformed."""
    pairs = []
    for part in text.split(":"):
        k, sep, v = part.partition("=")
        if not sep or not k:
            return None
        pairs.append((k, parse_value(v)))
    return pairs[0], dict(pairs[1:])


def assume(samples, assumptions):
    """--assume FIELD=VALUE[:IF_FIELD=IF_VALUE...]: a csgb report without FIELD (an
    older csgb that did not report it yet) and matching the condition is read as having
    VALUE, so its cases meet those of a newer csgb."""
    for s in samples:
        if "baseline" in s["config"]:
            continue
        for (k, v), cond in assumptions:
            if k not in s["config"] and all(s["config"].get(ck) == cv for ck, cv in cond.items()):
                s["config"][k] = v


def unkeyed_variation(samples):
    """Report fields outside the case key and unknown to case_keys (a newer csgb's)
    whose values differ inside one case and column: perhaps an option case_keys does
    not list yet. Named in the output; they never split a case."""
    fields = {f for s in samples for f in s.get("unkeyed", {})}
    per = {}
    for s in samples:
        k = key_of(s["config"])
        for f in fields:
            v = s.get("unkeyed", {}).get(f, "(absent)")
            per.setdefault(f, {}).setdefault((k, s["column"]), set()).add(v)
    return sorted(f for f, d in per.items() if any(len(v) > 1 for v in d.values()))


def absent_fields(samples, columns):
    """{field: [columns without it]} for key fields some whole columns lack."""
    present = {c: set() for c in columns}
    for s in samples:
        if "baseline" not in s["config"]:
            present[s["column"]].update(s["config"])
    every = set.union(*present.values()) if present else set()
    return {k: [c for c in columns if k not in present[c]] for k in sorted(every)
            if any(k not in present[c] for c in columns)}


def analyse(samples, metric, by, alpha, first=None):
    """The rows of the comparison: per case and column n, median, interval, ratio to
    the first column, p-value, significance, note."""
    for s in samples:
        s["column"] = column_key(s, by)
    columns = list(dict.fromkeys(s["column"] for s in samples))
    if first is not None:
        if first not in columns:
            raise InputError("--first %s: no such column (columns: %s)" % (first, ", ".join(columns)))
        columns.remove(first)
        columns.insert(0, first)
    dropped = reconcile_keys(samples)
    cases = {}
    for s in samples:
        v = s["metrics"].get(metric)
        if v is None:
            continue
        if not math.isfinite(v) or v < 0:
            raise InputError("%s: %s is %s: not a measurement (an invalid input)"
                             % (s.get("where") or s["prov"].get("input"), metric, v))
        k = key_of(s["config"])
        entry = cases.setdefault(k, {"config": s["config"], "values": {}})
        entry["values"].setdefault(s["column"], []).append(v)
    keys = list(cases)
    labels = dict(zip(keys, label_cases([cases[k]["config"] for k in keys])))
    keys.sort(key=lambda k: labels[k])
    rows = []
    for k in keys:
        vals = cases[k]["values"]
        base = vals.get(columns[0])
        for col in columns:
            xs = vals.get(col)
            row = {"case": labels[k], "config": cases[k]["config"], "input": col,
                   "n": len(xs) if xs else 0, "median": None, "ci_low": None,
                   "ci_high": None, "ci_confidence": None, "ratio": None, "p_value": None,
                   "test": None, "significant": None, "note": ""}
            if not xs:
                row["note"] = "not in this input"
                rows.append(row)
                continue
            row["median"] = median(xs)
            row["ci_low"], row["ci_high"], row["ci_confidence"] = median_interval(xs)
            if col != columns[0]:
                if not base:
                    row["note"] = "not in [1]"
                else:
                    b = median(base)
                    row["ratio"] = row["median"] / b if b else None
                    _, row["p_value"], row["test"] = mann_whitney(base, xs)
                    small = min(len(xs), len(base))
                    if small < MIN_SAMPLES:
                        row["note"] = "too few samples (n = %d; want ≥ %d)" % (small, MIN_SAMPLES)
                    else:
                        row["significant"] = row["p_value"] < alpha
            rows.append(row)
    geo = []
    for col in columns[1:]:
        ratios = [r["ratio"] for r in rows if r["input"] == col and r["ratio"] is not None]
        geo.append({"case": "geomean", "input": col, "n": len(ratios), "ratio": geomean(ratios)})
    return columns, rows, geo, dropped


# ---------------------------------------------------------------- output

def fig(x):
    return fmt(x) if x is not None else "–"


def change_text(r, alpha):
    """The comparison cell: '0.91× (p=0.000)', '~ (p=0.420)' or the note."""
    if r["ratio"] is None:
        return r["note"] or ""
    if r["note"]:
        return "%.3f× %s" % (r["ratio"], r["note"])
    if not r["significant"]:
        return "~ (p=%.3f)" % r["p_value"]
    return "%.3f× (p=%.3f)" % (r["ratio"], r["p_value"])


def interval_text(r):
    if r["ci_low"] is None:
        return ""
    conf = "" if r["ci_confidence"] >= 0.95 else " %d%%" % round(100 * r["ci_confidence"])
    return "[%s, %s]%s" % (fig(r["ci_low"]), fig(r["ci_high"]), conf)


def table(columns, rows, geo, alpha):
    """(header, body rows) for the text and Markdown tables: per column median,
    interval, n, and from the second column on the change against the first."""
    header = ["case"]
    for i, c in enumerate(columns):
        header += ["%s median" % short(c), "95 % CI", "n"] + (["vs %s" % short(columns[0])] if i else [])
    body = []
    by_case = {}
    for r in rows:
        by_case.setdefault(r["case"], {})[r["input"]] = r
    for case, per in by_case.items():
        line = [case]
        for i, c in enumerate(columns):
            r = per[c]
            line += [fig(r["median"]), interval_text(r), str(r["n"]) if r["n"] else "–"]
            if i:
                line.append(change_text(r, alpha) if r["n"] else r["note"])
        body.append(line)
    g = ["geomean"]
    for i, c in enumerate(columns):
        g += ["", "", ""]
        if i:
            x = next(x for x in geo if x["input"] == c)
            g.append("%.3f× (%d cases)" % (x["ratio"], x["n"]) if x["ratio"] else "–")
    body.append(g)
    return header, body


SHORT = {}


def short(column):
    return SHORT.get(column, column)


def short_names(columns):
    """Columns that are paths print as their shortest distinguishing tail."""
    SHORT.clear()
    for c in columns:
        parts = Path(c).parts
        for n in range(1, len(parts) + 1):
            tail = os.path.join(*parts[-n:])
            if sum(1 for d in columns if os.path.join(*Path(d).parts[-n:]) == tail) == 1:
                SHORT[c] = tail
                break


def print_text(header, body, out):
    widths = [max(len(h), *(len(r[i]) for r in body)) for i, h in enumerate(header)]
    line = lambda cells: "  ".join(c.ljust(w) if i in (0,) else c.rjust(w)
                                   for i, (c, w) in enumerate(zip(cells, widths))).rstrip()
    print(line(header), file=out)
    print(line(["-" * w for w in widths]), file=out)
    for r in body:
        print(line(r), file=out)


def print_markdown(header, body, out):
    print("| " + " | ".join(header) + " |", file=out)
    print("|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|", file=out)
    for r in body:
        print("| " + " | ".join(x.replace("|", "\\|") for x in r) + " |", file=out)


def provenance_lines(diffs, columns, by):
    if not diffs:
        return ["provenance: the columns agree on every recorded field%s"
                % (" besides %s" % by if by else "")]
    lines = ["provenance: besides %s, the columns differ in:" % (by or "the input")]
    for k, per in sorted(diffs.items()):
        lines.append("  %s: %s" % (k, "; ".join("%s = %s" % (short(c), ", ".join(per[c]))
                                              for c in columns)))
    return lines


def dropped_lines(dropped, columns):
    if not dropped:
        return []
    lines = ["not in the case key (absent from some inputs, one value per input where present):"]
    for k, per in sorted(dropped.items()):
        lines.append("  %s: %s" % (k, "; ".join("%s = %s" % (short(c), ", ".join(per[c]))
                                              for c in columns)))
    return lines


def json_rows(rows, geo, diffs, dropped, columns, metric, alpha, keyed_by=(), unkeyed=()):
    out = []
    for r in rows:
        out.append({k: r[k] for k in ("case", "input", "n", "median", "ci_low", "ci_high",
                                       "ci_confidence", "ratio", "p_value", "test",
                                       "significant", "note", "config")})
    return {"metric": metric, "alpha": alpha, "columns": columns, "rows": out,
            "geomean": geo, "provenance_differences": diffs, "not_in_case_key": dropped,
            "case_key_fields": list(keyed_by), "unkeyed_variation": list(unkeyed),
            "left_out": [{"where": w, "reason": r} for w, r in LEFT_OUT]}


def plot(columns, rows, metric, alpha, path):
    """One PNG: a row per case, the ratio of each later column's median to the first
    column's with the interval from the two medians' intervals (conservative: low of
    the later over high of the first, and the reverse); filled markers are significant
    changes, hollow ones not (or too few samples)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    others = columns[1:]
    cases = list(dict.fromkeys(r["case"] for r in rows if r["ratio"] is not None))
    if not cases or not others:
        return None
    base = {r["case"]: r for r in rows if r["input"] == columns[0]}
    height = max(2.8, 0.42 * len(cases) * max(1, len(others)) ** 0.5 + 1.6)
    fig_, ax = plt.subplots(figsize=(9.5, height))
    palette = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b")
    step = 0.7 / max(1, len(others))
    for j, col in enumerate(others):
        color = palette[j % len(palette)]
        for i, case in enumerate(cases):
            r = next((x for x in rows if x["case"] == case and x["input"] == col), None)
            if r is None or r["ratio"] is None:
                continue
            b = base[case]
            y = i + (j - (len(others) - 1) / 2) * step
            lo = r["ci_low"] / b["ci_high"] if b["ci_high"] else r["ratio"]
            hi = r["ci_high"] / b["ci_low"] if b["ci_low"] else r["ratio"]
            ax.plot([lo, hi], [y, y], color=color, lw=2, alpha=0.6, solid_capstyle="butt")
            filled = bool(r["significant"])
            ax.plot([r["ratio"]], [y], marker="o", ms=7, color=color,
                    markerfacecolor=color if filled else "white", markeredgewidth=1.6,
                    label=None)
            tag = "%.3f×%s" % (r["ratio"], "" if filled else (" ~" if not r["note"] else " (n<%d)" % MIN_SAMPLES))
            ax.annotate(tag, (hi, y), xytext=(4, 0), textcoords="offset points",
                        va="center", fontsize=8, color=color)
    ax.axvline(1.0, color="black", lw=0.8)
    ax.set_xscale("log")          # 0.5x and 2x equally far from 1
    ax.set_yticks(range(len(cases)))
    ax.set_yticklabels(cases, fontsize=8)
    ax.set_ylim(len(cases) - 0.5, -0.5)
    ax.set_xlabel("%s: ratio of medians to [1] %s\n(line: from the two medians' intervals; "
                  "below 1: lower than [1])" % (metric, short(columns[0])), fontsize=9)
    ax.grid(True, axis="x", which="both", alpha=0.3)
    handles = [plt.Line2D([], [], color=palette[j % len(palette)], marker="o", lw=2,
                          label="[%d] %s / [1] %s" % (j + 2, short(c), short(columns[0])))
               for j, c in enumerate(others)]
    handles += [plt.Line2D([], [], color="gray", marker="o", lw=0, label="significant (p < %g)" % alpha),
                plt.Line2D([], [], color="gray", marker="o", lw=0, markerfacecolor="white",
                           label="not significant (~), or too few samples (n<%d)" % MIN_SAMPLES)]
    lo, hi = ax.get_xlim()
    lo, hi = min(lo, 0.9), max(hi, 1.1)
    hi = hi * (hi / lo) ** 0.25                 # room for the labels on the right
    ax.set_xlim(lo, hi)
    # 1 always; others no closer to a kept tick than an eighth of the span (log)
    gap = math.log(hi / lo) / 8
    ticks = [1]
    for t in sorted((0.05, 0.1, 0.2, 0.25, 0.33, 0.5, 0.67, 0.8, 0.9, 1.1, 1.25, 1.5, 2, 3,
                     4, 5, 10, 20), key=lambda t: abs(math.log(t))):
        if lo <= t <= hi and all(abs(math.log(t / k)) >= gap for k in ticks):
            ticks.append(t)
    ax.set_xticks(sorted(ticks))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: "%g×" % v))
    ax.xaxis.set_minor_formatter(FuncFormatter(lambda v, _p: ""))
    ax.set_title("csgb compare: %s" % metric, fontsize=11)
    # outside the axes, on the right, so that it never hides a case
    ax.legend(handles=handles, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0),
              framealpha=0.9)
    fig_.tight_layout()
    # drawn beside, then linked to its name: a file that appeared meanwhile is never
    # overwritten (link fails with FileExistsError)
    partial = Path(path).with_name(".%s.%d.partial.png" % (Path(path).name, os.getpid()))
    try:
        fig_.savefig(partial, dpi=110, bbox_inches="tight")
        os.link(partial, path)
    finally:
        plt.close(fig_)
        if partial.exists():
            partial.unlink()
    return path


def parse_args(argv):
    ap = ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("inputs", nargs="+", help="files of csgb JSON reports, sweep folders or "
                    "results.json, bench.py --json files")
    ap.add_argument("--metric", default="ns_per_iteration",
                    help="a numeric report field (ns_per_iteration, iterations_per_second, "
                    "latency_ns_p99, ...) or switches (voluntary + involuntary per iteration)")
    ap.add_argument("--alpha", type=float, default=ALPHA,
                    help="significance level of the Mann-Whitney U test (default 0.05)")
    ap.add_argument("--by", help="columns by this provenance key instead of by input: host, "
                    "kernel, commit, build, cpu_model, date, label, or any environment field")
    ap.add_argument("--assume", action="append", default=[], metavar="FIELD=VALUE",
                    help="read a csgb report without FIELD as having VALUE (reports of an older "
                    "csgb, e.g. --assume io=direct --assume transport=unix:workload=socket, the "
                    "part after ':' a condition on the report); repeatable")
    ap.add_argument("--first", metavar="COLUMN",
                    help="the column the others are compared with (default: the first input, or "
                    "the --by value met first)")
    ap.add_argument("--format", choices=("text", "markdown", "csv", "json"), default="text")
    ap.add_argument("--plot", metavar="DIR_OR_PNG",
                    help="also draw the comparison plot (compare-<metric>.png in DIR, or this file)")
    return ap, ap.parse_args(argv)


def main(argv, out=sys.stdout):
    ap, opts = parse_args(argv)
    if opts.plot:
        target = Path(opts.plot)
        if target.suffix.lower() != ".png":
            target = target / ("compare-%s.png" % opts.metric)
        if target.exists():
            ap.exit(EXIT_USAGE, "compare: --plot: %s exists; results are never overwritten\n" % target)
        from results_folder import FolderError, check_writable, make_folder
        try:
            # before any work: the plot's folder must be there and writable
            make_folder(target.parent)
            check_writable(target.parent)
        except FolderError as e:
            ap.exit(e.code, "compare: --plot: %s\n" % e)
        import importlib.util
        if importlib.util.find_spec("matplotlib") is None:
            from sweep_runner import matplotlib_interpreter
            interp = matplotlib_interpreter()
            if interp is None:
                ap.exit(EXIT_USAGE, "compare: --plot needs matplotlib (apt-get install "
                        "python3-matplotlib)\n")
            # the same command under the interpreter that has it (Debian's python3)
            out.flush()
            os.execv(interp, [interp, str(Path(__file__).resolve())] + list(argv))
    if not (0 < opts.alpha < 1):
        ap.exit(EXIT_USAGE, "compare: --alpha: expected a number between 0 and 1\n")
    samples = []
    del LEFT_OUT[:]
    try:
        for path in opts.inputs:
            got = load_input(path)
            if not got:
                raise InputError("%s: no completed run in it" % path)
            samples += got
    except InputError as e:
        ap.exit(EXIT_USAGE, "compare: %s\n" % e)
    assumptions = []
    for a in opts.assume:
        parsed = parse_assumption(a)
        if parsed is None:
            ap.exit(EXIT_USAGE, "compare: --assume %r: expected FIELD=VALUE or "
                    "FIELD=VALUE:IF_FIELD=IF_VALUE\n" % a)
        assumptions.append(parsed)
    assume(samples, assumptions)
    if not any(opts.metric in s["metrics"] for s in samples):
        known = sorted({k for s in samples for k in s["metrics"]})
        ap.exit(EXIT_USAGE, "compare: --metric %s: no run has it (fields: %s)\n"
                % (opts.metric, ", ".join(known)))
    try:
        columns, rows, geo, dropped = analyse(samples, opts.metric, opts.by, opts.alpha, opts.first)
    except InputError as e:
        ap.exit(EXIT_USAGE, "compare: %s\n" % e)
    if len(columns) < 2:
        ap.exit(EXIT_USAGE, "compare: one column only (%s): give two inputs or more, or a "
                "--by key whose value differs between the runs\n" % columns[0])
    short_names(columns)
    diffs = provenance_differences(samples, columns, opts.by)
    absent = absent_fields(samples, columns)
    keyed_by = key_fields(s["config"] for s in samples)
    unkeyed = unkeyed_variation(samples)
    if opts.format == "json":
        json.dump(json_rows(rows, geo, diffs, dropped, columns, opts.metric, opts.alpha,
                            keyed_by, unkeyed), out, indent=1)
        out.write("\n")
    elif opts.format == "csv":
        w = csv.writer(out)
        fields = ["case", "input", "n", "median", "ci_low", "ci_high", "ci_confidence",
                  "ratio", "p_value", "significant", "note"]
        w.writerow(fields)
        for r in rows + geo:
            w.writerow(["" if r.get(k) is None else r.get(k) for k in fields])
    else:
        header, body = table(columns, rows, geo, opts.alpha)
        print("csgb compare: %s; columns by %s; Mann–Whitney U at α = %g; 95 %% CI of the "
              "median (order statistics; a lower confidence is printed when n is too small "
              "for 95 %%)" % (opts.metric, opts.by or "input", opts.alpha), file=out)
        for i, c in enumerate(columns):
            print("  [%d] %s" % (i + 1, c), file=out)
        print("cases keyed by: %s (the configuration the reports ran with; a measured "
              "field never splits a case)" % ", ".join(keyed_by), file=out)
        print(file=out)
        (print_markdown if opts.format == "markdown" else print_text)(header, body, out)
        print(file=out)
        for line in provenance_lines(diffs, columns, opts.by):
            print(line, file=out)
        for line in dropped_lines(dropped, columns):
            print(line, file=out)
        if LEFT_OUT:
            print("left out (not samples): %d run(s)" % len(LEFT_OUT), file=out)
            for where, why in LEFT_OUT:
                print("  %s: %s" % (where, why), file=out)
        for f in unkeyed:
            print("%s differs between runs of one case and is not in the case key (a field "
                  "case_keys.py does not know: if it is an option, add it to CONFIG_FIELDS)"
                  % f, file=out)
        for k, cols in absent.items():
            print("cases differ in %s, which %s lack%s: their cases meet no other (if the "
                  "older csgb ran one value, say so with --assume %s=VALUE)"
                  % (k, ", ".join(short(c) for c in cols), "s" if len(cols) == 1 else "", k),
                  file=out)
    if opts.plot:
        try:
            made = plot(columns, rows, opts.metric, opts.alpha, target)
        except FileExistsError:
            ap.exit(EXIT_USAGE, "compare: --plot: %s appeared meanwhile; results are never "
                    "overwritten\n" % target)
        except OSError as e:
            ap.exit(EXIT_CANTCREAT, "compare: --plot: cannot write %s (%s)\n" % (target, e.strerror or e))
        print("plot: %s" % (made or "none (no case in two columns)"), file=sys.stderr)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
