"""Facets (bot/facets.py): what a message asks of an offer or a centre, the registry's facets files
(registry/facets/*.yaml), the answers that lead with the facet, follow-ups that change only the facet,
staff confirming a facet fact, and `python -m bot registry coverage`."""
from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot import answers as A
from bot.dialogue import reply
from bot.facets import find_facets
from bot.registry import RegistryError, load_registry
from bot.understanding import _folded_text, understand
from bot.tools.upkeep import confirm, coverage

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT / "registry" / "registry.yaml"


@pytest.fixture(scope="module")
def registry():
    return load_registry(REAL)


def facets(text):
    return find_facets(_folded_text(text))[0]


@pytest.mark.parametrize("text, expected", [
    ("Hur mycket pengar kan man få i produktionsstöd?", ["amount"]),
    ("what's the maximum grant?", ["amount"]),
    ("Vad måste jag bifoga när jag söker?", ["apply"]),
    ("how do we apply?", ["apply"]),
    ("När stänger ansökningsomgången?", ["intake"]),
    ("is there a rolling intake or fixed dates?", ["intake"]),
    ("behöver vi starta ett bolag först?", ["eligibility"]),
    ("do I have to live in the county?", ["eligibility"]),
    ("vart skickar jag ett mejl?", ["contact"]),
    ("who should I call?", ["contact"]),
    ("ägs de av regionen?", ["organisation"]),
    ("is it a public body or a private firm?", ["organisation"]),
    ("hur mycket får man och hur söker man?", ["amount", "apply"]),
])
def test_each_facet_in_both_languages(text, expected):
    assert facets(text) == expected


@pytest.mark.parametrize("text", [
    "Var kan jag få stöd för att göra film i Dalarna?",
    "Vi är en förening i Kalmar som vill visa film",
    "Vem jobbar med skolbio i Småland?",
    "Vad erbjuder Film i Sörmland?",
])
def test_questions_without_a_facet(text):
    assert facets(text) == []


def test_facet_words_are_not_topic_words(registry):
    # "ansökan"/"deadline" are funding words, but here they only ask the facet: the topic is the one talked about
    d = understand("när är sista ansökningsdag?", [{"name": "ask_production_funding", "confidence": 0.9}],
                   registry=registry).to_json()
    assert d["facets"] == ["intake"] and d["reason"] == "facet_question" and d["topic"] is None
    answer, updates = reply(d, d["intent"], {"county_code": "20", "centre_id": "film-i-dalarna",
                                             "last_topic": "short_film"}, "sv", registry)
    assert answer.centre == "film-i-dalarna" and answer.topic == "short_film"
    assert answer.text.startswith("Film i Dalarna – ansökningstider (kortfilm):")


@pytest.mark.parametrize("text,intent,reason", [
    ("var hittar jag era kontaktuppgifter?", "ask_contact", "contact_question"),
    ("what's your phone number?", "ask_contact", "contact_question"),
    ("hur ansöker man om produktionsstöd från Filminstitutet?", "national_funding", "facet_of_the_national_funder"),
    ("how much can the state give for a documentary?", "national_funding", "facet_of_the_national_funder"),
    ("hur mycket pengar brukar man kunna söka?", "ask_production_funding", "facet_of_funding"),
])
def test_a_facet_without_a_topic_names_its_intent(registry, text, intent, reason):
    # the intent a facet question stands for when it names no topic: the contact, the national funder, funding
    d = understand(text, [{"name": "inform_place", "confidence": 0.6}], registry=registry).to_json()
    assert (d["intent"], d["reason"]) == (intent, reason) and d["facets"]


def test_a_contact_question_keeps_the_centre_talked_about(registry):
    d = understand("vilken mejladress har ni?", [{"name": "inform_place", "confidence": 0.6}],
                   registry=registry).to_json()
    assert d["intent"] == "ask_contact"
    answer, _ = reply(d, d["intent"], {"county_code": "20", "centre_id": "film-i-dalarna",
                                       "last_topic": "short_film"}, "sv", registry)
    assert answer.centre == "film-i-dalarna" and "kontaktuppgifter" in answer.text


def test_a_facet_only_follow_up_keeps_place_and_topic(registry):
    slots = {}
    for text in ("Jag bor i Borås och gör en dokumentär", "men hur mycket kan man få?"):
        d = understand(text, [], registry=registry).to_json()
        answer, updates = reply(d, d["intent"], slots, "sv", registry)
        slots.update(updates)
    assert d["reason"] == "facet_question"
    assert answer.centre == "vastra-gotaland-film" and "belopp" in answer.text
    assert slots["last_topic"] == "documentary" and slots["last_facet"] == "amount"
    assert "Källa:" in answer.text or "Registret har ingen uppgift om belopp" in answer.text


def test_a_facet_asked_before_the_place_waits_for_it(registry):
    d = understand("hur ansöker man?", [], registry=registry).to_json()
    answer, updates = reply(d, d["intent"], {}, "sv", registry)
    assert answer.text == A.ask_place("sv").text and updates["pending_facet"] == "apply"
    d = understand("Karlstad", [], registry=registry).to_json()
    answer, updates = reply(d, d["intent"], updates, "sv", registry)
    assert answer.centre == "region-varmland-film" and A.facet_label("apply", "sv") in answer.text
    assert updates["pending_facet"] is None and updates["last_facet"] == "apply"


def test_organisation_is_answered_from_the_registry(registry):
    d = understand("Är Filmpool Nord ett bolag?", [], registry=registry).to_json()
    answer, _ = reply(d, d["intent"], {}, "sv", registry)
    org = registry.centre("filmpool-nord").organisation
    assert answer.text.startswith("Filmpool Nord – organisationsform:")
    assert org.value in answer.text and org.source in answer.text
    assert A.t("overview_prompt", "sv") not in answer.text          # not the overview


def test_no_fact_says_so_and_links_the_best_page(registry):
    centre = registry.centre("film-i-dalarna")
    answer = A.answer_facets(registry, centre, "equipment_loan", ["amount"], "en")
    assert answer.kind == "unanswered" and answer.reason == "no_facts"
    assert "The register has nothing on amounts (how much one can get) for equipment loan at Film i Dalarna." in answer.text
    assert "See https://" in answer.text


def test_every_fact_shown_has_its_source_and_one_short_freshness_line(registry):
    for centre in registry.centres:
        for fact in centre.facets:
            answer = A.answer_facets(registry, centre, fact.topic, [fact.facet], "sv")
            if fact.text_sv.strip().rstrip(".") in answer.text:
                line = next(ln for ln in answer.text.splitlines() if fact.text_sv.strip().rstrip(".") in ln)
                assert fact.source in line
            assert answer.text.count(A.t("stale_note", "sv")) <= 1
            assert len(A.t("stale_note", "sv")) <= 100


def test_instead_of_repeat_never_sends_the_same_text(registry):
    answer = A.answer_facets(registry, registry.centre("film-i-skane"), "short_film", ["apply"], "sv")
    again = A.instead_of_repeat(answer, "sv", None, registry)
    assert "Film i Skåne" in again.text
    place = {"status": "found", "text": "ystad", "county_code": "12"}
    moved = A.instead_of_repeat(answer, "sv", place, registry)
    assert moved.text.startswith("Ystad hör också till Film i Skåne") and moved.text.endswith(answer.text)
    assert again.text != answer.text and again.buttons
    ask = A.instead_of_repeat(A.ask_place("sv"), "sv", None, registry)
    assert ask.text != A.ask_place("sv").text and A.ask_place("sv").text in ask.text


# ---------------------------------------------------------------- the facets files

def _copy_registry(tmp_path):
    shutil.copy(REAL, tmp_path / "registry.yaml")
    shutil.copytree(REAL.parent / "facets", tmp_path / "facets")
    return tmp_path / "registry.yaml"


def test_facets_files_are_merged_and_every_fact_is_sourced_and_dated(registry):
    files = sorted((REAL.parent / "facets").glob("*.yaml"))
    assert len(files) == len(registry.centres)
    for centre in registry.centres:
        for fact in centre.facets:
            assert fact.source and fact.source.startswith("http") and fact.checked <= dt.date.today()
            assert fact.text_sv and fact.text_en
    assert sum(len(c.facets) for c in registry.centres) >= 60


def test_no_personal_addresses_or_mobile_numbers(registry):
    import re

    for centre in registry.centres:
        gc = centre.general_contact
        texts = [f"{gc.email or ''} {gc.phone or ''}" if gc else ""] + [f.text_sv for f in centre.facets]
        for text in texts:
            assert not re.search(r"\b07\d[\s-]?\d", text), (centre.id, text)
            for local in re.findall(r"([\w.+-]+)@", text):
                assert "." not in local or local.split(".")[0] in ("info", "film", "kultur", "registrator"), \
                    (centre.id, local)


def test_a_broken_facets_file_is_named(tmp_path):
    path = _copy_registry(tmp_path)
    bad = tmp_path / "facets" / "film-i-dalarna.yaml"
    data = yaml.safe_load(bad.read_text(encoding="utf-8"))
    data["facts"] = [{"facet": "price", "text_sv": "x", "checked": "2026-12-07"}]
    bad.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    (tmp_path / "facets" / "no-such-centre.yaml").write_text("centre: no-such-centre\n", encoding="utf-8")
    with pytest.raises(RegistryError) as err:
        load_registry(path)
    text = "\n".join(err.value.problems)
    assert "facets/film-i-dalarna.yaml" in text and "unknown facet 'price'" in text
    assert "facets/no-such-centre.yaml: centre: no centre 'no-such-centre'" in text


def test_staff_confirm_a_facet_fact_in_its_file(tmp_path):
    path = _copy_registry(tmp_path)
    reg = load_registry(path)
    centre = next(c for c in reg.centres if c.facets)
    key = next(k for kind, k, _, _ in centre.keyed_facts() if kind == "facet")
    before = path.read_text(encoding="utf-8")
    assert confirm(centre.id, key=key, by="Staff Name", path=path) == 1
    assert path.read_text(encoding="utf-8") == before                 # registry.yaml untouched
    after = load_registry(path).centre(centre.id)
    fact = after.fact(key)
    assert fact.confirmed.by == "Staff Name" and not fact.is_stale()
    answer = A.answer_facets(load_registry(path), after, fact.topic, [fact.facet], "sv")
    assert "bekräftad" in answer.text


def test_coverage_command_prints_the_table():
    out = subprocess.run([sys.executable, "-m", "bot", "registry", "coverage"], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    rows = coverage(REAL)
    assert out.count("\n| ") == len(rows)          # one line per centre after the header
    with_contact = sum(r["general_contact"] for r in rows)
    assert f"Centres with a general contact: {with_contact}/19." in out
    for r in rows:
        assert r["sourced_facets"] == sum(1 for n in r["facets"].values() if n)
