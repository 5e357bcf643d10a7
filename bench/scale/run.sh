#!/usr/bin/env bash
# scale: issue #7's scale benchmark in one command. Builds the web app and the benchmark runner in Release, seeds
# /tmp/bonstudio-bench-scale (10 000 runs + a 2 000 × 128 evaluation; pass --reuse to keep an earlier seed), starts
# the app on 127.0.0.1, prints the latency table (p50/p95 per page/endpoint) and the export memory table as markdown.
# Usage (from anywhere): bench/scale/run.sh [--reuse] [--requests 40] [--concurrency 4] [--markdown out.md] [--runs N] [--prompts N] [--n N]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
dotnet build "$ROOT/src/Web" -c Release -v q -nologo >/dev/null
dotnet build "$ROOT/bench/BonStudio.Bench" -c Release -v q -nologo >/dev/null
exec dotnet "$ROOT/bench/BonStudio.Bench/bin/Release/net10.0/BonStudio.Bench.dll" scale --web "$ROOT/src/Web/bin/Release/net10.0/BonStudio.Web.dll" "$@"
