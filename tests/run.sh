#!/usr/bin/env bash
# Runs every test assembly of the solution and prints a plain closing line "N passed, N failed"
# summed over all of them. The exit code is non-zero when a build or a test fails.
set -uo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
dotnet test BonStudio.sln "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
# dotnet test prints per assembly: "Passed!  - Failed:     0, Passed:    12, Skipped: ..."
awk '/^[[:space:]]*(Passed|Failed)!/ {
       for (i = 1; i <= NF; i++) { if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1) }
     } END { printf "%d passed, %d failed\n", p, f }' "$log"
rm -f "$log"
exit "$status"
