"""bot/registry.py: the real registry file, clear errors for broken files, the CLI check, hot reload."""
import copy
import datetime as dt
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.registry import (
    LAN_CODES,
    OFFER_KINDS,
    Offer,
    RegistryError,
    RegistryStore,
    get_registry,
    load_registry,
    reset_registry_store,
)

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT / "registry" / "registry.yaml"
TODAY = dt.date(2026, 11, 25)


@pytest.fixture(scope="module")
def registry():
    return load_registry(REAL)


@pytest.fixture(scope="module")
def raw():
    return yaml.load(REAL.read_text(encoding="utf-8"), Loader=Loader)


Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def write(tmp_path: Path, data, name="registry.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.dump(data, Dumper=Dumper, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def problems_for(tmp_path: Path, data) -> list:
    path = write(tmp_path, data)
    with pytest.raises(RegistryError) as info:
        load_registry(path)
    problems = info.value.problems
    assert problems and all("\n" not in p and str(path.name) in p for p in problems)
    return problems


def centre_index(raw, centre_id):
    return next(i for i, c in enumerate(raw["centres"]) if c["id"] == centre_id)


# ---------------------------------------------------------------- the real file

def test_real_file_counts(registry):
    assert len(registry.centres) == 19
    assert len(registry.counties) == 21
    assert sorted(k.code for k in registry.counties) == sorted(LAN_CODES)
    assert len(registry.kommuner) == 290
    assert len({k.code for k in registry.kommuner}) == 290
    assert all(len(k.code) == 4 and k.code.isdigit() for k in registry.kommuner)
    assert len(registry.towns) >= 60


@pytest.mark.parametrize("code, centre_id", [
    ("01", "region-stockholm-film"), ("03", "region-uppsala-film"), ("04", "film-i-sormland"),
    ("05", "film-i-ost"), ("06", "region-jonkoping-film"), ("07", "filmregion-sydost"),
    ("08", "filmregion-sydost"), ("09", "film-pa-gotland"), ("10", "filmregion-sydost"),
    ("12", "film-i-skane"), ("13", "region-halland-film"), ("14", "vastra-gotaland-film"),
    ("17", "region-varmland-film"), ("18", "film-i-orebro-lan"), ("19", "film-vastmanland"),
    ("20", "film-i-dalarna"), ("21", "kultur-gavleborg-film"), ("22", "film-vasternorrland"),
    ("23", "filmpool-jamtland"), ("24", "film-i-vasterbotten"), ("25", "filmpool-nord"),
])
def test_centre_for_each_lan(registry, code, centre_id):
    assert registry.centre_for_county(code).id == centre_id
    assert registry.county(code).centre == centre_id


def test_lookups(registry):
    assert registry.county(1).name == "Stockholms län"
    assert registry.kommun("0128").name == "Salem"          # unquoted 0128 in the reference
    assert registry.kommun(180).name == "Stockholm"
    assert registry.county_of_kommun("2062").code == "20"   # Mora
    assert registry.centre("film-i-dalarna").name == "Film i Dalarna"
    assert registry.centre("nope") is None and registry.county("99") is None
    sydost = registry.centre("filmregion-sydost")
    assert sorted(sydost.counties) == ["07", "08", "10"]
    assert "Reaktor Sydost" in sydost.former_names


def test_units_of_split_bodies(registry):
    assert registry.unit_for("region-stockholm-film", "short_film").id == "film-stockholm-ab"
    assert registry.unit_for("region-stockholm-film", "film_for_children_and_youth").id == \
        "region-stockholm-konsulenterna"
    assert registry.unit_for("vastra-gotaland-film", "feature").id == "film-i-vast"
    assert registry.unit_for("vastra-gotaland-film", "education_and_courses").id == "vgr-filmkonsulenterna"
    assert registry.unit_for("film-i-dalarna", "short_film") is None
    halland = registry.centre("region-halland-film")
    assert not halland.units and "Katrinebergs folkhögskola" in halland.note_sv
    offers = registry.offers_for("vastra-gotaland-film", "talent_development")
    assert {o.unit for o in offers} == {"vgr-filmkonsulenterna", "film-i-vast"}


def test_every_offer_sourced_unless_unverified_and_every_fact_checked(registry):
    for centre in registry.centres:
        assert centre.website.url.startswith("https://") and " " not in centre.website.url
        assert centre.offers, centre.id
        for offer in centre.offers:
            assert offer.kind in OFFER_KINDS
            assert offer.source or offer.unverified, (centre.id, offer.text_sv)
            assert offer.text_sv and offer.text_en
        for where, fact in centre.facts():
            assert isinstance(fact.checked, dt.date), (centre.id, where)
            # registry.yaml's facts were checked with the reference; registry/facets/ has its own dates
            from_facets = where.startswith("facets[") or (where == "general_contact" and centre.facets)
            assert fact.checked == TODAY or (from_facets and TODAY <= fact.checked <= dt.date.today()), where


def test_no_invented_children_offers_but_general_source(registry):
    # Örebro has only the general statement, kept as unverified; the statement itself is a general source.
    orebro = registry.offers_for("film-i-orebro-lan", "film_for_children_and_youth")
    assert orebro and all(o.unverified for o in orebro)
    assert any("filminstitutet.se" in g.url and "film_for_children_and_youth" in g.topics
               for g in registry.general_sources)


def test_published_dates_from_reference(registry):
    stockholm = registry.centre("region-stockholm-film")
    assert stockholm.offers[0].published == "2023-12" and stockholm.offers[0].date_note == "2023-12"
    assert stockholm.offers[2].published is None and stockholm.offers[2].date_note.startswith("okänt")
    sydost = registry.centre("filmregion-sydost")
    assert sydost.offers[1].date_note == "2019/2020" and sydost.offers[1].published == "2020"
    dalarna = registry.centre("film-i-dalarna")
    assert dalarna.organisation.published == "2022-04"       # "april 2022"


def test_places_tables(registry):
    towns = {t.name: t for t in registry.towns}
    assert towns["Sälen"].kommun == "2023" and towns["Visby"].kommun == "0980"
    assert towns["Abisko"].kommun == "2584" and towns["Sthlm"].county == "01"
    assert towns["Österlen"].county == "12" and towns["Tornedalen"].county == "25"
    for t in registry.towns:
        assert (registry.kommun(t.kommun) if t.kommun else registry.county(t.county)) is not None
    amb = {a.term: a for a in registry.ambiguous}
    assert sorted(amb["Småland"].counties) == ["06", "07", "08"] and amb["Småland"].default is None
    assert amb["Västmanland"].default == "19" and amb["Sörmland"].default == "04"
    assert sorted(amb["Norrland"].counties) == ["21", "22", "23", "24", "25"]
    assert amb["Uppland"].advice_sv
    dalarna = registry.county("20")
    assert "Dalarna" in dalarna.short_forms and dalarna.seat == "Falun"


def test_is_stale():
    base = dict(kind="short_film", text_sv="x", source="https://example.se", checked=TODAY)
    assert not Offer(**base, published="2025-06").is_stale(TODAY)
    assert not Offer(**base, published="2024").is_stale(TODAY)       # counts from 2024-12-31
    assert Offer(**base, published="2024-10-01").is_stale(TODAY)
    assert Offer(**base, published=None).is_stale(TODAY)
    assert Offer(**{**base, "source": None}, unverified=True, published="2026").is_stale(TODAY)


# ---------------------------------------------------------------- broken files

def test_missing_field(tmp_path, raw):
    data = copy.deepcopy(raw)
    i = centre_index(data, "film-i-ost")
    del data["centres"][i]["offers"][2]["source"]
    problems = problems_for(tmp_path, data)
    assert len(problems) == 1
    assert f"centres[{i}] (film-i-ost): offers[2].source: required field is missing" in problems[0]


def test_missing_required_name(tmp_path, raw):
    data = copy.deepcopy(raw)
    del data["centres"][0]["name"]
    assert problems_for(tmp_path, data) == [
        f"{tmp_path / 'registry.yaml'}: centres[0] (region-stockholm-film): name: required field is missing"]


def test_unknown_lan(tmp_path, raw):
    data = copy.deepcopy(raw)
    i = centre_index(data, "film-i-dalarna")
    data["centres"][i]["counties"] = ["20", "99"]
    problems = problems_for(tmp_path, data)
    assert problems == [f"{tmp_path / 'registry.yaml'}: centres[{i}] (film-i-dalarna): counties[1]: "
                        f"unknown län code '99'"]


def test_lan_covered_twice(tmp_path, raw):
    data = copy.deepcopy(raw)
    i = centre_index(data, "film-i-dalarna")
    data["centres"][i]["counties"] = ["20", "21"]
    (problem,) = problems_for(tmp_path, data)
    assert "counties[" in problem and "(21): län 21 is covered by more than one centre" in problem
    assert "film-i-dalarna" in problem and "kultur-gavleborg-film" in problem


def test_duplicate_id(tmp_path, raw):
    data = copy.deepcopy(raw)
    data["centres"].append(copy.deepcopy(data["centres"][3]))
    cid = data["centres"][3]["id"]
    problems = problems_for(tmp_path, data)
    assert problems == [f"{tmp_path / 'registry.yaml'}: centres[19] ({cid}): id: "
                        f"duplicate centre id '{cid}' (also centres[3])"]


def test_bad_url(tmp_path, raw):
    data = copy.deepcopy(raw)
    i = centre_index(data, "film-i-ost")
    data["centres"][i]["website"]["url"] = "https://filmiost.se (och regionen)"
    data["centres"][i]["offers"][1]["source"] = "filmiost.se/stod"
    problems = problems_for(tmp_path, data)
    assert len(problems) == 2
    assert "centres[%d] (film-i-ost): website.url: not a well-formed https URL" % i in problems[0]
    assert "centres[%d] (film-i-ost): offers[1].source: not a well-formed http(s) URL" % i in problems[1]


def test_bad_yaml(tmp_path):
    text = REAL.read_text(encoding="utf-8").replace("  name: Film i Öst\n", "  name: [Film i Öst\n", 1)
    path = tmp_path / "registry.yaml"
    path.write_text(text, encoding="utf-8")
    line = next(n for n, l in enumerate(text.splitlines(), 1) if l == "  name: [Film i Öst")
    with pytest.raises(RegistryError) as info:
        load_registry(path)
    (problem,) = info.value.problems
    assert problem.startswith(f"{path}: line ") and "invalid YAML" in problem
    reported = int(problem.split("line ")[1].split(",")[0])
    assert line <= reported <= line + 1


def test_kommun_in_two_lan(tmp_path, raw):
    data = copy.deepcopy(raw)
    k = next(i for i, c in enumerate(data["counties"]) if c["code"] == "21")
    data["counties"][k]["kommuner"].append({"code": "2062", "name": "Mora"})
    problems = problems_for(tmp_path, data)
    assert any(f"counties[{k}] (21): kommuner[10].code: kommun 2062 (Mora)" in p and "exactly one län" in p
               for p in problems)
    assert any(f"counties[{k}] (21): kommuner[10].code:" in p and "does not belong to län 21" in p
               for p in problems)


def test_bad_dates(tmp_path, raw):
    data = copy.deepcopy(raw)
    i = centre_index(data, "film-i-ost")
    data["centres"][i]["offers"][0]["published"] = "2023-13"
    data["centres"][i]["offers"][1]["published"] = "våren 2021"
    data["centres"][i]["contacts"][0]["checked"] = "igår"
    problems = problems_for(tmp_path, data)
    assert len(problems) == 3
    assert f"centres[{i}] (film-i-ost): offers[0].published: not a valid date: '2023-13'" in problems[0]
    assert f"centres[{i}] (film-i-ost): offers[1].published: not an ISO date" in problems[1]
    assert f"centres[{i}] (film-i-ost): contacts[0].checked: not a date" in problems[2]


def test_unknown_kind_and_unit(tmp_path, raw):
    data = copy.deepcopy(raw)
    data["centres"][0]["offers"][0]["kind"] = "films"
    data["centres"][0]["offers"][1]["unit"] = "film-stockholm"
    problems = problems_for(tmp_path, data)
    assert len(problems) == 2
    assert "centres[0] (region-stockholm-film): offers[0].kind: unknown kind 'films'" in problems[0]
    assert "centres[0] (region-stockholm-film): offers[1].unit: unknown unit 'film-stockholm'" in problems[1]


def test_unverified_offer_may_lack_source(tmp_path, raw):
    data = copy.deepcopy(raw)
    offer = data["centres"][0]["offers"][0]
    del offer["source"]
    offer["unverified"] = True
    assert load_registry(write(tmp_path, data)).centres[0].offers[0].source is None


def test_all_problems_collected(tmp_path, raw):
    data = copy.deepcopy(raw)
    del data["centres"][1]["name"]
    data["centres"][5]["website"]["url"] = "not a url"
    data["towns"].append({"name": "Ingenstans", "kommun": "9999"})
    problems = problems_for(tmp_path, data)
    assert len(problems) == 3


# ---------------------------------------------------------------- CLI

def run_cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "bot", "registry", "check", *args], cwd=ROOT,
                          capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=60)


def test_cli_check(tmp_path, raw):
    good = run_cli(str(REAL))
    assert good.returncode == 0, good.stderr
    assert good.stdout.count("\n") == 1
    assert "19 centres, 21 län, 290 kommuner" in good.stdout and "stale" in good.stdout

    data = copy.deepcopy(raw)
    del data["centres"][0]["name"]
    data["centres"][1]["offers"][0]["kind"] = "films"
    bad = run_cli(str(write(tmp_path, data)))
    assert bad.returncode == 1
    lines = bad.stderr.strip().splitlines()
    assert any("centres[0] (region-stockholm-film): name:" in l for l in lines)
    assert any("centres[1] (region-uppsala-film): offers[0].kind:" in l for l in lines)

    via_env = run_cli(env={"FILMBOT_REGISTRY": str(tmp_path / "registry.yaml")})
    assert via_env.returncode == 1


# ---------------------------------------------------------------- hot reload

def test_store_reloads_and_keeps_last_good(tmp_path, raw, caplog):
    path = write(tmp_path, raw)
    store = RegistryStore(path, check_interval=0)
    first = store.get()
    assert first.centre("film-i-dalarna").name == "Film i Dalarna"
    assert store.get() is first                       # unchanged file: same object

    data = copy.deepcopy(raw)
    i = centre_index(data, "film-i-dalarna")
    data["centres"][i]["name"] = "Film i Dalarna AB"
    write(tmp_path, data)
    second = store.get()
    assert second is not first and second.centre("film-i-dalarna").name == "Film i Dalarna AB"

    data["centres"][i]["website"]["url"] = "ftp://filmidalarna.se"
    write(tmp_path, data)
    with caplog.at_level(logging.WARNING, logger="bot.registry"):
        third = store.get()
    assert third is second                              # broken edit: last good one still served
    assert any(r.levelno == logging.WARNING and "website.url" in r.getMessage() for r in caplog.records)
    assert store.last_problems and "website.url" in store.last_problems[0]


def test_store_checks_at_most_once_per_interval(tmp_path, raw):
    now = [100.0]
    path = write(tmp_path, raw)
    store = RegistryStore(path, check_interval=1.0, clock=lambda: now[0])
    first = store.get()
    data = copy.deepcopy(raw)
    data["centres"][0]["name"] = "Ändrat namn"
    write(tmp_path, data)
    now[0] += 0.5
    assert store.get() is first                        # within the second: not even stat'ed
    now[0] += 0.6
    assert store.get().centres[0].name == "Ändrat namn"


def test_get_registry_uses_env(tmp_path, raw, monkeypatch):
    data = copy.deepcopy(raw)
    data["centres"][0]["name"] = "Från miljövariabeln"
    monkeypatch.setenv("FILMBOT_REGISTRY", str(write(tmp_path, data)))
    reset_registry_store()
    try:
        assert get_registry().centres[0].name == "Från miljövariabeln"
    finally:
        monkeypatch.delenv("FILMBOT_REGISTRY")
        reset_registry_store()
    assert get_registry().centres[0].name == "Region Stockholm (filmkonsulenterna) / Film Stockholm AB"


# ---------------------------------------------------------------- staff confirmations

def test_confirmations_are_validated(tmp_path, raw):
    data = copy.deepcopy(raw)
    i = centre_index(data, "film-i-dalarna")
    centre = data["centres"][i]
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    centre["website"]["confirmed"] = {"date": tomorrow, "by": "anna"}
    centre["offers"][3]["confirmed"] = {"date": dt.date(2021, 5, 6), "by": "anna"}   # page: 2021-05-07
    centre["offers"][4]["confirmed"] = {"date": dt.date(2026, 1, 1), "by": "  "}
    centre["offers"][5]["confirmed"] = {"date": dt.date(2026, 1, 1), "by": "anna", "when": "today"}
    centre["organisation"]["confirmed"] = "yes"
    j = centre_index(data, "film-i-sormland")
    data["centres"][j]["seat"]["confirmed"] = {"date": dt.date(2026, 1, 1), "by": "anna"}      # no source
    problems = problems_for(tmp_path, data)
    expect = {
        "centres[%d] (film-i-dalarna): website.confirmed.date: %s is in the future" % (i, tomorrow.isoformat()),
        "centres[%d] (film-i-dalarna): offers[3].confirmed: date 2021-05-06 is before the page's own date" % i,
        "centres[%d] (film-i-dalarna): offers[4].confirmed.by: must name who confirmed" % i,
        "centres[%d] (film-i-dalarna): offers[5].confirmed.when: unknown field" % i,
        "centres[%d] (film-i-dalarna): organisation.confirmed:" % i,
        "centres[%d] (film-i-sormland): seat.confirmed: a fact without a source URL cannot be confirmed" % j,
    }
    for e in expect:
        assert any(e in p for p in problems), (e, problems)
    assert len(problems) == len(expect), problems
    assert run_cli(str(tmp_path / "registry.yaml")).returncode == 1


def test_a_recent_confirmation_makes_a_fact_fresh():
    base = dict(kind="short_film", text_sv="x", source="https://a.se", published="2021-05", checked="2026-01-01")
    old = Offer(**base)
    assert old.is_stale(TODAY) and not old.confirmed_recently(TODAY)
    confirmed = Offer(**base, confirmed={"date": "2025-01-10", "by": "anna"})
    assert not confirmed.is_stale(TODAY) and confirmed.confirmed_recently(TODAY)
    assert confirmed.is_stale(dt.date(2027, 1, 11))          # two years after the confirmation
    assert confirmed.is_stale(dt.date(2025, 1, 9))           # as of a day before it was confirmed
    guess = Offer(**{**base, "published": None, "unverified": True})
    assert guess.is_stale(TODAY) and not guess.verified
    checked_guess = Offer(**{**base, "published": "2026", "unverified": True},
                          confirmed={"date": "2026-02-01", "by": "anna"})
    assert checked_guess.verified and not checked_guess.is_stale(dt.date(2028, 6, 1))   # verified: page date decides
