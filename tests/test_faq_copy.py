"""FAQ answers about Filmregionerna (domain.yml `utter_faq/<sub>`): every sub-intent has a Swedish and an
English answer, a readable question in bot/copy.yml `faq_questions`, training and held-out examples; the
answers about centres name the right centres and län, and every count of centres or län in an FAQ answer
agrees with the registry (bot.registry.get_registry()).
"""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

from bot.registry import get_registry
from test_nlu_data import TEST_EN, TEST_SV, TRAIN, examples_of, is_english, normalise

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = ROOT / "domain.yml"
COPY = ROOT / "bot" / "copy.yml"

NEW_SUBS = ["why_19_centres", "northernmost", "southernmost", "names", "film_policy", "cooperation"]


def _responses() -> dict:
    return yaml.safe_load(DOMAIN.read_text(encoding="utf-8"))["responses"]


def _faq_subs() -> list[str]:
    return [k.split("/", 1)[1] for k in _responses() if k.startswith("utter_faq/")]


def answer(sub: str, lang: str) -> str:
    """The text of utter_faq/<sub>: the unconditioned variation for sv, the `language: en` one for en."""
    variations = _responses()[f"utter_faq/{sub}"]
    for v in variations:
        conds = v.get("condition") or []
        is_en = any(c.get("name") == "language" and c.get("value") == "en" for c in conds)
        if (lang == "en") == is_en:
            return v["text"]
    raise AssertionError(f"utter_faq/{sub} has no {lang} variation")


@pytest.fixture(scope="module")
def reg():
    return get_registry()


# ------------------------------------------------------------------ every FAQ sub-intent is complete

@pytest.mark.parametrize("sub", NEW_SUBS)
def test_new_faq_answer_exists_in_sv_and_en(sub):
    sv, en = answer(sub, "sv"), answer(sub, "en")
    assert sv.strip() and en.strip() and sv != en
    assert "filmregionerna.se/om-oss" in sv and "filmregionerna.se/om-oss" in en


def test_every_faq_sub_has_question_examples_and_held_out_messages():
    questions = yaml.safe_load(COPY.read_text(encoding="utf-8"))["faq_questions"]
    train = examples_of(TRAIN)
    sv_counts = Counter(i for i, t in train if not is_english(t))
    en_counts = Counter(i for i, t in train if is_english(t))
    held_out = {i for path in (TEST_SV, TEST_EN) for i, _ in examples_of(path)}
    problems = []
    for sub in _faq_subs():
        intent = f"faq/{sub}"
        q = questions.get(sub) or {}
        if not (q.get("sv") and q.get("en")):
            problems.append(f"{sub}: no sv+en question in copy.yml faq_questions")
        if sv_counts[intent] < 10 or en_counts[intent] < 3:
            problems.append(f"{sub}: {sv_counts[intent]} Swedish / {en_counts[intent]} English training examples")
        if intent not in held_out:
            problems.append(f"{sub}: no held-out message in tests/nlu/")
    assert not problems, problems


@pytest.mark.parametrize("sub", NEW_SUBS)
def test_new_faq_question_is_a_training_example_of_its_sub_intent(sub):
    """The "Menade du ...?" buttons send the question text itself, so it must lead to its own answer."""
    q = yaml.safe_load(COPY.read_text(encoding="utf-8"))["faq_questions"][sub]
    own = {normalise(t) for i, t in examples_of(TRAIN) if i == f"faq/{sub}"}
    assert normalise(q["sv"]) in own and normalise(q["en"]) in own, q


# ------------------------------------------------------------------ key facts, checked against the registry

def test_why_19_for_21_names_filmregion_sydost_and_its_three_lan(reg):
    sydost = reg.centre("filmregion-sydost")
    shared = [c.id for c in reg.centres if len(c.counties) > 1]
    assert shared == ["filmregion-sydost"], "the answer says Sydost is the only centre covering several län"
    assert all(reg.centre_for_county(k.code) is not None for k in reg.counties), "the answer says no län lacks one"
    assert len(reg.counties) - len(sydost.counties) + 1 == len(reg.centres)
    lan = {reg.county(code).name for code in sydost.counties}
    assert lan == {"Blekinge län", "Kalmar län", "Kronobergs län"}
    assert "förening" in sydost.organisation.form
    for lang in ("sv", "en"):
        text = answer("why_19_centres", lang)
        for word in ("Filmregion Sydost", "Blekinge", "Kalmar", "Kronoberg",
                     str(len(reg.centres)), str(len(reg.counties))):
            assert word in text, (lang, word)
    assert "tre län" in answer("why_19_centres", "sv") and "three counties" in answer("why_19_centres", "en")


@pytest.mark.parametrize("sub, centre_id, county_code, words", [
    ("northernmost", "filmpool-nord", "25", ("Filmpool Nord", "Norrbotten")),
    ("southernmost", "film-i-skane", "12", ("Film i Skåne", "Skåne")),
])
def test_northernmost_and_southernmost_centre(reg, sub, centre_id, county_code, words):
    centre = reg.centre(centre_id)
    assert reg.centre_for_county(county_code).id == centre_id
    assert centre.counties == [county_code]
    assert centre.name == words[0]
    for lang in ("sv", "en"):
        text = answer(sub, lang)
        for word in words:
            assert word in text, (sub, lang, word)
        assert centre.website.url in text, (sub, lang)
    other = "Film i Skåne" if sub == "northernmost" else "Filmpool Nord"
    # the other end is only mentioned inside Filmregionerna's own quote "Allt från Filmpool Nord i norr ..."
    assert answer(sub, "sv").count(other) == 1


def test_names_answer_says_no_and_its_examples_match_the_registry(reg):
    sv, en = answer("names", "sv"), answer("names", "en")
    assert sv.startswith("Nej") and en.startswith("No")
    assert "filmresurscentrum" in sv and "filmresurscentrum" in en
    # organisation forms the answer gives as examples
    forms = {"film-i-skane": "aktiebolag", "film-i-dalarna": "aktiebolag", "filmpool-nord": "aktiebolag",
             "film-pa-gotland": "region", "film-i-ost": "region", "filmregion-sydost": "ideell förening"}
    for cid, form in forms.items():
        centre = reg.centre(cid)
        assert form in centre.organisation.form, (cid, centre.organisation.form)
        assert centre.name in sv and centre.name in en, cid
    assert "Region Uppsala" in reg.centre("region-uppsala-film").name
    assert "Kultur Gävleborg" in reg.centre("kultur-gavleborg-film").name
    assert "Katrinebergs folkhögskola" in reg.centre("region-halland-film").note_sv
    for text in (sv, en):
        for word in ("Region Uppsala", "Kultur Gävleborg", "Katrinebergs folkhögskola", "Kultur i Halland"):
            assert word in text, word
    assert "offentligt ägda aktiebolag" in sv and "ideell förening" in sv
    assert "publicly owned limited companies" in en and "non-profit association" in en


def test_film_policy_answer_follows_the_om_oss_text():
    sv, en = answer("film_policy", "sv"), answer("film_policy", "en")
    for phrase in ("nationell filmpolitisk aktör", "opinionsbildning", "sju kulturpolitiska mål",
                   "tre av fyra branschråd", "staten, institutionerna och de nationella aktörerna"):
        assert phrase in sv, phrase
    for phrase in ("national actor in film policy", "advocacy", "seven cultural policy goals",
                   "three of the four industry councils"):
        assert phrase in en, phrase
    # the om-oss text says nothing about consultation responses; the answer says so rather than claiming them
    assert "nämns inte" in sv and "does not mention" in en


def test_cooperation_answer_follows_the_om_oss_text():
    sv, en = answer("cooperation", "sv"), answer("cooperation", "en")
    assert "möten, arbetsgrupper och styrelse" in sv and "kunskapsutbyten" in sv
    assert "meetings, working groups and the board" in en and "knowledge exchange" in en


# ------------------------------------------------------------------ counts agree with the registry

_NUMBER_WORDS = {"två": 2, "two": 2, "tre": 3, "three": 3, "arton": 18, "eighteen": 18, "nitton": 19,
                 "nineteen": 19, "tjugo": 20, "twenty": 20, "tjugoen": 21, "tjugoett": 21, "twenty-one": 21}
_NUMBER = r"(\d+|" + "|".join(sorted(map(re.escape, _NUMBER_WORDS), key=len, reverse=True)) + r")"
_GAP = r"(?:\s+[\w'’-]+){0,2}?\s+"
_CENTRES = re.compile(r"\b" + _NUMBER + _GAP + r"(?:\w*verksamhet\w*|\w*resurscentr\w*|\w*centr\w*|"
                      r"medlemm\w*|members?|centres?)\b", re.IGNORECASE)
_COUNTIES = re.compile(r"\b" + _NUMBER + _GAP + r"(?:län|counties|county)\b", re.IGNORECASE)


def _value(token: str) -> int:
    return int(token) if token.isdigit() else _NUMBER_WORDS[token.lower()]


def test_numbers_in_faq_answers_agree_with_the_registry(reg):
    n_centres, n_counties = len(reg.centres), len(reg.counties)
    assert (n_centres, n_counties) == (19, 21)
    sydost_counties = len(reg.centre("filmregion-sydost").counties)
    seen_centres, seen_counties, problems = [], [], []
    for sub in _faq_subs():
        for lang in ("sv", "en"):
            text = answer(sub, lang)
            for m in _CENTRES.finditer(text):
                seen_centres.append(_value(m.group(1)))
                if _value(m.group(1)) != n_centres:
                    problems.append(f"{sub}/{lang}: {m.group(0)!r} (registry: {n_centres} centres)")
            for m in _COUNTIES.finditer(text):
                seen_counties.append(_value(m.group(1)))
                if _value(m.group(1)) not in (n_counties, sydost_counties):
                    problems.append(f"{sub}/{lang}: {m.group(0)!r} (registry: {n_counties} län, "
                                    f"Filmregion Sydost {sydost_counties})")
    assert not problems, problems
    # the check is not vacuous: the answers do state both counts
    assert n_centres in seen_centres and n_counties in seen_counties
    for lang in ("sv", "en"):
        assert str(n_counties) in answer("how_many", lang)
