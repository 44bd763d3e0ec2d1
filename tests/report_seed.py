"""Conversations for the staff report tests, stored through Rasa's own SQLTrackerStore (the real schema and
JSON), with the event shapes of the issue-12 contract: UserUttered with parse_data (intent +
understanding), BotUttered with metadata.filmbot, and `/feedback{...}` user messages with their entities.

`CONVERSATIONS` is the seeded data; `EXPECTED` the counts a correct report gives for PERIOD (worked out by
hand from the conversations below, not by running the report). Times are Europe/Stockholm (CET in November).
"""
from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any, Dict, List, Optional
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Europe/Stockholm")
PERIOD = ("2026-11-02", "2026-11-03")
XSS_QUESTION = '<script>window.__xss=1</script>kortfilm i Skåne? <img src=x onerror="window.__xss=2">'
XSS_COMMENT = '<img src=x onerror="window.__xss=3">Fel län <script>window.__xss=4</script>'
DOWN_COMMENT = "Svaret saknade sista ansökningsdag"
UNANSWERED_XSS = '<img src=x onerror="window.__xss=5">vad är klockan nu'


def ts(day: str, clock: str) -> float:
    return dt.datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=TZ).timestamp()


def place(county: str, centre: str, text: str) -> Dict[str, Any]:
    return {"text": text, "span": [0, len(text)], "kind": "county", "status": "found", "county_code": county,
            "county": None, "kommun_code": None, "kommun": None, "centre_id": centre, "centre_name": None,
            "confidence": 1.0, "candidates": [], "weak": False}


def understanding(intent: str, topic: Optional[str] = None, where: Optional[Dict[str, Any]] = None,
                  reason: str = "classifier") -> Dict[str, Any]:
    return {"intent": intent, "confidence": 0.93, "reason": reason, "classifier_intent": intent,
            "classifier_confidence": 0.93, "topic": topic, "place": where, "candidates": [], "premise": None,
            "centre": None, "foreign": None, "out_of_scope": False, "non_film_need": False,
            "places": [where] if where else [], "belonging": False, "film": bool(topic), "each": False}


def tag(kind: str, answer_id: Optional[str] = None, reason: Optional[str] = None, topic: Optional[str] = None,
        centre: Optional[str] = None, county: Optional[str] = None) -> Dict[str, Any]:
    return {"filmbot": {"answer_id": answer_id, "kind": kind, "reason": reason, "topic": topic,
                        "centre": centre, "county": county}}


# One conversation: (sender, channel, [steps]); a step is ("user", when, text, intent, understanding),
# ("bot", when, text, tag) or ("feedback", when, answer_id, rating, comment).
CONVERSATIONS: List[Any] = [
    ("web-anna", "socketio", [
        ("bot", ("2026-11-02", "10:00:00"), "Hej! Jag svarar på frågor om regional film.", tag("other")),
        ("user", ("2026-11-02", "10:00:05"), "Hur söker jag stöd för kortfilm i Dalarna?", "ask_short_film",
         understanding("ask_short_film", "short_film", place("20", "film-i-dalarna", "Dalarna"))),
        ("bot", ("2026-11-02", "10:00:06"), "Film i Dalarna (Dalarnas län) om kortfilm: ...",
         tag("registry", "a1a1a1a1a1a1", topic="short_film", centre="film-i-dalarna", county="20")),
        ("feedback", ("2026-11-02", "10:01:00"), "a1a1a1a1a1a1", "up", None),
        ("bot", ("2026-11-02", "10:01:01"), "Tack för ditt svar!", tag("other")),
    ]),
    ("web-bo", "socketio", [
        ("user", ("2026-11-02", "11:00:00"), "Finns det stöd för dokumentär i Västerbotten?", "ask_documentary",
         understanding("ask_documentary", "documentary", place("24", "film-i-vasterbotten", "Västerbotten"))),
        ("bot", ("2026-11-02", "11:00:01"), "Film i Västerbotten om dokumentärfilm: ...",
         tag("registry", "b2b2b2b2b2b2", topic="documentary", centre="film-i-vasterbotten", county="24")),
        ("feedback", ("2026-11-02", "11:00:30"), "b2b2b2b2b2b2", "down", None),
        ("bot", ("2026-11-02", "11:00:31"), "Tack! Vad saknades?", tag("other")),
        ("feedback", ("2026-11-02", "11:01:00"), "b2b2b2b2b2b2", "down", DOWN_COMMENT),
        ("bot", ("2026-11-02", "11:01:01"), "Tack för kommentaren!", tag("other")),
        ("user", ("2026-11-02", "11:02:00"), "Vad kostar en biobiljett?", "out_of_scope",
         understanding("out_of_scope")),
        ("bot", ("2026-11-02", "11:02:01"), "Jag kan bara svara på frågor om film ...",
         tag("unanswered", reason="out_of_scope")),
    ]),
    ("U0SLACK1", "slack", [
        ("user", ("2026-11-03", "09:00:00"), "vad kostar en bio-biljett", "out_of_scope",
         understanding("out_of_scope")),
        ("bot", ("2026-11-03", "09:00:01"), "Jag kan bara svara på frågor om film ...",
         tag("unanswered", reason="out_of_scope")),
        ("user", ("2026-11-03", "09:01:00"), "hur söker jag stöd för kortfilm i dalarna", "ask_short_film",
         understanding("ask_short_film", "short_film", place("20", "film-i-dalarna", "dalarna"))),
        ("bot", ("2026-11-03", "09:01:01"), "Film i Dalarna om kortfilm: ...",
         tag("registry", "c3c3c3c3c3c3", topic="short_film", centre="film-i-dalarna", county="20")),
        ("feedback", ("2026-11-03", "09:01:20"), "c3c3c3c3c3c3", "up", None),
        ("feedback", ("2026-11-03", "09:02:00"), "c3c3c3c3c3c3", "down", None),   # the last one counts
    ]),
    ("rest-tester", "rest", [
        ("user", ("2026-11-03", "12:00:00"), "blorp fnissel qwerty", "nlu_fallback",
         understanding("nlu_fallback", reason="fallback")),
        ("bot", ("2026-11-03", "12:00:01"), "Menade du …?", tag("unanswered", reason="fallback")),
        ("user", ("2026-11-03", "12:00:10"), "/deny", "deny", understanding("deny")),
        ("bot", ("2026-11-03", "12:00:11"), "Jag förstod tyvärr inte.", tag("unanswered", reason="declined")),
        ("user", ("2026-11-03", "12:01:00"), "Jag bor i Ankeborg, vilket stöd finns?", "inform_place",
         understanding("inform_place")),
        ("bot", ("2026-11-03", "12:01:01"), "Ankeborg känner jag inte till.",
         tag("unanswered", reason="unknown_place")),
    ]),
    ("web-xss", "socketio", [
        ("user", ("2026-11-03", "14:00:00"), XSS_QUESTION, "ask_short_film",
         understanding("ask_short_film", "short_film", place("12", "film-i-skane", "Skåne"))),
        ("bot", ("2026-11-03", "14:00:01"), "Film i Skåne om kortfilm: ...",
         tag("registry", "d4d4d4d4d4d4", topic="short_film", centre="film-i-skane", county="12")),
        ("feedback", ("2026-11-03", "14:00:40"), "d4d4d4d4d4d4", "down", XSS_COMMENT),
        ("user", ("2026-11-03", "14:02:00"), UNANSWERED_XSS, "out_of_scope", understanding("out_of_scope")),
        ("bot", ("2026-11-03", "14:02:01"), "Jag kan bara svara på frågor om film ...",
         tag("unanswered", reason="out_of_scope")),
    ]),
    ("web-faq", "socketio", [
        ("user", ("2026-11-03", "23:30:00"), "Vad är egentligen Filmregionerna?", "faq",
         understanding("faq")),
        ("bot", ("2026-11-03", "23:30:01"), "Filmregionerna är ett nätverk ...",
         tag("faq", "e5e5e5e5e5e5", topic="faq/what_is_filmregionerna")),
        ("feedback", ("2026-11-03", "23:31:00"), "e5e5e5e5e5e5", "up", None),
    ]),
    # Asked before the period, rated inside it: the rating counts, with the answer's topic and centre.
    ("web-old", "socketio", [
        ("user", ("2026-10-30", "16:00:00"), "Teknikutlån i Jämtland?", "ask_equipment_loan",
         understanding("ask_equipment_loan", "equipment_loan", place("23", "filmpool-jamtland", "Jämtland"))),
        ("bot", ("2026-10-30", "16:00:01"), "Filmpool Jämtland om teknikutlån: ...",
         tag("registry", "f6f6f6f6f6f6", topic="equipment_loan", centre="filmpool-jamtland", county="23")),
        ("feedback", ("2026-11-02", "00:10:00"), "f6f6f6f6f6f6", "up", None),
    ]),
    # After the period: only in the whole-store report.
    ("web-late", "socketio", [
        ("user", ("2026-11-05", "08:00:00"), "Har Film på Gotland stöd för långfilm?", "ask_feature",
         understanding("ask_feature", "feature", place("09", "film-pa-gotland", "Gotland"))),
        ("bot", ("2026-11-05", "08:00:01"), "Registret har ingen bekräftad uppgift om långfilm ...",
         tag("unanswered", reason="no_facts", topic="feature", centre="film-pa-gotland", county="09")),
        ("user", ("2026-11-05", "08:01:00"), "/ask_short_film", "ask_short_film", understanding("ask_short_film")),
        ("bot", ("2026-11-05", "08:01:01"), "Film på Gotland om kortfilm: ...",
         tag("registry", "a7a7a7a7a7a7", topic="short_film", centre="film-pa-gotland", county="09")),
        ("feedback", ("2026-11-05", "08:02:00"), "a7a7a7a7a7a7", "down", None),
    ]),
]

# Counts for PERIOD (2026-11-02 .. 2026-11-03), derived by hand from CONVERSATIONS.
EXPECTED = {
    "totals": {"conversations": 6, "messages": 11, "feedback_up": 3, "feedback_down": 3, "unanswered": 5,
               "answers": 5},
    "days": {"2026-11-02": {"conversations": 2, "messages": 3, "channels": {"socketio": [2, 3]}},
             "2026-11-03": {"conversations": 4, "messages": 8,
                            "channels": {"slack": [1, 2], "rest": [1, 3], "socketio": [2, 3]}}},
    "channels": {"socketio": [4, 6], "slack": [1, 2], "rest": [1, 3]},
    "counties": {"20": 2, "24": 1, "12": 1},
    "centres": {"film-i-dalarna": 2, "film-i-vasterbotten": 1, "film-i-skane": 1},
    "topics": {"short_film": 3, "documentary": 1, "faq/what_is_filmregionerna": 1},
    # the biobiljett texts are one group; the fallback question was then declined (one question, one entry)
    "unanswered_groups": {"Vad kostar en biobiljett?": (2, {"out_of_scope": 2}),
                          "blorp fnissel qwerty": (1, {"declined": 1}),
                          "Jag bor i Ankeborg, vilket stöd finns?": (1, {"unknown_place": 1}),
                          UNANSWERED_XSS: (1, {"out_of_scope": 1})},
    "feedback_topics": {"short_film": (1, 2), "documentary": (0, 1), "faq/what_is_filmregionerna": (1, 0),
                        "equipment_loan": (1, 0)},
    "feedback_centres": {"film-i-dalarna": (1, 1), "film-i-vasterbotten": (0, 1), "film-i-skane": (0, 1),
                         "filmpool-jamtland": (1, 0), "okänt": (1, 0)},
    "down": [("web-bo", DOWN_COMMENT, "Finns det stöd för dokumentär i Västerbotten?"),
             ("U0SLACK1", None, "hur söker jag stöd för kortfilm i dalarna"),
             ("web-xss", XSS_COMMENT, XSS_QUESTION)],
}


def events_of(sender: str, channel: str, steps: List[Any]) -> List[Any]:
    """Rasa events of one conversation, with the action and slot events a real one has around messages."""
    from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered

    first = ts(*steps[0][1]) - 1
    events: List[Any] = [ActionExecuted("action_session_start", timestamp=first),
                         SessionStarted(timestamp=first), ActionExecuted("action_listen", timestamp=first)]
    for step in steps:
        kind, when = step[0], ts(*step[1])
        if kind == "user":
            _, _, text, intent, und = step
            parse = {"intent": {"name": intent, "confidence": 0.93}, "entities": [], "text": text,
                     "message_id": f"m{int(when * 1000)}", "metadata": {}, "understanding": und,
                     "intent_ranking": [{"name": intent, "confidence": 0.93}]}
            events.append(UserUttered(text, intent=parse["intent"], parse_data=parse, timestamp=when,
                                      input_channel=channel, message_id=parse["message_id"]))
            if und.get("topic"):
                events.append(SlotSet("topic", und["topic"], timestamp=when))
            events.append(ActionExecuted("action_answer", timestamp=when + 0.1))
        elif kind == "bot":
            _, _, text, meta = step
            events += [BotUttered(text, data={"buttons": None}, metadata=meta, timestamp=when),
                       ActionExecuted("action_listen", timestamp=when + 0.1)]
        else:
            _, _, answer_id, rating, comment = step
            payload: Dict[str, Any] = {"answer_id": answer_id, "rating": rating}
            if comment is not None:
                payload["comment"] = comment
            text = "/feedback" + json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
            entities = [{"entity": k, "value": v, "start": 9, "end": len(text)} for k, v in payload.items()]
            parse = {"intent": {"name": "feedback", "confidence": 1.0}, "entities": entities, "text": text,
                     "message_id": f"m{int(when * 1000)}", "metadata": {}}
            events += [UserUttered(text, intent=parse["intent"], entities=entities, parse_data=parse,
                                   timestamp=when, input_channel=channel, message_id=parse["message_id"]),
                       ActionExecuted("action_feedback", timestamp=when + 0.1),
                       ActionExecuted("action_listen", timestamp=when + 0.2)]
    return events


def seed(store) -> None:
    """Save every conversation through a Rasa SQLTrackerStore (SQLite or PostgreSQL)."""
    from rasa.shared.core.trackers import DialogueStateTracker

    for sender, channel, steps in CONVERSATIONS:
        tracker = DialogueStateTracker.from_events(sender, events_of(sender, channel, steps))
        asyncio.run(store.save(tracker))


def seed_sqlite(db) -> None:
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain

    seed(SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(db)))


def endpoints_sqlite(path, db) -> None:
    path.write_text(f'tracker_store:\n  type: SQL\n  dialect: "sqlite"\n  db: "{db}"\n')
