#!/usr/bin/env bash
# Acceptance check (issue #6): Deep Sea N=20 deterministic, 5 seeds, default hyperparameters (RlConfig).
#   BootDDQN + UFLP (p_init 0.1, B = all): steps until the greedy evaluation return first reaches 0.9 (budget 300k).
#   DDQN ε-greedy without UFLP: the full 300k-step budget (two seeds at a time), one update every 10 steps
#   (CleanRL's DQN train_frequency; ε-greedy's chance of ever seeing the reward does not depend on it, and it
#   makes 300k steps affordable on a shared 2-core machine). For a like-for-like pair, BootDDQN + UFLP is
#   also run with TrainEvery=10.
# Usage: studies/uflp/acceptance.sh <bench-bin-dir> <out-dir>   (bench-bin-dir = a copy of bench/BonStudio.Bench/bin/Release/net10.0,
#        so rebuilding the repo does not disturb running jobs)
set -euo pipefail
BIN=${1:?bench bin dir}; OUT=${2:?out dir}; mkdir -p "$OUT"
run() { nice -n 10 dotnet "$BIN/BonStudio.Bench.dll" rl-run "$@" | grep RESULT || echo "FAILED $*"; }
ddqn() { for s in "$@"; do run Env=deepsea EnvSize=20 Agent=ddqn Uflp=false TrainEvery=10 BudgetSteps=300000 EvalEvery=5000 Seed=$s out="$OUT/ddqn_s$s"; done; }
ddqn 1 3 5 > "$OUT/ddqn_a.txt" &
ddqn 2 4 > "$OUT/ddqn_b.txt" &
for s in 1 2 3 4 5; do
  run Env=deepsea EnvSize=20 Agent=bootddqn Uncertainty=ensemble Uflp=true PInit=0.1 UflpBatch=0 BudgetSteps=300000 EvalEvery=500 StopWhenSolved=true Seed=$s out="$OUT/boot_uflp_s$s"
done > "$OUT/boot_uflp.txt"
for s in 1 2 3 4 5; do
  run Env=deepsea EnvSize=20 Agent=bootddqn Uncertainty=ensemble Uflp=true PInit=0.1 UflpBatch=0 TrainEvery=10 BudgetSteps=300000 EvalEvery=500 StopWhenSolved=true Seed=$s out="$OUT/boot_uflp_te10_s$s"
done > "$OUT/boot_uflp_te10.txt"
wait
