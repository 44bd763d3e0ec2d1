"""Builds rasa_sdk trackers for action tests without a server."""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker

DEFAULT_SLOTS = {"language": "sv", "place": None, "centre_id": None, "county_code": None,
                 "kommun_code": None, "pending_topic": None, "last_topic": None}


def make_tracker(text: str = "", intent: Optional[str] = None, entities: Optional[List[Dict[str, Any]]] = None,
                 slots: Optional[Dict[str, Any]] = None, intent_ranking: Optional[List[Dict[str, Any]]] = None,
                 response_selector: Optional[Dict[str, Any]] = None, sender: str = "test") -> Tracker:
    latest = {"text": text, "intent": {"name": intent, "confidence": 1.0} if intent else {},
              "entities": entities or [], "intent_ranking": intent_ranking or []}
    if response_selector is not None:
        latest["response_selector"] = response_selector
    return Tracker(sender, {**DEFAULT_SLOTS, **(slots or {})}, latest, [], False, None, {}, "action_listen")


def place_entity(text: str, value: str) -> Dict[str, Any]:
    start = text.index(value)
    return {"entity": "place", "start": start, "end": start + len(value), "value": value}
