#!/usr/bin/env bash
# The Best-of-N-aware fine-tuning study (issue #4 item 4; results in docs/results-bon.md).
# Usage: studies/bon/run.sh [out dir] [extra Key=Value ...]
#   e.g. studies/bon/run.sh studies/bon/runs/default            # default size (trains its own base with SftRun)
#        studies/bon/run.sh /tmp/bon base=/path/step-0001500.safetensors Levels=1 Seeds=3
# Resumable: re-running with the same out dir reuses the base, reward model, finished runs and evaluations.
# On a shared CPU use one libtorch thread and passive OpenMP waiting (oversubscribed spinning was ~10x slower here).
set -euo pipefail
cd "$(dirname "$0")/../.."
out="${1:-studies/bon/runs/default}"; shift || true
export OMP_WAIT_POLICY=PASSIVE
dotnet build -c Release bench/BonStudio.Bench >/dev/null
nice -n 10 dotnet bench/BonStudio.Bench/bin/Release/net10.0/BonStudio.Bench.dll bon-study out="$out" Threads=1 "$@"
python3 studies/bon/plot.py "$out" docs/figures/bon
