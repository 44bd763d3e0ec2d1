"""REST input channel that validates requests before Rasa sees them (route /webhooks/rest/webhook).

Registered in credentials.yml as `bot.channels.rest.RestInput` in place of Rasa's `rest:`; same name,
same route, same request and response format. Rasa 3.6's own RestInput answers 500 to a JSON body that
is not an object and to an empty body, answers 200 with no message at all to `"message": 123` or a
missing message, files a missing sender under the shared conversation "default", and stores any
size of text. This one:

- 400 + {"error": ...} (never a stack trace) for: a body that is not JSON, not a JSON object, a missing
  or non-string `message`, a missing, empty or non-string `sender` (integers are accepted as ids),
  `metadata` that is not an object;
- 413 for text over FILMBOT_MAX_MESSAGE_CHARS characters (default 5000) or a body over
  FILMBOT_MAX_BODY_BYTES bytes (default 64 KiB). Refused, not truncated: the bot would otherwise answer
  a question the visitor did not ask, and the client learns it must shorten the text;
- cleans accepted text: NUL and other control characters become spaces (newline and tab stay), lone
  UTF-16 surrogates are replaced, so every accepted message can be stored, logged and parsed;
- empty or whitespace-only text is accepted: Rasa answers it politely like any unclear message;
- refuses to serve without a model: if Rasa could not load the model at start-up (a corrupt or
  truncated .tar.gz; Rasa 3.6 then logs a warning and serves an empty reply to every message), the
  process logs one clear line and exits with status 78 (set FILMBOT_REQUIRE_MODEL=0 to allow a
  model-less start, e.g. when a model server will provide one);
- if Rasa itself fails while handling a message, the visitor gets the "cannot answer now" message
  instead of an empty list, and the text is not written to the log.
Each reply message may carry `metadata: {"filmbot": {...}, "filmbot_lang": ...}` (bot/feedback.py: the
answer_id a client needs to rate the answer), on the last part of a bot message split at blank lines.
The limits, the cleaning and the refusals are the shared input contract of bot.channels.input_contract
(socket.io and Slack apply the same); a refused request is logged as one WARNING line.
The bounded, graceful action-server calls (bot.glue.patches.action_guard) are installed with the other patches
of Rasa by bot/glue/patches/__init__.py when Rasa loads the model.
"""
from __future__ import annotations

import json
import logging
import os
import sys
from asyncio import CancelledError
from typing import Any, Awaitable, Callable, Dict, Optional, Text, Tuple

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput as RasaRestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import feedback
from bot.glue.patches import action_guard
from bot.channels.input_contract import MAX_BODY_BYTES, MAX_MESSAGE_CHARS, clean_text
from bot.channels.input_contract import Rejected as BadRequest

logger = logging.getLogger(__name__)

MAX_SENDER_CHARS = 128
EXIT_NO_MODEL = 78  # EX_CONFIG


def parse_request(raw: bytes) -> Tuple[str, str, Optional[Dict[str, Any]], Optional[str]]:
    """Returns (sender, text, metadata, input_channel) or raises BadRequest."""
    if len(raw) > MAX_BODY_BYTES:
        raise BadRequest(413, f"request body larger than {MAX_BODY_BYTES} bytes")
    if not raw.strip():
        raise BadRequest(400, "empty request body; expected a JSON object with sender and message")
    try:
        body = json.loads(raw.decode("utf-8", "strict"))
    except (UnicodeDecodeError, ValueError):
        raise BadRequest(400, "request body is not valid JSON (UTF-8)")
    except RecursionError:
        raise BadRequest(400, "request body is nested too deeply")
    if not isinstance(body, dict):
        raise BadRequest(400, "request body must be a JSON object with sender and message")

    sender = body.get("sender")
    if isinstance(sender, bool) or not isinstance(sender, (str, int)):
        raise BadRequest(400, "`sender` is required and must be a string")
    sender = clean_text(str(sender)).strip()
    if not sender:
        raise BadRequest(400, "`sender` must not be empty")
    if len(sender) > MAX_SENDER_CHARS:
        raise BadRequest(400, f"`sender` longer than {MAX_SENDER_CHARS} characters")

    text = body.get("message")
    if not isinstance(text, str):
        raise BadRequest(400, "`message` is required and must be a string")
    if len(text) > MAX_MESSAGE_CHARS:
        raise BadRequest(413, f"`message` longer than {MAX_MESSAGE_CHARS} characters; please shorten it")

    metadata = body.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise BadRequest(400, "`metadata` must be a JSON object")
    channel = body.get("input_channel")
    if channel is not None and not isinstance(channel, str):
        raise BadRequest(400, "`input_channel` must be a string")
    return sender, clean_text(text), metadata, channel


def _model_arg() -> str:
    argv = sys.argv
    for i, arg in enumerate(argv):
        if arg in ("--model", "-m") and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--model="):
            return arg.split("=", 1)[1]
    return "(default models/ folder)"


class TaggedCollectingOutputChannel(CollectingOutputChannel):
    """Rasa's REST collector, plus the bot message's feedback tag as `metadata` on its last part."""

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        meta = feedback.metadata(message)
        before = len(self.messages)
        await super().send_response(recipient_id, message)
        if meta and len(self.messages) > before:
            self.messages[-1]["metadata"] = meta


class RestInput(RasaRestInput):
    """Rasa's REST channel with input validation; keeps the name `rest` and its routes."""

    @classmethod
    def name(cls) -> Text:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        webhook = Blueprint("custom_webhook_FilmbotRestInput", __name__)

        @webhook.listener("after_server_start")
        async def require_model(app, _loop) -> None:
            agent = getattr(app.ctx, "agent", None)
            if os.environ.get("FILMBOT_REQUIRE_MODEL", "1") == "0" or (agent is not None and agent.is_ready()):
                return
            message = (f"filmbot: could not load the model {_model_arg()} (missing, corrupt or not a Rasa "
                       f"model); refusing to serve without one. Retrain with `make train`.")
            logger.critical(message)
            print(message, file=sys.stderr, flush=True)
            logging.shutdown()
            os._exit(EXIT_NO_MODEL)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                sender, text, metadata, channel = parse_request(request.body or b"")
            except BadRequest as exc:
                logger.warning("REST webhook: rejected a request (%s %s)", exc.status, exc.error)
                return response.json({"error": exc.error}, status=exc.status)
            input_channel = channel or self.name()
            collector = TaggedCollectingOutputChannel()
            try:
                await on_new_message(UserMessage(text, collector, sender, input_channel=input_channel,
                                                 metadata=metadata))
            except CancelledError:
                logger.error("REST message from a visitor was cancelled (timeout)")
                raise
            except Exception as exc:  # noqa: BLE001 - the visitor must still get an answer
                logger.error("Handling a REST message failed: %s", type(exc).__name__, exc_info=True)
                if not collector.messages:
                    lang = None
                    return response.json([{"recipient_id": sender,
                                           "text": action_guard.unavailable_text(lang)}])
            return response.json(collector.messages)

        return webhook
