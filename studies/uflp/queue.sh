#!/usr/bin/env bash
# Runs a job list with a fixed number of worker processes (default 2), in list order. Each line of the job file is
# '<tag> <rl-run Key=Value ...>' (blank lines and '#' comments are skipped); the file may grow while the queue runs
# (workers claim the next unclaimed line, so lines appended later are picked up). One RESULT line per run goes to
# $OUT/results.txt prefixed with its tag; a run that crashes writes '<tag> FAILED'. Every run: nice -n 10,
# OMP_WAIT_POLICY=PASSIVE, one libtorch thread (RlConfig.Threads defaults to 1), TrainEvery=4 unless the line says otherwise.
# Usage: studies/uflp/queue.sh <bench-bin-dir> <out-dir> <job-file> [workers]
set -euo pipefail
BIN=${1:?bench bin dir}; OUT=${2:?out dir}; JOBS=${3:?job file}; WORKERS=${4:-2}
mkdir -p "$OUT"; : > "$OUT/.next"
export OMP_WAIT_POLICY=PASSIVE
claim() { # prints the next job line (skipping blanks/comments) or nothing
  exec 9>"$OUT/.lock"; flock 9
  local n; n=$(cat "$OUT/.next"); n=${n:-0}
  local total; total=$(wc -l < "$JOBS")
  while (( n < total )); do
    n=$((n + 1)); local line; line=$(sed -n "${n}p" "$JOBS")
    if [[ -n ${line// } && $line != \#* ]]; then echo "$n" > "$OUT/.next"; flock -u 9; echo "$line"; return; fi
  done
  echo "$n" > "$OUT/.next"; flock -u 9
}
worker() {
  while true; do
    local line; line=$(claim); [[ -z $line ]] && return
    local tag=${line%% *} args=${line#* }
    # shellcheck disable=SC2086
    local res; res=$(nice -n 10 dotnet "$BIN/BonStudio.Bench.dll" rl-run TrainEvery=4 $args out="$OUT/$tag" 2>"$OUT/$tag.err" | grep RESULT) || res="FAILED"
    echo "$tag $res" >> "$OUT/results.txt"
    echo "$(date -u +%H:%M:%S) $tag $res"
  done
}
for ((w = 0; w < WORKERS; w++)); do worker & done
wait
