#!/usr/bin/env bash
# The calibration study (docs/results-calibration.md): base model → calibration-eval of three sources (3 seeds) →
# calibration-SFT from the chosen source vs the trained always-confident baseline (3 seeds each) → tables + SVGs.
# Runs niced (the CPU is shared). Usage: studies/calibration/run_study.sh [stage...]  (stages: base eval sft report; default all)
# Environment: SOURCE (label source for SFT, default p-true), SEEDS (default "1 2 3").
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=studies/calibration/runs
BIN=/tmp/calib-bench-bin
SOURCE=${SOURCE:-p-true}
SEEDS=${SEEDS:-"1 2 3"}
STAGES=${*:-base eval sft report}
mkdir -p "$RUNS"
if [ ! -f "$BIN/BonStudio.Bench.dll" ]; then
  dotnet build -c Release bench/BonStudio.Bench >/dev/null
  rm -rf "$BIN"; cp -r bench/BonStudio.Bench/bin/Release/net10.0 "$BIN"   # a private copy: rebuilding the repo cannot break a running study
fi
bench() { nice -n 10 dotnet "$BIN/BonStudio.Bench.dll" "$@"; }

for stage in $STAGES; do case $stage in
base)
  # Three legs of one schedule (each leg restarts warm-up/cosine; the CPU was shared, so the base grew in steps):
  # 800 steps on levels 1-3, then 2500 + 2500 steps on levels 1-2 (levels 1 and 2 give this small model varied accuracy).
  [ -f $RUNS/base0/base.safetensors ] || bench calib-base out=$RUNS/base0 steps=800 layers=2 dim=64 batch=16 lr=4e-3 problems=10000 levels=1,2,3 threads=1 > $RUNS/base0.log 2>&1
  [ -f $RUNS/base1/base.safetensors ] || bench calib-base out=$RUNS/base1 init=$RUNS/base0/base.safetensors steps=2500 layers=2 dim=64 batch=16 lr=3e-3 problems=20000 levels=1,2 threads=1 seed=2 > $RUNS/base1.log 2>&1
  [ -f $RUNS/base/base.safetensors ] || bench calib-base out=$RUNS/base init=$RUNS/base1/base.safetensors steps=2500 layers=2 dim=64 batch=16 lr=2e-3 problems=20000 levels=1,2 threads=1 seed=3 > $RUNS/base.log 2>&1 ;;
eval)
  for s in $SEEDS; do
    [ -f $RUNS/eval-s$s/metrics.tsv ] || bench calib-eval model=$RUNS/base/base.safetensors out=$RUNS/eval-s$s Seed=$s Threads=1 Levels=1,2 \
      Problems=300 ConsistencySamples=10 TeachProblems=600 TeachSamplesPerProblem=2 TeachSteps=300 > $RUNS/eval-s$s.log 2>&1
  done ;;
sft)
  for s in $SEEDS; do
    [ -f $RUNS/sft-$SOURCE-s$s/metrics.tsv ] || bench calib-sft model=$RUNS/base/base.safetensors out=$RUNS/sft-$SOURCE-s$s Seed=$s Threads=1 Levels=1,2 \
      Source=$SOURCE Labels=source TrainProblems=600 TestProblems=300 Steps=300 LearningRate=1e-3 TeachProblems=600 TeachSteps=300 > $RUNS/sft-$SOURCE-s$s.log 2>&1
    [ -f $RUNS/sft-confident-s$s/metrics.tsv ] || bench calib-sft model=$RUNS/base/base.safetensors out=$RUNS/sft-confident-s$s Seed=$s Threads=1 Levels=1,2 \
      Source=$SOURCE Labels=always-confident TrainProblems=600 TestProblems=300 Steps=300 LearningRate=1e-3 > $RUNS/sft-confident-s$s.log 2>&1
  done ;;
report)
  # Only finished runs (metrics.tsv is written last) enter the tables.
  FIG=docs/figures/calibration
  mkdir -p $FIG
  done_runs() { for s in $SEEDS; do if [ -f $RUNS/$1-s$s/metrics.tsv ]; then printf "s$s=$RUNS/$1-s$s,"; fi; done | sed "s/,\$//"; }
  evals=$(done_runs eval); sfts=$(done_runs sft-$SOURCE); conf=$(done_runs sft-confident)
  [ -z "$evals" ] || bench calib-report out=$FIG name=sources-s1 runs=s1=$RUNS/eval-s1 title="Base model: three confidence sources (seed 1)" > $RUNS/report-sources-s1.txt
  [ -z "$evals" ] || bench calib-report out=$FIG name=sources-all runs=$evals > $RUNS/report-sources-all.txt
  [ -z "$sfts" ] || bench calib-report out=$FIG name=sft-$SOURCE-all runs=$sfts > $RUNS/report-sft-$SOURCE-all.txt
  [ -z "$conf" ] || bench calib-report out=$FIG name=sft-confident-all runs=$conf > $RUNS/report-sft-confident-all.txt
  if [ -f $RUNS/sft-$SOURCE-s1/metrics.tsv ] && [ -f $RUNS/sft-confident-s1/metrics.tsv ]; then bench calib-report out=$FIG name=sft-s1 \
      runs=sft=$RUNS/sft-$SOURCE-s1,confident=$RUNS/sft-confident-s1 sources=phrase,$SOURCE \
      title="Calibration-SFT ($SOURCE labels) vs always-confident SFT, seed 1" > $RUNS/report-sft-s1.txt; fi
  true ;;
*) echo "unknown stage $stage" >&2; exit 2 ;;
esac; done
