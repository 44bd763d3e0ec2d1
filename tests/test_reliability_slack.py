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


# Signed bodies Slack never sends: a JSON list or null, a non-object `event`, a non-string `text`
# (Rasa's own handler answers these with 500; FilmSlackInput rejects them with 400 first).
MALFORMED = [b"{nope", b"[1, 2]", b"null", b'{"type": "event_callback"}', b'{"type": "event_callback", "event": "x"}',
             json.dumps({"type": "event_callback", "event": {"type": "message", "text": 123, "channel": "DBAD1",
                                                             "user": "U9", "channel_type": "im"}}).encode()]


@pytest.mark.parametrize("body", MALFORMED)
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
