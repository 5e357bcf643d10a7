#!/usr/bin/env bash
# eval-throughput: end-to-end Best-of-N evaluation throughput (sampling + checking + scoring + storing), issue #3.
# Trains a small MiniMath sft model with `run` (fresh data directory), then times `run` of a bon-eval with
# n = 32 on 200 MiniMath test problems (oracle + noisy-oracle verifiers) and prints samples/s.
# Usage: bench/eval-throughput/run.sh [threads=2] [sft steps=300]   (from the repository root; builds Release first)
set -euo pipefail
THREADS=${1:-2}
SFT_STEPS=${2:-300}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DATA=$(mktemp -d /tmp/bs-bench-eval-XXXXXX)
trap 'rm -rf "$DATA"' EXIT
dotnet build "$ROOT/src/Web" -c Release -v q -nologo >/dev/null
BIN="$ROOT/src/Web/bin/Release/net10.0/BonStudio.Web.dll"

cat > "$DATA/sft.json" <<JSON
{"kind": "sft", "name": "bench sft", "config": {"levels": [1, 2, 3], "layers": 2, "heads": 2, "embeddingDim": 64, "steps": $SFT_STEPS,
 "batchSize": 32, "evalEvery": $SFT_STEPS, "checkpointEvery": $SFT_STEPS, "evalTemperatureOne": false, "validationProblems": 50, "testProblems": 50,
 "seed": 1, "device": "cpu", "threads": $THREADS}}
JSON
SFT_OUT=$(dotnet "$BIN" --data-dir "$DATA" run "$DATA/sft.json" 2>/dev/null)
MODEL=$(echo "$SFT_OUT" | sed -n 's/^  model \([0-9]*\):.*/\1/p' | tail -1)
echo "sft model id: $MODEL"

cat > "$DATA/eval.json" <<JSON
{"kind": "bon-eval", "name": "bench eval", "config": {"modelId": $MODEL, "problemSource": "minimath", "split": "test", "minLevel": 1, "maxLevel": 3,
 "count": 200, "n": 32, "temperatures": "1.0", "maxNewTokens": 96, "oracle": true, "noisyOracleEpsilon": 0.1, "seed": 1, "device": "cpu", "threads": $THREADS}}
JSON
START=$(date +%s.%N)
EVAL_OUT=$(dotnet "$BIN" --data-dir "$DATA" run "$DATA/eval.json" 2>/dev/null)
END=$(date +%s.%N)
echo "$EVAL_OUT" | grep -E "^run |bon/(pass_at_(1|32)|maj_at_32|bon_at_32@)" || true
SAMPLES=$(sqlite3 "$DATA/bonstudio.db" "select count(*) from Samples" 2>/dev/null || echo 6400)
awk -v s="$SAMPLES" -v a="$START" -v b="$END" 'BEGIN { t = b - a; printf "samples stored: %d, wall time %.1f s (incl. ~2-3 s host start-up), throughput %.1f samples/s\n", s, t, s / t }'
