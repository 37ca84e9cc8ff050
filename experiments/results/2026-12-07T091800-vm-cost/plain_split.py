#!/usr/bin/env python3
"""(thread - green) / thread's switches per iteration from the plain interleaved runs
beside this script, against csgb cost's total from cost.json (one-off, for the record)."""
import glob, json, os, statistics, sys
here = os.path.dirname(os.path.abspath(__file__))
def load(mode):
    return [json.load(open(p)) for p in sorted(glob.glob(os.path.join(here, "plain-%s-*.json" % mode)))]
t, g = load("thread"), load("green")
nt = statistics.median(r["ns_per_iteration"] for r in t)
ng = statistics.median(r["ns_per_iteration"] for r in g)
sw = statistics.median(r["voluntary_switches_per_iteration"] + r["involuntary_switches_per_iteration"] for r in t)
plain = (nt - ng) / sw
per_pair = statistics.median((a["ns_per_iteration"] - b["ns_per_iteration"]) /
                             (a["voluntary_switches_per_iteration"] + a["involuntary_switches_per_iteration"]) for a, b in zip(t, g))
cost = json.load(open(os.path.join(here, "cost.json")))
print("plain runs (%d each): thread %.1f ns, green %.1f ns, thread switches/iteration %.3f" % (len(t), nt, ng, sw))
print("(thread - green) / switches: %.1f ns per switch (median of per-pair values: %.1f)" % (plain, per_pair))
print("csgb cost total: %.1f ns [%.1f, %.1f]" % (cost["total_ns_per_switch"], cost["total_ns_per_switch_ci_low"], cost["total_ns_per_switch_ci_high"]))
print("cost / plain: %.3f (done when within 0.85-1.15)" % (cost["total_ns_per_switch"] / plain))
