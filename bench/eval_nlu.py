"""Held-out NLU accuracy of one trained model, in-process (rasa.core.agent.load_agent + parse_message).

    python bench/eval_nlu.py MODEL.tar.gz [MODEL2.tar.gz ...] [--test tests/nlu/test_nlu.yml tests/nlu/test_nlu_en.yml]

Prints one JSON line per model: intent accuracy (full retrieval intent `faq/x`, and base intent `faq`), place-entity
precision/recall/F1 and the misses. Intents: the predicted full intent is `faq/<key>` from the
ResponseSelector when the top intent is `faq`, else the top intent; the gold one is the test file's label.
Places: an annotated place and a predicted one match when their span texts are equal (case-insensitive) or
both resolve with bot.places.resolve_place to the same kommun / county (ambiguous: same candidate set);
matching is one-to-one per message.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

DEFAULT_TESTS = [ROOT / "tests/nlu/test_nlu.yml", ROOT / "tests/nlu/test_nlu_en.yml"]


def place_key(text: str, registry: Any) -> Optional[Tuple]:
    from bot.places import resolve_place

    res = resolve_place(text, registry)
    if res.status == "found":
        if res.kommun_code:
            return ("kommun", str(res.kommun_code))
        if res.county_code:
            return ("county", str(res.county_code))
    if res.status == "ambiguous" and res.candidates:
        return ("ambiguous", tuple(sorted({(c.county_code or "", c.kommun_code or "") for c in res.candidates})))
    return None


def same_place(gold: str, pred: str, registry: Any, cache: Dict[str, Any]) -> bool:
    if gold.strip().casefold() == pred.strip().casefold():
        return True
    for t in (gold, pred):
        if t not in cache:
            cache[t] = place_key(t, registry)
    return cache[gold] is not None and cache[gold] == cache[pred]


def load_examples(paths: List[Path]) -> List[Dict[str, Any]]:
    from rasa.shared.nlu.training_data.loading import load_data

    examples = []
    for p in paths:
        td = load_data(str(p))
        for m in td.intent_examples:
            text = m.get("text")
            base = m.get("intent")
            full = m.get("intent_response_key") or base
            places = [text[e["start"]:e["end"]] for e in (m.get("entities") or []) if e.get("entity") == "place"]
            examples.append({"text": text, "intent": base, "full": full, "places": places, "file": p.name})
    return examples


async def predict(model: str, examples: List[Dict[str, Any]]) -> float:
    from rasa.core.agent import load_agent

    t0 = time.perf_counter()
    agent = await load_agent(model_path=model)
    load_s = time.perf_counter() - t0
    for ex in examples:
        parsed = await agent.parse_message(ex["text"])
        top = (parsed.get("intent") or {}).get("name")
        full = top
        if top:
            # A's selector is keyed by its retrieval_intent (faq); B's (no retrieval_intent) by "default".
            rs = parsed.get("response_selector") or {}
            sel = rs.get(top) or rs.get("default") or {}
            key = (sel.get("response") or {}).get("intent_response_key")
            if key and key.split("/", 1)[0] == top:
                full = key
        ranking = [i for i in parsed.get("intent_ranking") or [] if i.get("name") != "nlu_fallback"]
        ex["conf"] = [float(i.get("confidence") or 0) for i in ranking[:2]] + [0.0, 0.0]
        ex["pred_intent"] = top
        ex["pred_full"] = full
        # the same prediction without the FallbackClassifier: best-ranked intent other than nlu_fallback
        raw = next((i.get("name") for i in parsed.get("intent_ranking") or [] if i.get("name") != "nlu_fallback"),
                   top)
        if raw != top:
            rs = parsed.get("response_selector") or {}
            sel = rs.get(raw) or rs.get("default") or {}
            key = (sel.get("response") or {}).get("intent_response_key")
            ex["pred_raw"] = key if key and key.split("/", 1)[0] == raw else raw
        else:
            ex["pred_raw"] = full
        ex["pred_places"] = [ex["text"][e["start"]:e["end"]] if e.get("start") is not None else str(e.get("value"))
                             for e in parsed.get("entities") or [] if e.get("entity") == "place"]
    return load_s


def score(examples: List[Dict[str, Any]]) -> Dict[str, Any]:
    from bot.places import load_registry_any

    registry = load_registry_any()
    cache: Dict[str, Any] = {}
    n = len(examples)
    full_ok = sum(ex["pred_full"] == ex["full"] for ex in examples)
    base_ok = sum(ex["pred_intent"] == ex["intent"] for ex in examples)
    raw_ok = sum(ex["pred_raw"] == ex["full"] for ex in examples)
    fallback = sum(ex["pred_intent"] == "nlu_fallback" for ex in examples)
    tp = fp = fn = 0
    intent_misses, place_misses = [], []
    for ex in examples:
        if ex["pred_full"] != ex["full"]:
            intent_misses.append([ex["text"], ex["full"], ex["pred_full"]])
        preds = list(ex["pred_places"])
        matched = 0
        for g in ex["places"]:
            for i, p in enumerate(preds):
                if same_place(g, p, registry, cache):
                    preds.pop(i)
                    matched += 1
                    break
        tp += matched
        fn += len(ex["places"]) - matched
        fp += len(preds)
        if matched != len(ex["places"]) or preds:
            place_misses.append([ex["text"], ex["places"], ex["pred_places"]])
    # FallbackClassifier simulated at other thresholds (ambiguity_threshold 0.1 as configured in A and B)
    sim = {}
    for t in (0.3, 0.4, 0.5, 0.6):
        ok = 0
        for ex in examples:
            c1, c2 = ex["conf"][0], ex["conf"][1]
            pred = "nlu_fallback" if (c1 < t or c1 - c2 < 0.1) else ex["pred_raw"]
            ok += pred == ex["full"]
        sim[str(t)] = ok / n
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    return {"n": n, "intent_acc": full_ok / n, "base_intent_acc": base_ok / n,
            "intent_acc_without_fallback": raw_ok / n, "intent_acc_at_fallback_threshold": sim, "fallback_rate": fallback / n,
            "place_tp": tp, "place_fp": fp, "place_fn": fn,
            "place_precision": prec, "place_recall": rec, "place_f1": f1,
            "intent_misses": intent_misses, "place_misses": place_misses}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", nargs="+", help="one or more model archives (one TensorFlow import for all)")
    ap.add_argument("--test", nargs="*", type=Path, default=DEFAULT_TESTS)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    for model in args.models:
        examples = load_examples(args.test)
        t0 = time.perf_counter()
        load_s = asyncio.run(predict(model, examples))
        parse_s = time.perf_counter() - t0 - load_s
        result = score(examples)
        result.update({"model": model, "load_s": round(load_s, 2),
                       "parse_ms_mean": round(parse_s / max(1, len(examples)) * 1000, 2)})
        print(json.dumps(result, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
