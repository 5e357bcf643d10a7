#!/usr/bin/env python3
"""Writes the samples of a stored bon-eval whose prompts have BOTH correct and wrong samples as an `import samples`
JSONL file (prompt_id, prompt, response, answer, correct, score, temperature): verifier training data without the
prompt-difficulty signal (all-correct / all-wrong prompts teach a per-sample verifier to rank prompts, not samples).
Standard library only; opens the database read-only.
Usage: mixed-prompts.py DATA_DIR/bonstudio.db RUN_ID OUT.jsonl
Then:  BonStudio.Web import samples OUT.jsonl --name X --data-dir DIR   → an evaluation usable as a verifier run's
       evaluationRunId (give baseModelId: an import records no model)."""
import json
import sqlite3
import sys

db_path, run_id, out_path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
rows = db.execute(
    "select ss.PromptKey, ss.PromptText, ss.CorrectCount, ss.N, s.Text, s.ExtractedAnswer, s.Correct, ss.Temperature "
    "from Samples s join SampleSets ss on ss.Id = s.SampleSetId where ss.RunId = ? order by ss.Id, s.[Index]", (run_id,)).fetchall()
mixed = [r for r in rows if 0 < r[2] < r[3]]
with open(out_path, "w", encoding="utf-8") as f:
    for key, prompt, _, _, text, answer, correct, temperature in mixed:
        f.write(json.dumps({"prompt_id": key, "prompt": prompt, "response": text, "answer": answer,
                            "correct": bool(correct), "score": 1.0 if correct else 0.0, "temperature": temperature}) + "\n")
print(f"run {run_id}: {len(rows)} samples, kept {len(mixed)} of {len({r[0] for r in mixed})} mixed prompts "
      f"({sum(r[6] for r in mixed)} correct)")
