#!/usr/bin/env bash
# `make bench`: A (config.yml) vs Rasa's default config (bench/config_default.yml) vs a bare Sanic floor.
# Trains, serves and loads both on loopback, then writes BENCHMARKS.md and bench/latency.png.
# Then the staff report over a generated tracker store of 100,000 events (bench/bench_report.py), which
# adds its own section at the end of BENCHMARKS.md (raw figures: bench/report_results.json).
# Environment: BENCH_REPS (default 3), BENCH_SCALE (request counts, default 1), BENCH_FULL_LOAD
# (default 50x100; 0 skips), BENCH_BUDGET_S (default 1680), BENCH_REPORT_EVENTS (default 100000).
# Takes ~20-28 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p var
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
.venv/bin/python -W ignore bench/run_bench.py "$@"
report_args=()
for arg in "$@"; do [ "$arg" = "--render" ] && report_args=(--render); done
exec .venv/bin/python -W ignore bench/bench_report.py "${report_args[@]}"
