"""Benchmark bot.places.resolve_place over ~2,000 realistic messages.

Prints one JSON line {"bench": "places", "n": ..., "p50_ms": ..., "p95_ms": ..., "p99_ms": ..., ...}
and one human-readable line. Usage: python bench/bench_places.py [--n 2000] [--repeat 3] [--seed 1]
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.places import field_of, find_places, get_index, load_registry_any, localities, resolve_place  # noqa: E402

FILLER = ("jag undrar om ni kan hjälpa mig med en fråga om stöd till kortfilm och dokumentär för unga "
          "filmare som vill komma igång med sitt första projekt och behöver råd om ansökan manus budget "
          "inspelning teknik utrustning och kontakt med konsulenten på filmcentret i regionen tack så mycket").split()
TEMPLATES = [
    "{p}",
    "jag bor i {p}",
    "Hej! Jag bor i {p} och vill söka stöd för en kortfilm, vem ska jag kontakta?",
    "vi är ett litet produktionsbolag från {p}, finns det produktionsstöd för dokumentär?",
    "I live near {p}, is there any funding for short films?",
    "{p} kommun",
    "finns skolbio i {p}s län",
    "Vad gör filmcentret i {p}?",
]
NO_PLACE = [
    "det ska vara en kortfilm",
    "hur söker jag produktionsstöd",
    "vi sitter i boden och klipper",
    "what are the deadlines for documentaries?",
    "tack!",
]
TYPOS = ["Götebrog", "Stokholm", "Uppsla", "Örebor", "Helsingbrog", "Sundsval", "Trollhätan", "Jönköpping"]


def messages(n: int, seed: int):
    rnd = random.Random(seed)
    reg = load_registry_any()
    places = []
    for c in field_of(reg, "counties"):
        places.append(str(field_of(c, "name")))
        places.extend(str(s) for s in (field_of(c, "short_forms") or [])[:2])
        places.extend(str(field_of(k, "name")) for k in field_of(c, "kommuner"))
    places += TYPOS + ["Småland", "Lappland", "Narnia", "Sälen", "Kiruna eller Malmö"]
    out = []
    for i in range(n):
        r = i % 10
        if r == 0:
            out.append(rnd.choice(NO_PLACE))
        elif r == 1:     # ~30-word message with the place somewhere in the middle
            words = rnd.sample(FILLER, 28)
            words.insert(rnd.randrange(len(words)), "i " + rnd.choice(places))
            out.append(" ".join(words))
        elif r == 2:     # ~30 words, no place at all (worst case: fuzzy pass runs)
            out.append(" ".join(rnd.sample(FILLER, 30)))
        else:
            out.append(rnd.choice(TEMPLATES).format(p=rnd.choice(places)))
    return reg, out


def sixty_word_messages(n: int, seed: int):
    """60-word messages: a gazetteer locality, a kommun, a typo or no place at all somewhere in them."""
    rnd = random.Random(seed + 60)
    locs = [name for name, *_ in localities()]
    kinds = [lambda: "i " + rnd.choice(locs), lambda: "i " + rnd.choice(TYPOS), lambda: "bor i Sala", lambda: ""]
    out = []
    for i in range(n):
        words = [rnd.choice(FILLER) for _ in range(60)]
        place = kinds[i % len(kinds)]()
        if place:
            words[rnd.randrange(50)] = place
        out.append(" ".join(words))
    return out


def _timed(fn, msgs, reg, repeat):
    for m in msgs[:100]:
        fn(m, reg)
    times = []
    for _ in range(repeat):
        for m in msgs:
            t = time.perf_counter()
            fn(m, reg)
            times.append((time.perf_counter() - t) * 1000)
    return sorted(times)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    reg, msgs = messages(args.n, args.seed)
    t0 = time.perf_counter()
    get_index(reg)
    build_ms = (time.perf_counter() - t0) * 1000
    for m in msgs[:200]:                      # warm-up (caches)
        resolve_place(m, reg)
    times = []
    for _ in range(args.repeat):
        for m in msgs:
            t = time.perf_counter()
            resolve_place(m, reg)
            times.append((time.perf_counter() - t) * 1000)
    times.sort()

    def pct(p):
        return round(times[min(len(times) - 1, int(p / 100 * len(times)))], 4)

    long_words = sum(1 for m in msgs if len(m.split()) >= 29)
    sixty = sixty_word_messages(max(200, args.n // 4), args.seed)
    t60 = {"resolve_place": _timed(resolve_place, sixty, reg, args.repeat),
           "find_places": _timed(lambda m, r: find_places(m, r), sixty, reg, args.repeat)}
    result = {
        "bench": "places", "n": len(msgs), "runs": len(times), "long_messages": long_words,
        "p50_ms": pct(50), "p95_ms": pct(95), "p99_ms": pct(99), "max_ms": round(times[-1], 4),
        "mean_ms": round(statistics.fmean(times), 4), "index_build_ms": round(build_ms, 1),
        "localities": len(get_index(reg).localities),
        "sixty_words": {name: {"n": len(sixty), "p50_ms": round(ts[len(ts) // 2], 4),
                               "p99_ms": round(ts[min(len(ts) - 1, int(0.99 * len(ts)))], 4),
                               "max_ms": round(ts[-1], 4)} for name, ts in t60.items()},
    }
    print(json.dumps(result))
    print(f"places: {len(msgs)} messages x {args.repeat}: p50 {result['p50_ms']:.3f} ms, "
          f"p95 {result['p95_ms']:.3f} ms, p99 {result['p99_ms']:.3f} ms "
          f"(max {result['max_ms']:.3f} ms; index build {build_ms:.0f} ms)")
    for name, r in result["sixty_words"].items():
        print(f"places, 60-word messages ({r['n']} x {args.repeat}), {name}: p50 {r['p50_ms']:.3f} ms, "
              f"p99 {r['p99_ms']:.3f} ms, max {r['max_ms']:.3f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
