"""Rasa's socket.io channel with session persistence that actually delivers the bot's answers.

Rasa 3.6's `session_request` handler calls `sio.enter_room(...)` without `await`; since python-socketio
5.10 that is a coroutine, so the socket never joins its session's room and every `bot_uttered` (sent to
room=session_id) is lost (RasaHQ/rasa#13027: "RuntimeWarning: coroutine 'AsyncServer.enter_room' was
never awaited"). This subclass re-registers the handler with the await; everything else is Rasa's.

credentials.yml:  bot.channels.socketio.SocketIOInput:  (same keys as `socketio:`)
"""
from __future__ import annotations

import inspect
import logging
import uuid
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput as RasaSocketIOInput
from sanic import Blueprint

from bot.channels import privacy

privacy.install()  # personal data is removed before Rasa handles the message

logger = logging.getLogger(__name__)


class SocketIOInput(RasaSocketIOInput):
    @classmethod
    def name(cls) -> Text:
        return "socketio"  # same webhook path (/webhooks/socketio/) and input_channel name as Rasa's

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = super().blueprint(on_new_message)
        sio = self.sio

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

        return bp
