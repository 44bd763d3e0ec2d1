"""Reply latency against turn number: does a message cost more the longer the conversation is?

K conversations, one after another (1 concurrent), each N turns through REST; every conversation sends the
same cycle of 11 realistic messages (registry topic questions with and without a place, a follow-up without
topic, FAQ, small talk, sv + en), so turn 1 and turn 100 send the same registry topic question. Per turn:
the median over the K conversations. Prints one JSON object (also written to --json).

    .venv/bin/python bench/turns.py --url http://127.0.0.1:5005 -k 5 -n 100
"""
from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

import aiohttp

# Turn t (1-based) sends CYCLE[(t - 1) % 11]: turns 1, 12, ..., 100 are the same topic question.
CYCLE = [
    "finns det stöd för kortfilm i Jönköping?",
    "och dokumentärfilm då?",
    "vad är Filmregionerna?",
    "jag bor i Umeå",
    "kan man låna utrustning?",
    "tack!",
    "Do you fund short films in Gothenburg?",
    "vem ska jag kontakta om skolbio i Skåne?",
    "hej",
    "vilka filmregioner finns?",
    "finns det kurser för unga i Dalarna?",
]


async def one_conversation(session: aiohttp.ClientSession, url: str, sender: str, turns: int,
                           timeout: float) -> List[Optional[float]]:
    out: List[Optional[float]] = []
    for t in range(turns):
        text = CYCLE[t % len(CYCLE)]
        t0 = time.perf_counter()
        try:
            async with session.post(url, json={"sender": sender, "message": text},
                                    timeout=aiohttp.ClientTimeout(total=timeout)) as resp:
                body = await resp.read()
                ms = (time.perf_counter() - t0) * 1000
                ok = resp.status == 200 and bool(json.loads(body))
        except Exception:
            ok, ms = False, None
        out.append(ms if ok else None)
    return out


def band(per_turn: List[Optional[float]], lo: int, hi: int) -> Optional[float]:
    vals = [v for v in per_turn[lo - 1:hi] if v is not None]
    return round(statistics.median(vals), 2) if vals else None


async def run_turns(base_url: str, conversations: int, turns: int, tag: str = "turns",
                    timeout: float = 30.0) -> Dict[str, Any]:
    url = base_url.rstrip("/") + "/webhooks/rest/webhook"
    runs: List[List[Optional[float]]] = []
    t_start = time.perf_counter()
    async with aiohttp.ClientSession() as session:
        for k in range(conversations):
            runs.append(await one_conversation(session, url, f"{tag}-{time.time_ns()}-{k}", turns, timeout))
    wall = time.perf_counter() - t_start
    per_turn: List[Optional[float]] = []
    for t in range(turns):
        vals = [r[t] for r in runs if r[t] is not None]
        per_turn.append(round(statistics.median(vals), 2) if vals else None)
    failed = sum(v is None for r in runs for v in r)
    first, last = per_turn[0], per_turn[-1]
    res = {"conversations": conversations, "turns": turns, "failed": failed, "wall_s": round(wall, 1),
           "median_ms_per_turn": per_turn, "turn1_ms": first, f"turn{turns}_ms": last,
           "last_over_first": round(last / first, 3) if first and last else None,
           "band_2_11_ms": band(per_turn, 2, 11), f"band_{turns - 10}_{turns}_ms": band(per_turn, turns - 10, turns)}
    b0, b1 = res["band_2_11_ms"], res[f"band_{turns - 10}_{turns}_ms"]
    res["last_band_over_first_band"] = round(b1 / b0, 3) if b0 and b1 else None
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", required=True, help="Rasa on loopback, e.g. http://127.0.0.1:5005")
    ap.add_argument("-k", "--conversations", type=int, default=5)
    ap.add_argument("-n", "--turns", type=int, default=100)
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    res = asyncio.run(run_turns(args.url, args.conversations, args.turns))
    text = json.dumps(res)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n")
    print(f"turn 1 {res['turn1_ms']} ms, turn {args.turns} {res[f'turn{args.turns}_ms']} ms "
          f"({res['last_over_first']}x); bands {res['last_band_over_first_band']}x; failed {res['failed']}",
          file=sys.stderr)
    return 1 if res["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
