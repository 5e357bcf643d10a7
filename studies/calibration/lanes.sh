#!/usr/bin/env bash
# Runs the eval and the two SFT arms in three parallel lanes (seeds in sequence within a lane), niced.
# Same commands as run_study.sh's eval/sft stages with SOURCE=p-true; used for the committed results.
cd "$(dirname "$0")/../.."
RUNS=studies/calibration/runs; BIN=/tmp/calib-bench-bin; M=$RUNS/base/base.safetensors
bench() { nice -n 10 dotnet "$BIN/BonStudio.Bench.dll" "$@"; }
( for s in 1 2 3; do bench calib-eval model=$M out=$RUNS/eval-s$s Seed=$s Threads=1 Levels=1,2 Problems=300 ConsistencySamples=10 \
    TeachProblems=600 TeachSamplesPerProblem=2 TeachSteps=300 > $RUNS/eval-s$s.log 2>&1; done ) &
( for s in 1 2 3; do bench calib-sft model=$M out=$RUNS/sft-p-true-s$s Seed=$s Threads=1 Levels=1,2 Source=p-true Labels=source \
    TrainProblems=600 TestProblems=300 Steps=300 LearningRate=1e-3 TeachProblems=600 TeachSteps=300 > $RUNS/sft-p-true-s$s.log 2>&1; done ) &
( for s in 1 2 3; do bench calib-sft model=$M out=$RUNS/sft-confident-s$s Seed=$s Threads=1 Levels=1,2 Source=p-true Labels=always-confident \
    TrainProblems=600 TestProblems=300 Steps=300 LearningRate=1e-3 > $RUNS/sft-confident-s$s.log 2>&1; done ) &
wait
