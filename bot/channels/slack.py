"""Slack channel: Rasa's SlackInput with a configurable Web API URL, retry deduplication and >5 buttons.

Registered in credentials by module path (see credentials.slack.yml)::

    bot.channels.slack.FilmSlackInput:
      slack_token: ${SLACK_TOKEN}
      ...

The channel keeps Rasa's name ``slack``, so Slack posts events and interactivity to
``/webhooks/slack/webhook``. Differences from Rasa's connector:

- The Web API base URL comes from ``api_url`` in the credentials or the ``SLACK_API_URL`` environment
  variable (default https://slack.com/api/), so tests can point the bot at a local fake Slack API.
- Slack redelivers an event when we were slow or failed (headers ``X-Slack-Retry-Num`` and
  ``X-Slack-Retry-Reason``). Rasa only ignores ``http_timeout`` retries and processes all others again,
  which replies twice. Here every accepted event is remembered (event_id, client_msg_id and
  channel+ts, with a TTL) in a store shared by all instances and kept across restarts
  (bot.channels.seen_events: Redis lock store, else the SQL tracker database); a repeated event is
  answered 200 with ``X-Slack-No-Retry: 1`` and not processed. A retry of an event we never saw is
  processed (that is what retries are for).
- Before Rasa's handler (bot.channels.slack_contract): size limit, signature headers, url_verification
  answered ``{"challenge"}``, events that are not a person's message or mention ignored; the text
  follows the shared input contract (bot.channels.input_contract; too long: a short reply in the thread).
- Slack messages carry at most 5 buttons in Rasa's layout (Rasa drops them all when there are more).
  Here the first message carries the text and the first 5 buttons, and the rest follow in further
  messages of at most 5 buttons each, in order, in the same thread.
- ``as_user`` is not sent: Slack answers ``invalid_arguments`` when it is used with a (granular) bot token.
- Feedback: a rateable answer (bot/feedback.py tag with an answer_id) ends with a Block Kit actions block
  of two buttons, 👍 ``filmbot_feedback_up`` and 👎 ``filmbot_feedback_down``, value = answer_id. Slack
  posts a click as an interactivity request (form-encoded ``payload=``, signed like events) to the same
  webhook; it becomes the user message ``/feedback{"answer_id": ..., "rating": ...}`` in the conversation
  of the thread the answer is in (Rasa's button handling would send the bare value as text). After the
  click the answer's buttons are replaced (chat.update) by a line that shows the choice.

The signature check (HMAC of ``v0:{timestamp}:{body}`` with the signing secret, 5-minute window) is
Rasa's own and unchanged: a bad signature or a stale timestamp gets 400 and nothing is processed.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
from http import HTTPStatus
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.slack import SlackBot, SlackInput
from sanic import response
from sanic.request import Request
from slack_sdk.web.async_client import AsyncWebClient

from bot import feedback
from bot.channels import input_contract as contract
from bot.channels import slack_contract
from bot.channels.seen_events import SeenEvents, describe, store_for_agent  # noqa: F401 (SeenEvents re-exported)


logger = logging.getLogger(__name__)

DEFAULT_API_URL = "https://slack.com/api/"
MAX_BUTTONS_PER_MESSAGE = 5
FEEDBACK_BLOCK_ID = "filmbot_feedback"
FEEDBACK_LABELS = {
    "sv": {"up": "Bra svar", "down": "Dåligt svar", "chosen_up": "Du tyckte att svaret var bra. Tack!",
           "chosen_down": "Du tyckte att svaret inte var bra. Tack!"},
    "en": {"up": "Good answer", "down": "Bad answer", "chosen_up": "You found this answer good. Thank you!",
           "chosen_down": "You found this answer not good. Thank you!"},
}


def feedback_block(answer_id: str, lang: Optional[str]) -> Dict[str, Any]:
    """The 👍/👎 pair under a rateable answer (value: its answer_id)."""
    labels = FEEDBACK_LABELS["en" if lang == "en" else "sv"]
    return {"type": "actions", "block_id": FEEDBACK_BLOCK_ID, "elements": [
        {"type": "button", "action_id": action_id, "value": answer_id, "accessibility_label": labels[rating],
         "text": {"type": "plain_text", "text": "👍" if rating == "up" else "👎", "emoji": True}}
        for action_id, rating in feedback.SLACK_ACTIONS.items()]}


def chosen_blocks(blocks: Any, rating: str, lang: str) -> Optional[List[Dict[str, Any]]]:
    """The answer's blocks with the feedback buttons replaced by a line naming the choice, or None."""
    if not isinstance(blocks, list) or not any(isinstance(b, dict) and b.get("block_id") == FEEDBACK_BLOCK_ID
                                               for b in blocks):
        return None
    labels = FEEDBACK_LABELS["en" if lang == "en" else "sv"]
    line = {"type": "context", "elements": [{"type": "plain_text", "emoji": True,
                                             "text": ("👍 " if rating == "up" else "👎 ") + labels["chosen_" + rating]}]}
    return [line if isinstance(b, dict) and b.get("block_id") == FEEDBACK_BLOCK_ID else b for b in blocks]


def api_url_from(value: Optional[str] = None) -> str:
    url = (value or os.environ.get("SLACK_API_URL") or DEFAULT_API_URL).strip()
    return url if url.endswith("/") else url + "/"


class FilmSlackBot(SlackBot):
    """Rasa's Slack output channel, posting to a configurable Web API URL."""

    def __init__(self, token: Text, slack_channel: Optional[Text] = None, thread_id: Optional[Text] = None,
                 proxy: Optional[Text] = None, api_url: Optional[Text] = None) -> None:
        super().__init__(token, slack_channel, thread_id, proxy)
        self.api_url = api_url_from(api_url)
        self.client = AsyncWebClient(token, base_url=self.api_url, proxy=proxy)

    async def _post_message(self, channel: Text, **kwargs: Any) -> None:
        kwargs.pop("as_user", None)  # rejected by Slack for granular bot tokens
        await super()._post_message(channel, **kwargs)

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        answer_id = feedback.rateable_id(kwargs)
        if answer_id is None:
            await super().send_text_message(recipient_id, text, **kwargs)
            return
        recipient = self.slack_channel or recipient_id
        parts = text.strip().split("\n\n")
        for part in parts[:-1]:
            await self._post_message(channel=recipient, text=part, type="mrkdwn")
        section = {"type": "section", "text": {"type": "mrkdwn", "text": parts[-1]}}
        await self._post_message(channel=recipient, text=parts[-1],
                                 blocks=[section, feedback_block(answer_id, kwargs.get(feedback.LANG_KEY))])

    async def send_text_with_buttons(self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]],
                                     **kwargs: Any) -> None:
        first, rest = buttons[:MAX_BUTTONS_PER_MESSAGE], buttons[MAX_BUTTONS_PER_MESSAGE:]
        answer_id = feedback.rateable_id(kwargs)
        recipient = self.slack_channel or recipient_id
        if answer_id is None:
            await super().send_text_with_buttons(recipient_id, text, first, **kwargs)
        else:  # Rasa's layout (text, then the buttons) with the feedback pair after them
            blocks = [{"type": "section", "text": {"type": "plain_text", "text": text}},
                      {"type": "actions", "elements": [
                          {"type": "button", "text": {"type": "plain_text", "text": b["title"]}, "value": b["payload"]}
                          for b in first]},
                      feedback_block(answer_id, kwargs.get(feedback.LANG_KEY))]
            await self._post_message(channel=recipient, text=text, blocks=blocks)
        for start in range(0, len(rest), MAX_BUTTONS_PER_MESSAGE):
            chunk = rest[start:start + MAX_BUTTONS_PER_MESSAGE]
            block = {
                "type": "actions",
                "elements": [
                    {"type": "button", "text": {"type": "plain_text", "text": b["title"]}, "value": b["payload"]}
                    for b in chunk
                ],
            }
            # `text` is only the notification fallback: clients show the buttons.
            await self._post_message(channel=recipient, text=" · ".join(b["title"] for b in chunk),
                                     blocks=[block])


def malformed(request: Request) -> Optional[str]:
    """Why a POST to the webhook cannot be a Slack request, or None. Rasa's handler assumes the shapes
    Slack sends and answers 500 to anything else (a JSON list, a non-object `event`, a numeric text)."""
    if request.method != "POST":
        return None
    content_type = (request.headers.get("content-type") or "").split(";")[0].strip()
    try:
        if content_type == "application/json":
            body = json.loads(request.body or b"null")
            if not isinstance(body, dict):
                return "the body must be a JSON object"
            event = body.get("event")
            if event is not None and not isinstance(event, dict):
                return "`event` must be an object"
            if isinstance(event, dict) and not isinstance(event.get("text", ""), str):
                return "`event.text` must be a string"
        elif content_type == "application/x-www-form-urlencoded":
            if "payload" not in request.form:
                return "a form body must carry `payload`"
            payload = json.loads(request.form["payload"][0])
            if not isinstance(payload, dict):
                return "`payload` must be a JSON object"
            actions = payload.get("actions")
            if actions is not None and not (isinstance(actions, list)
                                            and all(isinstance(a, dict) for a in actions)):
                return "`payload.actions` must be a list of objects"
            if not isinstance(payload.get("user") or {}, dict) or not isinstance(payload.get("channel") or {}, dict):
                return "`payload.user` and `payload.channel` must be objects"
    except (ValueError, TypeError, RecursionError):
        return "the body is not valid JSON"
    return None


class FilmSlackInput(SlackInput):
    """Rasa's SlackInput with retry deduplication and a configurable Web API URL (module docstring)."""

    @staticmethod
    def _get_interactive_response(action: Dict) -> Optional[Text]:
        """A click on a feedback button is the feedback message; other buttons send their value."""
        if str(action.get("action_id") or "") in feedback.SLACK_ACTIONS:
            text = feedback.slack_click(action)
            if text is None:
                logger.warning("Slack: ignored a feedback click without a valid answer id")
            return text
        return SlackInput._get_interactive_response(action)

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "FilmSlackInput":
        channel = super().from_credentials(credentials)
        creds = credentials or {}
        channel.api_url = api_url_from(creds.get("api_url"))
        channel.dedup_max_events = int(creds.get("dedup_max_events", 10_000))
        channel.dedup_ttl = float(creds.get("dedup_ttl_seconds", 3600))
        channel.seen_events = None
        return channel

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Retries are decided by deduplication (process_message), not by retry reason: a retry of an
        # event that never reached us must still be answered.
        self.errors_ignore_retry = ()
        self.api_url = api_url_from()
        self.dedup_max_events = 10_000
        self.dedup_ttl = 3600.0
        self.seen_events: Any = None  # chosen on first use from the agent's stores (bot.channels.seen_events)

    def seen_store(self, request: Request) -> Any:
        if self.seen_events is None:
            agent = getattr(request.app.ctx, "agent", None)
            self.seen_events = store_for_agent(agent, self.dedup_ttl, self.dedup_max_events)
            logger.info("Slack: seen event ids are kept in %s", describe(self.seen_events))
        return self.seen_events

    @staticmethod
    def event_keys(request: Request) -> List[str]:
        """Ids that identify the user's message or click in a request from Slack."""
        keys: List[str] = []
        content_type = (request.headers.get("content-type") or "").split(";")[0].strip()
        try:
            if content_type == "application/json":
                body = request.json or {}
                event = body.get("event") or {}
                if body.get("event_id"):
                    keys.append("event:" + str(body["event_id"]))
                if event.get("client_msg_id"):
                    keys.append("msg:" + str(event["client_msg_id"]))
                # The same message can arrive as both `message` and `app_mention` (different event_ids).
                if event.get("channel") and event.get("ts"):
                    keys.append(f"ts:{event['channel']}:{event['ts']}")
            elif content_type == "application/x-www-form-urlencoded":
                payload = json.loads(request.form["payload"][0])
                if payload.get("trigger_id"):
                    keys.append("trigger:" + str(payload["trigger_id"]))
                action = (payload.get("actions") or [{}])[0]
                user = (payload.get("user") or {}).get("id")
                if action.get("action_ts") and user:
                    keys.append(f"action:{user}:{action.get('action_id', '')}:{action['action_ts']}")
        except Exception as exc:  # never let bookkeeping break message handling
            logger.warning(f"Could not read event ids from Slack request: {exc}")
        return keys

    async def process_message(self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]],
                              text: Text, sender_id: Optional[Text], metadata: Optional[Dict]) -> Any:
        keys = self.event_keys(request)
        retry_num = request.headers.get(self.retry_num_header or "x-slack-retry-num")
        if await self.seen_store(request).acheck_and_add(keys):
            reason = request.headers.get(self.retry_reason_header or "x-slack-retry-reason")
            logger.info(f"Slack event {keys} already handled (retry {retry_num or '-'}, {reason or '-'}): skipped")
            return response.text("", status=HTTPStatus.OK, headers={"X-Slack-No-Retry": "1"})
        rated = feedback.parse_message_text(text)
        if rated is not None:
            self._spawn(self._show_choice(request, rated["rating"]))
        try:
            text = contract.check_text(text)
        except contract.Rejected as exc:
            logger.warning("Slack webhook: rejected a message (%s %s); told the visitor", exc.status, exc.error)
            self._spawn(self._tell(metadata, exc.visitor_text(contract.language_of(text))))
            return response.text("", status=HTTPStatus.OK, headers={"X-Slack-No-Retry": "1"})
        return await super().process_message(request, on_new_message, text, sender_id, metadata)

    def _spawn(self, coroutine: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._background_tasks.add(task)
        task.add_done_callback(self._background_tasks.discard)

    async def _show_choice(self, request: Request, rating: str) -> None:
        """Replaces the rated answer's 👍/👎 with a line that shows the choice (one rating per answer)."""
        try:
            payload = json.loads(request.form["payload"][0])
            message = payload.get("message") or {}
            channel = (payload.get("channel") or {}).get("id") or (payload.get("container") or {}).get("channel_id")
            labels = [el.get("accessibility_label") for b in message.get("blocks") or [] if isinstance(b, dict)
                      for el in b.get("elements") or [] if isinstance(el, dict)]
            lang = "en" if FEEDBACK_LABELS["en"]["up"] in labels else "sv"
            blocks = chosen_blocks(message.get("blocks"), rating, lang)
            if not (channel and message.get("ts") and blocks):
                return
            bot = self.get_output_channel(channel)
            await bot.client.chat_update(channel=channel, ts=message["ts"], blocks=blocks,
                                         text=message.get("text") or "")
        except Exception as exc:  # noqa: BLE001 - the rating is stored; this is only the display
            logger.warning("Slack: could not update the rated answer (%s)", type(exc).__name__)

    async def _tell(self, metadata: Optional[Dict], text: str) -> None:
        """A short reply in the thread of the user's message, without involving Rasa."""
        metadata = metadata or {}
        thread = metadata.get("thread_id") if self.use_threads else None
        channel = metadata.get("out_channel")
        try:
            await self.get_output_channel(channel, thread).send_text_message(channel or "", text)
        except Exception as exc:  # noqa: BLE001
            logger.warning("Slack: could not post the refusal (%s)", type(exc).__name__)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]):
        bp = super().blueprint(on_new_message)

        @bp.middleware("request")
        async def input_contract(request: Request):
            if request.method != "POST" or not request.path.rstrip("/").endswith("/webhook"):
                return None
            early = slack_contract.screen(request, self.is_request_from_slack_authentic)
            if early is not None:
                return early
            problem = malformed(request)
            if problem:
                logger.warning(f"Slack webhook: rejected a malformed request ({problem})")
                return response.json({"error": problem}, status=HTTPStatus.BAD_REQUEST,
                                     headers={"X-Slack-No-Retry": "1"})
            return slack_contract.answer_without_rasa(request)

        return bp

    def get_output_channel(self, channel: Optional[Text] = None, thread_id: Optional[Text] = None) -> OutputChannel:
        channel = channel or self.slack_channel
        return FilmSlackBot(self.slack_token, channel, thread_id, self.proxy, self.api_url)
