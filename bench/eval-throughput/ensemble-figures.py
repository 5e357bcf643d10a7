#!/usr/bin/env python3
"""What an ensemble of learned verifiers would give, before building it: BoN@k (exact, ties = mean of the tie group),
95 % t-intervals over prompts and mean within-prompt AUROC for the MEAN LOGIT of several stored score layers of one
evaluation (each layer's P(correct) → logit, averaged per sample). Reuses layer-figures.py's formulas. Standard library.
Usage: ensemble-figures.py DB RUN_ID LAYER [LAYER ...] -- [k ...]
  e.g. ensemble-figures.py data/bonstudio.db 3 reward-model#4 reward-model#5 -- 1 2 4 8 16 32"""
import importlib.util
import math
import os
import sqlite3
import statistics
import sys

args = sys.argv[1:]
sep = args.index("--") if "--" in args else len(args)
db, run_id, layers = args[0], int(args[1]), args[2:sep]
ks = [int(k) for k in args[sep + 1:]] or [1, 32]
spec = importlib.util.spec_from_file_location("lf", os.path.join(os.path.dirname(__file__), "layer-figures.py"))
con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
per_sample = {}
for layer in layers:
    rows = con.execute("""select ss.Id, s.Id, s.Correct, sc.Value from SampleSets ss join Samples s on s.SampleSetId = ss.Id
      join Scores sc on sc.SampleId = s.Id join ScoreLayers l on l.Id = sc.ScoreLayerId
      where ss.RunId = ? and l.RunId = ? and l.Verifier = ?""", (run_id, run_id, layer)).fetchall()
    if not rows:
        sys.exit(f"no scores of layer '{layer}' on run {run_id}")
    for key, sid, correct, p in rows:
        p = min(max(p, 1e-15), 1 - 1e-15)
        per_sample.setdefault((key, sid), [1.0 if correct else 0.0, []])[1].append(math.log(p / (1 - p)))
prompts = {}
for (key, _), (correct, logits) in per_sample.items():
    if len(logits) == len(layers):
        prompts.setdefault(key, []).append((sum(logits) / len(logits), correct))
# layer-figures.py runs on import; borrow its functions by executing only the definitions.
src = open(spec.origin).read()
defs = {}
exec(compile(src[src.index("def bon_at_k"):src.index("within = [")], spec.origin, "exec"), {"math": math, "statistics": statistics}, defs)
within = [a for a in (defs["auroc"](v) for v in prompts.values()) if a is not None]
print(f"run {run_id}, mean logit of {' + '.join(layers)}: {len(prompts)} prompts; within-prompt AUROC "
      f"{statistics.fmean(within):.3f} over {len(within)} prompts with both classes")
for k in ks:
    m, lo, hi = defs["interval"]([defs["bon_at_k"](v, k) for v in prompts.values()])
    print(f"  BoN@{k:<3} {m:.4f} [{lo:.4f}, {hi:.4f}]")
