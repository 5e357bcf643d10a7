#!/usr/bin/env bash
# The calibration study (docs/results-calibration.md): base model (the default `sft` preset) → calibration-eval of three
# sources on validation (source choice) and test → P(True) judges → calibration-SFT from the chosen source vs the
# trained always-confident baseline (validation run for the recipe, then 3 test seeds) → tables + SVGs.
# Runs niced, one libtorch thread each (the CPU is shared). Usage: studies/calibration/run_study.sh [stage...]
#   stages: base val eval judge sft report  (default: base judge val sft report; finished runs are skipped;
#   sft = sft-source + sft-confident, which can also be run on their own)
# Environment: SOURCE (SFT label source, default p-true: chosen on the validation eval), SEEDS (default "1 2 3"),
#   BASE_CKPT (use this checkpoint as the base instead of training the preset), JOBS (parallel runs, default 1),
#   TAG (prefix of the SFT run directories, default r800 = the recipe below).
# The SFT recipe (session 3, docs §5): 4000 training questions, 800 steps, batch 32, lr 3e-4, p-true labels from a
# 300-step judge. The judge is taught by a p-true-only calibration-eval per seed (`judge` stage): the same teaching
# data, steps and RNG as the full `eval-s<seed>` runs, so the same judge, without the consistency sampling. Its
# teaching questions come from the train split and do not depend on Split, so judge-s1 also serves the validation run.
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=studies/calibration/runs
BIN=${BIN:-/tmp/calib-bench-bin}   # override to use another private build
SOURCE=${SOURCE:-p-true}
SEEDS=${SEEDS:-"1 2 3"}
JOBS=${JOBS:-1}
TAG=${TAG:-r800}
STAGES=${*:-base judge val sft report}
export OMP_WAIT_POLICY=PASSIVE
mkdir -p "$RUNS/base"
if [ ! -f "$BIN/BonStudio.Bench.dll" ]; then
  dotnet build -c Release bench/BonStudio.Bench >/dev/null
  rm -rf "$BIN"; cp -r bench/BonStudio.Bench/bin/Release/net10.0 "$BIN"   # a private copy: rebuilding the repo cannot break a running study
fi
bench() { nice -n 10 dotnet "$BIN/BonStudio.Bench.dll" "$@"; }
M=$RUNS/base/base.safetensors
LEVELS=1,2,3
# The recipe (defaults of this study; chosen on the validation split, see the doc):
EVAL_ARGS="Threads=1 Levels=$LEVELS Problems=300 ConsistencySamples=10 TeachProblems=600 TeachSamplesPerProblem=2 TeachSteps=300"
SFT_ARGS="Threads=1 Levels=$LEVELS TrainProblems=4000 TestProblems=300 Steps=800 BatchSize=32 LearningRate=3e-4"
JUDGE_ARGS="$EVAL_ARGS Sources=p-true"
judge() { [ "$SOURCE" != p-true ] || echo "JudgeCheckpoint=$RUNS/judge-s$1/ptrue-judge.safetensors"; }
eval_run() { [ -f $RUNS/$1/metrics.tsv ] || bench calib-eval model=$M out=$RUNS/$1 $EVAL_ARGS "${@:2}" > $RUNS/$1.log 2>&1; }
judge_run() { [ -f $RUNS/judge-s$1/metrics.tsv ] || bench calib-eval model=$M out=$RUNS/judge-s$1 Seed=$1 $JUDGE_ARGS > $RUNS/judge-s$1.log 2>&1; }
sft_run()  { [ -f $RUNS/$1/metrics.tsv ] || bench calib-sft model=$M out=$RUNS/$1 $SFT_ARGS "${@:2}" > $RUNS/$1.log 2>&1; }
throttle() { while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n; done; }

for stage in $STAGES; do case $stage in
base)
  # The default `sft` preset (examples/sft-minimath.json: 4 layers, d = 128, levels 1-3, 1500 steps), trained by the web CLI.
  if [ ! -f $M ]; then
    if [ -n "${BASE_CKPT:-}" ]; then cp "$BASE_CKPT" $M; else
      dotnet build -c Release src/Web >/dev/null
      nice -n 10 dotnet src/Web/bin/Release/net10.0/BonStudio.Web.dll --data-dir $RUNS/base/data run examples/sft-minimath.json > $RUNS/base.log 2>&1
      cp "$(find $RUNS/base/data -name 'step-0001500.safetensors' | head -1)" $M
    fi
  fi ;;
judge)
  # P(True) judges (checkpoints are not committed: re-created here; judge-s<seed>/calibration.jsonl must equal the
  # p-true pairs of eval-s<seed>, a check that the base and the judge are the ones the committed evals used).
  for s in $SEEDS; do throttle; judge_run $s & done; wait ;;
val)
  # Validation split only: the SFT recipe (phrase spread, unparseable share). (The source choice was made on
  # val-eval-s1 in session 1/2: `eval_run val-eval-s1 Seed=1 Split=validation`.)
  sft_run $TAG-val-sft-$SOURCE-s1 Seed=1 Split=validation Source=$SOURCE Labels=source $(judge 1) ;;
eval)
  for s in $SEEDS; do throttle; eval_run eval-s$s Seed=$s & done; wait ;;
sft|sft-source|sft-confident)
  for s in $SEEDS; do
    [ $stage = sft-confident ] || { throttle; sft_run $TAG-sft-$SOURCE-s$s Seed=$s Source=$SOURCE Labels=source $(judge $s) & }
    [ $stage = sft-source ] || { throttle; sft_run $TAG-sft-confident-s$s Seed=$s Source=$SOURCE Labels=always-confident & }
  done; wait ;;
report)
  # Only finished runs (metrics.tsv is written last) enter the tables. Session 2's reports (150-step recipe, 2 seeds)
  # were made with TAG= and SEEDS="1 2" from the run directories without a prefix.
  FIG=docs/figures/calibration
  mkdir -p $FIG
  P=${TAG:+$TAG-}
  done_runs() { for s in $SEEDS; do if [ -f $RUNS/$1-s$s/metrics.tsv ]; then printf "s$s=$RUNS/$1-s$s,"; fi; done | sed "s/,\$//"; }
  evals=$(done_runs eval); sfts=$(done_runs ${P}sft-$SOURCE); conf=$(done_runs ${P}sft-confident)
  [ ! -f $RUNS/val-eval-s1/metrics.tsv ] || bench calib-report out=$FIG name=val-sources runs=val=$RUNS/val-eval-s1 title="Validation: three confidence sources (seed 1)" > $RUNS/report-val-sources.txt
  [ ! -f $RUNS/${P}val-sft-$SOURCE-s1/metrics.tsv ] || bench calib-report out=$FIG name=${P}val-sft runs=val=$RUNS/${P}val-sft-$SOURCE-s1 sources=phrase,phrase-ladder,$SOURCE,$SOURCE-ladder,always-confident title="Validation: calibration-SFT ($SOURCE labels, 800 steps), seed 1" > $RUNS/report-${P}val-sft.txt
  [ -z "$evals" ] || bench calib-report out=$FIG name=sources-s1 runs=s1=$RUNS/eval-s1 title="Base model: three confidence sources (test, seed 1)" > $RUNS/report-sources-s1.txt
  [ -z "$evals" ] || bench calib-report out=$FIG name=sources-all runs=$evals > $RUNS/report-sources-all.txt
  [ -z "$sfts" ] || bench calib-report out=$FIG name=${P}sft-$SOURCE-all runs=$sfts > $RUNS/report-${P}sft-$SOURCE-all.txt
  [ -z "$conf" ] || bench calib-report out=$FIG name=${P}sft-confident-all runs=$conf > $RUNS/report-${P}sft-confident-all.txt
  [ -z "$sfts" ] || bench calib-report out=$FIG name=${P}sft-$SOURCE-all-b10 bins=10 runs=$sfts > $RUNS/report-${P}sft-$SOURCE-all-b10.txt
  if [ -f $RUNS/${P}sft-$SOURCE-s1/metrics.tsv ] && [ -f $RUNS/${P}sft-confident-s1/metrics.tsv ]; then bench calib-report out=$FIG name=${P}sft-s1 \
      runs=sft=$RUNS/${P}sft-$SOURCE-s1,confident=$RUNS/${P}sft-confident-s1 sources=phrase,phrase-ladder,$SOURCE \
      title="Calibration-SFT ($SOURCE labels) vs always-confident SFT, seed 1" > $RUNS/report-${P}sft-s1.txt; fi
  true ;;
*) echo "unknown stage $stage" >&2; exit 2 ;;
esac; done
