#!/usr/bin/env python3
"""Paired bootstrap over test questions of ECE(a) - ECE(b) for two sources of the same calibration-sft runs
(15 equal-width bins, last bin closed, as CalibrationMetrics). Questions are resampled per seed (both sources keep
the same resampled questions); the statistic is the mean difference over the seeds. Deterministic (seed 0).
Usage: ece_diff_bootstrap.py a b dir [dir ...]   e.g. phrase-ladder p-true runs/r800-sft-p-true-s{1,2,3}"""
import json, random, sys


def ece(pairs, bins=15):
    sums = [[0, 0.0, 0.0] for _ in range(bins)]
    for c, y in pairs:
        b = min(int(c * bins), bins - 1)
        sums[b][0] += 1; sums[b][1] += c; sums[b][2] += y
    return sum(abs(s[2] - s[1]) for s in sums if s[0]) / len(pairs)


a, b, dirs = sys.argv[1], sys.argv[2], sys.argv[3:]
runs = []
for d in dirs:
    by = {a: {}, b: {}}
    for line in open(f"{d}/calibration.jsonl"):
        r = json.loads(line)
        if r["source"] in by: by[r["source"]][r["question_id"]] = (r["confidence"], 1.0 if r["correct"] else 0.0)
    keys = sorted(set(by[a]) & set(by[b]))
    runs.append((keys, by))
rng = random.Random(0)
point = sum(ece([by[a][k] for k in keys]) - ece([by[b][k] for k in keys]) for keys, by in runs) / len(runs)
diffs = []
for _ in range(2000):
    total = 0.0
    for keys, by in runs:
        sample = [rng.choice(keys) for _ in keys]
        total += ece([by[a][k] for k in sample]) - ece([by[b][k] for k in sample])
    diffs.append(total / len(runs))
diffs.sort()
print(f"ECE15({a}) - ECE15({b}), mean over {len(runs)} runs: {point:+.3f}, 95 % bootstrap interval "
      f"[{diffs[49]:+.3f}, {diffs[1949]:+.3f}] (2000 resamples of questions, n = {[len(k) for k, _ in runs]})")
