#!/usr/bin/env bash
# Acceptance figures of issue #3 (docs/results-bon-eval.md): a model → bon-eval of n = 32 on 200 MiniMath TEST problems
# (timed: the end-to-end evaluation throughput of docs/bench-eval.md) → a bon-eval on TRAIN problems whose samples,
# labelled by the checker, train a `verifier` run (held-out AUROC/accuracy on held-out train prompts) → re-scoring the
# test evaluation with that learned verifier (nothing re-sampled). The verifier never sees a test problem.
# Prints pass@1, pass@32 and BoN@32 under the oracle, a noisy oracle and the learned verifier. Keeps its data directory
# (serve it with `dotnet BonStudio.Web.dll serve --data-dir DIR` to open the evaluations in the inspector).
# Usage: bench/eval-throughput/acceptance.sh DATA_DIR [threads=1] [model: default | small | ID of a model in DATA_DIR]
# Environment: TRAIN_COUNT (train problems for the verifier data, default 600), VERIFIER_STEPS (default 800),
# VERIFIER_LR (default 0.001), VERIFIER_OBJECTIVE (bce, pairwise, bce+pairwise or process; default bce): section 2's
# recipe of docs/results-bon-eval.md. Section 4's (process labels, 20 000 × 8 data) is listed there command by command.
# Compute is niced; OMP_WAIT_POLICY=PASSIVE keeps idle libtorch threads from spinning on a shared machine.
set -euo pipefail
DATA=${1:?data directory}
THREADS=${2:-1}
MODEL_ARG=${3:-default}
TRAIN_COUNT=${TRAIN_COUNT:-600}
VERIFIER_STEPS=${VERIFIER_STEPS:-800}
VERIFIER_LR=${VERIFIER_LR:-0.001}
VERIFIER_OBJECTIVE=${VERIFIER_OBJECTIVE:-bce}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export OMP_WAIT_POLICY=PASSIVE
mkdir -p "$DATA"
dotnet build "$ROOT/src/Web" -c Release -v q -nologo >/dev/null
BIN="$ROOT/src/Web/bin/Release/net10.0/BonStudio.Web.dll"
bs() { nice -n 10 dotnet "$BIN" "$@"; }

case "$MODEL_ARG" in
  default) SFT_CONFIG="{\"seed\": 1, \"device\": \"cpu\", \"threads\": $THREADS}" ;;
  small) SFT_CONFIG="{\"levels\": [1, 2, 3], \"layers\": 2, \"heads\": 2, \"embeddingDim\": 64, \"steps\": 600, \"batchSize\": 32, \"evalEvery\": 600, \"checkpointEvery\": 600, \"evalTemperatureOne\": false, \"seed\": 1, \"device\": \"cpu\", \"threads\": $THREADS}" ;;
  *[!0-9]*) echo "model: default, small or a model id, got '$MODEL_ARG'" >&2; exit 2 ;;
  *) SFT_CONFIG="" ;;
esac
if [ -n "$SFT_CONFIG" ]; then
  echo "{\"kind\": \"sft\", \"name\": \"acceptance sft ($MODEL_ARG)\", \"config\": $SFT_CONFIG}" > "$DATA/sft.json"
  MODEL=$(bs run "$DATA/sft.json" --data-dir "$DATA" 2>>"$DATA/acceptance.log" | sed -n 's/^  model \([0-9]*\):.*/\1/p' | tail -1)
else
  MODEL=$MODEL_ARG
fi
echo "model: $MODEL"

# 1. The test evaluation: examples/bon-eval-default.json with this model id and thread count, timed end to end.
sed -e "s/\"modelId\": [0-9]*/\"modelId\": $MODEL/" -e "s/\"threads\": [0-9]*/\"threads\": $THREADS/" \
  "$ROOT/examples/bon-eval-default.json" > "$DATA/eval.json"
START=$(date +%s.%N)
EVAL_OUT=$(bs run "$DATA/eval.json" --data-dir "$DATA" 2>>"$DATA/acceptance.log")
END=$(date +%s.%N)
EVAL=$(echo "$EVAL_OUT" | sed -n 's/^run \([0-9]*\)$/\1/p' | head -1)
echo "$EVAL_OUT" | grep -E "^run |bon/(pass_at_(1|32)|maj_at_32|bon_at_32@)" || true
SAMPLES=$(sqlite3 "$DATA/bonstudio.db" "select count(*) from Samples s join SampleSets ss on ss.Id = s.SampleSetId where ss.RunId = $EVAL")
RUNSECS=$(sqlite3 "$DATA/bonstudio.db" "select (julianday(FinishedAt) - julianday(StartedAt)) * 86400 from Runs where Id = $EVAL")
awk -v s="$SAMPLES" -v a="$START" -v b="$END" -v r="$RUNSECS" 'BEGIN {
  printf "throughput: %d samples in %.1f s (StartedAt..FinishedAt) → %.2f samples/s; wall time of `run` incl. host start-up %.1f s → %.2f samples/s\n", s, r, s / r, b - a, s / (b - a) }'
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"

# 2. Verifier data: the same model's samples on TRAIN problems (disjoint from the test split), labelled by the checker.
echo "{\"kind\": \"bon-eval\", \"name\": \"verifier data (train, n = 32)\", \"config\": {\"modelId\": $MODEL, \"problemSource\": \"minimath\", \"split\": \"train\", \"minLevel\": 1, \"maxLevel\": 3, \"count\": $TRAIN_COUNT, \"n\": 32, \"temperatures\": \"1.0\", \"maxNewTokens\": 96, \"oracle\": true, \"seed\": 2, \"device\": \"cpu\", \"threads\": $THREADS}}" > "$DATA/train-eval.json"
TRAIN_OUT=$(bs run "$DATA/train-eval.json" --data-dir "$DATA" 2>>"$DATA/acceptance.log")
TRAIN_EVAL=$(echo "$TRAIN_OUT" | sed -n 's/^run \([0-9]*\)$/\1/p' | head -1)
echo "$TRAIN_OUT" | grep -E "^run |bon/pass_at_(1|32) " || true

# 3. The learned verifier (held-out = a share of the TRAIN prompts).
echo "{\"kind\": \"verifier\", \"name\": \"acceptance verifier\", \"config\": {\"evaluationRunId\": $TRAIN_EVAL, \"steps\": $VERIFIER_STEPS, \"learningRate\": $VERIFIER_LR, \"objective\": \"$VERIFIER_OBJECTIVE\", \"evalEvery\": 400, \"seed\": 1, \"device\": \"cpu\", \"threads\": $THREADS}}" > "$DATA/verifier.json"
RM_OUT=$(bs run "$DATA/verifier.json" --data-dir "$DATA" 2>>"$DATA/acceptance.log")
echo "$RM_OUT" | grep -E "^run |verifier/(auroc|accuracy)" || true
RM=$(echo "$RM_OUT" | sed -n 's/^  model \([0-9]*\):.*/\1/p' | tail -1)

# 4. A dev evaluation on the VALIDATION split (disjoint from train and test), re-scored with the verifier: the figure
#    used to judge verifier recipes (never the test evaluation).
sed -e 's/"split": "test"/"split": "validation"/' -e 's/"noisyOracleEpsilon": [0-9.]*/"noisyOracleEpsilon": 0/' -e 's/"seed": 1,/"seed": 3,/' \
  -e 's/"name": "[^"]*"/"name": "dev eval (validation split, n = 32)"/' "$DATA/eval.json" > "$DATA/dev-eval.json"
DEV_OUT=$(bs run "$DATA/dev-eval.json" --data-dir "$DATA" 2>>"$DATA/acceptance.log")
DEV=$(echo "$DEV_OUT" | sed -n 's/^run \([0-9]*\)$/\1/p' | head -1)
echo "dev evaluation: run $DEV"
bs rescore "$DEV" --verifier reward-model --model-id "$RM" --data-dir "$DATA" 2>>"$DATA/acceptance.log"

# 5. Re-score the test evaluation with it: one more score layer on the same samples.
bs rescore "$EVAL" --verifier reward-model --model-id "$RM" --data-dir "$DATA" 2>>"$DATA/acceptance.log"
echo "test evaluation: run $EVAL; verifier data: run $TRAIN_EVAL; dev evaluation: run $DEV; reward model: model $RM"
