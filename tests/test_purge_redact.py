"""`python -m bot purge --redact` / `--dry-run` on a SQLite tracker store seeded through Rasa's own
SQLTrackerStore (the real schema), no servers: personal data in stored user messages is replaced in
place, every other event is kept, a second run changes nothing."""
from __future__ import annotations

import asyncio
import hashlib
import json
import os
import sqlite3
import subprocess

from bot.tools.stack import ROOT, VENV_BIN

PERSONAL = {
    "p1": ["Hej, mitt personnummer är 811218-9876 och jag söker stöd för kortfilm i Dalarna",
           "ring mig på 070-123 45 67 eller mejla anna.svensson@gmail.com"],
    "p2": ["please call +46 70 123 45 67, I live in Umeå", "jag bor på Storgatan 12B i Falun"],
    "clean": ["kortfilm i Umeå", "vi söker 180 000 kronor år 2025, postnummer 123 45"],
}
BOT_TEXT = "Film i Sörmland: telefon 016-10 55 75, info.scenkonstsormland@regionsormland.se"


def _seed(db) -> None:
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(db))
    for sender, texts in PERSONAL.items():
        events = [ActionExecuted("action_session_start"), ActionExecuted("action_listen")]
        for text in texts:
            parse = {"text": text, "intent": {"name": "ask_short_film", "confidence": 0.9},
                     "entities": [{"entity": "place", "value": "Umeå", "start": 0, "end": 4}]}
            # A message id and Slack metadata full of digits: neither is personal data.
            events += [UserUttered(text, parse_data=parse, input_channel="slack",
                                   message_id="0701234567c1454c63a479143f19ffeb",
                                   metadata={"out_channel": "C0123", "thread_ts": "1711610210.701698"}),
                       ActionExecuted("action_answer_topic"), BotUttered(BOT_TEXT), SlotSet("place", "Umeå"),
                       ActionExecuted("action_listen")]
        tracker = DialogueStateTracker.from_events(sender, events)
        asyncio.run(store.save(tracker))


def _purge(endpoints, *args):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([str(VENV_BIN / "python"), "-m", "bot", "purge", "--endpoints", str(endpoints), *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def _rows(db):
    con = sqlite3.connect(str(db))
    try:
        return con.execute("SELECT id, sender_id, type_name, timestamp, data FROM events ORDER BY id").fetchall()
    finally:
        con.close()


def test_purge_redact_sqlite(tmp_path):
    db = tmp_path / "tracker.db"
    _seed(db)
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(f'tracker_store:\n  type: SQL\n  dialect: "sqlite"\n  db: "{db}"\n')
    before = _rows(db)
    originals = ["811218-9876", "9876", "070-123 45 67", "anna.svensson@gmail.com", "+46 70 123 45 67",
                 "Storgatan 12B"]
    assert any(o in r[4] for r in before for o in originals)

    dry = _purge(endpoints, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "found personal data in 4 of 6 stored messages" in dry.stdout, dry.stdout
    assert "address 1, email 1, personnummer 1, phone 2" in dry.stdout, dry.stdout
    assert _rows(db) == before  # a dry run changes nothing

    done = _purge(endpoints, "--redact")
    assert done.returncode == 0, done.stderr
    assert "replaced personal data in 4 of 6 stored messages" in done.stdout, done.stdout
    after = _rows(db)
    assert [r[:4] for r in after] == [r[:4] for r in before]  # every event kept, same ids, order, times
    for row in after:
        assert not any(o in row[4] for o in originals), row
    users = [json.loads(r[4]) for r in after if r[2] == "user"]
    assert users[0]["text"] == ("Hej, mitt personnummer är [personnummer borttaget] och jag söker stöd "
                                "för kortfilm i Dalarna")
    assert users[0]["parse_data"]["text"] == users[0]["text"]
    assert users[0]["parse_data"]["intent"]["name"] == "ask_short_film"
    assert users[2]["text"] == "please call [phone number removed], I live in Umeå"
    # Bot answers with the centre's contact details and clean messages are untouched.
    assert [r for r in after if r[2] != "user"] == [r for r in before if r[2] != "user"]
    assert json.loads(next(r[4] for r in after if r[2] == "bot"))["text"] == BOT_TEXT
    assert [r for r in after if r[1] == "clean"] == [r for r in before if r[1] == "clean"]

    digest = hashlib.sha256(db.read_bytes()).hexdigest()
    again = _purge(endpoints, "--redact")
    assert again.returncode == 0 and "in 0 of 6" in again.stdout, again.stdout
    assert _rows(db) == after and hashlib.sha256(db.read_bytes()).hexdigest() == digest

    # Rasa still reads the rewritten conversations.
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain

    tracker = asyncio.run(SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(db)).retrieve("p1"))
    assert tracker.latest_message.text == "ring mig på [telefonnummer borttaget] eller mejla [e-post borttagen]"
