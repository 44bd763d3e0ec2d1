"""Load test: N concurrent conversations x M messages each through REST, with the real action server.

Loopback only, bounded in count (N x M requests) and time (--max-seconds; every request has a timeout).
Each conversation (its own sender id) sends its messages one after another, waiting for each reply.
Counts per request: HTTP/transport errors, lost replies (200 with no bot text), degraded replies (the
"cannot answer now" message of bot/glue/patches/action_guard.py), plus latency p50/p95/p99 and throughput.
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
import loadgen  # noqa: E402

MESSAGES = [
    "hej", "vad är Filmregionerna?", "finns det stöd för kortfilm i Jönköping?", "jag bor i Umeå",
    "vem ska jag kontakta om dokumentärfilm?", "kan man låna utrustning i Skåne?", "vilka filmregioner finns?",
    "Do you fund short films in Gothenburg?", "tack!", "hur många filmregioner finns det?",
]


async def run_load(base_url: str, conversations: int, messages: int, timeout: float = 30.0,
                   max_seconds: float = 1800.0, tag: str = "load") -> Dict[str, Any]:
    """N conversations x M messages (bench/loadgen.py does the sending) against Rasa on loopback."""
    host = urlsplit(base_url).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit(f"load.py only targets loopback, not {host}")
    url = base_url.rstrip("/") + "/webhooks/rest/webhook"
    r = await loadgen.run_load(url, conversations, messages, MESSAGES, sender_prefix=f"{tag}-{time.time_ns()}",
                               timeout=timeout, stop_after=max_seconds)
    ms = lambda v: None if v is None else round(v, 1)  # noqa: E731
    return {
        "conversations": conversations, "messages_per_conversation": messages,
        "requests": conversations * messages, "answered": r["ok"], "errors": r["errors"],
        "lost_replies": r["lost"], "degraded_replies": r["degraded"], "not_sent": r["not_sent"],
        "p50_ms": ms(r["p50_ms"]), "p95_ms": ms(r["p95_ms"]), "p99_ms": ms(r["p99_ms"]),
        "max_ms": ms(r["max_ms"]), "wall_s": round(r["wall_s"], 2), "throughput_rps": r["throughput"],
        "error_samples": r["error_samples"],
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
        sys.path.insert(0, str(ROOT))
        from bot.tools.stack import BotStack

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
