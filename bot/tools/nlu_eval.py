"""Held-out NLU evaluation of trained models, in-process (Agent.load + parse_message), with every miss listed.
Used by `python -m bot nlu-report` (the gate in `make test`) and by the benchmark (bench/run_bench.py, through
`python -m bot nlu-report --jsonl MODEL_A MODEL_B`: several models in one process, one TensorFlow import).

Intents: the predicted full intent is `<top>/<answer>` when the ResponseSelector of the top intent (keyed by its
retrieval intent, or "default" when it has none, as in Rasa's default configuration) picks an answer under it, else
the top intent; so an FAQ answer counts only when the selector also picks the right one. Also scored: the base
intent (`faq` for `faq/x`), the share of messages sent to `nlu_fallback`, the accuracy without the
FallbackClassifier (the best-ranked other intent) and with it simulated at other thresholds.

Places: a predicted place matches an annotated one when the texts are equal or both resolve (bot.places) to the
same kommun/län, so "Dalarnas län" and "Dalarnas" count as the same place; matching is one-to-one per message.
"""
from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from bot.paths import ROOT

TEST_FILES = (ROOT / "tests/nlu/test_nlu.yml", ROOT / "tests/nlu/test_nlu_en.yml")
FALLBACK = "nlu_fallback"
# the FallbackClassifier simulated at these thresholds (ambiguity threshold as configured in config.yml)
SIMULATED_THRESHOLDS = (0.3, 0.4, 0.5, 0.6)
AMBIGUITY_THRESHOLD = 0.1


def _share(part: float, whole: float, empty: float = 0.0) -> float:
    """part / whole, or `empty` when there is nothing to divide (no messages, no predicted places)."""
    return part / whole if whole else empty


@dataclass
class Report:
    model: str = ""
    total: int = 0
    intent_correct: int = 0
    base_intent_correct: int = 0
    without_fallback_correct: int = 0
    fallback: int = 0
    tp: int = 0
    fp: int = 0
    fn: int = 0
    intent_misses: List[Dict[str, Any]] = field(default_factory=list)
    entity_misses: List[Dict[str, Any]] = field(default_factory=list)
    per_file: Dict[str, Tuple[int, int]] = field(default_factory=dict)
    # per message: (best non-fallback confidence, second one, best non-fallback full intent, expected full intent)
    ranking: List[Tuple[float, float, str, str]] = field(default_factory=list)
    load_s: float = 0.0
    parse_s: float = 0.0

    @property
    def intent_accuracy(self) -> float:
        return _share(self.intent_correct, self.total)

    @property
    def base_intent_accuracy(self) -> float:
        return _share(self.base_intent_correct, self.total)

    @property
    def intent_accuracy_without_fallback(self) -> float:
        return _share(self.without_fallback_correct, self.total)

    @property
    def fallback_share(self) -> float:
        return _share(self.fallback, self.total)

    @property
    def entity_precision(self) -> float:
        return _share(self.tp, self.tp + self.fp, empty=1.0)

    @property
    def entity_recall(self) -> float:
        return _share(self.tp, self.tp + self.fn, empty=1.0)

    @property
    def entity_f1(self) -> float:
        p, r = self.entity_precision, self.entity_recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def intent_accuracy_at_threshold(self, threshold: float, ambiguity: float = AMBIGUITY_THRESHOLD) -> float:
        """Full-intent accuracy had the FallbackClassifier used `threshold` (same predictions otherwise)."""
        ok = sum((FALLBACK if c1 < threshold or c1 - c2 < ambiguity else pred) == gold
                 for c1, c2, pred, gold in self.ranking)
        return _share(ok, self.total)

    def as_dict(self) -> Dict[str, Any]:
        return {
            "model": self.model,
            "messages": self.total,
            "intent_accuracy": round(self.intent_accuracy, 4),
            "base_intent_accuracy": round(self.base_intent_accuracy, 4),
            "intent_accuracy_without_fallback": round(self.intent_accuracy_without_fallback, 4),
            "intent_accuracy_at_fallback_threshold": {
                str(t): round(self.intent_accuracy_at_threshold(t), 4) for t in SIMULATED_THRESHOLDS},
            "fallback_share": round(self.fallback_share, 4),
            "place_entity_f1": round(self.entity_f1, 4),
            "place_precision": round(self.entity_precision, 4),
            "place_recall": round(self.entity_recall, 4),
            "place_tp": self.tp, "place_fp": self.fp, "place_fn": self.fn,
            "per_file": {k: {"messages": n, "intent_correct": c} for k, (n, c) in self.per_file.items()},
            "load_s": round(self.load_s, 2),
            "parse_ms_mean": round(self.parse_s / max(1, self.total) * 1000, 2),
            "intent_misses": self.intent_misses,
            "place_misses": self.entity_misses,
        }


def _place_key(text: str) -> Tuple[Optional[str], Optional[str], str]:
    from bot.places import resolve_place

    res = resolve_place(text)
    if res.status == "found":
        return res.county_code, res.kommun_code, ""
    return None, None, text.strip().lower()


def _same_place(a: str, b: str) -> bool:
    if a.strip().lower() == b.strip().lower():
        return True
    ka, kb = _place_key(a), _place_key(b)
    if ka[0] is None or kb[0] is None:
        return False
    # a kommun and the län it lies in are not the same place, unless one side names only the län
    return ka[0] == kb[0] and (ka[1] == kb[1] or ka[1] is None or kb[1] is None)


def load_examples(paths: Sequence[Path]) -> List[Tuple[str, str, str, List[str]]]:
    """(file, text, expected intent incl. faq/<sub>, annotated place texts)."""
    from rasa.shared.nlu.training_data.loading import load_data

    out = []
    for path in paths:
        data = load_data(str(path))
        for ex in data.intent_examples:
            intent = ex.get("intent_response_key") or ex.get("intent")
            places = [ex.get("text")[e["start"]:e["end"]] for e in ex.get("entities") or []
                      if e.get("entity") == "place"]
            out.append((path.name, ex.get("text"), intent, places))
    return out


def full_intent(parsed: Dict[str, Any], intent: str) -> str:
    """`intent/<answer>` when the ResponseSelector for `intent` (or the "default" one) picked an answer under it."""
    selectors = parsed.get("response_selector") or {}
    selector = selectors.get(intent) or selectors.get("default") or {}
    key = (selector.get("response") or {}).get("intent_response_key")
    return key if key and key.split("/", 1)[0] == intent else intent


def predicted_intent(parsed: Dict[str, Any]) -> str:
    intent = (parsed.get("intent") or {}).get("name") or ""
    return full_intent(parsed, intent) if intent else intent


async def _evaluate(model: str, examples: Sequence[Tuple[str, str, str, List[str]]]) -> Report:
    from rasa.core.agent import Agent

    t0 = time.perf_counter()
    agent = Agent.load(model)
    report = Report(model=str(model), load_s=time.perf_counter() - t0)
    t0 = time.perf_counter()
    for fname, text, gold, gold_places in examples:
        parsed = await agent.parse_message(text)
        pred = predicted_intent(parsed)
        n, c = report.per_file.get(fname, (0, 0))
        ok = pred == gold
        report.per_file[fname] = (n + 1, c + ok)
        report.total += 1
        report.intent_correct += ok
        top = (parsed.get("intent") or {}).get("name") or ""
        report.base_intent_correct += top == gold.split("/", 1)[0]
        report.fallback += top == FALLBACK
        ranking = [i for i in parsed.get("intent_ranking") or [] if i.get("name") != FALLBACK]
        best = ranking[0].get("name") if ranking else top
        without_fallback = pred if best == top else full_intent(parsed, best)
        report.without_fallback_correct += without_fallback == gold
        conf = [float(i.get("confidence") or 0) for i in ranking[:2]] + [0.0, 0.0]
        report.ranking.append((conf[0], conf[1], without_fallback, gold))
        if not ok:
            conf = (parsed.get("intent") or {}).get("confidence")
            report.intent_misses.append({"text": text, "expected": gold, "predicted": pred,
                                         "confidence": round(conf or 0, 3)})
        pred_places = [e.get("value") or "" for e in parsed.get("entities") or [] if e.get("entity") == "place"]
        unmatched = list(pred_places)
        for g in gold_places:
            hit = next((p for p in unmatched if _same_place(g, str(p))), None)
            if hit is not None:
                unmatched.remove(hit)
                report.tp += 1
            else:
                report.fn += 1
                report.entity_misses.append({"text": text, "expected": g, "predicted": pred_places})
        for p in unmatched:
            report.fp += 1
            report.entity_misses.append({"text": text, "expected": gold_places, "predicted_extra": p})
    report.parse_s = time.perf_counter() - t0
    return report


async def _evaluate_all(models: Sequence[str], paths: Sequence[Path]) -> List[Report]:
    import logging

    from rasa.utils.log_utils import configure_structlog

    logging.getLogger("rasa").setLevel(logging.WARNING)
    configure_structlog(logging.WARNING)

    examples = load_examples(paths)
    return [await _evaluate(str(model), examples) for model in models]


def evaluate_models(models: Sequence[str], paths: Sequence[Path] = TEST_FILES) -> List[Report]:
    """One report per model, all scored in this process (the models load one after the other)."""
    return asyncio.run(_evaluate_all(models, paths))


def evaluate(model: str, paths: Sequence[Path] = TEST_FILES) -> Report:
    return evaluate_models([model], paths)[0]


def format_report(report: Report) -> str:
    lines = [
        f"messages: {report.total}",
        f"intent accuracy: {report.intent_accuracy:.1%}  ({report.intent_correct}/{report.total})",
        f"place-entity F1: {report.entity_f1:.1%}  (tp {report.tp}, fp {report.fp}, fn {report.fn})",
    ]
    for fname, (n, c) in sorted(report.per_file.items()):
        lines.append(f"  {fname}: {c}/{n} intents right ({c / n:.1%})")
    if report.intent_misses:
        lines.append(f"\nintent misses ({len(report.intent_misses)}):")
        for m in report.intent_misses:
            lines.append(f"  - {m['text']!r}: expected {m['expected']}, got {m['predicted']} ({m['confidence']})")
    if report.entity_misses:
        lines.append(f"\nplace misses ({len(report.entity_misses)}):")
        for m in report.entity_misses:
            lines.append("  - " + json.dumps(m, ensure_ascii=False))
    return "\n".join(lines)
