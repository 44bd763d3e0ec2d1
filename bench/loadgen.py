"""Small asyncio/aiohttp closed-loop load client used by bench/run_bench.py.

`concurrency` conversations run at once; each one (its own sender id) sends `per_conv` messages one
after another and waits for each reply before sending the next. Every request is bounded by a timeout.
A reply counts as *lost* when the server answers 200 with no bot text, and as *degraded* when the text is
the "cannot answer now" message of bot/glue/patches/action_guard.py. bench/load.py is the command-line
front end for `make bench`'s full-load run and the short run in `make test`.

    python bench/loadgen.py --url http://127.0.0.1:5005/webhooks/rest/webhook -c 10 -n 20
"""
from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import time
from typing import Any, Dict, List, Optional, Sequence

import aiohttp

DEFAULT_MESSAGES = [
    "hej", "vad är Filmregionerna?", "finns det stöd för kortfilm i Jönköping?",
    "jag bor i Umeå", "vem ska jag kontakta om dokumentärfilm?", "tack!",
]


def percentile(sorted_values: Sequence[float], p: float) -> Optional[float]:
    """Nearest-rank percentile of an ascending list (None when empty)."""
    if not sorted_values:
        return None
    k = max(0, min(len(sorted_values) - 1, int(round(p / 100 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[k]


UNAVAILABLE = ("Jag kan inte svara just nu", "I can't answer right now")


async def _conversation(session: aiohttp.ClientSession, url: str, sender: str, texts: List[str],
                        timeout: float, out: Dict[str, Any], stop_at: Optional[float] = None) -> None:
    for i, text in enumerate(texts):
        if stop_at is not None and time.perf_counter() >= stop_at:
            out["not_sent"] += len(texts) - i
            return
        t0 = time.perf_counter()
        try:
            async with session.post(url, json={"sender": sender, "message": text},
                                    timeout=aiohttp.ClientTimeout(total=timeout)) as resp:
                body = await resp.read()
                dt = (time.perf_counter() - t0) * 1000
                if resp.status != 200:
                    out["errors"] += 1
                    out["error_samples"].append(f"HTTP {resp.status}: {body[:120]!r}")
                    continue
                try:
                    reply = json.loads(body)
                except ValueError:
                    out["errors"] += 1
                    out["error_samples"].append(f"bad JSON: {body[:120]!r}")
                    continue
                out["latencies"].append(dt)
                bot_texts = [r.get("text") or "" for r in reply if isinstance(r, dict)] if isinstance(reply, list) else []
                if not reply:
                    out["lost"] += 1
                    out["lost_samples"].append(text)
                elif any(u in t for t in bot_texts for u in UNAVAILABLE):
                    out["degraded"] += 1
        except Exception as exc:  # timeouts, refused connections
            out["errors"] += 1
            out["error_samples"].append(f"{type(exc).__name__}: {exc}"[:160])


async def run_load(url: str, concurrency: int, per_conv: int, messages: Sequence[str] = DEFAULT_MESSAGES,
                   sender_prefix: str = "bench", timeout: float = 30.0, seed: int = 1,
                   stop_after: Optional[float] = None) -> Dict[str, Any]:
    """stop_after (seconds): conversations stop sending new messages after this time."""
    rnd = random.Random(seed)
    out: Dict[str, Any] = {"latencies": [], "errors": 0, "lost": 0, "degraded": 0, "not_sent": 0,
                           "error_samples": [], "lost_samples": []}
    conns = aiohttp.TCPConnector(limit=concurrency + 5, force_close=False)
    async with aiohttp.ClientSession(connector=conns) as session:
        plans = [[rnd.choice(messages) for _ in range(per_conv)] for _ in range(concurrency)]
        t0 = time.perf_counter()
        stop_at = t0 + stop_after if stop_after else None
        await asyncio.gather(*(_conversation(session, url, f"{sender_prefix}-{i}", plan, timeout, out, stop_at)
                               for i, plan in enumerate(plans)))
        wall = time.perf_counter() - t0
    lat = sorted(out["latencies"])
    sent = len(lat) + out["errors"]
    return {
        "concurrency": concurrency, "per_conv": per_conv, "sent": sent, "ok": len(lat),
        "errors": out["errors"], "lost": out["lost"], "degraded": out["degraded"], "not_sent": out["not_sent"],
        "error_samples": out["error_samples"][:5],
        "lost_samples": out["lost_samples"][:10],
        "wall_s": round(wall, 3), "throughput": round(len(lat) / wall, 2) if wall > 0 else None,
        "p50_ms": percentile(lat, 50), "p95_ms": percentile(lat, 95), "p99_ms": percentile(lat, 99),
        "mean_ms": statistics.fmean(lat) if lat else None, "max_ms": lat[-1] if lat else None,
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", required=True)
    ap.add_argument("-c", "--concurrency", type=int, default=10)
    ap.add_argument("-n", "--per-conv", type=int, default=20)
    ap.add_argument("--timeout", type=float, default=30.0)
    ap.add_argument("--prefix", default="loadgen")
    args = ap.parse_args(argv)
    res = asyncio.run(run_load(args.url, args.concurrency, args.per_conv, sender_prefix=args.prefix,
                               timeout=args.timeout))
    print(json.dumps(res))
    return 0 if res["errors"] == 0 and res["lost"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
