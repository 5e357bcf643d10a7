#!/usr/bin/env bash
# Acceptance figures of issue #3: an sft model → bon-eval (n = 32, 200 MiniMath test problems) → a `verifier` run on
# that evaluation's own samples → re-scoring the evaluation with the learned verifier. Prints pass@1, pass@32 and
# BoN@32 under the oracle, a noisy oracle and the learned verifier. Keeps its data directory (open it with
# `dotnet BonStudio.Web.dll --BonStudioOptions:DataDirectory=DIR` to browse the evaluation in the inspector).
# Usage: bench/eval-throughput/acceptance.sh DATA_DIR [threads=2] [sft preset: default|small]
set -euo pipefail
DATA=${1:?data directory}
THREADS=${2:-2}
PRESET=${3:-default}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$DATA"
dotnet build "$ROOT/src/Web" -c Release -v q -nologo >/dev/null
BIN="$ROOT/src/Web/bin/Release/net10.0/BonStudio.Web.dll"

if [ "$PRESET" = "default" ]; then SFT_CONFIG="{\"seed\": 1, \"device\": \"cpu\", \"threads\": $THREADS}"
else SFT_CONFIG="{\"levels\": [1, 2, 3], \"layers\": 2, \"heads\": 2, \"embeddingDim\": 64, \"steps\": 600, \"batchSize\": 32, \"evalEvery\": 600, \"checkpointEvery\": 600, \"evalTemperatureOne\": false, \"seed\": 1, \"device\": \"cpu\", \"threads\": $THREADS}"; fi
echo "{\"kind\": \"sft\", \"name\": \"acceptance sft ($PRESET)\", \"config\": $SFT_CONFIG}" > "$DATA/sft.json"
MODEL=$(dotnet "$BIN" run "$DATA/sft.json" --data-dir "$DATA" 2>/dev/null | sed -n 's/^  model \([0-9]*\):.*/\1/p' | tail -1)
echo "sft model: $MODEL"

echo "{\"kind\": \"bon-eval\", \"name\": \"acceptance eval\", \"config\": {\"modelId\": $MODEL, \"count\": 200, \"n\": 32, \"temperatures\": \"1.0\", \"noisyOracleEpsilon\": 0.2, \"seed\": 1, \"device\": \"cpu\", \"threads\": $THREADS}}" > "$DATA/eval.json"
EVAL_OUT=$(dotnet "$BIN" run "$DATA/eval.json" --data-dir "$DATA" 2>/dev/null)
EVAL=$(echo "$EVAL_OUT" | sed -n 's/^run \([0-9]*\)$/\1/p' | head -1)
echo "$EVAL_OUT" | grep -E "^run |bon/(pass_at_(1|32)|bon_at_32@)"

echo "{\"kind\": \"verifier\", \"name\": \"acceptance verifier\", \"config\": {\"evaluationRunId\": $EVAL, \"steps\": 400, \"seed\": 1, \"device\": \"cpu\", \"threads\": $THREADS}}" > "$DATA/verifier.json"
RM_OUT=$(dotnet "$BIN" run "$DATA/verifier.json" --data-dir "$DATA" 2>/dev/null)
echo "$RM_OUT" | grep -E "^run |verifier/(auroc|accuracy)"
RM=$(echo "$RM_OUT" | sed -n 's/^  model \([0-9]*\):.*/\1/p' | tail -1)
dotnet "$BIN" rescore "$EVAL" --verifier reward-model --model-id "$RM" --data-dir "$DATA" 2>/dev/null
