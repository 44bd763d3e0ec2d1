"""Load test: N concurrent conversations x M messages each through REST, with the real action server.

Loopback only, bounded in count (N x M requests) and time (--max-seconds; every request has a timeout).
Each conversation (its own sender id) sends its messages one after another, waiting for each reply.
Counts per request: HTTP/transport errors, lost replies (200 with no bot text), degraded replies (the
"cannot answer now" message of bot/channels/action_guard.py), plus latency p50/p95/p99 and throughput.
Prints one JSON object (also written to --json) and one human line on stderr; exit 1 on any error or
lost reply.

    # against a running bot (e.g. `make run`)
    .venv/bin/python bench/load.py --url http://127.0.0.1:5005 -c 50 -n 100
    # or start a private stack (action server + Rasa, own SQLite tracker) on free loopback ports
    .venv/bin/python bench/load.py --model models/current.tar.gz -c 50 -n 100 --json bench/out/load.json
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional
from urllib.parse import urlsplit

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
UNAVAILABLE = ("Jag kan inte svara just nu", "I can't answer right now")

MESSAGES = [
    "hej", "vad är Filmregionerna?", "finns det stöd för kortfilm i Jönköping?", "jag bor i Umeå",
    "vem ska jag kontakta om dokumentärfilm?", "kan man låna utrustning i Skåne?", "vilka filmregioner finns?",
    "Do you fund short films in Gothenburg?", "tack!", "hur många filmregioner finns det?",
]


def percentile(values: List[float], p: float) -> Optional[float]:
    if not values:
        return None
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(round(p / 100 * len(s) + 0.5)) - 1))
    return s[k]


async def conversation(session: aiohttp.ClientSession, url: str, sender: str, count: int, timeout: float,
                       deadline: float, out: Dict[str, Any], offset: int) -> None:
    for i in range(count):
        if time.monotonic() >= deadline:
            out["not_sent"] += count - i
            return
        text = MESSAGES[(offset + i) % len(MESSAGES)]
        t0 = time.perf_counter()
        try:
            async with session.post(url, json={"sender": sender, "message": text},
                                    timeout=aiohttp.ClientTimeout(total=timeout)) as resp:
                body = await resp.read()
                elapsed = time.perf_counter() - t0
                if resp.status != 200:
                    out["errors"] += 1
                    out["error_samples"].append(f"HTTP {resp.status}: {body[:120]!r}")
                    continue
                replies = json.loads(body)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            out["errors"] += 1
            out["error_samples"].append(f"{type(exc).__name__}: {exc}"[:200])
            continue
        out["latencies"].append(elapsed)
        texts = [r.get("text") or "" for r in replies if isinstance(r, dict)]
        if not any(t.strip() for t in texts):
            out["lost"] += 1
        elif any(u in t for t in texts for u in UNAVAILABLE):
            out["degraded"] += 1


async def run_load(base_url: str, conversations: int, messages: int, timeout: float = 30.0,
                   max_seconds: float = 1800.0, tag: str = "load") -> Dict[str, Any]:
    host = urlsplit(base_url).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit(f"load.py only targets loopback, not {host}")
    url = base_url.rstrip("/") + "/webhooks/rest/webhook"
    out: Dict[str, Any] = {"errors": 0, "lost": 0, "degraded": 0, "not_sent": 0, "latencies": [],
                           "error_samples": []}
    connector = aiohttp.TCPConnector(limit=conversations + 5)
    start = time.monotonic()
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(conversation(session, url, f"{tag}-{time.time_ns()}-{c}", messages, timeout,
                                            start + max_seconds, out, c) for c in range(conversations)))
    wall = time.monotonic() - start
    lat = out.pop("latencies")
    ms = lambda v: None if v is None else round(v * 1000, 1)  # noqa: E731
    return {
        "conversations": conversations, "messages_per_conversation": messages,
        "requests": conversations * messages, "answered": len(lat), "errors": out["errors"],
        "lost_replies": out["lost"], "degraded_replies": out["degraded"], "not_sent": out["not_sent"],
        "p50_ms": ms(percentile(lat, 50)), "p95_ms": ms(percentile(lat, 95)), "p99_ms": ms(percentile(lat, 99)),
        "max_ms": ms(max(lat) if lat else None), "wall_s": round(wall, 2),
        "throughput_rps": round(len(lat) / wall, 2) if wall > 0 else None,
        "error_samples": out["error_samples"][:5],
    }


def human(r: Dict[str, Any]) -> str:
    return (f"load {r['conversations']}x{r['messages_per_conversation']}: {r['answered']}/{r['requests']} answered, "
            f"{r['errors']} errors, {r['lost_replies']} lost, {r['degraded_replies']} degraded, "
            f"{r['not_sent']} not sent; p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms, p99 {r['p99_ms']} ms; "
            f"{r['throughput_rps']} msg/s over {r['wall_s']} s")


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-c", "--conversations", type=int, default=50)
    ap.add_argument("-n", "--messages", type=int, default=100, help="messages per conversation")
    ap.add_argument("--url", default=None, help="running Rasa on loopback, e.g. http://127.0.0.1:5005")
    ap.add_argument("--model", default=None, help="start a private stack with this model (when no --url)")
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    ap.add_argument("--max-seconds", type=float, default=1800.0, help="stop sending after this long")
    ap.add_argument("--json", default=None, metavar="PATH", help="also write the JSON result here")
    args = ap.parse_args(argv)

    stack = None
    url = args.url
    if url is None:
        sys.path.insert(0, str(ROOT / "tests"))
        from stack import BotStack

        stack = BotStack(Path(args.model) if args.model else None).start()
        url = stack.url
    try:
        result = asyncio.run(run_load(url, args.conversations, args.messages, args.timeout, args.max_seconds))
    finally:
        if stack is not None:
            stack.stop()
    text = json.dumps(result, ensure_ascii=False)
    print(text)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(text + "\n", encoding="utf-8")
    print(human(result), file=sys.stderr)
    return 1 if result["errors"] or result["lost_replies"] else 0


if __name__ == "__main__":
    sys.exit(main())
