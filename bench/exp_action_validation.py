"""Experiment: how much REST throughput does caching the action-response jsonschema validator buy?

Starts two stacks with the same model: plain, and with bench/patches/sitecustomize.py active in `rasa run`
(BENCH_FAST_VALIDATION=1). Sweeps 1/10/50 concurrent, interleaved (plain, patched) per level.

    python bench/exp_action_validation.py MODEL [--scale 1]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

from run_bench import CONCURRENCY, PER_CONV, post_json, sweep_one, test_messages  # noqa: E402
from tests.stack import BotStack  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("--scale", type=float, default=1.0)
    args = ap.parse_args(argv)
    messages = test_messages()
    patched_env = {"PYTHONPATH": f"{BENCH / 'patches'}:{ROOT}", "BENCH_FAST_VALIDATION": "1"}
    stacks = {"plain": BotStack(Path(args.model)), "cached-validator": BotStack(Path(args.model), extra_env=patched_env)}
    out = {}
    try:
        for s in stacks.values():
            s.start()
            for i, m in enumerate(messages[::15]):
                post_json(s.url + "/webhooks/rest/webhook", {"sender": f"w{i % 3}", "message": m})
        for c in CONCURRENCY:
            n = max(2, int(PER_CONV[c] * args.scale))
            for name, s in stacks.items():
                out.setdefault(name, {})[str(c)] = sweep_one(s.url + "/webhooks/rest/webhook", messages, c, n, name)
    finally:
        for s in stacks.values():
            s.stop()
    for name, r in out.items():
        print(name, json.dumps({c: {k: r[c][k] for k in ("p50_ms", "p99_ms", "throughput", "errors", "lost")}
                                for c in r}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
