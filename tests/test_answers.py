"""bot/answers.py with the real registry: contact in every centre answer, one freshness note at most,
no unverified guess presented, English answers in English, and the answers the dialogue calls for
centres named by name, wrong premises, places outside Sweden, non-film needs and starting over."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from bot import answers as A
from bot.registry import Offer, TOPICS, get_registry, load_registry
from bot.topics import OFFER_KINDS

REG = get_registry()
TODAY = dt.date(2026, 11, 25)
LANGS = ("sv", "en")
STALE = {lang: A.t("stale_note", lang) for lang in LANGS}


def all_topic_answers():
    """(centre, topic, lang, text) for every centre, answer topic and language, by län and by name."""
    for centre in REG.centres:
        for topic in TOPICS:
            for lang in LANGS:
                yield centre, topic, lang, A.answer_topic(REG, centre.counties[0], topic, lang, TODAY).text
                yield centre, topic, lang, A.answer_centre_topic(REG, centre.id, topic, lang, TODAY).text


ALL = list(all_topic_answers())


def _expected_site(centre, topic):
    unit = REG.unit_for(centre.id, topic) if centre.units and topic not in ("contact", "centre") else None
    return (unit.website if unit is not None and unit.website else centre.website.url), unit


# ---------------------------------------------------------------- contact

@pytest.mark.parametrize("centre", REG.centres, ids=lambda c: c.id)
def test_every_topic_answer_ends_with_how_to_get_in_touch(centre):
    for topic in OFFER_KINDS:
        for lang in LANGS:
            text = A.answer_topic(REG, centre.counties[0], topic, lang, TODAY).text
            site, _ = _expected_site(centre, topic)
            assert site in text.splitlines()[-1], text


def test_general_contact_is_given_with_its_source():
    gotland = REG.centre("film-pa-gotland")
    text = A.answer_topic(REG, "09", "feature", "sv", TODAY).text
    assert gotland.general_contact.email in text and gotland.general_contact.phone in text
    assert f"källa: {gotland.general_contact.source}" in text
    assert "Webbplats: https://www.gotland.se/film" in text
    en = A.answer_topic(REG, "09", "feature", "en", TODAY).text
    assert gotland.general_contact.email in en and f"source: {gotland.general_contact.source}" in en


def _without_general_contact(centre_id):
    reg = load_registry()      # a private copy: the process-wide registry is not changed
    reg.centre(centre_id).general_contact = None
    return reg


def test_centre_without_general_contact_points_to_its_website():
    text = A.answer_topic(_without_general_contact("film-i-dalarna"), "20", "short_film", "sv", TODAY).text
    assert text.splitlines()[-1] == "Kontakta Film i Dalarna via webbplatsen: https://filmidalarna.se"


def test_split_body_contact_belongs_to_the_unit_answering():
    """Västra Götaland's general contact is Film i Väst's address: given for Film i Väst's topics only."""
    email = REG.centre("vastra-gotaland-film").general_contact.email
    feature = A.answer_topic(REG, "14", "feature", "sv", TODAY).text
    assert email in feature and "https://filmivast.se" in feature
    screenings = A.answer_topic(REG, "14", "screenings_and_film_culture", "sv", TODAY).text
    assert email not in screenings and "https://www.vgregion.se" in screenings
    stockholm = A.answer_topic(REG, "01", "short_film", "sv", TODAY).text
    assert "Film Stockholm AB" in stockholm.splitlines()[0] and "https://filmstockholm.se" in stockholm


def test_contact_topic_names_both_units_of_a_split_body():
    text = A.answer_topic(REG, "01", "contact", "sv", TODAY).text
    for unit in REG.centre("region-stockholm-film").units:
        assert unit.name in text and unit.website in text


# ---------------------------------------------------------------- freshness note

def test_freshness_note_at_most_once_and_never_on_a_fact_line():
    for centre, topic, lang, text in ALL:
        assert text.count(STALE[lang]) <= 1, (centre.id, topic, lang, text)
        for line in text.splitlines():
            if line.startswith("•"):
                assert "kontrollera" not in line.lower() and "check the website" not in line.lower(), line


def test_freshness_note_when_a_shown_fact_is_old_or_undated_only():
    # Dalarna's short-film offer is dated 2021-05-07 (its general contact, undated, is taken away here)
    reg = _without_general_contact("film-i-dalarna")
    assert STALE["sv"] in A.answer_topic(reg, "20", "short_film", "sv", dt.date(2026, 1, 1)).text
    fresh = A.answer_topic(reg, "20", "short_film", "sv", dt.date(2022, 1, 1)).text
    assert "kontrollera" not in fresh and "Källa: https://" in fresh
    # Sörmland's school-cinema offer is undated
    assert STALE["en"] in A.answer_topic(REG, "04", "film_for_children_and_youth", "en", TODAY).text


def test_offer_lines_carry_source_and_date():
    text = A.answer_topic(REG, "20", "documentary", "sv", TODAY).text
    offer_lines = [line for line in text.splitlines() if line.startswith("•")]
    assert offer_lines and all(re.search(r"Källa: https?://\S+ \((publicerad|odaterad sida)", line)
                               for line in offer_lines)


# ---------------------------------------------------------------- unverified guesses

UNVERIFIED = [(c, o) for c in REG.centres for o in c.offers if o.unverified]


def test_the_registry_still_has_unverified_offers():
    assert UNVERIFIED


def test_no_answer_presents_an_unverified_guess():
    guesses = [o.text_sv for _, o in UNVERIFIED] + [o.text_en for _, o in UNVERIFIED if o.text_en]
    for centre, topic, lang, text in ALL:
        for guess in guesses:
            assert guess not in text, (centre.id, topic, lang)
        assert "Enligt allmän uppgift" not in text and "Generally assumed" not in text


@pytest.mark.parametrize("centre,offer", UNVERIFIED, ids=lambda x: getattr(x, "id", None) or getattr(x, "kind", ""))
def test_unverified_only_topic_says_no_confirmed_fact_and_how_to_ask(centre, offer):
    sourced = [o for o in centre.offers if o.kind == offer.kind and not o.unverified]
    if sourced:
        pytest.skip("the topic also has sourced offers")
    for lang, phrase in (("sv", "ingen bekräftad uppgift"), ("en", "no confirmed fact")):
        text = A.answer_centre_topic(REG, centre.id, offer.kind, lang, TODAY).text
        assert phrase in text, text
        assert A.topic_name(offer.kind, lang) in text
        assert centre.website.url in text
        for word in ("sannolikt", "troligt", "probably", "likely"):
            assert word not in text.lower(), text


def test_sormland_short_film_has_no_guess():
    text = A.answer_topic(REG, "04", "short_film", "sv", TODAY).text
    assert text.startswith("Registret har ingen bekräftad uppgift om stöd till kortfilm hos Film i Sörmland.")
    assert "troligt" not in text and "•" not in text
    assert REG.centre("film-i-sormland").general_contact.email in text


def test_related_kind_is_labelled_as_such():
    """Västerbotten: short film is only a guess in the registry; the sourced production fund is shown as
    what it is, after saying there is no confirmed fact on short film itself."""
    text = A.answer_topic(REG, "24", "short_film", "sv", TODAY).text
    lines = text.splitlines()
    assert lines[0] == "Registret har ingen bekräftad uppgift om just stöd till kortfilm hos Film i Västerbotten."
    assert lines[1] == "Det här finns om produktionsstöd:"
    assert "sannolikt" not in text


def _registry_with(centre_id, **offer_fields):
    reg = load_registry()      # a private copy: the process-wide registry is not changed
    reg.centre(centre_id).offers.append(Offer(checked=TODAY, **offer_fields))
    return reg


def test_sourced_and_unverified_on_one_topic_shows_only_the_sourced():
    reg = _registry_with("film-i-dalarna", kind="short_film", unverified=True,
                         text_sv="Kortfilmsstöd finns sannolikt också som stipendium.",
                         text_en="There is probably also a short film grant.")
    for lang in LANGS:
        text = A.answer_topic(reg, "20", "short_film", lang, TODAY).text
        assert "sannolikt" not in text and "probably" not in text
        assert "kortfilm med anknytning till Dalarna" in text or "short films with a connection to Dalarna" in text


# ---------------------------------------------------------------- English

def _swedish_copy_fragments():
    """Literal pieces (two words or more) of every Swedish copy text that differs from its English one."""
    out = set()

    def walk(node):
        if isinstance(node, dict) and "sv" in node and "en" in node:
            if node["sv"] != node["en"]:
                for piece in re.split(r"\{[a-z_]+\}", node["sv"]):
                    piece = piece.strip(" .,:;–-•()\"")
                    if len(piece) >= 8 and " " in piece:
                        out.add(piece)
        elif isinstance(node, dict):
            for value in node.values():
                walk(value)
    walk(A._copy())
    return sorted(out)


SWEDISH_COPY = _swedish_copy_fragments()


def test_english_answers_contain_no_swedish_copy():
    assert "Registret har ingen bekräftad uppgift om" in SWEDISH_COPY
    texts = [text for _, _, lang, text in ALL if lang == "en"]
    texts += [A.centre_overview(REG, c.id, "en").text for c in REG.centres]
    texts += [A.outside_sweden("Oslo", "en").text, A.out_of_scope_place("Borås", "en").text,
              A.confirm_start_over("en").text, A.premise_note("Ludvika", "Dalarnas län", "Film i Dalarna", "en"),
              A.list_centres(REG, "en").text, A.handoff(REG, "film-pa-gotland", "en").text]
    for text in texts:
        for line in text.splitlines():
            if "(in Swedish" in line:     # registry text that exists in Swedish only, with an English lead
                continue
            for piece in SWEDISH_COPY:
                assert piece not in line, (piece, line)
            for word in ("Källa", "Kontakt", "kontrollera", "publicerad", "odaterad", "Webbplats"):
                assert word not in line, (word, line)


def test_english_offer_without_english_text_gets_an_english_lead():
    reg = load_registry()
    offer = next(o for o in reg.centre("film-i-dalarna").offers if o.kind == "documentary")
    offer.text_en = None
    text = A.answer_topic(reg, "20", "documentary", "en", TODAY).text
    assert f"(in Swedish) {offer.text_sv.rstrip('.')}" in text and "Source: " in text and "published" in text


def test_swedish_answers_are_swedish():
    text = A.answer_topic(REG, "25", "documentary", "sv", TODAY).text
    assert "Källa:" in text and "Source" not in text and "(in Swedish)" not in text


# ---------------------------------------------------------------- centre named by name

def test_answer_topic_and_answer_centre_topic_share_one_implementation():
    for centre in REG.centres:
        if len(centre.counties) == 1:
            for topic in ("short_film", "contact", "film_for_children_and_youth"):
                assert (A.answer_topic(REG, centre.counties[0], topic, "sv", TODAY)
                        == A.answer_centre_topic(REG, centre.id, topic, "sv", TODAY))


def test_centre_topic_for_a_centre_over_several_lan_names_them_all():
    text = A.answer_centre_topic(REG, "filmregion-sydost", "production_funding", "sv", TODAY).text
    assert text.splitlines()[0] == "Filmregion Sydost (Blekinge, Kalmar och Kronobergs län) om produktionsstöd:"
    en = A.answer_centre_topic(REG, "filmregion-sydost", "production_funding", "en", TODAY).text
    assert "(Blekinge, Kalmar and Kronobergs län)" in en


def test_centre_overview_sydost_names_its_three_lan_topics_contact_and_buttons():
    ans = A.centre_overview(REG, "filmregion-sydost", "sv")
    assert ans.text.startswith("Filmregion Sydost är den regionala filmverksamheten för "
                               "Blekinge, Kalmar och Kronobergs län.")
    centre = REG.centre("filmregion-sydost")
    sourced = {o.kind for o in centre.offers if not o.unverified}
    topics_line = next(line for line in ans.text.splitlines() if line.startswith("Registret har uppgifter"))
    listed = {k.strip() for k in topics_line.split(":", 1)[1].rstrip(".").split(",")}
    assert listed == {A.label("topic_short_names", k, "sv") for k in sourced if k != "other"}
    assert {"produktionsstöd", "kortfilm", "film för barn och unga"} <= listed
    assert "https://filmregionsydost.se" in ans.text
    assert ans.buttons == A.topic_buttons("sv")
    en = A.centre_overview(REG, "filmregion-sydost", "en")
    assert "Blekinge, Kalmar and Kronobergs län" in en.text and en.buttons == A.topic_buttons("en")


def test_centre_overview_lists_only_sourced_topics():
    text = A.centre_overview(REG, "film-i-sormland", "sv").text   # short film is only a guess there
    assert "kortfilm" not in text and "film för barn och unga" in text
    assert REG.centre("film-i-sormland").general_contact.email in text


def test_centre_overview_of_a_split_body_names_its_units():
    text = A.centre_overview(REG, "vastra-gotaland-film", "sv").text
    for unit in REG.centre("vastra-gotaland-film").units:
        assert unit.name in text and unit.website in text


def test_unknown_centre_is_not_invented():
    assert "registret" in A.centre_overview(REG, "no-such-centre", "sv").text
    assert "register" in A.answer_centre_topic(REG, "no-such-centre", "short_film", "en").text


# ---------------------------------------------------------------- other answers the dialogue calls

def test_premise_note_wording():
    assert (A.premise_note("Ludvika", "Dalarnas län", "Film i Dalarna", "sv")
            == "Ludvika ligger i Dalarnas län, så det är Film i Dalarna som gäller.")
    assert (A.premise_note("Ludvika", "Dalarnas län", "Film i Dalarna", "en")
            == "Ludvika is in Dalarnas län, so Film i Dalarna is the centre for you.")


def _centre_names():
    names = set()
    for c in REG.centres:
        names |= {c.name, *c.former_names, *(u.name for u in c.units)}
    return {n.casefold() for n in names}


@pytest.mark.parametrize("place", ["Oslo", "Köpenhamn", "Åland", "Helsingfors"])
@pytest.mark.parametrize("lang", LANGS)
def test_outside_sweden_names_no_centre(place, lang):
    ans = A.outside_sweden(place, lang)
    text = ans.text.casefold()
    for name in _centre_names():
        assert name not in text, name
    assert ("Sverige" if lang == "sv" else "Sweden") in ans.text and place in ans.text
    assert "http" not in text and "www" not in text      # no invented address


@pytest.mark.parametrize("lang", LANGS)
def test_out_of_scope_place_names_no_centre_and_offers_topics(lang):
    ans = A.out_of_scope_place("Borås", lang)
    for name in _centre_names():
        assert name not in ans.text.casefold(), name
    assert ("film" in ans.text) and ans.buttons == A.topic_buttons(lang)


@pytest.mark.parametrize("lang", LANGS)
def test_confirm_start_over_buttons(lang):
    ans = A.confirm_start_over(lang)
    assert [b["payload"] for b in ans.buttons] == ["/start_over", "/deny"]
    assert "?" in ans.text
    assert ans.buttons[0]["title"] == ("Ja, börja om" if lang == "sv" else "Yes, start over")


def test_ambiguous_places_buttons_per_candidate():
    from bot.places import resolve_place

    cands = [resolve_place("Ludvika", registry=REG), resolve_place("Borås", registry=REG)]
    ans = A.ambiguous_places(["ludvika", "Borås"], cands, "sv")
    assert ans.text.splitlines() == ["Du nämner Ludvika och Borås, som ligger i olika län:",
                                     "• Dalarnas län: Film i Dalarna",
                                     "• Västra Götalands län: Västra Götalandsregionen (filmkonsulenterna) / Film i Väst",
                                     "Vilken av dem menar du?"]
    assert [b["payload"] for b in ans.buttons] == ['/inform_place{"place": "Ludvika"}',
                                                  '/inform_place{"place": "Borås"}']
    # the buttons name the centre each place leads to
    assert [b["title"] for b in ans.buttons] == ["Ludvika – Film i Dalarna", "Borås – Västra Götalandsregionen"]
    en = A.ambiguous_places(["Ludvika", "Borås"], [{"kommun": "Ludvika", "county": "Dalarnas län"}], "en")
    assert en.text.startswith("You mention Ludvika and Borås") and en.buttons[0]["title"] == "Ludvika (Dalarnas län)"


# ---------------------------------------------------------------- robustness

def test_every_answer_is_filled_in():
    for centre, topic, lang, text in ALL:
        assert text.strip() and "{" not in text and "None" not in text, (centre.id, topic, lang, text)
    assert A.answer_topic(REG, "20", "nonsense", "sv").text
    assert A.answer_topic(REG, "99", "short_film", "sv").text == A.ask_place("sv").text
