#!/usr/bin/env bash
# Prints the session-2 job list for queue.sh (priority order: what finishes first is what the report can use).
# Adds DDQN-Bonus (counts bonus) with and without UFLP, N = 30, and seeds 3-5 to the session-1 study (results/study.txt).
# Usage: studies/uflp/jobs_session2.sh > jobs.txt; studies/uflp/queue.sh <bench-bin> <out> jobs.txt 2
c="Env=deepsea EvalEvery=250 StopWhenSolved=true"
boot_uflp()  { echo "scale_boot_uflp_N$1_s$2 $c EnvSize=$1 Agent=bootddqn Uncertainty=ensemble Uflp=true BudgetSteps=$3 Seed=$2"; }
ddqn_uflp()  { echo "scale_ddqn_uflp_N$1_s$2 $c EnvSize=$1 Agent=ddqn Uncertainty=counts Uflp=true EpsilonDecaySteps=5000 BudgetSteps=$3 Seed=$2"; }
bonus_uflp() { echo "scale_bonus_uflp_N$1_s$2 $c EnvSize=$1 Agent=ddqn-bonus Uncertainty=counts Uflp=true BudgetSteps=$3 Seed=$2"; }
bonus()      { echo "scale_bonus_N$1_s$2 $c EnvSize=$1 Agent=ddqn-bonus Uncertainty=counts Uflp=false BudgetSteps=$3 Seed=$2"; }
boot()       { echo "scale_boot_N$1_s$2 $c EnvSize=$1 Agent=bootddqn Uflp=false BudgetSteps=$3 Seed=$2"; }
abl()        { echo "abl_ddqn_p$1_B$2_s$3 $c EnvSize=20 Agent=ddqn Uncertainty=counts Uflp=true PInit=$1 UflpBatch=$([[ $2 == all ]] && echo 0 || echo $2) EpsilonDecaySteps=5000 BudgetSteps=100000 Seed=$3"; }

echo "# tier 1: DDQN-Bonus +- UFLP, third seeds, N = 25 and 30 to 3 seeds"
for n in 10 15 20; do for s in 1 2 3; do bonus_uflp $n $s 300000; bonus $n $s 50000; done; done
for n in 10 15 20; do boot_uflp $n 3 300000; ddqn_uflp $n 3 300000; done
boot_uflp 30 1 100000
for s in 1 2 3; do bonus_uflp 25 $s 300000; done
for s in 2 3; do ddqn_uflp 25 $s 300000; done
for s in 1 2 3; do ddqn_uflp 30 $s 100000; bonus_uflp 30 $s 100000; done
for n in 10 15 20; do boot $n 3 100000; done
for p in 0 0.1 0.3; do abl $p all 3; done
boot_uflp 25 2 300000
boot_uflp 30 2 100000
abl 0.1 1 3; abl 1.0 all 3
boot_uflp 25 3 300000
boot_uflp 30 3 100000
echo "# tier 2: seeds 4 and 5"
for s in 4 5; do
  for n in 10 15 20 25 30; do ddqn_uflp $n $s $([[ $n == 30 ]] && echo 100000 || echo 300000); bonus_uflp $n $s $([[ $n == 30 ]] && echo 100000 || echo 300000); done
  for n in 10 15 20; do boot_uflp $n $s 300000; bonus $n $s 50000; done
  for p in 0 0.1 0.3; do abl $p all $s; done
done
for s in 4 5; do for n in 10 15 20; do boot $n $s 100000; done; done
for s in 1 2 3; do for n in 10 15; do echo "scale_ddqn_N${n}_s$s $c EnvSize=$n Agent=ddqn Uflp=false BudgetSteps=100000 Seed=$s"; done; done
echo "# tier 3 (appended while tier 1 ran faster than planned): 5 seeds on the expensive points, N = 40, more ablations"
for s in 4 5; do boot_uflp 25 $s 300000; boot_uflp 30 $s 100000; done
for s in 4 5; do abl 0.1 1 $s; abl 1.0 all $s; done
for s in 1 2 3; do ddqn_uflp 40 $s 200000; bonus_uflp 40 $s 200000; done
for s in 1 2 3; do echo "abl_boot_p0.1_B1_s$s $c EnvSize=20 Agent=bootddqn Uncertainty=ensemble Uflp=true PInit=0.1 UflpBatch=1 BudgetSteps=30000 Seed=$s"; done
echo "scale_bonus_N15_long_s1 $c EnvSize=15 Agent=ddqn-bonus Uncertainty=counts Uflp=false BudgetSteps=200000 Seed=1"
m="Env=montezuma SolveThreshold=3 EvalEvery=1000 StopWhenSolved=true BudgetSteps=40000"
for s in 2 3; do echo "mont_ddqn_uflp_s$s $m Agent=ddqn Uncertainty=counts Uflp=true EpsilonDecaySteps=5000 Seed=$s"; echo "mont_ddqn_s$s $m Agent=ddqn Uflp=false Seed=$s"; done
echo "mont_boot_uflp_s2 $m Agent=bootddqn Uncertainty=ensemble Uflp=true Seed=2"; echo "mont_boot_s2 $m Agent=bootddqn Uflp=false Seed=2"
# BootDDQN without UFLP at N = 25: seeds 2-3, capped at 50k (session 1's seed 1 was unrewarded after 222 800 steps)
for s in 2 3; do boot 25 $s 50000; done
echo "# tier 4 (the queue had finished by 20:20 UTC): BootDDQN + UFLP at N = 40 (1 seed, 60k cap), third Montezuma BootDDQN seeds, BootDDQN no UFLP N = 25 seeds 4-5"
boot_uflp 40 1 60000
echo "mont_boot_uflp_s3 $m Agent=bootddqn Uncertainty=ensemble Uflp=true Seed=3"; echo "mont_boot_s3 $m Agent=bootddqn Uflp=false Seed=3"
for s in 4 5; do boot 25 $s 50000; done
