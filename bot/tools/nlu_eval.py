"""Held-out NLU evaluation: intent accuracy (FAQ answers count only when the ResponseSelector also picks
the right one) and place-entity F1, with every miss listed. Used by `python -m bot nlu-report`.

A predicted place matches an annotated one when the texts are equal or both resolve (bot.places) to the
same kommun/län, so "Dalarnas län" and "Dalarnas" count as the same place.
"""
from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from bot.paths import ROOT

TEST_FILES = (ROOT / "tests/nlu/test_nlu.yml", ROOT / "tests/nlu/test_nlu_en.yml")


@dataclass
class Report:
    total: int = 0
    intent_correct: int = 0
    tp: int = 0
    fp: int = 0
    fn: int = 0
    intent_misses: List[Dict[str, Any]] = field(default_factory=list)
    entity_misses: List[Dict[str, Any]] = field(default_factory=list)
    per_file: Dict[str, Tuple[int, int]] = field(default_factory=dict)

    @property
    def intent_accuracy(self) -> float:
        return self.intent_correct / self.total if self.total else 0.0

    @property
    def entity_f1(self) -> float:
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> Dict[str, Any]:
        return {
            "messages": self.total,
            "intent_accuracy": round(self.intent_accuracy, 4),
            "place_entity_f1": round(self.entity_f1, 4),
            "place_tp": self.tp, "place_fp": self.fp, "place_fn": self.fn,
            "per_file": {k: {"messages": n, "intent_correct": c} for k, (n, c) in self.per_file.items()},
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


def predicted_intent(parsed: Dict[str, Any]) -> str:
    intent = (parsed.get("intent") or {}).get("name") or ""
    if intent == "faq":
        response = ((parsed.get("response_selector") or {}).get("faq") or {}).get("response") or {}
        key = response.get("intent_response_key")
        if key:
            return key
    return intent


async def _evaluate(model: str, paths: Sequence[Path]) -> Report:
    import logging

    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    logging.getLogger("rasa").setLevel(logging.WARNING)
    configure_structlog(logging.WARNING)

    agent = Agent.load(model)
    report = Report()
    for fname, text, gold, gold_places in load_examples(paths):
        parsed = await agent.parse_message(text)
        pred = predicted_intent(parsed)
        n, c = report.per_file.get(fname, (0, 0))
        ok = pred == gold
        report.per_file[fname] = (n + 1, c + ok)
        report.total += 1
        report.intent_correct += ok
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
    return report


def evaluate(model: str, paths: Sequence[Path] = TEST_FILES) -> Report:
    return asyncio.run(_evaluate(model, paths))


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
