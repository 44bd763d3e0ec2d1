"""Slack end to end: signed requests from "Slack" to the real Rasa + action server, replies captured by a
fake Slack Web API on loopback (tests/fake_slack.py). Only Slack itself is faked.

Run: .venv/bin/python -m pytest tests/test_slack.py  (FILMBOT_TEST_MODEL=path/to/model.tar.gz)
"""
from __future__ import annotations

import contextlib
import hashlib
import hmac
import itertools
import json
import re
import time
import urllib.parse
from typing import Any, Dict, List, Optional

import pytest

from fake_slack import FakeSlack, buttons_of, text_of
from bot.tools.stack import ROOT, BotStack

SECRET = "test-signing-secret-8f2a"
TOKEN = "xoxb-test-token"
BOT_USER = "U0BOT"
LISTEN_CHANNEL = "CLISTEN1"
WEBHOOK = "/webhooks/slack/webhook"
REPLY_TIMEOUT = 30.0   # the first reply also warms up the model
SETTLE = 2.5           # time given to a (wrong) extra post to show up

_ids = itertools.count(1)


def slack_ts() -> str:
    return f"{int(time.time())}.{next(_ids):06d}"


@contextlib.contextmanager
def slack_bot_stack(listen_channel: str = LISTEN_CHANNEL, rasa_args=None):
    """The real action server and Rasa with the Slack channel pointed at a local fake Slack API
    (`stack.fake`). SLACK_CHANNEL: the bot also reads plain messages in this one channel (not only
    @mentions)."""
    from bot.channels.config import slack_section

    with FakeSlack() as fake:
        env = {"SLACK_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": fake.api_url,
               "SLACK_CHANNEL": listen_channel}
        credentials = (ROOT / "credentials.yml").read_text().rstrip("\n") + "\n\n" + slack_section(env=env)
        with BotStack(credentials=credentials, extra_env=env, rasa_args=rasa_args) as stack:
            stack.fake = fake
            yield stack


@pytest.fixture(scope="module")
def slack():
    with slack_bot_stack() as stack:
        yield Slack(stack, stack.fake)


class Slack:
    """Plays Slack's part: signs and posts events, reads what the bot posted back."""

    def __init__(self, stack: BotStack, fake: FakeSlack) -> None:
        self.stack = stack
        self.fake = fake

    @staticmethod
    def headers(body: bytes, timestamp: Optional[int] = None, secret: str = SECRET,
                content_type: str = "application/json", **extra: str) -> Dict[str, str]:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        sig = "v0=" + hmac.new(secret.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
        return {"Content-Type": content_type, "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig, **extra}

    def post(self, body: bytes, headers: Dict[str, str]):
        return self.stack.post(WEBHOOK, None, raw=body, headers=headers)

    def send_event(self, event: Dict[str, Any], event_id: Optional[str] = None, **header_args: Any):
        envelope = {
            "token": "legacy-verification-token", "team_id": "T0FAKE", "api_app_id": "A0FAKE",
            "type": "event_callback", "event_id": event_id or f"Ev{next(_ids):08d}",
            "event_time": int(time.time()), "event": event,
            "authorizations": [{"team_id": "T0FAKE", "user_id": BOT_USER, "is_bot": True}],
        }
        body = json.dumps(envelope).encode()
        status, resp = self.post(body, self.headers(body, **header_args))
        return status, resp, body

    def dm(self, text: str, channel: str, user: str = "U1", thread_ts: Optional[str] = None, **kw: Any):
        """A direct message; returns (status, response body, request body, message ts)."""
        ts = slack_ts()
        event = {"type": "message", "channel_type": "im", "channel": channel, "user": user, "text": text,
                 "ts": ts, "client_msg_id": f"cmid-{ts}", "team": "T0FAKE"}
        if thread_ts:
            event["thread_ts"] = thread_ts
        status, resp, body = self.send_event(event, **kw)
        return status, resp, body, ts

    def replies(self, channel: str, thread_ts: str, count: int = 1) -> List[Dict[str, Any]]:
        """The bot's posts in one thread once it has finished replying (bounded wait)."""
        posts = self.fake.wait_for_posts(count, timeout=REPLY_TIMEOUT, channel=channel, thread_ts=thread_ts)
        assert len(posts) >= count, f"no reply in thread {thread_ts}; all calls: {self.fake.calls}"
        self.fake.wait_quiet(quiet=1.0, timeout=REPLY_TIMEOUT)
        return self.fake.posts(channel=channel, thread_ts=thread_ts)


def joined(posts: List[Dict[str, Any]]) -> str:
    return "\n".join(text_of(p) for p in posts)


# -- the tests ------------------------------------------------------------------------------------

def test_url_verification_challenge_answered(slack):
    body = json.dumps({"token": "x", "challenge": "ch4ll3nge-123", "type": "url_verification"}).encode()
    status, resp = slack.post(body, slack.headers(body))
    assert status == 200
    assert "ch4ll3nge-123" in resp.decode()


def test_direct_message_gets_threaded_answer(slack):
    status, _, _, ts = slack.dm("Var kan jag få stöd för kortfilm i Dalarna?", channel="DDM1")
    assert status == 200
    posts = slack.replies("DDM1", ts)
    assert all(p["thread_ts"] == ts for p in posts)
    assert "Film i Dalarna" in joined(posts)
    assert all(p.get("channel") == "DDM1" and "as_user" not in p for p in posts)
    tokens = {c["token"] for c in slack.fake.calls if c["method"] == "chat.postMessage"}
    assert tokens == {TOKEN}


def test_app_mention_gets_threaded_answer(slack):
    ts = slack_ts()
    event = {"type": "app_mention", "channel": "CMEN1", "user": "U2", "ts": ts, "client_msg_id": f"cmid-{ts}",
             "text": f"<@{BOT_USER}> Var kan jag få stöd för kortfilm i Dalarna?"}
    status, _, _ = slack.send_event(event)
    assert status == 200
    posts = slack.replies("CMEN1", ts)
    assert all(p["thread_ts"] == ts for p in posts)
    assert "Film i Dalarna" in joined(posts)


def test_threads_are_separate_conversations(slack):
    _, _, _, thread_a = slack.dm("Jag bor i Mora", channel="DTHR1")
    n = len(slack.replies("DTHR1", thread_a))
    slack.dm("Var kan jag få stöd för kortfilm?", channel="DTHR1", thread_ts=thread_a)
    in_a = slack.replies("DTHR1", thread_a, count=n + 1)
    assert "Film i Dalarna" in joined(in_a[n:]), in_a  # thread A knows the place

    _, _, _, thread_b = slack.dm("Var kan jag få stöd för kortfilm?", channel="DTHR1")
    in_b = slack.replies("DTHR1", thread_b)
    assert "Film i Dalarna" not in joined(in_b), in_b  # thread B does not


def test_bad_signature_rejected_and_nothing_posted(slack):
    before = len(slack.fake.posts())
    status, _, _, ts = slack.dm("Var kan jag få stöd för kortfilm i Dalarna?", channel="DBAD1",
                                secret="not-the-secret")
    assert 400 <= status < 500
    body = json.dumps({"type": "event_callback", "event": {"type": "message", "channel_type": "im",
                                                           "channel": "DBAD1", "user": "U1", "text": "hej",
                                                           "ts": slack_ts()}}).encode()
    status, _ = slack.post(body, {"Content-Type": "application/json", "X-Slack-Request-Timestamp":
                                  str(int(time.time()))})  # no signature at all
    assert 400 <= status < 500
    time.sleep(SETTLE)
    assert slack.fake.posts(channel="DBAD1") == []
    assert len(slack.fake.posts()) == before


def test_stale_timestamp_rejected_and_nothing_posted(slack):
    status, _, _, _ = slack.dm("Var kan jag få stöd för kortfilm i Dalarna?", channel="DOLD1",
                               timestamp=int(time.time()) - 6 * 60)  # correctly signed, 6 minutes old
    assert 400 <= status < 500
    time.sleep(SETTLE)
    assert slack.fake.posts(channel="DOLD1") == []


def test_retry_of_handled_event_posts_nothing_more(slack):
    status, _, body, ts = slack.dm("Var kan jag få stöd för kortfilm i Dalarna?", channel="DRET1")
    assert status == 200
    first = slack.replies("DRET1", ts)
    assert "Film i Dalarna" in joined(first)
    for num, reason in ((1, "http_error"), (2, "http_timeout")):
        status, _ = slack.post(body, slack.headers(body, **{"X-Slack-Retry-Num": str(num),
                                                            "X-Slack-Retry-Reason": reason}))
        assert status == 200
    # also a plain redelivery without retry headers
    status, _ = slack.post(body, slack.headers(body))
    assert status == 200
    time.sleep(SETTLE)
    assert len(slack.fake.posts(channel="DRET1")) == len(first)


def test_retry_of_unseen_event_is_answered(slack):
    """Slack retries when the first delivery failed; Rasa's connector drops http_timeout retries."""
    status, _, _, ts = slack.dm("Var kan jag få stöd för kortfilm i Dalarna?", channel="DRET2",
                                **{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    assert status == 200
    assert "Film i Dalarna" in joined(slack.replies("DRET2", ts))


def test_same_message_as_mention_and_message_answered_once(slack):
    """In SLACK_CHANNEL an @mention arrives twice: as app_mention and as message (other event_id)."""
    ts = slack_ts()
    text = f"<@{BOT_USER}> Var kan jag få stöd för kortfilm i Dalarna?"
    common = {"channel": LISTEN_CHANNEL, "user": "U3", "ts": ts, "client_msg_id": f"cmid-{ts}", "text": text}
    slack.send_event({"type": "app_mention", **common})
    first = slack.replies(LISTEN_CHANNEL, ts)
    assert "Film i Dalarna" in joined(first)
    slack.send_event({"type": "message", "channel_type": "channel", **common})
    time.sleep(SETTLE)
    assert len(slack.fake.posts(channel=LISTEN_CHANNEL)) == len(first)


def test_plain_message_in_listen_channel_answered_in_thread(slack):
    ts = slack_ts()
    slack.send_event({"type": "message", "channel_type": "channel", "channel": LISTEN_CHANNEL, "user": "U4",
                      "ts": ts, "client_msg_id": f"cmid-{ts}", "text": "Var kan jag få stöd för kortfilm i Dalarna?"})
    assert "Film i Dalarna" in joined(slack.replies(LISTEN_CHANNEL, ts))


def test_plain_message_in_other_channel_ignored(slack):
    ts = slack_ts()
    status, _, _ = slack.send_event({"type": "message", "channel_type": "channel", "channel": "COTHER1",
                                     "user": "U4", "ts": ts, "text": "Var kan jag få stöd för kortfilm i Dalarna?"})
    assert status == 200
    time.sleep(SETTLE)
    assert slack.fake.posts(channel="COTHER1") == []


def test_more_than_five_buttons_split_and_button_click_answered_in_thread(slack):
    _, _, _, root = slack.dm("Jag bor i Mora", channel="DBTN1")
    posts = slack.replies("DBTN1", root, count=2)
    with_buttons = [p for p in posts if buttons_of(p)]
    assert len(with_buttons) >= 2, posts
    assert all(len(buttons_of(p)) <= 5 for p in posts)
    titles = [b["title"] for p in with_buttons for b in buttons_of(p)]
    assert titles == ["Produktionsstöd", "Kortfilm", "Dokumentär", "Barn och unga", "Visningar", "Kontakt"]
    assert "Dalarna" in text_of(with_buttons[0]) or "Mora" in text_of(with_buttons[0])

    # Click the 6th button, which only exists in the second button message.
    contact = buttons_of(with_buttons[1])[-1]
    assert contact["title"] == "Kontakt"
    n_before = len(posts)
    payload = {
        "type": "block_actions", "trigger_id": f"trig-{slack_ts()}", "team": {"id": "T0FAKE"},
        "user": {"id": "U1", "username": "anna"}, "channel": {"id": "DBTN1", "name": "directmessage"},
        "container": {"type": "message", "channel_id": "DBTN1", "is_ephemeral": False},
        "message": {"type": "message", "bot_id": "B0FAKE", "ts": slack_ts(), "thread_ts": root,
                    "text": with_buttons[1]["text"]},
        "actions": [{"type": "button", "action_id": "a1", "block_id": "b1", "value": contact["value"],
                     "text": {"type": "plain_text", "text": "Kontakt"}, "action_ts": slack_ts()}],
    }
    body = urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()
    status, _ = slack.post(body, slack.headers(body, content_type="application/x-www-form-urlencoded"))
    assert status == 200
    after = slack.fake.wait_for_posts(n_before + 1, timeout=REPLY_TIMEOUT, channel="DBTN1", thread_ts=root)
    slack.fake.wait_quiet(1.0)
    after = slack.fake.posts(channel="DBTN1", thread_ts=root)
    answer = joined(after[n_before:])
    assert "Film i Dalarna" in answer, after
    assert slack.fake.posts(channel="DBTN1") == after  # everything stayed in the thread


def _stored(stack: BotStack, sender: str) -> List[Dict[str, Any]]:
    import sqlite3

    con = sqlite3.connect(stack.tracker_db)
    try:
        rows = con.execute("SELECT type_name, intent_name, data FROM events WHERE sender_id = ? ORDER BY id",
                           (sender,)).fetchall()
    finally:
        con.close()
    return [dict(json.loads(data), _type=kind, _intent=intent) for kind, intent, data in rows]


def _feedback_buttons(post: Dict[str, Any]) -> List[Dict[str, Any]]:
    return [el for block in post.get("blocks") or [] if block.get("type") == "actions"
            for el in block.get("elements") or [] if str(el.get("action_id", "")).startswith("filmbot_feedback")]


def _click(fake: FakeSlack, post: Dict[str, Any], button: Dict[str, Any], channel: str, thread_ts: str,
           user: str = "U1") -> bytes:
    """The form body Slack posts when `user` clicks `button` of the bot's message `post`."""
    ts = next(c["ts"] for c in fake.calls if c["method"] == "chat.postMessage" and c["body"] is post)
    payload = {
        "type": "block_actions", "trigger_id": f"trig-{slack_ts()}", "team": {"id": "T0FAKE"},
        "user": {"id": user, "username": "anna"}, "channel": {"id": channel, "name": "directmessage"},
        "container": {"type": "message", "channel_id": channel, "message_ts": ts, "is_ephemeral": False},
        "message": {"type": "message", "bot_id": "B0FAKE", "ts": ts, "thread_ts": thread_ts,
                    "text": post.get("text"), "blocks": post.get("blocks")},
        "actions": [{"type": "button", "action_id": button["action_id"], "block_id": "filmbot_feedback",
                     "value": button["value"], "text": button["text"], "action_ts": slack_ts()}],
    }
    return urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()


def test_feedback_buttons_and_a_signed_click_stored_against_the_answer(slack):
    _, _, _, root = slack.dm("Kan man söka pengar till en kortfilm i Dalarna?", channel="DFB1")
    posts = slack.replies("DFB1", root)
    rateable = [p for p in posts if _feedback_buttons(p)]
    assert len(rateable) == 1, posts                        # once per answer, on its last message
    up, down = _feedback_buttons(rateable[0])
    assert (up["action_id"], down["action_id"]) == ("filmbot_feedback_up", "filmbot_feedback_down")
    assert up["value"] == down["value"] and re.match(r"^[0-9a-f]{12}$", up["value"])
    assert (up["text"]["text"], down["text"]["text"]) == ("👍", "👎")
    assert down["accessibility_label"] == "Dåligt svar"
    answer_id = up["value"]
    sender = f"U1_DFB1_{root}"                               # the thread's conversation
    tags = [(e.get("metadata") or {}).get("filmbot") or {} for e in _stored(slack.stack, sender) if e["_type"] == "bot"]
    assert answer_id in [t.get("answer_id") for t in tags]

    # a forged click (wrong secret) and one without signature: refused, nothing stored or posted
    n_posts = len(slack.fake.posts(channel="DFB1"))
    body = _click(slack.fake, rateable[0], down, "DFB1", root)
    status, _ = slack.post(body, slack.headers(body, secret="not-the-secret",
                                               content_type="application/x-www-form-urlencoded"))
    assert status in (400, 401)
    status, _ = slack.post(body, {"Content-Type": "application/x-www-form-urlencoded"})
    assert status in (400, 401)
    time.sleep(SETTLE)
    assert not [e for e in _stored(slack.stack, sender) if e["_intent"] == "feedback"]
    assert len(slack.fake.posts(channel="DFB1")) == n_posts
    log = (slack.stack.workdir / "rasa.log").read_text(errors="replace")
    assert "Traceback" not in log

    status, _ = slack.post(body, slack.headers(body, content_type="application/x-www-form-urlencoded"))
    assert status == 200
    slack.fake.wait_for_posts(n_posts + 1, timeout=REPLY_TIMEOUT, channel="DFB1", thread_ts=root)
    slack.fake.wait_quiet(1.0)
    rated = [e for e in _stored(slack.stack, sender) if e["_intent"] == "feedback"]
    assert len(rated) == 1
    values = {x["entity"]: x["value"] for x in rated[0]["parse_data"]["entities"]}
    assert values == {"answer_id": answer_id, "rating": "down"}
    thanks = slack.fake.posts(channel="DFB1", thread_ts=root)[n_posts:]
    assert thanks and not any(_feedback_buttons(p) for p in thanks)       # the thanks is not rateable
    assert not any(e["_type"] == "user" and e.get("text") == answer_id for e in _stored(slack.stack, sender))
    updates = [c["body"] for c in slack.fake.calls if c["method"] == "chat.update"]
    assert updates and updates[-1]["channel"] == "DFB1"
    assert not _feedback_buttons(updates[-1]) and "👎" in json.dumps(updates[-1]["blocks"], ensure_ascii=False)


# -- no server needed -----------------------------------------------------------------------------

def test_seen_events_lru_and_ttl():
    from bot.channels.slack import SeenEvents

    now = [0.0]
    seen = SeenEvents(max_size=3, ttl=60, clock=lambda: now[0])
    assert seen.check_and_add(["event:a", "msg:a"]) is False
    assert seen.check_and_add(["event:a2", "msg:a"]) is True      # same message, other event id
    assert seen.check_and_add(["event:b"]) is False
    assert len(seen) <= 3                                         # bounded
    assert "event:a" not in seen                                  # oldest evicted
    now[0] = 61.0
    assert seen.check_and_add(["event:b"]) is False               # expired after the TTL


def test_slack_section_drops_unset_channel():
    from bot.channels.config import slack_section

    assert "slack_channel:" not in slack_section(env={})
    assert "slack_channel: ${SLACK_CHANNEL}" in slack_section(env={"SLACK_CHANNEL": "C1"})
    assert "conversation_granularity: thread" in slack_section(env={})
    assert "bot.channels.slack.FilmSlackInput:" in slack_section(env={})
