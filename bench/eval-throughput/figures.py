#!/usr/bin/env python3
"""Prints an evaluation's headline figures with their 95% intervals from a running BonStudio server
(GET /api/evaluations/{id}/metrics: the same numbers the curves page shows). Standard library only.
Usage: figures.py BASE_URL RUN_ID [k ...]   (default k: 1 and n)"""
import json
import sys
import urllib.request

base, run_id = sys.argv[1].rstrip('/'), int(sys.argv[2])
with urllib.request.urlopen(f"{base}/api/evaluations/{run_id}/metrics") as response:
    m = json.load(response)
n = m["n"]
ks = [int(k) for k in sys.argv[3:]] or [1, n]


def fmt(curve, k):
    mean, lo, hi = curve["mean"][k - 1], curve["lower"][k - 1], curve["upper"][k - 1]
    return f"{mean:.4f} [{lo:.4f}, {hi:.4f}]" if lo is not None else f"{mean:.4f}"


print(f"run {run_id}: {m['nPrompts']} prompts, n = {n}, T = {m['temperature']}; mean [95% interval]")
for k in ks:
    print(f"  pass@{k:<3} {fmt(m['passAtK'], k)}")
    print(f"  maj@{k:<4} {fmt(m['majAtK'], k)} ({m['majMethod']})")
    for layer in m["bonAtK"]:
        print(f"  BoN@{k:<4} {fmt(layer['bonAtK'], k)}  verifier {layer['verifier']}")
