#!/usr/bin/env bash
# UFLP study (docs/results-uflp.md). Every run stops at its first solved evaluation (StopWhenSolved) so the
# cost of a run is its steps to solve; unsolved runs spend their whole budget. Ordered by priority: what
# finishes first is what the report can use. One RESULT line per run goes to $OUT/results.txt, prefixed
# with the run's study tag.
# Usage: studies/uflp/study.sh <bench-bin-dir> <out-dir> [part ...]   parts: scaling ablation montezuma (default: all)
set -euo pipefail
BIN=${1:?bench bin dir}; OUT=${2:?out dir}; shift 2; PARTS=${*:-scaling ablation montezuma}
mkdir -p "$OUT"
run() { local tag=$1; shift; echo "$tag $(nice -n 10 dotnet "$BIN/BonStudio.Bench.dll" rl-run TrainEvery=4 "$@" out="$OUT/$tag" | grep RESULT || echo FAILED)" | tee -a "$OUT/results.txt"; }
# Every run makes one gradient update per 4 simulator steps (TrainEvery=4) to fit the shared 2-core machine.
common="Env=deepsea EvalEvery=250 StopWhenSolved=true"

if [[ $PARTS == *scaling* ]]; then
  # steps to solve vs N, with and without UFLP (p_init 0.1, B = all)
  for n in 10 15 20 25 30; do for s in 1 2; do
    run "scale_boot_uflp_N${n}_s$s"  $common EnvSize=$n Agent=bootddqn Uncertainty=ensemble Uflp=true  BudgetSteps=300000 Seed=$s
    run "scale_ddqn_uflp_N${n}_s$s"  $common EnvSize=$n Agent=ddqn Uncertainty=counts Uflp=true EpsilonDecaySteps=5000 BudgetSteps=300000 Seed=$s
    run "scale_boot_N${n}_s$s"       $common EnvSize=$n Agent=bootddqn Uflp=false BudgetSteps=300000 Seed=$s
  done; done
  for n in 10 15; do for s in 1 2; do
    run "scale_ddqn_N${n}_s$s"       $common EnvSize=$n Agent=ddqn Uflp=false BudgetSteps=100000 Seed=$s
  done; done
fi

if [[ $PARTS == *ablation* ]]; then
  # p_init and B at N = 20 with the agent that cannot explore on its own (DDQN ε-greedy, count uncertainty)
  for s in 1 2; do
    for p in 0 0.1 0.3; do
      run "abl_ddqn_p${p}_Ball_s$s" $common EnvSize=20 Agent=ddqn Uncertainty=counts Uflp=true PInit=$p UflpBatch=0 EpsilonDecaySteps=5000 BudgetSteps=100000 Seed=$s
    done
    run "abl_ddqn_p0.1_B1_s$s"      $common EnvSize=20 Agent=ddqn Uncertainty=counts Uflp=true PInit=0.1 UflpBatch=1 EpsilonDecaySteps=5000 BudgetSteps=100000 Seed=$s
    run "abl_ddqn_p1.0_Ball_s$s"    $common EnvSize=20 Agent=ddqn Uncertainty=counts Uflp=true PInit=1.0 UflpBatch=0 EpsilonDecaySteps=5000 BudgetSteps=100000 Seed=$s
  done
fi

if [[ $PARTS == *montezuma* ]]; then
  # one seed, 40k steps, the four agents side by side (as reported in docs/results-uflp.md)
  mont="Env=montezuma SolveThreshold=3 EvalEvery=1000 StopWhenSolved=true BudgetSteps=40000 Seed=1"
  run mont_boot_uflp_s1 $mont Agent=bootddqn Uncertainty=ensemble Uflp=true &
  run mont_ddqn_uflp_s1 $mont Agent=ddqn Uncertainty=counts Uflp=true EpsilonDecaySteps=5000 &
  run mont_boot_s1      $mont Agent=bootddqn Uflp=false &
  run mont_ddqn_s1      $mont Agent=ddqn Uflp=false &
  wait
fi
