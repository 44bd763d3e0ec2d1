"""bot.glue.tracker_store.WindowedSQLTrackerStore against Rasa's own SQLTrackerStore, turn by turn.

The same 130-turn conversation (answers that set slots, a fallback that reverts its turn, the two-stage
fallback loop, a restart, an expired session with carried-over slots) is saved turn by turn through both
stores, each into its own SQLite file, each turn starting from what the store retrieves. After every turn
the trackers must agree on everything the bot uses (slots, latest message, loop, the policies' last
states, the answer language), ours must stay small, and in the end both `events` tables must hold the
same rows in the same order: no event lost, none duplicated.
"""
from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from pathlib import Path

import pytest

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (ActionExecuted, ActiveLoop, BotUttered, Restarted, SessionStarted, SlotSet,
                                     UserUttered, UserUtteranceReverted)

from bot.glue.nlg import tracker_language
from bot.glue.tracker_store import WINDOW_TABLE, WindowedSQLTrackerStore

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = Domain.load(str(ROOT / "domain.yml"))
TOPICS = ["short_film", "documentary", "equipment", "courses", "screenings"]
COUNTIES = ["06", "24", "12", "20", "14"]
FALLBACKS = {7, 30, 53, 76, 99, 122}
LOOPS = {11, 40, 69, 102}          # the two-stage fallback: opens on turn i, ends on turn i + 1


def run(coro):
    return asyncio.run(coro)


def user(text, intent, ts):
    return UserUttered(text, {"name": intent, "confidence": 0.9},
                       parse_data={"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": []},
                       timestamp=ts)


def turn_events(i, tracker, ts):
    """One visitor turn after the action_listen that ends the previous one. Returns the new events."""
    t = lambda k: ts + k * 0.001  # noqa: E731
    if i in FALLBACKS:   # "vet inte": the fallback answers and reverts the turn (and the slot it set)
        return [user(f"något helt obegripligt nummer {i}", "nlu_fallback", t(0)), SlotSet("place", f"X{i}", t(1)),
                ActionExecuted("action_default_fallback", timestamp=t(2)), BotUttered("Jag vet inte", timestamp=t(3)),
                UserUtteranceReverted(timestamp=t(4)), ActionExecuted("action_listen", timestamp=t(5))]
    if i in LOOPS:       # the two-stage fallback loop opens ...
        return [user(f"kanske filmgrej {i}?", "nlu_fallback", t(0)),
                ActionExecuted("action_two_stage_fallback", timestamp=t(1)),
                ActiveLoop("action_two_stage_fallback", timestamp=t(2)),
                BotUttered("Menade du ...?", timestamp=t(3)), ActionExecuted("action_listen", timestamp=t(4))]
    if i - 1 in LOOPS:   # ... the visitor picks an answer: the loop ends, its turns are reverted (as
        # rasa/core/actions/two_stage_fallback.py does) and the chosen intent is answered
        return [user("/ask_short_film", "ask_short_film", t(0)),
                ActionExecuted("action_two_stage_fallback", timestamp=t(1)), ActiveLoop(None, timestamp=t(2)),
                UserUtteranceReverted(timestamp=t(3)), ActionExecuted("action_listen", timestamp=t(4)),
                user("/ask_short_film", "ask_short_film", t(5)),
                ActionExecuted("action_answer_topic", timestamp=t(6)), BotUttered("Kortfilm ...", timestamp=t(7)),
                SlotSet("last_topic", "short_film", t(8)), ActionExecuted("action_listen", timestamp=t(9))]
    if i == 61:          # "börja om"
        return [user("kan vi ta det från början igen", "start_over", t(0)), ActionExecuted("action_start_over", timestamp=t(1)),
                BotUttered("Vi börjar om.", timestamp=t(2)), Restarted(timestamp=t(3)),
                ActionExecuted("action_listen", timestamp=t(4))]
    if i == 97:          # the session expired: a new one starts, carrying the slots over
        carried = [SlotSet(e.key, e.value, timestamp=t(2)) for e in tracker.applied_events() if isinstance(e, SlotSet)]
        return [ActionExecuted("action_session_start", timestamp=t(0)), SessionStarted(timestamp=t(1)), *carried,
                ActionExecuted("action_listen", timestamp=t(3)),
                user("hej igen, finns det stöd till dokumentärfilm?", "ask_documentary", t(4)),
                ActionExecuted("action_answer_topic", timestamp=t(5)), BotUttered("Dokumentär ...", timestamp=t(6)),
                SlotSet("last_topic", "documentary", t(7)), ActionExecuted("action_listen", timestamp=t(8))]
    topic, county = TOPICS[i % len(TOPICS)], COUNTIES[(i // 3) % len(COUNTIES)]
    english = (i // 10) % 2 == 1
    text = (f"do you fund {topic} in county {county}?" if english else f"finns det stöd för {topic} i län {county}?")
    events = [user(text, "ask_" + topic, t(0))]
    if i % 3 == 0:
        events.append(SlotSet("county_code", county, t(1)))
    events += [ActionExecuted("action_answer_topic", timestamp=t(2)), BotUttered(f"svar {i}", timestamp=t(3)),
               SlotSet("last_topic", topic, t(4))]
    if i % 5 == 0:
        events.append(SlotSet("faq_confident", i % 10 == 0, t(5)))
    return events + [ActionExecuted("action_listen", timestamp=t(6))]


def first_events(ts):
    return [ActionExecuted("action_session_start", timestamp=ts), SessionStarted(timestamp=ts + 0.001),
            ActionExecuted("action_listen", timestamp=ts + 0.002)]


def what_the_bot_uses(tracker):
    states = tracker.past_states(DOMAIN)[-6:]
    return {"slots": tracker.current_slot_values(), "latest": tracker.latest_message.text if tracker.latest_message else None,
            "intent": (tracker.latest_message.intent or {}).get("name") if tracker.latest_message else None,
            "loop": tracker.active_loop_name, "paused": tracker.is_paused(), "states": states,
            "latest_action": tracker.latest_action_name, "language": tracker_language(tracker),
            "followup": tracker.followup_action}


def rows(db):
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT sender_id, type_name, timestamp, intent_name, action_name, data FROM events "
                            "ORDER BY id").fetchall()


def carried_over(all_rows):
    """(positions, resulting values) of the SlotSet rows right after the second session_started row."""
    starts = [i for i, r in enumerate(all_rows) if r[1] == "session_started"]
    if len(starts) < 2:
        return None
    positions, values = [], {}
    for i in range(starts[1] + 1, len(all_rows)):
        if all_rows[i][1] != "slot":
            break
        positions.append(i)
        values[all_rows[i][4]] = json.loads(all_rows[i][5])["value"]
    return positions, values


def without(all_rows, positions):
    skip = set(positions)
    return [r for i, r in enumerate(all_rows) if i not in skip]


@pytest.fixture
def stores(tmp_path):
    ours = WindowedSQLTrackerStore(DOMAIN, dialect="sqlite", db=str(tmp_path / "ours.db"))
    rasa = SQLTrackerStore(DOMAIN, dialect="sqlite", db=str(tmp_path / "rasa.db"))
    return ours, rasa, tmp_path


def retrieve_or_start(store, sender, ts0):
    """As Rasa's processor: a new conversation starts with action_session_start (saved with the turn)."""
    tracker = run(store.retrieve(sender))
    if tracker is None:
        tracker = store.init_tracker(sender)
        for e in first_events(ts0):
            tracker.update(e)
    return tracker


def converse(store, sender, turns, ts0, check=None):
    """Each turn: retrieve (or create), add the turn's events, save, the way Rasa's processor does."""
    for i in range(turns):
        tracker = retrieve_or_start(store, sender, ts0)
        for e in turn_events(i, tracker, ts0 + 1 + i):
            tracker.update(e, DOMAIN)
        run(store.save(tracker))
        if check:
            check(i, tracker)


def test_long_conversation_same_state_and_same_rows_as_rasas_store(stores):
    ours, rasa, tmp = stores
    ts0 = time.time() - 200
    seen = {}
    converse(rasa, "v1", 130, ts0, check=lambda i, t: seen.setdefault(i, what_the_bot_uses(run(rasa.retrieve("v1")))))
    sizes = []

    def check(i, tracker):
        got = run(ours.retrieve("v1"))
        sizes.append(len(got.events))
        assert what_the_bot_uses(got) == seen[i], f"turn {i}"
        assert what_the_bot_uses(tracker) == seen[i], f"turn {i} (tracker in memory)"

    converse(ours, "v1", 130, ts0, check=check)
    ours_rows, rasa_rows = rows(tmp / "ours.db"), rows(tmp / "rasa.db")
    # Every event once, in order. The one difference: at a session start Rasa's ActionSessionStart copies
    # every SlotSet of the tracker it was given (the whole history here, the window with ours); the
    # slot values carried into the new session are the same.
    ours_carried, rasa_carried = carried_over(ours_rows), carried_over(rasa_rows)
    assert ours_carried and ours_carried[1] == rasa_carried[1]
    assert len(ours_carried[0]) < len(rasa_carried[0])
    assert without(ours_rows, ours_carried[0]) == without(rasa_rows, rasa_carried[0])
    full = run(rasa.retrieve("v1"))
    assert len(full.events) > 200          # Rasa loads the whole session (33 turns since the session start)
    assert max(sizes[-40:]) <= 70, " ".join(map(str, sizes))          # ours: at most 2 x 3 turns (plus the carried slot values)
    everything = run(ours.retrieve_full_tracker("v1"))     # GET /conversations/<id>/tracker: all of it
    assert len(everything.events) == len(ours_rows)
    assert everything.current_slot_values() == run(rasa.retrieve_full_tracker("v1")).current_slot_values()


def test_conversations_interleaved_and_a_plain_sql_writer_in_between(stores):
    """Two visitors at once; a third process (Rasa's own store, e.g. another instance not yet updated)
    appends turns of v1 in between: nothing is lost, nothing is duplicated, the state is right."""
    ours, _, tmp = stores
    plain = SQLTrackerStore(DOMAIN, dialect="sqlite", db=str(tmp / "ours.db"))
    reference = SQLTrackerStore(DOMAIN, dialect="sqlite", db=str(tmp / "rasa.db"))
    ts0 = time.time() - 500
    for i in range(40):
        for sender in ("v1", "v2"):
            store = plain if (sender == "v1" and i % 9 == 4) else ours
            for target in (store, reference):
                tracker = retrieve_or_start(target, sender, ts0)
                for e in turn_events(i, tracker, ts0 + 1 + i + (0.5 if sender == "v2" else 0)):
                    tracker.update(e, DOMAIN)
                run(target.save(tracker))
            assert what_the_bot_uses(run(ours.retrieve(sender))) == what_the_bot_uses(run(reference.retrieve(sender)))
    by_sender = lambda rs, s: [r for r in rs if r[0] == s]  # noqa: E731
    for s in ("v1", "v2"):
        assert by_sender(rows(tmp / "ours.db"), s) == by_sender(rows(tmp / "rasa.db"), s)


def test_window_row_lost_or_stale_falls_back_to_the_whole_session(stores):
    ours, rasa, tmp = stores
    ts0 = time.time() - 300
    converse(ours, "v1", 30, ts0)
    converse(rasa, "v1", 30, ts0)
    with sqlite3.connect(tmp / "ours.db") as conn:
        assert conn.execute(f"SELECT count(*) FROM {WINDOW_TABLE}").fetchone()[0] == 1
        conn.execute(f"UPDATE {WINDOW_TABLE} SET start_timestamp = start_timestamp + 1")   # not that event
    assert len(run(ours.retrieve("v1")).events) == len(run(rasa.retrieve("v1")).events)
    assert what_the_bot_uses(run(ours.retrieve("v1"))) == what_the_bot_uses(run(rasa.retrieve("v1")))
    with sqlite3.connect(tmp / "ours.db") as conn:
        conn.execute(f"DELETE FROM {WINDOW_TABLE}")
    assert what_the_bot_uses(run(ours.retrieve("v1"))) == what_the_bot_uses(run(rasa.retrieve("v1")))
    assert run(ours.retrieve("nobody")) is None


def test_answer_language_as_with_the_whole_history(stores):
    """bot.lang answers in the language of the newest of the visitor's last 6 messages that tells one:
    runs of place names and "ok" (no language of their own) longer than the window give the same
    language as Rasa's whole history does."""
    ours, rasa, _ = stores
    ts0 = time.time() - 100
    texts = (["finns det stöd för kortfilm?"] * 7 + ["do you fund short films?"] + ["Umeå", "ok", "Jönköping", "Malmö", "ok"]
             + ["hur gör jag?"] * 4 + ["and documentaries?"] + ["Luleå", "ok"] * 4 + ["tack"])
    langs = {"ours": [], "rasa": []}
    for name, store in (("ours", ours), ("rasa", rasa)):
        for i, text in enumerate(texts):
            tracker = retrieve_or_start(store, "lang", ts0)
            for e in [user(text, "inform_place", ts0 + 1 + i), ActionExecuted("utter_x", timestamp=ts0 + 1.1 + i),
                      BotUttered("x", timestamp=ts0 + 1.2 + i), ActionExecuted("action_listen", timestamp=ts0 + 1.3 + i)]:
                tracker.update(e, DOMAIN)
            run(store.save(tracker))
            langs[name].append(tracker_language(run(store.retrieve("lang"))))
    assert langs["ours"] == langs["rasa"]
    assert langs["rasa"][12] == "en" and langs["rasa"][-2] == "sv"
    assert sum(isinstance(e, UserUttered) for e in run(ours.retrieve("lang")).events) < 12


def test_purge_deletes_the_window_row_too(stores):
    from bot.tools.purge import purge

    ours, _, tmp = stores
    ts0 = time.time() - 300
    converse(ours, "gone", 20, ts0)
    converse(ours, "kept", 20, ts0)
    db = tmp / "ours.db"
    with sqlite3.connect(db) as conn:
        assert conn.execute(f"SELECT count(*) FROM {WINDOW_TABLE} WHERE sender_id = 'gone'").fetchone()[0] == 1
    result = purge(sender="gone", url=f"sqlite:///{db}")
    assert result.senders == ["gone"] and result.events > 100
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM events WHERE sender_id = 'gone'").fetchone()[0] == 0
        assert conn.execute(f"SELECT sender_id FROM {WINDOW_TABLE}").fetchall() == [("kept",)]
    assert run(ours.retrieve("gone")) is None
    assert run(ours.retrieve("kept")).current_slot_values()["last_topic"]
