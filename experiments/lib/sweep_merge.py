"""sweep.py --merge: several sweep folders (the same manifest run on several hosts, say)
into one results folder with one summary and one set of plots, a column per host.

Each case keeps its figures; its id gets the host's label in front ("hostA: socket n=1
..."), and its `host_label` puts it in that host's column of panels (plot.py) and of
the "Hosts side by side" table (sweep_summary.hosts_section), where every case that
two hosts share is compared with the statistics of compare.py."""

import datetime
import json
from pathlib import Path

from csgb_common import EXIT_USAGE, CapabilitiesError, capabilities_of
from results_folder import EXIT_CANTCREAT, FolderError, claim, release
from sweep_manifest import case_id
from sweep_runner import log, write_outputs


def load(folder):
    with open(folder / "results.json") as f:
        return json.load(f)


def merge(folders, labels, outdir, plots=True, docs=None):
    docs = docs if docs is not None else [load(d) for d in folders]
    if not labels:
        labels = [((d.get("host") or {}).get("hostname") or d.get("csgb_info", {}).get("hostname")
                   or Path(f).name) for d, f in zip(docs, folders)]
    if len(set(labels)) != len(labels):
        log("sweep: --merge: the folders' host names repeat (%s); name each with --host-label"
            % ", ".join(labels))
        return EXIT_USAGE
    # The tables and plots follow the capabilities of the first folder that records
    # them (a sweep of a csgb before `csgb info` listed its capabilities has none).
    caps, first_error = None, None
    for d, f in zip(docs, folders):
        try:
            caps = capabilities_of(d.get("csgb_info"))
            break
        except CapabilitiesError as e:
            first_error = first_error or "%s: %s" % (f, e)
    if caps is None:
        log("sweep: --merge: no folder records csgb's capabilities (%s)" % first_error)
        return EXIT_USAGE
    try:
        claimed = claim(outdir, "sweep.py --merge")
    except FolderError as e:
        log("sweep: --merge: %s" % e)
        return e.code
    try:
        return merge_into(folders, labels, outdir, plots, docs, caps)
    except (KeyError, TypeError, ValueError) as e:
        log("sweep: --merge: a folder's results.json is not laid out as a sweep writes it "
            "(%s: %s)" % (type(e).__name__, e))
        return EXIT_USAGE
    except OSError as e:
        log("sweep: --merge: cannot write %s (%s)" % (outdir, e.strerror or e))
        return EXIT_CANTCREAT
    finally:
        release(claimed)


def merge_into(folders, labels, outdir, plots, docs, caps):
    cases, runs = [], []
    pin_order = []
    for label, doc in zip(labels, docs):
        for c in doc["cases"]:
            if c["pinning"] not in pin_order:
                pin_order.append(c["pinning"])
    filled = []
    for label, doc in zip(labels, docs):
        by_id = {}
        for c in doc["cases"]:
            original = c["id"]
            if "io" not in c or "transport" not in c:
                # A sweep from before --transport and --io: csgb then ran what are now
                # the defaults (the first transport and io path csgb info lists).
                c = dict(c, transport=c.get("transport", caps.default_transport(c["workload"])
                                            if c["workload"] in caps.workloads else None),
                         io=c.get("io", caps.default_io))
                c["id"] = case_id(c)
                if label not in filled:
                    filled.append(label)
            m = dict(c, id="%s: %s" % (label, c["id"]), host_label=label, case_id=c["id"],
                     pinning_index=pin_order.index(c["pinning"]))
            by_id[original] = m
            by_id[c["id"]] = m
            cases.append(m)
        for r in doc["runs"]:
            runs.append(dict({k: v for k, v in r.items() if k != "case_id"},
                             case=by_id[r["case_id"]], host_label=label))
    now = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    first = docs[0]
    doc = {
        "started": min(d.get("started", now) for d in docs),
        "finished": max(d.get("finished", now) for d in docs),
        "elapsed_seconds": sum(d.get("elapsed_seconds") or 0 for d in docs),
        "estimated_seconds": sum(d.get("estimated_seconds") or 0 for d in docs),
        "interrupted": any(d.get("interrupted") for d in docs),
        "command": "sweep.py --merge %s --host-label %s" % (" ".join(str(f) for f in folders),
                                                            ",".join(labels)),
        "manifest_path": first.get("manifest_path", "merged"),
        "manifest": dict(first.get("manifest") or {}, description=(
            "Merged from %d sweep folders, a column per host: %s.%s %s" % (
                len(folders), "; ".join("%s = %s" % (l, f) for l, f in zip(labels, folders)),
                (" The cases of %s predate --transport and --io and are read as csgb's "
                 "defaults (%s, %s)." % (", ".join(filled), caps.transports[0], caps.default_io))
                if filled else "",
                (first.get("manifest") or {}).get("description", "")))),
        "settings": first.get("settings"),
        "csgb": first.get("csgb"),
        "csgb_info": caps.doc and next(d["csgb_info"] for d in docs
                                       if (d.get("csgb_info") or {}).get("capabilities")),
        "git": first.get("git"),
        "python": first.get("python"),
        "host_labels": labels,
        "hosts": [{"label": l, "folder": str(f), "host": d.get("host"), "git": d.get("git"),
                   "started": d.get("started"), "csgb": d.get("csgb"),
                   "version": ", ".join(sorted({r["report"]["version"] for r in d["runs"]
                                                if isinstance(r.get("report"), dict)
                                                and isinstance(r["report"].get("version"), str)}))
                   or None,
                   "csgb_info": d.get("csgb_info")} for l, f, d in zip(labels, folders, docs)],
        "merged": True,
    }
    note = "; ".join("%s: %s" % (l, d.get("counters_note", "")) for l, d in zip(labels, docs))
    write_outputs(outdir, doc, cases, runs, note, caps, plots=plots)
    log("sweep: merged %d folder(s) into %s" % (len(folders), outdir))
    return 0
