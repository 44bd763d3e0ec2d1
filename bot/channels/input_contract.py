"""One input contract for every channel (REST, socket.io, Slack): limits, cleaning, rejection copy.

Every channel applies the same rules before a message reaches Rasa's NLU (docs/ARCHITECTURE.md,
"Reliability contract"):

- text longer than FILMBOT_MAX_MESSAGE_CHARS characters (default 5000) is refused, not truncated
  (the bot would otherwise answer a question the visitor did not ask);
- a request or socket.io packet larger than FILMBOT_MAX_BODY_BYTES bytes (default 64 KiB) is refused
  before it is parsed;
- accepted text is cleaned: NUL and other control characters become spaces (newline and tab stay), lone
  UTF-16 surrogates are replaced, so every accepted message can be stored, logged and parsed;
- a payload that is not an object, or whose message is not a string, is refused with a clear error;
- empty text is accepted (Rasa answers it like any unclear message).

A refusal is a `Rejected(status, error)`: `error` is the short technical reason for the client (REST
body, socket.io `input_error` event, log line), `visitor_text(lang)` the polite sentence for a person.
Refusals are logged by the channels as one WARNING line without a traceback and without the text.
"""
from __future__ import annotations

import os
import re
from typing import Any, Optional


def _env_int(name: str, default: int) -> int:
    try:
        value = int(os.environ.get(name, default))
        return value if value > 0 else default
    except ValueError:
        return default


MAX_MESSAGE_CHARS = _env_int("FILMBOT_MAX_MESSAGE_CHARS", 5000)
MAX_BODY_BYTES = _env_int("FILMBOT_MAX_BODY_BYTES", 64 * 1024)
# A socket.io packet larger than this is dropped by engine.io itself (the connection is closed): the
# channel's own check answers everything up to it with a clear error first.
MAX_SOCKET_PACKET_BYTES = 4 * MAX_BODY_BYTES

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")

TOO_LONG = "too_long"
UNREADABLE = "unreadable"

VISITOR_TEXT = {
    TOO_LONG: {
        "sv": "Meddelandet är för långt (högst {max} tecken). Korta ner det och skicka igen.",
        "en": "Your message is too long (at most {max} characters). Please shorten it and send it again.",
    },
    UNREADABLE: {
        "sv": "Jag kunde inte läsa meddelandet. Skriv din fråga som vanlig text.",
        "en": "I could not read that message. Please write your question as plain text.",
    },
}


class Rejected(Exception):
    """A message or request refused by the contract."""

    def __init__(self, status: int, error: str, kind: str = UNREADABLE) -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.kind = kind

    def visitor_text(self, lang: Optional[str] = None) -> str:
        copy = VISITOR_TEXT[self.kind]
        return copy.get(lang or "sv", copy["sv"]).format(max=MAX_MESSAGE_CHARS)


def _has_surrogates(text: str) -> bool:
    try:
        text.encode("utf-8")
        return False
    except UnicodeEncodeError:
        return True


def clean_text(text: str) -> str:
    """Control characters -> spaces (\\n and \\t kept); lone surrogates -> U+FFFD."""
    text = text.encode("utf-8", "surrogatepass").decode("utf-8", "replace") if _has_surrogates(text) else text
    return _CONTROL.sub(" ", text)


def check_body_size(size: int) -> None:
    if size > MAX_BODY_BYTES:
        raise Rejected(413, f"request body larger than {MAX_BODY_BYTES} bytes", TOO_LONG)


def check_text(text: Any, field: str = "message") -> str:
    """The cleaned text, or Rejected: not a string (400), longer than the limit (413)."""
    if not isinstance(text, str):
        raise Rejected(400, f"`{field}` is required and must be a string")
    if len(text) > MAX_MESSAGE_CHARS:
        raise Rejected(413, f"`{field}` longer than {MAX_MESSAGE_CHARS} characters; please shorten it", TOO_LONG)
    return clean_text(text)


def language_of(text: Any) -> str:
    """The visitor's language for a refusal ("sv" unless the text is clearly English)."""
    if not isinstance(text, str) or not text.strip():
        return "sv"
    try:
        from bot.lang import detect_language

        return detect_language(clean_text(text[:500])) or "sv"
    except Exception:  # noqa: BLE001 - a refusal must never fail
        return "sv"
