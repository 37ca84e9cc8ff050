"""What identifies a case: the configuration the user chose, read from csgb's JSON
report, never a figure the run measured. compare.py groups runs by it and the sweep's
"hosts side by side" table meets the same case across hosts by it, so two runs of
the same command are one case however their measured fields (resident bytes at the
gate, a warm-up note, the load) came out. benchstat keys a benchmark the same way.

A report field joins the key only when it is listed here: CONFIG_FIELDS are scalar
fields csgb fills from the command line (or from a default the command line
implies, such as ring_entries sized to the actors), OPTION_OBJECTS are objects a flag
adds (their presence, or the one setting inside them, is the choice). A new csgb
option needs a line here; until it has one, compare.py names the field when its
values differ inside one case (`unkeyed_variation`), so it is seen, never silently
merged. Standard library only.
"""

import json

# Scalar report fields that are choices, in the order a case's label shows them.
CONFIG_FIELDS = (
    "workload", "n", "mode", "transport", "io", "syscalls", "cpus", "pin", "workers",
    "work_size", "stride", "numa", "sched", "executor", "stack_size",
    "ring_entries", "sqpoll", "fixed_files", "ring_setup", "ring_link",
)
# Objects a flag adds: report field -> (key name, the field inside that holds the
# flag's value, or None when the object's presence is the whole choice).
OPTION_OBJECTS = {
    "latency_ns": ("latency", None),        # --latency
    "counters": ("counters", "scope"),      # --counters thread|cpu
    "phases": ("phases", None),             # --phases
    "speculation": ("spec", "*keys"),       # --spec ibpb,... : the controls asked for
}
# Fields csgb measures or derives from what it measured: never part of a key. Listed
# so that a report field in neither list can be named as unknown (see module doc).
MEASURED_FIELDS = frozenset((
    "actors", "os_threads", "seconds", "warmup_seconds", "warmup_complete", "warmup_note",
    "stopped_by", "suspension", "iterations", "iterations_per_second", "ns_per_iteration",
    "fairness", "voluntary_switches", "involuntary_switches",
    "voluntary_switches_per_iteration", "involuntary_switches_per_iteration",
    "usage_missed_actors", "user_seconds", "system_seconds", "max_rss_bytes",
    "setup_seconds", "memory_per_actor_bytes", "resident_bytes_at_gate",
    "actor_process_bytes", "limits", "eagain", "failed_transfers", "broken_claims", "noise", "nice",
    "coordinator_nice", "coordinator_sched", "perf_sched", "perf_sched_note",
    "thread_settings_notes", "version", "claims", "environment", "ring_links_per_iteration",
    "ring_cancelled", "io_uring_enter_per_iteration", "sqes_per_enter",
    "sqpoll_cpu_seconds", "sqpoll_pollers", "verdict", "verdict_reasons", "warnings",
))
BASELINE_FIELDS = ("baseline", "n", "cpus")


def case_key(report):
    """{field: value} of the configuration a csgb report ran with. A null field is an
    option that does not apply (ring settings under --io direct): left out, as if
    absent."""
    key = {}
    for field in CONFIG_FIELDS:
        v = report.get(field)
        if v is not None and not isinstance(v, (dict, list)):
            key[field] = v
    for field, (name, inner) in OPTION_OBJECTS.items():
        v = report.get(field)
        if not isinstance(v, dict):
            continue
        if inner is None:
            key[name] = "on"
        elif inner == "*keys":
            key[name] = ",".join(sorted(v))
        else:
            key[name] = v.get(inner) if isinstance(v.get(inner), (str, int, bool)) else "on"
    return key


def baseline_key(program, n=None, cpus=None):
    """The key of a baseline program's run (bench.py, a sweep's baselines)."""
    key = {"baseline": program}
    if n is not None:
        key["n"] = n
    if cpus is not None:
        key["cpus"] = cpus
    return key


def key_text(key):
    """One string per key, equal for equal keys (a dict key of its own)."""
    return json.dumps(key, sort_keys=True, default=str)


def key_fields(keys):
    """The fields that appear in any of these keys, in CONFIG_FIELDS order: what keyed
    the cases (compare.py prints it)."""
    order = list(BASELINE_FIELDS[:1]) + list(CONFIG_FIELDS) + [n for n, _ in OPTION_OBJECTS.values()]
    present = set()
    for k in keys:
        present.update(k)
    return [f for f in order if f in present] + sorted(present - set(order))


def unknown_fields(report):
    """Scalar or object fields of a report that are neither configuration nor a known
    measured figure: a field a newer csgb added."""
    known = set(CONFIG_FIELDS) | set(OPTION_OBJECTS) | MEASURED_FIELDS
    return sorted(k for k in report if k not in known)
