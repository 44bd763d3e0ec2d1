"""Rasa's socket.io channel with session persistence that actually delivers the bot's answers.

Rasa 3.6's `session_request` handler calls `sio.enter_room(...)` without `await`; since python-socketio
5.10 that is a coroutine, so the socket never joins its session's room and every `bot_uttered` (sent to
room=session_id) is lost (RasaHQ/rasa#13027: "RuntimeWarning: coroutine 'AsyncServer.enter_room' was
never awaited"). This subclass re-registers the handler with the await.

It also applies the input contract of bot.channels.input_contract to `user_uttered` (Rasa's handler calls
`data.get` on whatever arrives, so a bare string raised an AttributeError that nobody saw, and it
passed text of any size to the NLU, which blocks the event loop for every visitor while it works):
- a payload that is not an object, a `message` that is not a string, a missing `session_id` (with
  session persistence), `metadata` that is neither an object nor a JSON object string, or text over
  FILMBOT_MAX_MESSAGE_CHARS: the message is not processed; the socket gets an `input_error` event
  `{"status": 400|413, "error": ...}` and a short `bot_uttered` in the visitor's language (so the
  widget shows why), and one WARNING line is logged (no text, no traceback);
- engine.io drops packets over 4 x FILMBOT_MAX_BODY_BYTES (closing that visitor's connection) before
  they are decoded; a packet that cannot be decoded (invalid JSON, nested thousands deep) gets the same
  `input_error` + short message instead of engine.io's traceback;
- accepted text is cleaned (control characters -> spaces) like REST.

Bot messages carry the message's feedback tag: the last `bot_uttered` of each bot message (Rasa splits
text at blank lines) has `metadata: {"filmbot": {"answer_id", "kind", ...}, "filmbot_lang": "sv"|"en"}`
(bot/feedback.py), so the widget can offer 👍/👎 under rateable answers.

credentials.yml:  bot.channels.socketio.SocketIOInput:  (same keys as `socketio:`)
"""
from __future__ import annotations

import inspect
import json
import logging
import uuid
from typing import Any, Awaitable, Callable, Dict, Optional, Text, Tuple

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput as RasaSocketIOInput
from rasa.core.channels.socketio import SocketIOOutput
from sanic import Blueprint

from bot import feedback
from bot.channels import input_contract as contract

logger = logging.getLogger(__name__)

ERROR_EVENT = "input_error"


class FilmSocketIOOutput(SocketIOOutput):
    """Rasa's socket.io output with the feedback tag on the last part of each bot message."""

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        parts = text.strip().split("\n\n")
        meta = feedback.metadata(kwargs)
        for i, part in enumerate(parts):
            message: Dict[str, Any] = {"text": part}
            if meta and i == len(parts) - 1:
                message["metadata"] = meta
            await self._send_message(recipient_id, message)

    async def send_text_with_buttons(self, recipient_id: Text, text: Text, buttons: Any, **kwargs: Any) -> None:
        parts = text.strip().split("\n\n") or [text]
        meta = feedback.metadata(kwargs)
        for i, part in enumerate(parts):
            message = {"text": part, "quick_replies": []}
            if i == len(parts) - 1:
                message["quick_replies"] = [{"content_type": "text", "title": b["title"], "payload": b["payload"]}
                                            for b in buttons]
                if meta:
                    message["metadata"] = meta
            await self._send_message(recipient_id, message)


def parse_user_message(data: Any, metadata_key: str, session_persistence: bool
                       ) -> Tuple[str, Optional[str], Dict[str, Any]]:
    """(text, session_id, metadata) of a user_uttered payload, or contract.Rejected."""
    if not isinstance(data, dict):
        raise contract.Rejected(400, "the payload must be an object with `message`")
    text = contract.check_text(data.get("message"))
    session_id = data.get("session_id")
    if session_persistence:
        if not isinstance(session_id, str) or not session_id.strip() or len(session_id) > 128:
            raise contract.Rejected(400, "`session_id` is required (send session_request first)")
    metadata = data.get(metadata_key)
    if isinstance(metadata, str):
        try:
            metadata = json.loads(metadata)
        except (ValueError, RecursionError):
            raise contract.Rejected(400, f"`{metadata_key}` is not valid JSON") from None
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict):
        raise contract.Rejected(400, f"`{metadata_key}` must be an object")
    return text, session_id if session_persistence else None, metadata


class SocketIOInput(RasaSocketIOInput):
    @classmethod
    def name(cls) -> Text:
        return "socketio"  # same webhook path (/webhooks/socketio/) and input_channel name as Rasa's

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = super().blueprint(on_new_message)
        sio = self.sio
        sio.eio.max_http_buffer_size = contract.MAX_SOCKET_PACKET_BYTES
        namespace = self.namespace or "/"

        async def reject(sid: Text, exc: contract.Rejected, lang: str = "sv") -> None:
            logger.warning("socket.io: rejected a message (%s %s)", exc.status, exc.error)
            await sio.emit(ERROR_EVENT, {"status": exc.status, "error": exc.error}, room=sid, namespace=namespace)
            await sio.emit(self.bot_message_evt, {"text": exc.visitor_text(lang)}, room=sid, namespace=namespace)

        decode_packet = sio._handle_eio_message

        async def handle_eio_message(eio_sid: Text, data: Any) -> None:
            # A packet that cannot be decoded (invalid or too deeply nested JSON) would otherwise be
            # logged by engine.io as "message async handler error" with a traceback.
            try:
                await decode_packet(eio_sid, data)
            except (ValueError, RecursionError, TypeError, KeyError) as exc:
                sid = sio.manager.sid_from_eio_sid(eio_sid, namespace)
                error = contract.Rejected(400, f"the socket.io packet could not be decoded ({type(exc).__name__})")
                if sid:
                    await reject(sid, error)
                else:
                    logger.warning("socket.io: dropped a packet (%s)", error.error)

        sio.eio.on("message", handle_eio_message)

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: Text, data: Optional[Dict]) -> None:
            data = data if isinstance(data, dict) else {}
            session_id = data.get("session_id")
            if not isinstance(session_id, str) or not session_id or len(session_id) > 128:
                session_id = uuid.uuid4().hex
            if self.session_persistence:
                entered = sio.enter_room(sid, session_id, namespace=self.namespace)
                if inspect.isawaitable(entered):
                    await entered
            await sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)
            logger.debug(f"socket.io {sid} joined session {session_id}")

        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: Text, data: Any = None, *_: Any) -> None:
            try:
                text, session_id, metadata = parse_user_message(data, self.metadata_key or "metadata",
                                                                self.session_persistence)
            except contract.Rejected as exc:
                await reject(sid, exc, contract.language_of(data.get("message") if isinstance(data, dict) else None))
                return
            output_channel = FilmSocketIOOutput(sio, self.bot_message_evt)
            message = UserMessage(text, output_channel, session_id or sid, input_channel=self.name(),
                                  metadata=metadata)
            await on_new_message(message)

        return bp
