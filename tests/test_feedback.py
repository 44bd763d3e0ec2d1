"""Feedback on answers (bot/feedback.py): the tag on every bot message and the /feedback message.

Unit tests (no server) for the tag and the message format, the actions' tags (real registry,
CollectingDispatcher), then end to end over REST (the session's real Rasa + action server) reading the
stored events back from the SQLite tracker store, and `python -m bot purge --sender`.
"""
from __future__ import annotations

import asyncio
import json
import os
import re
import sqlite3
import subprocess
from typing import Any, Dict, List

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions import actions as A
from bot import answers, feedback
from bot.glue.nlg import LanguageNLG
from bot.registry import get_registry
from bot.redact import redact
from bot.topics import TOPIC_INTENTS
from helpers import make_tracker, place_entity
from bot.tools.stack import ROOT, VENV_BIN

ID = re.compile(r"^[0-9a-f]{12}$")


def run(action, tracker):
    d = CollectingDispatcher()
    events = asyncio.run(action.run(d, tracker, {}))
    return d.messages, events


def tag_of(message: Dict[str, Any]) -> Dict[str, Any]:
    return message[feedback.METADATA_KEY]


# -- the tag and the message format ------------------------------------------------------------------

def test_tag_shape_and_rateable_kinds():
    reg = feedback.tag("registry", topic="short_film", centre="film-i-dalarna", county="20")
    assert set(reg) == {"answer_id", "kind", "reason", "topic", "centre", "county"}
    assert ID.match(reg["answer_id"]) and reg["reason"] is None and reg["county"] == "20"
    faq = feedback.response_tag("utter_faq/what_is")
    assert faq["kind"] == "faq" and ID.match(faq["answer_id"]) and faq["topic"] == "faq/what_is"
    assert feedback.response_tag("utter_out_of_scope") == {
        "answer_id": None, "kind": "unanswered", "reason": "out_of_scope", "topic": None, "centre": None,
        "county": None}
    for other in ("utter_greet", "utter_thank", "utter_help", "utter_national_funding"):
        assert feedback.response_tag(other)["kind"] == "other"
        assert feedback.response_tag(other)["answer_id"] is None
    with pytest.raises(ValueError):
        feedback.tag("unanswered")            # an unanswered message says why
    with pytest.raises(ValueError):
        feedback.tag("answered")


def test_answer_ids_are_unique_and_never_personal_data():
    ids = {feedback.new_answer_id() for _ in range(5000)}
    assert len(ids) == 5000
    assert all(ID.match(i) and i[0] in "abcdef" for i in ids)
    for i in list(ids)[:500]:
        text = feedback.message_text(i, "down", "ring 070-123 45 67")
        parsed = feedback.parse_message_text(redact(text).text)   # still valid JSON
        assert parsed["answer_id"] == i and "070" not in parsed["comment"]


def test_message_text_round_trip_and_comment_is_one_short_line():
    text = feedback.message_text("a1b2c3d4e5f6", "down", "  saknade\nGotland " + "x" * 400)
    assert text.startswith('/feedback{"answer_id":"a1b2c3d4e5f6","rating":"down","comment":"saknade Gotland x')
    parsed = feedback.parse_message_text(text)
    assert parsed["rating"] == "down" and len(parsed["comment"]) == feedback.MAX_COMMENT_CHARS
    assert "\n" not in parsed["comment"]
    assert feedback.parse_message_text('/feedback{"answer_id":"zz","rating":"up"}') is None
    assert feedback.parse_message_text('/feedback{"answer_id":"a1b2c3d4e5f6","rating":"meh"}') is None
    assert feedback.parse_message_text("bra svar") is None
    ents = [{"entity": "answer_id", "value": "a1b2c3d4e5f6"}, {"entity": "rating", "value": "up"}]
    assert feedback.from_entities(ents) == {"answer_id": "a1b2c3d4e5f6", "rating": "up"}


def test_slack_click_only_for_our_buttons_with_a_valid_id():
    assert feedback.slack_click({"action_id": "filmbot_feedback_down", "value": "a1b2c3d4e5f6"}) == \
        '/feedback{"answer_id":"a1b2c3d4e5f6","rating":"down"}'
    assert feedback.slack_click({"action_id": "filmbot_feedback_up", "value": "/greet"}) is None
    assert feedback.slack_click({"action_id": "a1", "value": "a1b2c3d4e5f6"}) is None


# -- the actions' tags (in process) ------------------------------------------------------------------

def test_registry_answer_is_rateable_with_topic_centre_and_county():
    text = "Kan man söka pengar till en kortfilm i Dalarna?"
    msgs, _ = run(A.ActionAnswerTopic(), make_tracker(text, "ask_short_film", [place_entity(text, "Dalarna")]))
    tag = tag_of(msgs[-1])
    assert tag["kind"] == "registry" and ID.match(tag["answer_id"])
    assert (tag["topic"], tag["centre"], tag["county"]) == ("short_film", "film-i-dalarna", "20")
    assert msgs[-1][feedback.LANG_KEY] == "sv"
    again, _ = run(A.ActionAnswerTopic(), make_tracker(text, "ask_short_film", [place_entity(text, "Dalarna")]))
    assert tag_of(again[-1])["answer_id"] != tag["answer_id"]   # every answer its own id


def _no_facts_case():
    registry = get_registry()
    for county in sorted(registry.counties, key=lambda c: c.code):
        for topic in TOPIC_INTENTS:
            answer = answers.answer_topic(registry, county.code, topic, "sv")
            if answer.kind == "unanswered":
                return county, topic, answer
    pytest.fail("every län has a sourced fact on every topic: no 'no facts' answer to test")


def test_no_sourced_fact_is_unanswered_no_facts():
    county, topic, answer = _no_facts_case()
    tag = answer.tag()
    assert tag["reason"] == "no_facts" and tag["answer_id"] is None
    assert tag["topic"] == topic and tag["county"] == county.code
    assert tag["centre"] == get_registry().centre_for_county(county.code).id


def test_clarifying_questions_and_unknown_places():
    msgs, _ = run(A.ActionAnswerTopic(), make_tracker("Finns det stöd till dokumentärfilm?", "ask_documentary"))
    assert tag_of(msgs[-1]) == feedback.tag("other")       # "where do you live?"
    text = "jag bor i Småland"
    msgs, _ = run(A.ActionAnswerTopic(), make_tracker(text, "ask_short_film", [place_entity(text, "Småland")]))
    assert tag_of(msgs[-1])["kind"] == "other"
    assert answers.unknown_place("Narnia", "sv").tag()["reason"] == "unknown_place"
    assert answers.outside_sweden("Oslo", "sv").tag()["reason"] == "out_of_scope"


def test_fallbacks_say_fallback_or_declined():
    ranking = [{"name": "ask_short_film", "confidence": 0.3}, {"name": "greet", "confidence": 0.2}]
    msgs, _ = run(A.ActionDefaultAskAffirmation(), make_tracker("asdf", "nlu_fallback", intent_ranking=ranking))
    assert tag_of(msgs[-1])["reason"] == "fallback"
    msgs, _ = run(A.ActionDefaultAskRephrase(), make_tracker("/out_of_scope", "out_of_scope"))
    assert tag_of(msgs[-1])["reason"] == "declined"
    msgs, _ = run(A.ActionDefaultFallback(), make_tracker("/out_of_scope", "out_of_scope"))
    assert tag_of(msgs[-1])["reason"] == "declined"
    msgs, _ = run(A.ActionDefaultFallback(), make_tracker("qwerty", "nlu_fallback"))
    assert tag_of(msgs[-1])["reason"] == "fallback"
    msgs, _ = run(A.ActionCheckFaq(), make_tracker("filmregion?", "faq", response_selector={"faq": {}}))
    assert tag_of(msgs[-1])["reason"] == "fallback"


def test_feedback_action_thanks_and_sets_nothing():
    ents = [{"entity": "answer_id", "value": "a1b2c3d4e5f6"}, {"entity": "rating", "value": "down"},
            {"entity": "comment", "value": "Inget om Gotland"}]
    tracker = make_tracker('/feedback{"answer_id":"a1b2c3d4e5f6","rating":"down","comment":"Inget om Gotland"}',
                           "feedback", ents, slots={"county_code": "09", "last_topic": "short_film"})
    msgs, events = run(A.ActionFeedback(), tracker)
    assert events == []
    assert msgs[-1]["text"] == answers.t("feedback_thanks_comment", "sv")
    assert tag_of(msgs[-1])["kind"] == "other"


def test_domain_responses_are_tagged_by_the_nlg():
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.trackers import DialogueStateTracker

    domain = Domain.load(str(ROOT / "domain.yml"))
    nlg = LanguageNLG(domain=domain)
    tracker = DialogueStateTracker.from_events("t", [], slots=domain.slots)
    faq = asyncio.run(nlg.generate("utter_faq/what_is", tracker, "rest"))
    assert faq["filmbot"]["kind"] == "faq" and ID.match(faq["filmbot"]["answer_id"])
    assert asyncio.run(nlg.generate("utter_greet", tracker, "rest"))["filmbot"]["kind"] == "other"
    assert asyncio.run(nlg.generate("utter_out_of_scope", tracker, "rest"))["filmbot"]["reason"] == "out_of_scope"


# -- end to end over REST, read back from the tracker store ------------------------------------------

def stored(stack, sender: str) -> List[Dict[str, Any]]:
    con = sqlite3.connect(stack.tracker_db)
    try:
        rows = con.execute("SELECT type_name, intent_name, action_name, data FROM events WHERE sender_id = ? "
                           "ORDER BY id", (sender,)).fetchall()
    finally:
        con.close()
    return [dict(json.loads(data), _type=kind, _intent=intent, _action=action) for kind, intent, action, data in rows]


def bot_tags(stack, sender: str) -> List[Dict[str, Any]]:
    return [(e.get("metadata") or {}).get("filmbot") for e in stored(stack, sender) if e["_type"] == "bot"]


def last_tag(stack, sender: str) -> Dict[str, Any]:
    tags = bot_tags(stack, sender)
    assert tags and tags[-1] is not None, stored(stack, sender)
    return tags[-1]


def test_rest_registry_answer_carries_its_id_to_client_and_store(stack):
    who = "fb-registry"
    replies = stack.say("Kan man söka pengar till en kortfilm i Dalarna?", who)
    meta = replies[-1]["metadata"]["filmbot"]
    assert meta["kind"] == "registry" and ID.match(meta["answer_id"])
    assert all("metadata" not in m for m in replies[:-1])       # once per bot message, on its last part
    tag = last_tag(stack, who)
    assert tag == meta and tag["county"] == "20" and tag["topic"] == "short_film"
    user = [e for e in stored(stack, who) if e["_type"] == "user"][-1]
    assert user["text"] == "Kan man söka pengar till en kortfilm i Dalarna?"
    assert user["parse_data"]["understanding"]


def test_rest_faq_answer_is_rateable(stack):
    who = "fb-faq"
    stack.say("berätta, vad är egentligen Filmregionerna?", who)
    tag = last_tag(stack, who)
    assert tag["kind"] == "faq" and ID.match(tag["answer_id"]) and tag["topic"].startswith("faq/")
    assert [e["_action"] for e in stored(stack, who) if e["_type"] == "action"][-2] == "utter_faq"


def test_rest_greeting_is_other(stack):
    who = "fb-greet"
    stack.say("hej", who)
    assert last_tag(stack, who) == feedback.tag("other")


def test_rest_out_of_scope_unknown_place_and_no_facts(stack):
    stack.say("Vad blir det för väder i Göteborg imorgon?", "fb-oos")
    assert last_tag(stack, "fb-oos")["reason"] == "out_of_scope"
    stack.say("Finns det stöd för kortfilm i Xyzzyborg?", "fb-unknown")
    assert last_tag(stack, "fb-unknown")["reason"] == "unknown_place"
    county, topic, _ = _no_facts_case()
    stack.say(f"Jag bor i {county.name}", "fb-nofacts")
    payload = f"/{TOPIC_INTENTS[topic]}"                   # the topic button of the place answer
    stack.say(payload, "fb-nofacts")
    tag = last_tag(stack, "fb-nofacts")
    assert (tag["kind"], tag["reason"], tag["topic"], tag["county"]) == ("unanswered", "no_facts", topic,
                                                                          county.code)


def test_rest_fallback_then_declined(stack):
    """Low NLU confidence, sent as its intent (a real low-confidence text depends on the model)."""
    who = "fb-fallback"
    stack.say("/nlu_fallback", who)                          # "Menade du ...?"
    tag = last_tag(stack, who)
    assert (tag["kind"], tag["reason"], tag["answer_id"]) == ("unanswered", "fallback", None)
    stack.say("/out_of_scope", who)                          # "Nej, något annat" -> "put it another way"
    assert last_tag(stack, who)["reason"] == "declined"
    stack.say("/nlu_fallback", who)
    assert last_tag(stack, who)["reason"] == "fallback"
    stack.say("/out_of_scope", who)                          # declined again: the hand-over to a person
    assert [t["reason"] for t in bot_tags(stack, who)] == ["fallback", "declined", "fallback", "declined"]


def test_rest_feedback_is_stored_changes_no_slot_and_the_follow_up_works(stack):
    who = "fb-rate"
    replies = stack.say("Finns det stöd för dokumentärfilm i Dalarna?", who)
    answer_id = replies[-1]["metadata"]["filmbot"]["answer_id"]
    n_slots = sum(1 for e in stored(stack, who) if e["_type"] == "slot")
    stack.say(feedback.message_text(answer_id, "up"), who)
    thanks = stack.say(feedback.message_text(answer_id, "down", "Inget om stödets storlek, ring 070-123 45 67"),
                       who)
    assert answers.t("feedback_thanks_comment", "sv") in "\n".join(m.get("text", "") for m in thanks)
    events = stored(stack, who)
    rated = [e for e in events if e["_type"] == "user" and e["_intent"] == "feedback"]
    assert len(rated) == 2
    values = {x["entity"]: x["value"] for x in rated[-1]["parse_data"]["entities"]}
    assert values["answer_id"] == answer_id and values["rating"] == "down"
    assert "stödets storlek" in values["comment"] and "070" not in values["comment"]   # redacted, still parsed
    assert {x["entity"]: x["value"] for x in rated[0]["parse_data"]["entities"]} == \
        {"answer_id": answer_id, "rating": "up"}
    assert "understanding" not in rated[0]["parse_data"]
    assert sum(1 for e in events if e["_type"] == "slot") == n_slots      # no slot touched
    assert [e["_action"] for e in events if e["_type"] == "action"][-2] == "action_feedback"
    out = stack.text("och i Kalmar då?", who)
    assert "Filmregion Sydost" in out and answers.topic_name("documentary", "sv") in out


def test_purge_removes_the_feedback_with_the_conversation(stack):
    who = "fb-purge"
    replies = stack.say("Finns det kortfilmsstöd i Uppsala?", who)
    stack.say(feedback.message_text(replies[-1]["metadata"]["filmbot"]["answer_id"], "up"), who)
    assert any(e["_intent"] == "feedback" for e in stored(stack, who))
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([str(VENV_BIN / "python"), "-m", "bot", "purge", "--endpoints", str(stack.endpoints),
                           "--sender", who], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert stored(stack, who) == []
    assert stored(stack, "fb-rate")                                      # other visitors kept


def test_rest_rating_an_earlier_answer_inside_the_did_you_mean_loop(stack):
    """A 👍 on an earlier answer while "Menade du ...?" is open: thanked, stored, the conversation goes on."""
    who = "fb-loop"
    replies = stack.say("Finns det stöd för kortfilm i Dalarna?", who)
    answer_id = replies[-1]["metadata"]["filmbot"]["answer_id"]
    stack.say("/nlu_fallback", who)
    thanks = stack.text(feedback.message_text(answer_id, "up"), who)
    assert answers.t("feedback_thanks_up", "sv") in thanks
    rated = [e for e in stored(stack, who) if e["_type"] == "user" and e["_intent"] == "feedback"]
    assert rated and all({x["entity"]: x["value"] for x in e["parse_data"]["entities"]} ==
                         {"answer_id": answer_id, "rating": "up"} for e in rated)
    out = stack.text("och i Kalmar då?", who)
    assert "Filmregion Sydost" in out and answers.topic_name("short_film", "sv") in out
