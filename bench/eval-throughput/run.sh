#!/usr/bin/env bash
# eval-throughput: end-to-end Best-of-N evaluation throughput (sampling + checking + scoring + storing), issue #3.
# Registers a model in a fresh data directory, then times `run` of a bon-eval with n = 32 on 200 MiniMath test
# problems (oracle + noisy-oracle verifiers) and prints samples/s and the evaluation's summary metrics.
# Model: by default the repository's small trained MiniMath GPT fixture (2 layers, d = 64, 123k parameters,
# tests/BonStudio.Training.Tests/Fixtures/calibration-base); pass another BonStudio .safetensors checkpoint to change it.
# Usage (from anywhere): bench/eval-throughput/run.sh [threads=2] [checkpoint.safetensors] [n=32] [problems=200]
set -euo pipefail
THREADS=${1:-2}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CHECKPOINT=$(realpath "${2:-$ROOT/tests/BonStudio.Training.Tests/Fixtures/calibration-base/minimath-gpt-2x64.safetensors}")
N=${3:-32}
COUNT=${4:-200}
DATA=$(mktemp -d /tmp/bs-bench-eval-XXXXXX)
trap 'rm -rf "$DATA"' EXIT
dotnet build "$ROOT/src/Web" -c Release -v q -nologo >/dev/null
BIN="$ROOT/src/Web/bin/Release/net10.0/BonStudio.Web.dll"

# Create the database (migrations), then register the checkpoint as model 1 (there is no model-import verb yet).
dotnet "$BIN" runs list --data-dir "$DATA" >/dev/null 2>&1
sqlite3 "$DATA/bonstudio.db" "INSERT INTO Models (Name, Architecture, Tokenizer, Path, Step, Parameters, SizeBytes, Source, IsFinal, CreatedAt)
  VALUES ('bench model', 'gpt', 'char:ascii', '$CHECKPOINT', 0, 0, $(stat -c %s "$CHECKPOINT"), 'imported', 1, datetime('now'));"
MODEL=$(sqlite3 "$DATA/bonstudio.db" "select max(Id) from Models")

cat > "$DATA/eval.json" <<JSON
{"kind": "bon-eval", "name": "bench eval", "config": {"modelId": $MODEL, "problemSource": "minimath", "split": "test", "minLevel": 1, "maxLevel": 3,
 "count": $COUNT, "n": $N, "temperatures": "1.0", "maxNewTokens": 96, "oracle": true, "noisyOracleEpsilon": 0.1, "seed": 1, "device": "cpu", "threads": $THREADS}}
JSON
START=$(date +%s.%N)
EVAL_OUT=$(dotnet "$BIN" run "$DATA/eval.json" --data-dir "$DATA" 2>/dev/null)
END=$(date +%s.%N)
echo "$EVAL_OUT" | grep -E "^run |bon/(pass_at_(1|$N)|maj_at_$N|bon_at_$N@)" || true
SAMPLES=$(sqlite3 "$DATA/bonstudio.db" "select count(*) from Samples")
SCORES=$(sqlite3 "$DATA/bonstudio.db" "select count(*) from Scores")
RUNSECS=$(sqlite3 "$DATA/bonstudio.db" "select (julianday(FinishedAt) - julianday(StartedAt)) * 86400 from Runs where Kind = 'bon-eval'")
awk -v s="$SAMPLES" -v sc="$SCORES" -v a="$START" -v b="$END" -v r="$RUNSECS" 'BEGIN {
  printf "samples stored: %d (scores: %d); run time %.1f s (StartedAt..FinishedAt) → %.1f samples/s; wall time of `run` incl. host start-up %.1f s → %.1f samples/s\n", s, sc, r, s / r, b - a, s / (b - a) }'
