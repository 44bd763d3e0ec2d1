"""Personal data never reaches Rasa's processor, tracker store or logs (Rasa glue for bot/redact.py).

`install()` wraps `rasa.core.agent.Agent.handle_message`, the one call every input channel makes with
the UserMessage it built (Rasa's `register()` hands each channel `agent.handle_message` as
`on_new_message`): our REST, socket.io and Slack subclasses, and Rasa's own `cmdline` channel that
`rasa shell` uses (a built-in channel, not taken from credentials.yml, so a channel subclass could not
cover it). The channels themselves log no message text. Before the message is handled (and before the
conversation lock is taken, so nothing is logged with the original):

- the text is replaced by `bot.redact.redact(text)` (placeholders in the visitor's language);
- the message metadata gets `filmbot_redacted: [kinds]` (stored with the user event);
- the first time in a conversation (no earlier user event carries `filmbot_redacted`), the visitor is
  told, in the conversation's language, what was removed and that the centre's contact details are the
  way to reach a person: one bot message sent on the message's own output channel before the answer
  (bot metadata `filmbot_notice: personal_data_removed` where the channel supports custom data).
  The answer to the question itself is the normal one.

Installed with the other patches by bot.glue.patches.install_all(). Idempotent.
"""
from __future__ import annotations

import logging
from typing import Any, List, Optional

from bot import redact as _redact
from bot.lang import conversation_language, detect_language, user_texts_newest_first

logger = logging.getLogger(__name__)

METADATA_KEY = "filmbot_redacted"
_INSTALLED_FLAG = "_filmbot_privacy"


def already_notified(events: Any) -> bool:
    for event in events or []:
        if getattr(event, "type_name", None) == "user":
            metadata = getattr(event, "metadata", None) or {}
            if metadata.get(METADATA_KEY):
                return True
    return False


async def _tracker(agent: Any, sender_id: str) -> Any:
    try:
        return await agent.tracker_store.retrieve(sender_id)
    except Exception as exc:  # noqa: BLE001 - a store problem must not stop redaction
        logger.warning("privacy: could not read the conversation for the notice (%s)", type(exc).__name__)
        return None


async def redact_message(agent: Any, message: Any) -> Optional[str]:
    """Redacts message.text in place and marks its metadata; returns the notice to send, or None."""
    text = message.text
    if not isinstance(text, str) or not _redact.find(text):
        return None
    tracker = await _tracker(agent, message.sender_id)
    events = list(getattr(tracker, "events", None) or [])
    earlier = user_texts_newest_first(events)
    lang = detect_language(text) or conversation_language(earlier, None)
    result = _redact.redact(text, lang=lang)
    message.text = result.text
    metadata = dict(message.metadata or {}) if isinstance(message.metadata, dict) else {}
    metadata[METADATA_KEY] = list(result.kinds)
    message.metadata = metadata
    logger.info("privacy: removed personal data (%s) from a message", ", ".join(result.kinds))
    if already_notified(events):
        return None
    return _redact.notice(result.kinds, conversation_language([text] + earlier, None))


async def _send_notice(message: Any, notice: str) -> None:
    channel = getattr(message, "output_channel", None)
    if channel is None:
        return
    try:
        await channel.send_text_message(message.sender_id, notice)
    except Exception as exc:  # noqa: BLE001 - the answer matters more than the notice
        logger.warning("privacy: could not send the notice (%s)", type(exc).__name__)


def install() -> None:
    from rasa.core.agent import Agent

    if getattr(Agent.handle_message, _INSTALLED_FLAG, False):
        return
    original = Agent.handle_message

    async def handle_message(self: Any, message: Any) -> Optional[List[Any]]:
        notice = await redact_message(self, message)
        if notice:
            await _send_notice(message, notice)
        return await original(self, message)

    setattr(handle_message, _INSTALLED_FLAG, True)
    handle_message.__doc__ = original.__doc__
    Agent.handle_message = handle_message
