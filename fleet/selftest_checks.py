#!/usr/bin/env python3
"""The fleet self-test's checks of a sweep folder and of compare.py's verdicts
(fleet/selftest.sh). Standard library only: it also runs on a host, read from stdin
(`ssh host python3 - partial DIR N < fleet/selftest_checks.py`).

    complete DIR N [RESUMED]   DIR/results.json holds all N runs of its manifest, none
                               interrupted (and was resumed RESUMED times, if given)
    partial DIR N              DIR/results.json holds some but not all of N runs: a
                               sweep stopped part-way whose completed runs were kept
    verdicts COMPARE_JSON      compare.py --format json of two hosts that are one
                               machine: at least one case with a verdict, and no case
                               with a significant difference

A run that csgb itself failed (the sweep records it with csgb's message) is printed
as a warning and counts as recorded: the fleet's path moved it, which is what these
checks are about; its case has one sample fewer. Exit 1 with one line when a check
fails.
"""
import json
import sys


def load(folder):
    with open("%s/results.json" % folder) as f:
        return json.load(f)


def counts(doc):
    runs = [r for r in doc["runs"] if r.get("kind", "timing") == "timing"]
    by = {}
    for r in runs:
        by[r["status"]] = by.get(r["status"], 0) + 1
    return runs, by


def host_of(doc):
    return (doc.get("host") or {}).get("hostname", "?")


def complete(folder, n, resumed=None):
    doc = load(folder)
    runs, by = counts(doc)
    host = host_of(doc)
    print("fleet-selftest: %s: %d of %d run(s) recorded (%s), interrupted: %s, resumed %d time(s)"
          % (host, len(runs), n, ", ".join("%d %s" % (v, k) for k, v in sorted(by.items())),
             doc.get("interrupted"), len(doc.get("resumed") or [])))
    for r in runs:
        if r["status"] == "failed":
            print("fleet-selftest: WARNING: %s: a csgb run failed (%s rep %s): %s"
                  % (host, r["case_id"], r["repeat"], (r.get("error") or "")[:200]))
    if len(runs) != n or by.get("interrupted") or doc.get("interrupted"):
        return "%s: %s is not complete" % (host, folder)
    if by.get("ok", 0) < n // 2:
        return "%s: fewer than half the runs succeeded" % host
    if resumed is not None and len(doc.get("resumed") or []) != resumed:
        return "%s: resumed %d time(s), want %d" % (host, len(doc.get("resumed") or []), resumed)
    return None


def partial(folder, n):
    doc = load(folder)
    runs, by = counts(doc)
    done = len(runs) - by.get("interrupted", 0)
    print("fleet-selftest: %s kept its partial folder: %d of %d run(s) completed, interrupted: %s"
          % (host_of(doc), done, n, doc.get("interrupted")))
    if not 0 < done < n:
        return "%s: %d of %d runs: not a partial sweep" % (folder, done, n)
    return None


def verdicts(path):
    with open(path) as f:
        doc = json.load(f)
    cols = doc["columns"]
    if len(cols) != 2:
        return "compare.py's columns are %s, want one per host" % cols
    rows = [r for r in doc["rows"] if r["input"] != cols[0]]
    judged = [r for r in rows if not r.get("note") and r.get("p_value") is not None]
    sig = [r for r in judged if r["significant"]]
    print("fleet-selftest: compare.py --by host: %d case(s), %d with a verdict, %d significant (alpha %g)"
          % (len(rows), len(judged), len(sig), doc["alpha"]))
    for r in rows:
        print("fleet-selftest:   %-40s n %s, ratio %s, %s"
              % (r["case"], r["n"], "%.3f" % r["ratio"] if r.get("ratio") else "-",
                 "p = %.2g%s" % (r["p_value"], " SIGNIFICANT" if r["significant"] else " ~")
                 if r in judged else (r.get("note") or "no verdict")))
    if not judged:
        return "no case had enough runs for a verdict: the check would prove nothing"
    if sig:
        return "%d case(s) differ between two hosts that are one machine" % len(sig)
    return None


def main(argv):
    what = argv[0] if argv else ""
    if what == "complete" and len(argv) in (3, 4):
        err = complete(argv[1], int(argv[2]), int(argv[3]) if len(argv) == 4 else None)
    elif what == "partial" and len(argv) == 3:
        err = partial(argv[1], int(argv[2]))
    elif what == "verdicts" and len(argv) == 2:
        err = verdicts(argv[1])
    else:
        print(__doc__, file=sys.stderr)
        return 64
    if err:
        print("fleet-selftest: %s" % err, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
