#!/usr/bin/env python3
"""BoN@k (exact order-statistic formula of methods.md §1, ties = mean of the tie group) with 95 % t-intervals over
prompts, and the mean within-prompt AUROC, for one score layer of a stored evaluation, read straight from the SQLite
database (no server needed; the same numbers as GET /api/evaluations/{id}/metrics), and BoN@k minus pass@1 paired
over prompts (mean per-prompt difference with its t-interval). Standard library only.
Usage: layer-figures.py DB RUN_ID VERIFIER [k ...]   e.g. layer-figures.py data/bonstudio.db 6 reward-model#7 1 2 4 8 16 32"""
import math
import sqlite3
import statistics
import sys

db, run_id, verifier = sys.argv[1], int(sys.argv[2]), sys.argv[3]
ks = [int(k) for k in sys.argv[4:]] or [1, 32]
con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
rows = con.execute("""select ss.Id, s.Correct, sc.Value from SampleSets ss join Samples s on s.SampleSetId = ss.Id
  join Scores sc on sc.SampleId = s.Id join ScoreLayers l on l.Id = sc.ScoreLayerId
  where ss.RunId = ? and l.RunId = ? and l.Verifier = ?""", (run_id, run_id, verifier)).fetchall()
if not rows:
    sys.exit(f"no scores of layer '{verifier}' on run {run_id}")
prompts = {}
for key, correct, score in rows:
    prompts.setdefault(key, []).append((score, 1.0 if correct else 0.0))


def bon_at_k(samples, k):
    samples = sorted(samples)
    n = len(samples)
    r = [0.0] * n
    i = 0
    while i < n:  # ties: each member gets the tie group's mean correctness
        j = i
        while j + 1 < n and samples[j + 1][0] == samples[i][0]:
            j += 1
        mean = sum(x[1] for x in samples[i:j + 1]) / (j - i + 1)
        for q in range(i, j + 1):
            r[q] = mean
        i = j + 1
    total = math.comb(n, k)
    return sum(math.comb(i - 1, k - 1) / total * r[i - 1] for i in range(k, n + 1))


def auroc(samples):
    pos = [s for s, c in samples if c == 1.0]
    neg = [s for s, c in samples if c == 0.0]
    if not pos or not neg:
        return None
    return sum(1.0 if p > q else 0.5 if p == q else 0.0 for p in pos for q in neg) / (len(pos) * len(neg))


def interval(values):
    m = statistics.fmean(values)
    df, z = len(values) - 1, 1.959964
    t = z + (z ** 3 + z) / (4 * df)  # Student-t 97.5 % quantile (Cornish–Fisher; 1.972 at df = 199)
    half = t * statistics.stdev(values) / math.sqrt(len(values))
    return m, m - half, m + half


within = [a for a in (auroc(v) for v in prompts.values()) if a is not None]
print(f"run {run_id}, layer {verifier}: {len(prompts)} prompts; within-prompt AUROC {statistics.fmean(within):.3f} "
      f"over {len(within)} prompts with both classes")
for k in ks:
    m, lo, hi = interval([bon_at_k(v, k) for v in prompts.values()])
    # Paired over prompts: BoN@k minus the prompt's pass@1 (c/n); the interval says whether reranking beats one sample.
    d, dlo, dhi = interval([bon_at_k(v, k) - statistics.fmean(c for _, c in v) for v in prompts.values()])
    print(f"  BoN@{k:<3} {m:.4f} [{lo:.4f}, {hi:.4f}]   BoN@{k} - pass@1 paired {d:+.4f} [{dlo:+.4f}, {dhi:+.4f}]")
