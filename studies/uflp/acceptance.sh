#!/usr/bin/env bash
# Acceptance check (issue #6): Deep Sea N=20 deterministic, 5 seeds.
#   BootDDQN + UFLP (p_init 0.1, B = all): first step at which the greedy evaluation return reaches 0.9 (budget 300k).
#   DDQN ε-greedy without UFLP: full 300k-step budget.
# Usage: studies/uflp/acceptance.sh <bench-bin-dir> <out-dir>   (bench-bin-dir = a copy of bench/BonStudio.Bench/bin/Release/net10.0)
set -euo pipefail
BIN=${1:?bench bin dir}; OUT=${2:?out dir}; mkdir -p "$OUT"
run() { nice -n 10 dotnet "$BIN/BonStudio.Bench.dll" rl-run "$@" | grep RESULT; }
for s in 1 2 3 4 5; do
  run Env=deepsea EnvSize=20 Agent=bootddqn Uncertainty=ensemble Uflp=true PInit=0.1 UflpBatch=0 BudgetSteps=300000 EvalEvery=1000 StopWhenSolved=true Seed=$s out="$OUT/boot_uflp_s$s"
done | tee "$OUT/boot_uflp.txt"
for s in 1 2 3 4 5; do
  run Env=deepsea EnvSize=20 Agent=ddqn Uflp=false BudgetSteps=300000 EvalEvery=5000 Seed=$s out="$OUT/ddqn_s$s"
done | tee "$OUT/ddqn.txt"
