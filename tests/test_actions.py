"""Actions in-process, with the real registry, a CollectingDispatcher and built trackers."""
import asyncio

import pytest
import yaml
from rasa_sdk.executor import CollectingDispatcher

from actions import actions as A
from bot.paths import ROOT
from bot.registry import get_registry
from bot.topics import TOPIC_INTENTS
from helpers import make_tracker, place_entity


def run(action, tracker):
    d = CollectingDispatcher()
    events = asyncio.run(action.run(d, tracker, {}))
    return d.messages, {e["name"]: e["value"] for e in events if e.get("event") == "slot"}, events


def texts(messages):
    return "\n".join(m.get("text") or "" for m in messages)


def test_topic_with_place_names_centre_source_and_date():
    text = "Var kan jag få stöd för kortfilm i Dalarna?"
    msgs, slots, _ = run(A.ActionAnswerTopic(), make_tracker(text, "ask_short_film", [place_entity(text, "Dalarna")]))
    out = texts(msgs)
    assert "Film i Dalarna" in out and "Källa: https://" in out
    assert slots["county_code"] == "20" and slots["last_topic"] == "short_film"


def test_topic_without_place_asks_where_and_remembers_topic():
    msgs, slots, _ = run(A.ActionAnswerTopic(), make_tracker("Finns det stöd till dokumentärfilm?", "ask_documentary"))
    assert "kommun eller län" in texts(msgs)
    assert slots == {"pending_topic": "documentary"}


def test_place_reply_answers_the_pending_topic():
    text = "Umeå"
    msgs, slots, _ = run(A.ActionAnswerTopic(), make_tracker(text, "inform_place", [place_entity(text, "Umeå")],
                                                            slots={"pending_topic": "documentary"}))
    assert slots["county_code"] == "24" and slots["last_topic"] == "documentary"
    assert "Västerbotten" in texts(msgs)


def test_a_place_reply_that_names_no_place_is_not_understood():
    ranking = [{"name": "inform_place", "confidence": 0.9}, {"name": "ask_short_film", "confidence": 0.05},
               {"name": "greet", "confidence": 0.03}]
    msgs, slots, _ = run(A.ActionAnswerTopic(), make_tracker("asdkjh qwe", "inform_place", intent_ranking=ranking))
    assert msgs[0]["text"].startswith("Menade du")
    assert [b["title"] for b in msgs[0]["buttons"]] == ["Stöd till kortfilm", "Hälsa", "Nej, något annat"]
    assert slots == {}


def test_place_without_topic_offers_topic_buttons():
    text = "jag bor i Mora"
    msgs, slots, _ = run(A.ActionAnswerTopic(), make_tracker(text, "inform_place", [place_entity(text, "Mora")]))
    assert "Film i Dalarna" in texts(msgs)
    assert any(b["payload"] == "/ask_children_youth" for b in msgs[0]["buttons"])


def test_follow_up_topic_uses_remembered_place():
    msgs, _, _ = run(A.ActionAnswerTopic(), make_tracker("och för barn och unga då?", "ask_children_youth",
                                                        slots={"county_code": "12", "last_topic": "short_film"}))
    assert "Film i Skåne" in texts(msgs)


def test_correction_switches_place_and_keeps_topic():
    text = "nej, jag menade Västerås"
    msgs, slots, _ = run(A.ActionAnswerTopic(), make_tracker(text, "inform_place", [place_entity(text, "Västerås")],
                                                            slots={"county_code": "20", "last_topic": "short_film"}))
    assert slots["county_code"] == "19" and "Film Västmanland" in texts(msgs)


def test_ambiguous_place_offers_candidate_buttons():
    text = "jag bor i Småland"
    msgs, slots, _ = run(A.ActionAnswerTopic(), make_tracker(text, "ask_short_film", [place_entity(text, "Småland")]))
    titles = {b["title"] for b in msgs[0]["buttons"]}
    assert {"Jönköpings län", "Kronobergs län", "Kalmar län"} <= titles
    assert slots == {"pending_topic": "short_film"}


def test_unknown_place_says_so_and_asks_again():
    msgs, slots, _ = run(A.ActionAnswerTopic(), make_tracker("jag bor i Narnia", "inform_place"))
    assert "Narnia" in texts(msgs) and "till exempel" in texts(msgs)
    assert "county_code" not in slots


@pytest.mark.parametrize("county,topic,unit", [
    ("01", "film_for_children_and_youth", "Region Stockholm"),
    ("01", "short_film", "Film Stockholm AB"),
    ("14", "screenings_and_film_culture", "filmkonsulenterna"),
    ("14", "feature", "Film i Väst"),
])
def test_split_bodies_route_by_topic(county, topic, unit):
    intent = TOPIC_INTENTS[topic]
    msgs, _, _ = run(A.ActionAnswerTopic(), make_tracker("?", intent, slots={"county_code": county}))
    first = texts(msgs).splitlines()[0]
    assert unit in first


def test_english_answer_in_english():
    msgs, _, _ = run(A.ActionAnswerTopic(), make_tracker("funding for documentaries?", "ask_documentary",
                                                        slots={"county_code": "25", "language": "en"}))
    out = texts(msgs)
    assert "Filmpool Nord" in out and "Source:" in out and "Källa" not in out


def test_stale_or_unverified_facts_point_to_website():
    # Sörmland's offers are undated or unverified in the registry
    msgs, _, _ = run(A.ActionAnswerTopic(), make_tracker("skolbio?", "ask_children_youth", slots={"county_code": "04"}))
    assert "kontrollera" in texts(msgs)


def test_list_centres_lists_all_19():
    msgs, _, _ = run(A.ActionListCentres(), make_tracker("vilka finns?", "list_centres"))
    out = texts(msgs)
    assert out.count("\n• ") == 19 and "Filmpool Nord" in out and "Film i Skåne" in out


def test_faq_answer_only_when_selector_confident():
    confident = {"faq": {"response": {"confidence": 0.93, "utter_action": "utter_faq/vision",
                                      "intent_response_key": "faq/vision"}, "ranking": []}}
    msgs, slots, _ = run(A.ActionCheckFaq(), make_tracker("vision?", "faq", response_selector=confident))
    assert msgs == [] and slots == {"faq_confident": True}
    unsure = {"faq": {"response": {"confidence": 0.2, "utter_action": "utter_faq/vision"},
                      "ranking": [{"intent_response_key": "faq/goals", "confidence": 0.2},
                                  {"intent_response_key": "faq/vision", "confidence": 0.19}]}}
    msgs, slots, _ = run(A.ActionCheckFaq(), make_tracker("mål?", "faq", response_selector=unsure))
    assert slots == {"faq_confident": False}
    assert [b["title"] for b in msgs[0]["buttons"]][:2] == ["Vilka mål har Filmregionerna?",
                                                         "Vad är Filmregionernas vision?"]


def test_ask_affirmation_offers_readable_swedish_buttons():
    ranking = [{"name": "nlu_fallback", "confidence": 0.5}, {"name": "ask_short_film", "confidence": 0.4},
               {"name": "ask_documentary", "confidence": 0.3}]
    msgs, _, _ = run(A.ActionDefaultAskAffirmation(), make_tracker("kortdok?", "nlu_fallback", intent_ranking=ranking))
    titles = [b["title"] for b in msgs[0]["buttons"]]
    assert titles == ["Stöd till kortfilm", "Stöd till dokumentärfilm", "Nej, något annat"]
    assert msgs[0]["buttons"][-1]["payload"] == "/out_of_scope"  # what the two-stage fallback reads as "no"
    assert msgs[0]["text"].startswith("Menade du")


def test_fallback_hands_over_to_the_visitors_centre_or_filmregionerna():
    msgs, _, events = run(A.ActionDefaultFallback(), make_tracker("???", slots={"centre_id": "film-pa-gotland"}))
    assert "Film på Gotland" in texts(msgs) and events[-1]["event"] == "rewind"
    msgs, _, _ = run(A.ActionDefaultFallback(), make_tracker("???"))
    assert "filmregionerna.se" in texts(msgs)


def test_ask_rephrase_in_the_visitors_language():
    msgs, _, _ = run(A.ActionDefaultAskRephrase(), make_tracker("??", slots={"language": "en"}))
    assert msgs[0]["text"].startswith("Sorry")


def test_answer_language_follows_the_visitors_messages():
    # a place name alone says nothing: the conversation keeps the language of the earlier message
    tracker = make_tracker("Umeå", "inform_place", [place_entity("Umeå", "Umeå")],
                           slots={"pending_topic": "documentary", "language": None})
    tracker.events = [{"event": "user", "text": "Is there support for documentaries?"},
                      {"event": "user", "text": "Umeå"}]
    msgs, _, _ = run(A.ActionAnswerTopic(), tracker)
    assert "Source:" in texts(msgs)
    msgs, _, _ = run(A.ActionAnswerTopic(), make_tracker("Finns det stöd i Umeå?", "ask_documentary",
                                                        [place_entity("Finns det stöd i Umeå?", "Umeå")]))
    assert "Källa:" in texts(msgs)


def test_every_response_named_in_python_exists_in_the_domain():
    domain = yaml.safe_load((ROOT / "domain.yml").read_text())
    source = (ROOT / "actions" / "actions.py").read_text()
    import re
    named = {m for m in re.findall(r'"(utter_[a-z_/]+)"', source) if m != "utter_action"}  # "utter_action" is a selector key
    rules = (ROOT / "data" / "rules.yml").read_text() + (ROOT / "data" / "stories.yml").read_text()
    named |= set(re.findall(r"action: (utter_[a-z_]+)", rules))
    # utter_faq stands for the retrieval responses utter_faq/<sub>
    responses = set(domain["responses"]) | {r.split("/")[0] for r in domain["responses"]}
    assert named and named <= responses


def test_copy_has_swedish_and_english_for_every_key():
    copy = yaml.safe_load((ROOT / "bot" / "copy.yml").read_text())
    def leaves(node, path=""):
        if isinstance(node, dict) and set(node) >= {"sv"}:
            yield path, node
        elif isinstance(node, dict):
            for k, v in node.items():
                yield from leaves(v, f"{path}.{k}")
    for path, entry in leaves(copy):
        assert entry.get("sv") and entry.get("en"), path


def test_answers_use_live_registry():
    assert A.ActionListCentres().registry is get_registry()
