"""bot.dialogue: replies from a decision and the slots (no Rasa, real registry)."""
import pytest

from bot.dialogue import follow_up_in_context, remembered_place, reply
from bot.registry import get_registry
from bot.understanding import understand


@pytest.fixture(scope="module")
def registry():
    return get_registry()


def decision(registry, text, intent="inform_place", conf=0.7):
    return understand(text, [{"name": intent, "confidence": conf}], intent, registry=registry).to_json()


def test_follow_up_with_other_words_in_a_film_conversation(registry):
    d = decision(registry, "okej men om jag flyttar till Falun i höst?", "out_of_scope")
    assert d["out_of_scope"]
    assert not follow_up_in_context(d, {})
    slots = {"last_topic": "short_film", "county_code": "21"}
    assert follow_up_in_context(d, slots)
    answer, updates = reply(d, "inform_place", slots, "sv", registry)
    assert "Film i Dalarna" in answer.text and updates["county_code"] == "20"


def test_clear_non_film_need_is_never_a_follow_up(registry):
    d = decision(registry, "tandläkare i Borås", "out_of_scope")
    assert not follow_up_in_context(d, {"last_topic": "short_film", "county_code": "21"})
    assert remembered_place(d) == {"aside_county_code": "14"}
    answer, _ = reply(decision(registry, "finns det stöd för kortfilm här?", "ask_short_film", 0.9),
                      "ask_short_film", {"aside_county_code": "14"}, "sv", registry)
    assert "Västra Götaland" in answer.text
    answer, _ = reply(decision(registry, "vem ringer jag?", "ask_contact", 0.9), "ask_contact",
                      {"aside_county_code": "14"}, "sv", registry)
    assert "kommun eller län" in answer.text


def test_premise_note_comes_first(registry):
    d = decision(registry, "Ludvika ligger väl i Västmanland?", "inform_place", 0.5)
    answer, _ = reply(d, "inform_place", {}, "sv", registry)
    assert answer.text.startswith("Ludvika ligger i Dalarnas län")
    assert "Film Västmanland" not in answer.text


def test_belonging_across_turns_keeps_the_kommun(registry):
    d = decision(registry, "men vi känner oss som västgötar, blir det Västra Götaland då?")
    answer, updates = reply(d, "inform_place", {"kommun_code": "0643", "county_code": "06"}, "sv", registry)
    assert answer.text.startswith("Habo ligger i Jönköpings län")
    assert updates["county_code"] == "06"


def test_centre_named_gets_its_overview_and_topic(registry):
    d = decision(registry, "Vilka län täcker Filmregion Sydost?")
    answer, updates = reply(d, "inform_place", {}, "sv", registry)
    assert "Filmregion Sydost" in answer.text and "Kronoberg" in answer.text
    assert updates["centre_id"] == "filmregion-sydost"


def test_two_kommuner_ask_with_buttons(registry):
    d = decision(registry, "Stockholm eller Uppsala, vem gäller för kortfilm?", "ask_short_film", 0.8)
    answer, updates = reply(d, "ask_short_film", {}, "sv", registry)
    assert {b["title"] for b in answer.buttons} >= {"Stockholm – Region Stockholm", "Uppsala – Region Uppsala"}
    assert updates == {"pending_topic": "short_film"}


def test_abroad_names_no_centre(registry):
    d = decision(registry, "jag bor i Oslo, finns det filmstöd?", "ask_production_funding")
    answer, _ = reply(d, "inform_place", {}, "sv", registry)
    assert "Sverige" in answer.text
    assert not any(c.name.split(" (")[0] in answer.text for c in registry.centres)


def test_each_place_gets_its_answer(registry):
    d = decision(registry, "Båstad eller Laholm, vem ger kortfilmsstöd i respektive kommun?", "ask_short_film", 0.8)
    answer, _ = reply(d, "ask_short_film", {}, "sv", registry)
    assert "Film i Skåne" in answer.text and "Region Halland" in answer.text


def test_abroad_is_remembered(registry):
    d = decision(registry, "Hej, jag bor på Åland, i Mariehamn")
    _, updates = reply(d, "inform_place", {}, "sv", registry)
    assert updates["foreign_place"]
    later = decision(registry, "Kan jag söka regionalt filmstöd hos er?", "ask_production_funding", 0.9)
    answer, _ = reply(later, "ask_production_funding", {"foreign_place": updates["foreign_place"]}, "sv", registry)
    assert "utanför Sverige" in answer.text


@pytest.mark.parametrize("text,guess", [("och jag med", "inform_place"), ("vad finns där?", "nlu_fallback")])
def test_the_place_already_talked_about_is_answered_not_asked_back(registry, text, guess):
    # "hon bor i Lessebo" -> Filmregion Sydost; "och jag med" names no place and no topic, but means that one
    d = decision(registry, text, guess, 0.5)
    answer, _ = reply(d, d["intent"], {"county_code": "07", "kommun_code": "0761"}, "sv", registry)
    assert "Filmregion Sydost" in answer.text and "Menade du" not in answer.text, answer.text
