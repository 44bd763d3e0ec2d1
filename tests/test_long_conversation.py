"""A 120-turn conversation through REST (real Rasa, real action server, the SQLite store of endpoints.yml):
the follow-up at the end still uses the topic asked long before, and the store holds every event once.

The windowed tracker store (bot/glue/tracker_store.py) loads only the last few turns; the topic of turn 100
must come back through the slot values it carries in front of the window.
"""
from __future__ import annotations

import json
import sqlite3
import urllib.request

import pytest

from bot.tools.stack import BotStack

CHATTER = ["tack snälla du", "hallå där", "och vad är egentligen Filmregionerna?", "vilka filmregioner finns det?", "tusen tack för hjälpen", "hej igen"]


@pytest.fixture(scope="module")
def stack():
    with BotStack(rasa_args=["--enable-api"]) as s:
        yield s


def test_follow_up_after_120_turns_and_every_event_stored_once(stack):
    sender = "long-120"
    sent = []

    def say(text):
        sent.append(text)
        return stack.text(text, sender=sender)

    say("finns det stöd för kortfilm i Jönköping?")
    for i in range(97):
        say(CHATTER[i % len(CHATTER)] if i % 7 else "kan man låna utrustning i Skåne?")
    say("finns det stöd för dokumentärfilm i Umeå?")            # turn 99: the topic to remember
    for i in range(20):
        say(CHATTER[i % len(CHATTER)])                         # more turns than the window keeps
    follow_up = say("och i Jönköping då?")                     # turn 120
    assert len(sent) == 120

    direct = stack.text("finns det stöd för dokumentärfilm i Jönköping?", sender="fresh-visitor")
    assert follow_up == direct
    assert follow_up != stack.text("finns det stöd för kortfilm i Jönköping?", sender="fresh-2")

    with sqlite3.connect(stack.tracker_db) as conn:
        rows = conn.execute("SELECT id, type_name, timestamp, data FROM events WHERE sender_id = ? ORDER BY id",
                            (sender,)).fetchall()
        window = conn.execute("SELECT start_id FROM filmbot_tracker_window WHERE sender_id = ?", (sender,)).fetchall()
    users = [json.loads(r[3])["text"] for r in rows if r[1] == "user"]
    assert users == sent                                        # every message once, in order
    assert len({(r[1], r[2], r[3]) for r in rows}) == len(rows)  # no event stored twice
    assert [r[2] for r in rows] == sorted(r[2] for r in rows)
    assert len(window) == 1 and window[0][0] > rows[len(rows) // 2][0]   # the load starts near the end

    with urllib.request.urlopen(stack.url + f"/conversations/{sender}/tracker", timeout=30) as resp:
        tracker = json.loads(resp.read())
    assert len(tracker["events"]) == len(rows)                  # Rasa's API still shows the whole conversation
