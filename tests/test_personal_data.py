"""Personal data end to end: REST, socket.io (real python-socketio client) and signed Slack requests to
the real Rasa (run with --debug) + action server. Each message with personal data is answered normally,
the visitor is told once per conversation, the SQLite tracker holds only placeholders, and no log line
(Rasa at DEBUG, action server) holds an original.

Run: .venv/bin/python -m pytest tests/test_personal_data.py  (FILMBOT_TEST_MODEL=path/to/model.tar.gz)
"""
from __future__ import annotations

import json
import sqlite3
import time

import pytest

from fake_slack import text_of
from reliability_helpers import UNAVAILABLE_SV, events
from test_reliability_input import SioUser
from test_slack import Slack, slack_bot_stack

# (message, originals that must never be stored or logged, placeholder expected in the tracker)
MESSAGES = [
    ("Hej, mitt personnummer är 811218-9876 och jag söker stöd för kortfilm i Dalarna",
     ["811218-9876", "8112189876"], "[personnummer borttaget]"),
    ("ring mig på 070-123 45 67 om kortfilm i Umeå", ["070-123 45 67", "0701234567"], "[telefonnummer borttaget]"),
    ("mejla anna.svensson@exempel.se om dokumentär i Skåne", ["anna.svensson@exempel.se", "anna.svensson"],
     "[e-post borttagen]"),
    ("samordningsnummer 19811278-9873, jag vill söka kortfilmsstöd i Jönköping",
     ["19811278-9873", "811278-9873"], "[personnummer borttaget]"),
]
NOTICE_SV = "Jag tog bort"
ALL_ORIGINALS = [o for _, originals, _ in MESSAGES for o in originals] + ["+46 70 987 65 43", "709876543"]


@pytest.fixture(scope="module")
def stack():
    with slack_bot_stack(rasa_args=["--debug"]) as s:     # Rasa at DEBUG: logs must hold no original
        yield s


def _user_events(stack, sender):
    return [d for t, d in events(stack.tracker_db, sender) if t == "user"]


def _assert_stored_clean(stack, sender, expected_placeholders):
    users = _user_events(stack, sender)
    assert users, f"nothing stored for {sender}"
    raw = json.dumps(events(stack.tracker_db, sender), ensure_ascii=False)
    for original in ALL_ORIGINALS:
        assert original not in raw, (original, sender)
    texts = [u["text"] for u in users]
    for placeholder in expected_placeholders:
        assert any(placeholder in t for t in texts), (placeholder, texts)
    for u in users:
        assert u["parse_data"]["text"] == u["text"]
    assert any((u.get("metadata") or {}).get("filmbot_redacted") for u in users)


def _answered(texts):
    joined = "\n".join(texts)
    assert joined.strip() and UNAVAILABLE_SV not in joined, texts
    return joined


def test_rest_each_kind_answered_stored_as_placeholder(stack):
    sender = "pii-rest"
    notices = 0
    for message, originals, placeholder in MESSAGES:
        replies = stack.say(message, sender=sender)
        texts = [r.get("text") or "" for r in replies]
        joined = _answered(texts)
        notices += sum(NOTICE_SV in t for t in texts)
        # the answer itself is more than the notice: the question is answered normally
        assert [t for t in texts if NOTICE_SV not in t], texts
        for original in originals:
            assert original not in joined
    assert notices == 1, "the notice is given once per conversation"
    first = stack.say("ring mig på 070-555 12 34", sender="pii-rest-2")
    assert NOTICE_SV in first[0]["text"] and "telefonnummer" in first[0]["text"]
    assert "kontaktuppgifter" in first[0]["text"]
    _assert_stored_clean(stack, sender, [p for _, _, p in MESSAGES])
    kinds = [(u.get("metadata") or {}).get("filmbot_redacted") for u in _user_events(stack, sender)]
    assert kinds == [["personnummer"], ["phone"], ["email"], ["personnummer"]]


def test_rest_english_notice_and_placeholder(stack):
    replies = stack.say("Hi, please call me on +46 70 987 65 43 about short film funding in Dalarna",
                        sender="pii-en")
    texts = [r.get("text") or "" for r in replies]
    _answered(texts)
    assert any("I removed a phone number" in t and "contact details" in t for t in texts), texts
    users = _user_events(stack, "pii-en")
    assert "[phone number removed]" in users[-1]["text"]


def test_rest_clean_messages_untouched(stack):
    text = "vi söker 180 000 kronor år 2025 för kortfilm, postnummer 123 45, kommun 0180"
    replies = stack.say(text, sender="pii-clean")
    assert not any(NOTICE_SV in (r.get("text") or "") for r in replies)
    users = _user_events(stack, "pii-clean")
    assert users[-1]["text"] == text and not (users[-1].get("metadata") or {}).get("filmbot_redacted")


def test_bot_answers_keep_centre_contact_details(stack):
    replies = stack.say("hur kontaktar jag Film i Sörmland?", sender="pii-contact")
    joined = "\n".join(r.get("text") or "" for r in replies)
    stored = [d.get("text") or "" for t, d in events(stack.tracker_db, "pii-contact") if t == "bot"]
    assert "borttag" not in joined and "borttag" not in "\n".join(stored)


def test_socketio_each_kind(stack):
    user = SioUser(stack.url, "pii-sio")
    try:
        notices = 0
        for message, originals, _ in MESSAGES:
            replies = user.send({"message": message, "session_id": user.session_id}, wait=20)
            texts = [r.get("text") or "" for r in replies]
            _answered(texts)
            notices += sum(NOTICE_SV in t for t in texts)
        assert notices == 1
    finally:
        user.close()
    _assert_stored_clean(stack, "pii-sio", [p for _, _, p in MESSAGES])


def test_slack_each_kind(stack):
    slack = Slack(stack, stack.fake)
    channel = "DPII1"
    thread = None
    seen = 0
    for message, originals, _ in MESSAGES:
        # one Slack thread = one conversation (conversation_granularity: thread)
        status, _, _, ts = slack.dm(message, channel=channel, thread_ts=thread)
        assert status == 200
        thread = thread or ts
        posts = slack.replies(channel, thread, count=seen + 1)
        texts = [text_of(p) for p in posts[seen:]]
        seen = len(posts)
        _answered(texts)
        for original in originals:
            assert original not in "\n".join(texts)
    all_texts = [text_of(p) for p in stack.fake.posts(channel=channel)]
    assert sum(NOTICE_SV in t for t in all_texts) == 1, all_texts
    senders = [r[0] for r in sqlite3.connect(str(stack.tracker_db)).execute(
        "SELECT DISTINCT sender_id FROM events WHERE sender_id LIKE 'U1%'")]
    assert senders, "no Slack conversation stored"
    for sender in senders:
        _assert_stored_clean(stack, sender, [])
    stored = [u["text"] for s in senders for u in _user_events(stack, s)]
    for _, _, placeholder in MESSAGES:
        assert any(placeholder in t for t in stored), (placeholder, stored)


def test_debug_logs_hold_no_original(stack):
    time.sleep(1.0)
    rasa_log = (stack.workdir / "rasa.log").read_text(encoding="utf-8", errors="replace")
    assert "DEBUG" in rasa_log, "Rasa was expected to log at DEBUG"
    assert "[telefonnummer borttaget]" in rasa_log  # the redacted text is what Rasa saw and logged
    actions_log = (stack.workdir / "actions.log").read_text(encoding="utf-8", errors="replace")
    for original in ALL_ORIGINALS:
        assert original not in rasa_log, original
        assert original not in actions_log, original
