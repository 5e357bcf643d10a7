#!/usr/bin/env python3
"""Summarise UFLP study results (studies/uflp/study.sh output) as markdown tables + fitted exponents.

Usage: python3 studies/uflp/summarize.py <study-out-dir>/results.txt
Each line: '<tag> RESULT <run> solved_at=<n|never> steps=<n> ...'. Tags: scale_<cfg>_N<n>_s<seed>, abl_<cfg>_s<seed>,
mont_<cfg>_s<seed>. Unsolved runs count as '> budget'.
"""
import math, re, sys
from collections import defaultdict

def parse(path):
    rows = []
    for line in open(path):
        parts = line.split()
        if len(parts) >= 4 and parts[1] == "STOPPED":  # a run stopped by hand: '<tag> STOPPED at <steps> ...'
            rows.append((parts[0], None, int(parts[3])))
            continue
        if len(parts) < 3 or parts[1] != "RESULT":
            continue
        kv = dict(p.split("=", 1) for p in parts[3:] if "=" in p)
        solved = None if kv["solved_at"] == "never" else int(kv["solved_at"])
        rows.append((parts[0], solved, int(kv["steps"])))
    return rows

def median(xs):
    xs = sorted(xs); n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2

def fit(xs, ys):
    """least squares y = a + b x"""
    n = len(xs); mx = sum(xs) / n; my = sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
    return my - b * mx, b

rows = parse(sys.argv[1])
scale = defaultdict(lambda: defaultdict(list))
other = defaultdict(list)
for tag, solved, steps in rows:
    m = re.match(r"scale_(.+)_N(\d+)_s(\d+)$", tag)
    if m: scale[m.group(1)][int(m.group(2))].append((solved, steps)); continue
    m = re.match(r"(abl|mont)_(.+)_s(\d+)$", tag)
    if m: other[m.group(1) + "_" + m.group(2)].append((solved, steps))

def cell(runs):
    if not runs: return "–"
    solved = [s for s, _ in runs if s is not None]
    budget = max((st for s, st in runs if s is None), default=None)
    txt = ", ".join(str(s) if s is not None else f">{st}" for s, st in runs)
    return f"{txt} ({len(solved)}/{len(runs)} solved)"

if scale:
    ns = sorted({n for cfg in scale.values() for n in cfg})
    print("| config | " + " | ".join(f"N={n}" for n in ns) + " |")
    print("|---|" + "---|" * len(ns))
    for cfg, byn in scale.items():
        print(f"| {cfg} | " + " | ".join(cell(byn.get(n, [])) for n in ns) + " |")
    print()
    for cfg, byn in scale.items():
        pts = [(n, median([s for s, _ in r])) for n, r in sorted(byn.items()) if r and all(s is not None for s, _ in r)]
        if len(pts) >= 3:
            a, b = fit([math.log(n) for n, _ in pts], [math.log(s) for _, s in pts])
            a2, b2 = fit([n for n, _ in pts], [math.log(s) for _, s in pts])
            print(f"- {cfg}: median steps to solve ≈ {math.exp(a):.3g}·N^{b:.2f} over N = {[n for n, _ in pts]} "
                  f"(as an exponential: ×{math.exp(b2):.2f} per +1 in N; random exploration needs ×2 per +1)")
        else:
            print(f"- {cfg}: fewer than 3 sizes fully solved; no fit")
    print()
if other:
    print("| study | steps to solve per seed |")
    print("|---|---|")
    for k, runs in other.items():
        print(f"| {k} | {cell(runs)} |")
