"""Feedback on answers: the tag every bot message carries, and the visitor's rating message (pure Python).

Tag (stored in the BotUttered event's metadata under ``filmbot``; read by the staff report)::

    {"answer_id": "a3f09c1b7e42" | None, "kind": "registry" | "faq" | "unanswered" | "other",
     "reason": "fallback" | "declined" | "unknown_place" | "out_of_scope" | "no_facts" | None,
     "topic": str | None, "centre": str | None, "county": str | None}

- "registry" and "faq" answers are rateable: they get a fresh answer_id (12 lowercase hex characters;
  the first is a letter, so the id can never be read as a phone number or personnummer).
- "unanswered": the bot could not answer; `reason` says why. Everything else is "other".
- The FAQ topic is the retrieval intent's full name ("faq/what_is").
Next to the tag, ``filmbot_lang`` ("sv"/"en") tells clients the conversation's language.

Rating: a user message through the normal channel, parsed by Rasa's RegexMessageHandler (messages
starting with "/"), so the NLU pipeline's own guess and the registry understanding never apply::

    /feedback{"answer_id":"a3f09c1b7e42","rating":"down","comment":"Inget om Gotland"}
"""
from __future__ import annotations

import json
import re
import secrets
from typing import Any, Dict, Iterable, Optional

METADATA_KEY = "filmbot"
LANG_KEY = "filmbot_lang"
INTENT = "feedback"
KINDS = ("registry", "faq", "unanswered", "other")
RATEABLE = ("registry", "faq")
REASONS = ("fallback", "declined", "unknown_place", "out_of_scope", "no_facts")
RATINGS = ("up", "down")
MAX_COMMENT_CHARS = 300
ANSWER_ID = re.compile(r"^[0-9a-f]{12}$")
# Slack Block Kit action ids of the two feedback buttons (bot/channels/slack.py).
SLACK_ACTIONS = {"filmbot_feedback_up": "up", "filmbot_feedback_down": "down"}


def new_answer_id() -> str:
    return secrets.choice("abcdef") + secrets.token_hex(6)[:11]


def tag(kind: str = "other", reason: Optional[str] = None, topic: Optional[str] = None,
        centre: Optional[str] = None, county: Optional[str] = None,
        answer_id: Optional[str] = None) -> Dict[str, Any]:
    """The tag of one bot message; rateable kinds get a new answer_id unless one is given."""
    if kind not in KINDS:
        raise ValueError(f"unknown answer kind {kind!r}")
    if kind == "unanswered" and reason not in REASONS:
        raise ValueError(f"an unanswered message needs a reason from {REASONS}, not {reason!r}")
    rateable = kind in RATEABLE
    return {"answer_id": (answer_id or new_answer_id()) if rateable else None, "kind": kind,
            "reason": reason if kind == "unanswered" else None, "topic": topic, "centre": centre,
            "county": str(county) if county else None}


def response_tag(utter_action: str) -> Dict[str, Any]:
    """The tag of a domain response (bot.glue.nlg.LanguageNLG): FAQ answers are rateable, the out-of-scope
    reply is unanswered, greetings, thanks, help and the like are "other"."""
    if utter_action.startswith("utter_faq/"):
        return tag("faq", topic=utter_action[len("utter_"):])
    if utter_action == "utter_out_of_scope":
        return tag("unanswered", "out_of_scope")
    return tag("other")


def metadata(message: Dict[str, Any]) -> Dict[str, Any]:
    """The part of a bot message (Rasa's BotUttered.message() / output channel kwargs) that clients get."""
    out = {}
    if isinstance(message.get(METADATA_KEY), dict):
        out[METADATA_KEY] = message[METADATA_KEY]
    if message.get(LANG_KEY) in ("sv", "en"):
        out[LANG_KEY] = message[LANG_KEY]
    return out


def rateable_id(message: Dict[str, Any]) -> Optional[str]:
    """The answer_id of a bot message that can be rated, else None."""
    value = (message.get(METADATA_KEY) or {}).get("answer_id") if isinstance(message.get(METADATA_KEY), dict) \
        else None
    return value if isinstance(value, str) and ANSWER_ID.match(value) else None


def clean_comment(text: Any) -> Optional[str]:
    """One line of at most MAX_COMMENT_CHARS characters, or None when empty."""
    if not isinstance(text, str):
        return None
    line = " ".join(text.split())
    return line[:MAX_COMMENT_CHARS].rstrip() or None


def message_text(answer_id: str, rating: str, comment: Optional[str] = None) -> str:
    """The user message that rates an answer."""
    body: Dict[str, str] = {"answer_id": answer_id, "rating": rating}
    comment = clean_comment(comment)
    if comment:
        body["comment"] = comment
    return "/" + INTENT + json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def parse_message_text(text: Any) -> Optional[Dict[str, Any]]:
    """{"answer_id", "rating", "comment"?} of a feedback message text, or None."""
    if not isinstance(text, str) or not text.strip().startswith("/" + INTENT + "{"):
        return None
    try:
        body = json.loads(text.strip()[len(INTENT) + 1:])
    except (ValueError, RecursionError):
        return None
    return valid(body) if isinstance(body, dict) else None


def from_entities(entities: Iterable[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """The rating of a parsed feedback message (entities answer_id, rating, comment), or None."""
    values: Dict[str, Any] = {}
    for entity in entities or []:
        if isinstance(entity, dict) and entity.get("entity") in ("answer_id", "rating", "comment"):
            values[entity["entity"]] = entity.get("value")
    return valid(values)


def valid(body: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    answer_id, rating = body.get("answer_id"), body.get("rating")
    if not (isinstance(answer_id, str) and ANSWER_ID.match(answer_id)) or rating not in RATINGS:
        return None
    out: Dict[str, Any] = {"answer_id": answer_id, "rating": rating}
    comment = clean_comment(body.get("comment"))
    if comment:
        out["comment"] = comment
    return out


def slack_click(action: Dict[str, Any]) -> Optional[str]:
    """The feedback message for a click on one of our Slack feedback buttons, else None."""
    rating = SLACK_ACTIONS.get(str(action.get("action_id") or ""))
    value = action.get("value")
    if rating is None or not (isinstance(value, str) and ANSWER_ID.match(value)):
        return None
    return message_text(value, rating)
