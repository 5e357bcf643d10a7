#!/usr/bin/env bash
# The Best-of-N-aware fine-tuning study (issue #4 item 4; results in docs/results-bon.md).
# Usage: studies/bon/run.sh [out dir] [extra Key=Value ...]
#   e.g. studies/bon/run.sh /tmp/bon base=/path/step-0001500.safetensors   # the default size, as run for the docs
#        studies/bon/run.sh studies/bon/runs/default                        # trains its own base first (the default sft preset)
#        studies/bon/run.sh /tmp/bon-r2 base=… Steps=36 PromptsPerStep=8 TestProblems=64         # round 2 (round 1: also LearningRate=1e-4)
#        studies/bon/run.sh /tmp/pilot base=… Seeds=1 Methods=rl,bon-rlb EvalSplit=validation BaseTemperatures=1.0 LearningRate=3e-5  # a pilot
# Defaults (StudyOptions in bench/BonStudio.Bench/BonStudy.cs) = round 4 in docs/results-bon.md: levels 2,3, 7 methods × 3 seeds,
# 100 steps × 32 prompts × n=8, N'=4, lr 1e-5 (chosen on the validation split), Verifier=auto, 256 test prompts × 32, base temperatures 0.7,1.0,1.3.
# Resumable: re-running with the same out dir reuses the base, reward model, finished runs and evaluations.
# On a shared CPU use one libtorch thread and passive OpenMP waiting (oversubscribed spinning was ~10x slower here).
set -euo pipefail
cd "$(dirname "$0")/../.."
out="${1:-studies/bon/runs/default}"; shift || true
export OMP_WAIT_POLICY=PASSIVE
dotnet build -c Release bench/BonStudio.Bench >/dev/null
bench() { nice -n 10 dotnet bench/BonStudio.Bench/bin/Release/net10.0/BonStudio.Bench.dll bon-study out="$out" Threads=1 "$@"; }
if printf '%s\n' "$@" | grep -qi '^base='; then
  # Two shards share the out dir, one per core; shard 0 also trains the reward model and evaluates the base.
  bench "$@" Shard=0/2 & first=$!
  bench "$@" Shard=1/2
  wait "$first"
  bench "$@" SummaryOnly=true
else
  bench "$@"   # no base given: one process trains the default sft preset first, then runs the study
fi
python3 studies/bon/plot.py "$out" docs/figures/bon
