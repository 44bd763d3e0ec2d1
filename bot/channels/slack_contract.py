"""What the Slack webhook answers before Rasa's handler sees a request (used by bot.channels.slack).

In order:
1. a body over the envelope limit (4 x FILMBOT_MAX_BODY_BYTES: a Slack event carries the text twice,
   as `text` and in `blocks`) -> 413, not parsed;
2. missing `X-Slack-Signature` / `X-Slack-Request-Timestamp`, a timestamp that is not a number, a stale
   timestamp or a wrong signature -> 400, one WARNING line (no traceback), nothing processed;
3. (signed) `url_verification` -> 200 `{"challenge": "..."}` as application/json, one of the three forms
   Slack documents (Rasa answers a bare JSON string);
4. (signed) an `event_callback` that is not a question from a person -> 200, empty, nothing posted:
   only `message` (no subtype, or `thread_broadcast`, or `file_share`/`me_message` with text) and
   `app_mention` from a user are answered. Ignored: channel_join/leave, topic/purpose/name changes,
   message_changed/deleted (edits and deletions), bot_message and anything with `bot_id`/`bot_profile`
   or from the bot's own user, hidden events, file shares without text, other event types.
Retries of all of these are harmless: nothing is posted.
"""
from __future__ import annotations

import json
import logging
from http import HTTPStatus
from typing import Any, Callable, Dict, Optional

from sanic import response
from sanic.request import Request

from bot.channels import input_contract as contract

logger = logging.getLogger(__name__)

MAX_ENVELOPE_BYTES = contract.MAX_SOCKET_PACKET_BYTES
NO_RETRY = {"X-Slack-No-Retry": "1"}
ANSWERED_TYPES = ("message", "app_mention")
ANSWERED_SUBTYPES = (None, "thread_broadcast", "file_share", "me_message")


def screen(request: Request, authentic: Callable[[Request], bool]) -> Optional[Any]:
    """The response for a request that must not go further (steps 1-2), or None."""
    body = request.body or b""
    if len(body) > MAX_ENVELOPE_BYTES:
        logger.warning("Slack webhook: rejected a request (413 body of %d bytes)", len(body))
        return response.json({"error": f"request body larger than {MAX_ENVELOPE_BYTES} bytes"},
                             status=HTTPStatus.REQUEST_ENTITY_TOO_LARGE, headers=NO_RETRY)
    signature = request.headers.get("X-Slack-Signature")
    timestamp = (request.headers.get("X-Slack-Request-Timestamp") or "").strip()
    problem = None
    if not signature or not timestamp:
        problem = "missing X-Slack-Signature or X-Slack-Request-Timestamp header"
    elif not timestamp.isdigit():
        problem = "X-Slack-Request-Timestamp is not a number"
    elif not authentic(request):
        problem = "invalid signature or stale timestamp"
    if problem:
        logger.warning("Slack webhook: rejected a request (400 %s)", problem)
        return response.text(f"Message is not properly signed: {problem}", status=HTTPStatus.BAD_REQUEST)
    return None


def is_question(body: Dict[str, Any]) -> bool:
    """True for an event_callback whose event is a person's message or @mention (module docstring)."""
    event = body.get("event")
    if body.get("type") != "event_callback" or not isinstance(event, dict):
        return False
    if event.get("type") not in ANSWERED_TYPES or event.get("subtype") not in ANSWERED_SUBTYPES:
        return False
    if event.get("bot_id") or event.get("bot_profile") or event.get("hidden"):
        return False
    user = event.get("user")
    if not isinstance(user, str) or not user:
        return False
    own = {a.get("user_id") for a in body.get("authorizations") or [] if isinstance(a, dict) and a.get("is_bot")}
    if user in own:
        return False
    text = event.get("text")
    return isinstance(text, str) and bool(text.strip())


def answer_without_rasa(request: Request) -> Optional[Any]:
    """Steps 3-4 for a signed, well-formed JSON request, or None (Rasa's handler goes on)."""
    content_type = (request.headers.get("content-type") or "").split(";")[0].strip()
    if content_type != "application/json":
        return None
    try:
        body = json.loads(request.body or b"null")
    except (ValueError, RecursionError):
        return None  # malformed() has answered already
    if not isinstance(body, dict):
        return None
    if body.get("type") == "url_verification" or ("challenge" in body and "event" not in body):
        challenge = body.get("challenge")
        return response.json({"challenge": challenge if isinstance(challenge, str) else ""})
    if not is_question(body):
        event = body.get("event") if isinstance(body.get("event"), dict) else {}
        logger.debug("Slack webhook: ignored %s/%s (not a question)", event.get("type"), event.get("subtype"))
        return response.text("", status=HTTPStatus.OK)
    return None
