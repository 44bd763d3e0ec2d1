"""bot.understanding: classifier output + registry evidence -> one decision (no Rasa, real registry)."""
import pytest

from bot.registry import get_registry
from bot.understanding import choose_topic, find_centres, find_topics, understand


@pytest.fixture(scope="module")
def registry():
    return get_registry()


def rank(*pairs):
    return [{"name": n, "confidence": c} for n, c in pairs]


def decide(registry, text, *pairs):
    ranking = rank(*pairs)
    return understand(text, ranking, ranking[0]["name"] if ranking else None, registry=registry)


# --- centre names ------------------------------------------------------------------------------

@pytest.mark.parametrize("text,centre,unit", [
    ("Vad erbjuder Film i Sörmland?", "film-i-sormland", None),
    ("hur når jag filmpool jämtland", "filmpool-jamtland", None),
    ("Vilka län täcker Filmregion Sydost?", "filmregion-sydost", None),
    ("vad gjorde reaktor sydost", "filmregion-sydost", None),
    ("har film i öst kortfilmsstöd", "film-i-ost", None),
    ("läste på filmiskane.se om stöd", "film-i-skane", None),
    ("Film Stockholm AB och dokumentär", "region-stockholm-film", "film-stockholm-ab"),
    ("söker till Film i Väst", "vastra-gotaland-film", "film-i-vast"),
    ("filmpol nord", "filmpool-nord", None),           # one letter off
    ("Film i Dalarnas stöd", "film-i-dalarna", None),   # genitive
    ("film i uppland finns den kvar", "region-uppsala-film", None),
])
def test_centre_names_identify_the_centre(registry, text, centre, unit):
    found = find_centres(text, registry)
    assert found and found[0].centre_id == centre
    assert found[0].unit_id == unit


@pytest.mark.parametrize("text", ["jag bor i Östersund", "film i västerbotten", "vi filmar i väst"])
def test_other_names_are_not_mistaken(registry, text):
    ids = [c.centre_id for c in find_centres(text, registry)]
    assert "vastra-gotaland-film" not in ids and "film-i-ost" not in ids


def test_every_centre_is_found_by_its_own_name(registry):
    for centre in registry.centres:
        for name in [centre.name] + list(centre.former_names or []):
            if len(name.split()) < 2:
                continue
            found = find_centres(f"Vad gör {name}?", registry)
            assert found and found[0].centre_id == centre.id, name


def test_centre_named_beats_an_unsure_classifier(registry):
    d = decide(registry, "Vad erbjuder Film i Sörmland?", ("inform_place", 0.4), ("faq", 0.3))
    assert d.centre["centre_id"] == "film-i-sormland"
    assert d.intent == "which_centre" and d.topic == "centre"      # overview of the centre
    d = decide(registry, "och Film i Skåne då?", ("inform_place", 0.6))
    assert d.intent == "inform_place" and d.topic is None          # a follow-up keeps the earlier topic
    d = decide(registry, "Hur jobbar Film i Västerbotten med skolbio?", ("nlu_fallback", 0.3),
               ("ask_screenings", 0.3))
    assert d.centre["centre_id"] == "film-i-vasterbotten"
    assert d.intent == "ask_children_youth" and d.topic == "film_for_children_and_youth"


def test_film_i_ost_is_not_an_unknown_place(registry):
    d = decide(registry, "Vad gör Film i Öst för unga?", ("inform_place", 0.5))
    assert d.centre["centre_id"] == "film-i-ost"
    assert d.place is None


def test_a_specific_place_of_another_centre_wins_and_is_explained(registry):
    d = decide(registry, "jag bor i Ludvika, gäller Film Västmanland för mig?", ("which_centre", 0.6))
    assert d.place["kommun"] == "Ludvika" and d.centre is None
    assert d.premise["centre_name"] == "Film i Dalarna"


# --- several places --------------------------------------------------------------------------------

def test_kommun_over_county_with_premise(registry):
    d = decide(registry, "Ludvika ligger väl i Västmanland?", ("inform_place", 0.5))
    assert d.place["kommun"] == "Ludvika" and d.intent == "inform_place"
    assert d.premise == {"said": "Västmanland", "said_kind": "landskap", "place": "Ludvika",
                         "county": "Dalarnas län", "centre_name": "Film i Dalarna"}


def test_nora_belongs_to_orebro(registry):
    d = decide(registry, "Nora – räknas vi till Västmanland eller Örebro?", ("which_centre", 0.4))
    assert d.place["centre_id"] == "film-i-orebro-lan"
    assert d.intent in ("inform_place", "which_centre") and not d.out_of_scope


def test_two_kommuner_in_different_lan_ask_which(registry):
    d = decide(registry, "Stockholm eller Uppsala, vem gäller för en kortfilm?", ("ask_short_film", 0.8))
    assert d.place is None
    assert {c["kommun"] for c in d.candidates} >= {"Stockholm", "Uppsala"}
    assert d.intent == "ask_short_film"


def test_two_places_of_one_centre_need_no_question(registry):
    d = decide(registry, "Mora i Dalarna, finns kortfilmsstöd?", ("ask_short_film", 0.9))
    assert d.place["kommun"] == "Mora" and not d.candidates and d.premise is None


# --- a place is never small talk -----------------------------------------------------------------

@pytest.mark.parametrize("text,classifier", [
    ("hej jag bor i Mora och vill börja filma", "greet"),
    ("Sandviken, vem hjälper filmare?", "nlu_fallback"),
    ("tack! och i Kalmar då?", "goodbye"),
    ("Luleå då?", "nlu_fallback"),
    ("nej, jag menade Nyköping", "deny"),
    ("samma sak för Uppsala", "nlu_fallback"),
    ("Arjeplog", "nlu_fallback"),
])
def test_place_with_film_context_or_follow_up_is_a_place(registry, text, classifier):
    d = decide(registry, text, (classifier, 0.7), ("inform_place", 0.2))
    assert d.intent == "inform_place", d.reason
    assert d.place and d.place["status"] == "found"


@pytest.mark.parametrize("text", ["tandläkare i Borås", "hur blir vädret i Kiruna imorgon",
                                  "när går bussen från Umeå till Skellefteå", "lediga jobb i Västerås"])
def test_place_with_non_film_need_is_out_of_scope(registry, text):
    d = decide(registry, text, ("inform_place", 0.7), ("out_of_scope", 0.2))
    assert d.intent == "out_of_scope" and d.out_of_scope


def test_topic_words_decide_when_classifier_unsure(registry):
    d = decide(registry, "hejsan, dokumentär i Växjö, vart vänder man sig", ("greet", 0.5))
    assert d.intent == "ask_documentary" and d.place["kommun"] == "Växjö"


def test_sure_classifier_topic_is_kept(registry):
    d = decide(registry, "kan vi få pengar till skolbio i Lund", ("ask_children_youth", 0.95))
    assert d.intent == "ask_children_youth" and d.reason == "place_with_film_context"


# --- nothing destructive on a guess -------------------------------------------------------------------

def test_restart_needs_a_clear_request(registry):
    assert decide(registry, "börja om", ("start_over", 0.9)).reason == "restart_requested"
    assert decide(registry, "kan vi starta om samtalet", ("start_over", 0.8)).reason == "restart_requested"
    d = decide(registry, "om jag vill göra om allt", ("start_over", 0.6))
    assert d.intent == "start_over" and d.reason == "restart_unclear"
    d = decide(registry, "hur börjar man söka stöd för kortfilm", ("start_over", 0.5))
    assert d.intent == "ask_short_film"


def test_goodbye_with_a_question_answers_it(registry):
    d = decide(registry, "hej då förresten, vem har skolbio i Luleå?", ("goodbye", 0.9))
    assert d.intent == "ask_children_youth" and d.place["kommun"] == "Luleå"
    d = decide(registry, "tack så mycket, men vad är filmregionerna för något?", ("thank", 0.7), ("faq", 0.2))
    assert d.intent == "faq"


def test_plain_goodbye_stays(registry):
    d = decide(registry, "tack och hej", ("goodbye", 0.9))
    assert d.intent == "goodbye" and d.reason == "classifier"


# --- foreign places ------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["jag bor i Oslo, finns det filmstöd?", "film support in Helsinki?",
                                  "vi är från Köpenhamn och vill spela in"])
def test_places_outside_sweden(registry, text):
    d = decide(registry, text, ("ask_production_funding", 0.6))
    assert d.foreign and d.place is None and d.centre is None
    assert d.intent == "inform_place"


# --- payloads and words -------------------------------------------------------------------------------

def test_payloads_are_untouched(registry):
    d = decide(registry, '/inform_place{"place": "Kalmar län"}', ("inform_place", 1.0))
    assert d.reason == "payload" and d.intent == "inform_place"


def test_topic_words():
    assert choose_topic(find_topics("stod for kortfilm")) == "short_film"
    assert choose_topic(find_topics("hur kontaktar jag dem")) == "contact"
    assert choose_topic(find_topics("mejl till den som har skolbio")) == "film_for_children_and_youth"
    assert choose_topic(find_topics("kan man fa pengar")) == "production_funding"
    assert choose_topic(find_topics("jag bor har")) is None


# --- several places weighed by the words before them ------------------------------------------

@pytest.mark.parametrize("text,centre", [
    ("Jag är född i Gävle men bor numera i Piteå, vem ger dokumentärstöd?", "filmpool-nord"),
    ("bott i Stockholm hela livet men flyttade till Mariefred, finns manusstöd?", "film-i-sormland"),
    ("Bålsta i Uppland, nära Stockholm – vilket filmcentrum gäller?", "region-uppsala-film"),
    ("Kungsbacka är ju nästan Göteborg, vilket filmcentrum har vi?", "region-halland-film"),
    ("bolag från Stockholm som ska spela in i Strömstad, vem hjälper med inspelningsplatser?",
     "vastra-gotaland-film"),
    ("jag bor i Stockholm och jobbar i Uppsala, finns kortfilmsstöd?", "region-stockholm-film"),
])
def test_cues_decide_between_places(registry, text, centre):
    d = decide(registry, text, ("which_centre", 0.5))
    assert d.place and d.place["centre_id"] == centre, (d.reason, d.candidates)


@pytest.mark.parametrize("text", [
    "My friends live in Gävle and Uppsala and we want to make a short together",
    "bor halva veckan i Karlstad och halva i Örebro, vem söker jag kortfilmsstöd hos",
    "Stockholm eller Uppsala, vem gäller?",
])
def test_places_without_a_lead_are_asked_back(registry, text):
    d = decide(registry, text, ("ask_short_film", 0.6))
    assert d.place is None and len({c["centre_id"] for c in d.candidates}) == 2


def test_a_place_it_belongs_to_is_a_premise(registry):
    d = decide(registry, "Gotland hör väl till Stockholm? Vi vill göra en kortfilm i Visby", ("ask_short_film", 0.7))
    assert d.place["centre_id"] == "film-pa-gotland"
    assert d.premise and d.premise["said"] == "Stockholm"


def test_born_elsewhere_is_not_a_premise(registry):
    d = decide(registry, "född i Gävle men bor i Piteå, kortfilm?", ("ask_short_film", 0.7))
    assert d.premise is None


def test_everyday_word_with_other_letters_is_no_place(registry):
    d = decide(registry, "Arboga – hur får vi skolbio till våra klasser?", ("ask_children_youth", 0.7))
    assert d.place["kommun"] == "Arboga" and not d.candidates


# --- context, small talk and the classifier ------------------------------------------------------

def test_same_place_follow_up(registry):
    d = decide(registry, "och jag med", ("goodbye", 0.8))
    assert d.intent == "inform_place" and d.reason == "same_place_as_before"


def test_belonging_question_is_marked(registry):
    d = decide(registry, "men vi känner oss som västgötar, blir det Västra Götaland då?", ("inform_place", 0.6))
    assert d.belonging and d.place["county_code"] == "14"


def test_non_film_need_vetoes_a_sure_classifier(registry):
    d = decide(registry, "var köper man fiskekort i Arjeplog", ("ask_short_film", 0.9))
    assert d.intent == "out_of_scope" and d.non_film_need
    d = decide(registry, "Jag behöver hjälp med min deklaration, jag bor i Säffle", ("inform_place", 0.9))
    assert d.intent == "out_of_scope"


def test_topic_words_overrule_help_and_out_of_scope(registry):
    assert decide(registry, "vad kan en 16-åring få hjälp med där?", ("help", 0.8)).intent == "ask_children_youth"
    assert decide(registry, "och om man är under 18?", ("out_of_scope", 0.8)).intent == "ask_children_youth"
    assert decide(registry, "finns det någon som kan coacha mig?", ("nlu_fallback", 0.3)).intent == \
        "ask_talent_development"
    assert decide(registry, "vad kan du hjälpa till med?", ("help", 0.8)).intent == "help"


def test_a_funding_question_is_not_an_faq_about_the_association(registry):
    d = decide(registry, "jag är 19 och har aldrig sökt stöd förut, hur gör jag?", ("faq", 0.9))
    assert d.intent == "ask_production_funding"
    assert decide(registry, "hur finansieras filmverksamheterna?", ("faq", 0.9)).intent == "faq"
    assert decide(registry, "varför finns det 19 filmverksamheter men 21 län?", ("faq", 0.9)).intent == "faq"


@pytest.mark.parametrize("text,centre", [
    ("vad gör fimpool jamtland", "filmpool-jamtland"),
    ("film i skåneee!!! hur söker man", "film-i-skane"),
    ("Jag såg en skylt om Katrinebergs folkhögskola", "region-halland-film"),
])
def test_misspelt_and_organisation_names(registry, text, centre):
    found = find_centres(text, registry)
    assert found and found[0].centre_id == centre


@pytest.mark.parametrize("text,centre", [
    ("Jag hittade filmstokholm.se men blir inte klok på den", "region-stockholm-film"),
    ("What does Film i Darlana offer documentary filmmakers?", "film-i-dalarna"),
])
def test_misspelt_domains_and_names(registry, text, centre):
    found = find_centres(text, registry)
    assert found and found[0].centre_id == centre


def test_each_place_is_marked(registry):
    d = decide(registry, "Båstad eller Laholm, vem ger kortfilmsstöd i respektive kommun?", ("ask_short_film", 0.8))
    assert d.each and len(d.candidates) == 2


def test_there_refers_to_the_place_talked_about(registry):
    assert decide(registry, "vad finns där?", ("help", 0.8)).reason == "place_from_context"
    assert decide(registry, "sitter det en person där?", ("bot_challenge", 0.8)).intent == "bot_challenge"


def test_a_language_is_not_an_unknown_place(registry):
    d = decide(registry, "sorry, can we continue in English? I want to make a short documentary",
               ("ask_documentary", 0.8))
    assert d.place is None and d.intent == "ask_documentary"


def test_topic_words_outweigh_a_barely_sure_classifier(registry):
    d = decide(registry, "Habo hör väl till Västra Götaland, så det är dit vi ska vända oss för filmstöd?",
               ("ask_film_commission", 0.65))
    assert d.intent == "ask_production_funding"
    d = decide(registry, "fortbildning i film för pedagoger i Kronoberg", ("ask_children_youth", 0.8))
    assert d.intent == "ask_children_youth"


@pytest.mark.parametrize("text", ["Is Filmregionerna a company?", "är Filmregionerna en myndighet?"])
def test_what_kind_of_organisation_the_association_is_is_its_faq(registry, text):
    d = decide(registry, text, ("nlu_fallback", 0.3), ("faq", 0.25))
    assert (d.intent, d.faq, d.reason) == ("faq", "what_is", "association_organisation")
    # a centre's organisation stays the centre's
    d = decide(registry, "Är Film i Skåne ett bolag?", ("faq", 0.4))
    assert d.faq is None and d.centre["centre_id"] == "film-i-skane"


@pytest.mark.parametrize("text,faq", [
    ("Vilket filmcentrum ligger längst norrut?", "northernmost"),
    ("which member is furthest south?", "southernmost"),
    ("sydligaste filmregionen, vilken är det?", "southernmost"),
])
def test_the_furthest_centre_is_the_faq_answer(text, faq):
    d = understand(text, [{"name": "which_centre", "confidence": 0.9}])
    assert (d.intent, d.faq, d.reason) == ("faq", faq, "furthest_centre")


def test_a_place_named_with_a_direction_is_still_the_place():
    d = understand("finns det filmstöd längst norrut, i Kiruna?", [{"name": "which_centre", "confidence": 0.9}])
    assert d.intent != "faq" and d.place and d.place.get("centre_id") == "filmpool-nord"


@pytest.mark.parametrize("text", ["vi håller till i Arvika", "we're based in Umeå", "jag sitter i Luleå"])
def test_saying_where_one_is_names_the_place(text):
    d = understand(text, [{"name": "out_of_scope", "confidence": 0.6}])
    assert (d.intent, d.reason) == ("inform_place", "place_only")


@pytest.mark.parametrize("text", ["vad sysslar Filmregionerna med?", "what does filmregionerna really do"])
def test_what_the_association_does_is_its_faq_answer(text):
    d = understand(text, [{"name": "nlu_fallback", "confidence": 0.3}])
    assert (d.intent, d.faq, d.reason) == ("faq", "what_is", "what_is_the_association")
