"""Places beyond the kommun names: gazetteer localities, nicknames and English names, typos at the start of a
message, broad regions and two places answered with their centres, premises, and renting that is not film."""
from __future__ import annotations

import pytest

from bot import answers as A
from bot.dialogue import reply
from bot.paths import ROOT
from bot.places import get_index, localities, resolve_place
from bot.registry import get_registry
from bot.text import fold
from bot.understanding import understand

REG = get_registry()

# Localities that are not kommun names, with the län they lie in (checked by hand, not read from the
# gazetteer): all 21 län.
LOCALITIES = [
    ("Jakobsberg", "01"), ("Tullinge", "01"), ("Hallstavik", "01"), ("Stenhamra", "01"), ("Djursholm", "01"),
    ("Fisksätra", "01"), ("Jordbro", "01"), ("Hemmesta", "01"), ("Storvreta", "03"), ("Björklinge", "03"),
    ("Alsike", "03"), ("Sävja", "03"), ("Örbyhus", "03"), ("Alunda", "03"), ("Hällbybrunn", "04"),
    ("Ljungsbro", "05"), ("Malmslätt", "05"), ("Mantorp", "05"), ("Krokek", "05"), ("Tallboda", "05"),
    ("Kisa", "05"), ("Bankeryd", "06"), ("Taberg", "06"), ("Tenhult", "06"), ("Smålandsstenar", "06"),
    ("Hovmantorp", "07"), ("Lammhult", "07"), ("Rottne", "07"), ("Braås", "07"), ("Lindsdal", "08"),
    ("Påryd", "08"), ("Kristdala", "08"), ("Vibble", "09"), ("Roma", "09"), ("Nättraby", "10"),
    ("Rödeby", "10"), ("Hjärup", "12"), ("Veberöd", "12"), ("Tyringe", "12"), ("Knislinge", "12"),
    ("Ödåkra", "12"), ("Bunkeflostrand", "12"), ("Löddeköpinge", "12"), ("Hyltebruk", "13"),
    ("Oskarström", "13"), ("Frillesås", "13"), ("Veddige", "13"), ("Lindome", "14"), ("Kållered", "14"),
    ("Ljungskile", "14"), ("Vargön", "14"), ("Skultorp", "14"), ("Dalsjöfors", "14"), ("Deje", "17"),
    ("Molkom", "17"), ("Fellingsbro", "18"), ("Skultuna", "19"), ("Ransta", "19"), ("Krylbo", "20"),
    ("Mockfjärd", "20"), ("Djurmo", "20"), ("Valbo", "21"), ("Bergby", "21"), ("Ljusne", "21"),
    ("Kvissleby", "22"), ("Bjästa", "22"), ("Brunflo", "23"), ("Stugun", "23"), ("Hoting", "23"),
    ("Skelleftehamn", "24"), ("Ursviken", "24"), ("Sävar", "24"), ("Obbola", "24"), ("Bergnäset", "25"),
    ("Björkskatan", "25"), ("Södra Sunderbyn", "25"), ("Vidsel", "25"), ("Sävast", "25"),
]


def _decide(text, *pairs):
    ranking = [{"name": n, "confidence": c} for n, c in pairs]
    return understand(text, ranking, ranking[0]["name"] if ranking else None, registry=REG)


def test_the_sample_covers_every_lan_and_comes_from_the_gazetteer():
    index = get_index(REG)
    assert len(LOCALITIES) >= 50 and len({lan for _, lan in LOCALITIES}) == 21
    assert all(fold(name) in index.localities for name, _ in LOCALITIES)


@pytest.mark.parametrize("name,lan", LOCALITIES)
def test_a_locality_names_its_lan(name, lan):
    words = get_index(REG).word_localities      # "Kisa", "Roma": as a name only (a capital letter)
    lowered = [] if fold(name) in words else [f"finns det filmstöd för oss i {name.lower()}?"]
    for text in (f"jag bor i {name}", f"{name}", *lowered):
        res = resolve_place(text, REG)
        assert (res.status, res.county_code) == ("found", lan), text


def test_gazetteer_file_has_its_licence_and_no_kommun_names():
    head = (ROOT / "registry" / "localities.tsv").read_text(encoding="utf-8")[:600]
    assert "GeoNames" in head and "CC BY 4.0" in head and "scripts/make_localities.py" in head
    kommuner = {fold(k.name) for c in REG.counties for k in c.kommuner}
    rows = localities()
    assert len(rows) > 900 and not any(fold(name) in kommuner for name, *_ in rows)


def test_an_everyday_word_locality_counts_only_as_a_name():
    # "Bor", "Vi", "Backa" are localities too: in running text they are words
    for text in ("vi bor i en liten by", "jag vill bara veta", "vi har en backe bakom huset", "filma i kisa"):
        assert resolve_place(text, REG).status == "unknown", text
    assert resolve_place("filmstöd i Kisa?", REG).county_code == "05"


def test_a_locality_gives_way_to_a_kommun_of_another_centre():
    d = _decide("Jag gör en dokumentär om laxfisket i Lagan vid Laholm. Finns det regionalt stöd?",
                ("ask_documentary", 0.6))
    assert d.place["centre_id"] == "region-halland-film" and not d.candidates


@pytest.mark.parametrize("text,lan", [
    ("jag bor i Ö-vik", "22"), ("bor i jkpg", "06"), ("vi är från hbg", "12"), ("kortfilm i lkpg", "05"),
    ("filmstöd i Norrkpg?", "05"), ("I live in Scania", "12"), ("from Gothland", "09"), ("i Hudik", "21"),
    ("Götet", "14"), ("filming on the High Coast", "22"),
])
def test_nicknames_and_english_names(text, lan):
    res = resolve_place(text, REG)
    assert (res.status, res.county_code) == ("found", lan), text


def test_a_kommun_or_a_typo_first_in_the_message_before_a_dash_or_comma():
    assert resolve_place("Sala – jag vill göra kortfilm, finns det hjälp?", REG).county_code == "19"
    assert resolve_place("valdemarsvk, vem ska jag prata med om kortfilm?", REG).county_code == "05"


def test_a_broad_region_names_each_candidate_centre():
    d = _decide("film funding in western Sweden?", ("ask_production_funding", 0.7)).to_json()
    answer, _ = reply(d, d["intent"], {}, "en", REG)
    assert "Film i Väst" in answer.text and "Region Halland" in answer.text
    assert len(answer.buttons) >= 2 and answer.text.rstrip().endswith("municipality.")


def test_two_places_of_two_centres_ask_with_the_centres_named():
    d = _decide("Jag bor i Upplands Väsby men har mitt företag i Knivsta, vart vänder jag mig för stöd?",
                ("ask_production_funding", 0.7)).to_json()
    answer, _ = reply(d, d["intent"], {}, "sv", REG)
    assert "Region Stockholm" in answer.text and "Region Uppsala" in answer.text
    assert {b["title"] for b in answer.buttons} == {"Upplands Väsby – Region Stockholm", "Knivsta – Region Uppsala"}


def test_a_wrong_premise_is_corrected_by_the_kommun_the_visitor_lives_in():
    d = _decide("nordanstig gränsar ju till sundsvall – räknas vi till västernorrland?", ("which_centre", 0.5))
    assert d.place["kommun"] == "Nordanstig" and d.premise["said_kind"] == "county"
    answer, _ = reply(d.to_json(), d.intent, {}, "sv", REG)
    assert answer.text.startswith("Nordanstig ligger i Gävleborgs län, inte i Västernorrland")
    # a landskap the kommun does lie in is not contradicted
    d = _decide("Jag bor i Karlskoga, det är ju Värmland, eller?", ("which_centre", 0.5))
    answer, _ = reply(d.to_json(), d.intent, {}, "sv", REG)
    assert "inte i Värmland" not in answer.text and "Örebro län" in answer.text


def test_where_the_film_is_made_decides_over_where_one_lives():
    d = _decide("Jag flyttade från Varberg till Göteborg förra året men filmen utspelar sig i Varberg",
                ("inform_place", 0.6))
    assert d.place["centre_id"] == "region-halland-film"


def test_the_kind_of_centre_named_picks_among_places():
    d = _decide("Jag är från Piteå men bor i Stockholm nu, kan jag få stöd till en kortfilm från filmpoolen här uppe?",
                ("ask_short_film", 0.6))
    assert d.place["centre_id"] == "filmpool-nord" and d.topic == "short_film"


@pytest.mark.parametrize("text", ["Vad kostar det att hyra kajak i Valdemarsvik?", "borrow a lawnmower in Umeå?",
                                  "kan man låna en släpvagn i Kalmar"])
def test_renting_something_that_is_not_film_is_out_of_scope(text):
    d = _decide(text, ("ask_equipment_loan", 0.9))
    assert d.out_of_scope and d.non_film_need and d.topic is None


@pytest.mark.parametrize("text", ["kan man låna en kamera i Valdemarsvik?", "hyra ljusutrustning i Kalmar",
                                  "can we borrow gear in Umeå?"])
def test_renting_film_equipment_is_equipment_loan(text):
    d = _decide(text, ("ask_equipment_loan", 0.9))
    assert d.topic == "equipment_loan" and not d.out_of_scope
