#!/usr/bin/env python3
"""Per-run facts of calibration-SFT runs that calib-report does not tabulate: accuracy base -> tuned (by level),
unparseable share of the free greedy phrase, ladder levels used by the free and the ladder-constrained phrase, their
agreement, and where the phrases sit per MiniMath level. Reads only the committed metrics.tsv and calibration.jsonl.
Usage: summarize_sft.py name=dir [name=dir ...]   (prints Markdown)"""
import json, statistics, sys
from collections import Counter, defaultdict


def metrics(d):
    return {k: float(v) for k, _, v in (l.rstrip("\n").split("\t") for l in open(f"{d}/metrics.tsv"))}


def records(d):
    by = defaultdict(list)
    for line in open(f"{d}/calibration.jsonl"):
        r = json.loads(line)
        by[r["source"]].append(r)
    return by


def by_level(rs):
    acc = defaultdict(list)
    for r in rs: acc[r["level"]].append(r["correct"])
    return " / ".join(f"{100 * sum(v) / len(v):.0f}" for _, v in sorted(acc.items()))


def usage(rs):
    c = Counter(r["phrase"] for r in rs)
    return ", ".join(f"{p} {n}" for p, n in c.most_common())


def where(rs):
    out = []
    for lvl in sorted({r["level"] for r in rs}):
        c = Counter(r["phrase"] for r in rs if r["level"] == lvl)
        out.append(f"L{lvl}: " + ", ".join(f"{p} {n}" for p, n in c.most_common()))
    return "; ".join(out)


rows, agg = [], defaultdict(list)
print("| run | accuracy base → tuned (base L1 / L2 / L3 → tuned L1 / L2 / L3 %) | unparseable (free) | levels used: free / ladder | ladder = free (parseable) |")
print("|---|---|---|---|---|")
for arg in sys.argv[1:]:
    name, d = arg.split("=", 1)
    m, r = metrics(d), records(d)
    tuned = r["always-confident"]
    free, ladder = r.get("phrase", []), r.get("phrase-ladder", [])
    unp = int(m["calibration/unparseable"])
    agree = m.get("calibration/ladder_agrees_with_free", float("nan"))
    lf, ll = len({x["phrase"] for x in free}), len({x["phrase"] for x in ladder})
    base = by_level(r["p-true"]) if "p-true" in r else "—"  # the base model's test answers are recorded with their p-true
    print(f"| {name} | {100 * m['base_accuracy']:.1f} % → {100 * m['accuracy']:.1f} % ({base} → {by_level(tuned)}) | {unp} / {len(tuned)} | {lf} / {ll} | {agree:.2f} |")
    for k, v in [("base", m["base_accuracy"]), ("tuned", m["accuracy"]), ("unparseable", unp), ("free levels", lf), ("ladder levels", ll), ("agree", agree)]:
        agg[k].append(v)
    rows.append((name, free, ladder))
if len(sys.argv) > 2:
    print("\nmean ± sd: " + ", ".join(f"{k} {statistics.mean(v):.3f} ± {statistics.stdev(v):.3f}" for k, v in agg.items()))
print()
for name, free, ladder in rows:
    print(f"- **{name}** free: {where(free) or '—'}")
    print(f"  ladder: {where(ladder) or '—'}")
