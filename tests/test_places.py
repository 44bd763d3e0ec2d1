"""bot.places.resolve_place against the real registry (registry/registry.yaml)."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.places import Resolution, _get, get_index, load_registry_any, resolve_place
from bot.text import fold, inflection_variants, strip_diacritics, tokenize

REG = load_registry_any()


def _counties():
    return list(_get(REG, "counties"))


def _kommuner():
    for c in _counties():
        for k in _get(c, "kommuner"):
            yield str(_get(k, "code")), str(_get(k, "name")), str(_get(c, "code"))


def _centre_of_county(code):
    for c in _counties():
        if str(_get(c, "code")) == code:
            return _get(c, "centre")
    raise KeyError(code)


KOMMUNER = list(_kommuner())
COUNTIES = [(str(_get(c, "code")), str(_get(c, "name")), list(_get(c, "short_forms") or [])) for c in _counties()]
FOLDED_KOMMUN = {}
for _code, _name, _cc in KOMMUNER:
    FOLDED_KOMMUN.setdefault(fold(_name), []).append(_code)


def test_registry_shape():
    assert len(KOMMUNER) == 290
    assert len(COUNTIES) == 21


def _check(res: Resolution, county_code: str, kommun_code: str = None, kind: str = None):
    assert res.status == "found", res.to_json()
    assert res.county_code == county_code, res.to_json()
    assert res.centre_id == _centre_of_county(county_code)
    if kommun_code:
        assert res.kommun_code == kommun_code, res.to_json()
        assert res.kind == (kind or "kommun"), res.to_json()


# --- every kommun and län -----------------------------------------------------------------------

@pytest.mark.parametrize("code,name,county", KOMMUNER, ids=[k[1] for k in KOMMUNER])
def test_every_kommun(code, name, county):
    _check(resolve_place(name, REG), county, code)
    _check(resolve_place(name.lower(), REG), county, code)
    _check(resolve_place(f"jag bor i {name}", REG), county, code)
    _check(resolve_place(f"Vad finns det för stöd i {name} kommun?", REG), county, code)
    if len(FOLDED_KOMMUN[fold(name)]) == 1:          # Håbo/Habo collide without diacritics
        plain = strip_diacritics(name)
        res = resolve_place(plain, REG)
        _check(res, county, code)
        if plain != name:
            assert res.confidence == 0.95
    if name[-1].lower() not in "sxz":
        res = resolve_place(f"{name}s", REG)
        _check(res, county, code)
        assert res.confidence >= 0.9


@pytest.mark.parametrize("code,name,short_forms", COUNTIES, ids=[c[1] for c in COUNTIES])
def test_every_county(code, name, short_forms):
    for text in (name, name.lower(), strip_diacritics(name), f"jag bor i {name}", f"{name}s",
                 f"Region {short_forms[0]}"):
        res = resolve_place(text, REG)
        _check(res, code)
    res = resolve_place(name, REG)
    assert res.kind == "county" and res.kommun_code is None and res.confidence == 1.0
    # the first short form (e.g. Dalarna, Skåne, Stockholm) and its genitive
    first = short_forms[0]
    _check(resolve_place(first, REG), code)
    if first[-1].lower() not in "sxz":
        _check(resolve_place(first + "s", REG), code)


@pytest.mark.parametrize("text,county,kind,kommun", [
    ("Stockholm", "01", "kommun", "0180"),
    ("Stockholms län", "01", "county", None),
    ("stockholms lan", "01", "county", None),
    ("Stockholm län", "01", "county", None),
    ("Uppsala", "03", "kommun", "0380"),
    ("Jönköping", "06", "kommun", "0680"),
    ("Kalmar", "08", "kommun", "0880"),
    ("Gotland", "09", "kommun", "0980"),
    ("Örebro", "18", "kommun", "1880"),
    ("Västmanland", "19", "county", None),
    ("Dalarna", "20", "county", None),
    ("Dalarnas", "20", "county", None),
    ("Dalarnas län", "20", "county", None),
    ("Region Dalarna", "20", "county", None),
    ("Region Skåne", "12", "county", None),
    ("Skånes", "12", "county", None),
    ("i Skåne", "12", "county", None),
    ("Göteborgs", "14", "kommun", "1480"),
    ("Umeås", "24", "kommun", "2480"),
    ("Västerås", "19", "kommun", "1980"),
    ("Vasteras", "19", "kommun", "1980"),
    ("Stockholmsområdet", "01", "kommun", "0180"),
    ("Göteborgsregionen", "14", None, None),
    ("Gotlands", "09", None, None),
    ("Västra Götalands län", "14", "county", None),
    ("Västra Götaland", "14", "county", None),
    ("vastra gotaland", "14", "county", None),
    ("Norrbottens", "25", None, None),
    ("Norrbottens län", "25", "county", None),
    ("i Mora kommun", "20", "kommun", "2062"),
    ("Mora kommun", "20", "kommun", "2062"),
    ("Moras kommun", "20", "kommun", "2062"),
    ("från Mora", "20", "kommun", "2062"),
    ("runt Mora", "20", "kommun", "2062"),
    ("utanför Mora", "20", "kommun", "2062"),
    ("nära Mora", "20", "kommun", "2062"),
    ("kring Mora", "20", "kommun", "2062"),
    ("I live near Mora", "20", "kommun", "2062"),
    ("we are based in Umeå", "24", "kommun", "2480"),
    ("from Gothenburg", "14", None, None),
    ("Upplands Väsby", "01", "kommun", "0114"),
    ("Upplands-Väsby", "01", "kommun", "0114"),
    ("upplands väsbys", "01", "kommun", "0114"),
    ("Lilla Edet", "14", "kommun", "1462"),
    ("Östra Göinge", "12", "kommun", "1256"),
    ("ostra goinge", "12", "kommun", "1256"),
    ("Malung-Sälen", "20", "kommun", "2023"),
    ("Malung Sälen", "20", "kommun", "2023"),
    ("Malung–Sälen", "20", "kommun", "2023"),
    ("Dals-Ed", "14", "kommun", "1438"),
    ("Dals Ed", "14", "kommun", "1438"),
    ("Upplands-Bro", "01", "kommun", "0139"),
    ("Upplands Bro", "01", "kommun", "0139"),
    ("Håbo", "03", "kommun", "0305"),
    ("Habo", "06", "kommun", "0643"),
    ("Sälen", "20", "town", "2023"),
    ("jag bor i  Sälen", "20", "town", "2023"),
    ("Visby", "09", None, None),
    ("Sthlm", "01", None, None),
    ("Stockholm och Solna", "01", "kommun", "0180"),
    ("Mora i Dalarna", "20", "kommun", "2062"),
    ("Boden i Norrbotten", "25", "kommun", "2582"),
    ("Boden har ett bra filmstöd", None, None, None),
    ("Kalmar eller Växjö", "08", "kommun", "0880"),   # same centre (Filmregion Sydost): not ambiguous
    ("Vara kommun", "14", "kommun", "1470"),
    ("jag bor i Vara", "14", "kommun", "1470"),
    ("jag bor i vara", "14", "kommun", "1470"),
    ("Vi gör film i Boden och Luleå", "25", "kommun", "2582"),
    ("Vilket stöd finns i Åre?", "23", "kommun", "2321"),
    ("mora", "20", "kommun", "2062"),
    ("Mora!", "20", "kommun", "2062"),
    ("Mora, hur söker jag kortfilmsstöd?", "20", "kommun", "2062"),
    ("JAG BOR I MORA", "20", "kommun", "2062"),
    ("Hej! Jag bor i Malmö och vill göra en kortfilm, vem kan jag prata med?", "12", "kommun", "1280"),
])
def test_forms(text, county, kind, kommun):
    res = resolve_place(text, REG)
    if county is None:
        assert res.status == "unknown", res.to_json()
        return
    _check(res, county, kommun, kind)
    if kind:
        assert res.kind == kind, res.to_json()


def test_span_and_matched():
    text = "Hej, jag bor i Mora kommun och undrar"
    res = resolve_place(text, REG)
    assert res.matched == "Mora kommun"
    assert text[res.span[0]:res.span[1]] == "Mora kommun"
    res = resolve_place("bor i Västra  Götalands län nu", REG)
    assert res.matched == "Västra  Götalands län"


# --- typos --------------------------------------------------------------------------------------

TYPOS = [
    ("Götebrog", "1480"), ("Göteborj", "1480"), ("Gotebrog", "1480"), ("Göterborg", "1480"),
    ("Stokholm", "0180"), ("Stockhom", "0180"), ("Stockholn", "0180"), ("Stcokholm", "0180"),
    ("Uppsla", "0380"), ("Upsala", "0380"), ("Uppsalla", "0380"),
    ("Vasterås", "1980"), ("Västeras", "1980"), ("Västerrås", "1980"), ("Väterås", "1980"),
    ("Malmo", "1280"), ("Malmoe", "1280"), ("Mamlö", "1280"),
    ("Jönkoping", "0680"), ("Jönköpping", "0680"), ("Jönköpig", "0680"),
    ("Örebor", "1880"), ("Örbro", "1880"),
    ("Linköpig", "0580"), ("Linkjöping", "0580"), ("Norrköpning", "0581"),
    ("Helsingbrog", "1283"), ("Helsinborg", "1283"),
    ("Kristiansand", "1290"), ("Hässelholm", "1293"),
    ("Sundsval", "2281"), ("Östersunds", "2380"), ("Östersnud", "2380"),
    ("Umeaa", "2480"), ("Skelleftå", "2482"), ("Skellefteo", "2482"),
    ("Luleo", "2580"), ("Kirunna", "2584"), ("Gällivara", "2523"),
    ("Karlstadt", "1780"), ("Eskilstuan", "0484"), ("Nyköpping", "0480"),
    ("Borlänge", "2081"), ("Borlange", "2081"), ("Bårlänge", "2081"),
    ("Trollhätan", "1488"), ("Trolhättan", "1488"), ("Uddevala", "1485"),
    ("Halmsatd", "1380"), ("Varberj", "1383"), ("Kungsbaka", "1384"),
    ("Växsjö", "0780"), ("Karlskorna", "1080"), ("Oskarhamn", "0882"),
    ("Södertälje", "0181"), ("Sodertalje", "0181"), ("Södertälej", "0181"),
    ("Hudiksval", "2184"), ("Sandviksen", "2181"),
]


@pytest.mark.parametrize("text,kommun", TYPOS)
def test_typos(text, kommun):
    county = kommun[:2]
    res = resolve_place(text, REG)
    _check(res, county, kommun)
    assert 0.6 <= res.confidence <= 1.0


@pytest.mark.parametrize("text,kommun", [
    ("jag bor i Stokholm", "0180"),
    ("vi spelar in i götebrog nästa år", "1480"),
    ("Filmstöd nära Helsingbrog?", "1283"),
    ("bor utanför uppsla", "0380"),
])
def test_typos_in_sentences(text, kommun):
    res = resolve_place(text, REG)
    _check(res, kommun[:2], kommun)
    assert res.confidence < 0.9


def test_typo_confidence_below_exact():
    assert resolve_place("Götebrog", REG).confidence < resolve_place("Göteborg", REG).confidence


# --- everyday words that are kommun names -------------------------------------------------------

NOT_PLACES = [
    "det ska vara en kortfilm",
    "kan det vara så att ni har stöd för dokumentär?",
    "jag vill vara med i en talangsatsning",
    "Vara eller inte vara, det är frågan",
    "våra filmer handlar om skogen",
    "på mark nivå",
    "filmen utspelar sig på mark och i vatten",
    "vi har en ale",
    "we are making a short film",
    "what are the deadlines?",
    "vi sitter i boden",
    "filmen spelas in i boden bakom huset",
    "jag vill ha en sala",
    "jag ska fråga mora och morfar",
    "vi klättrar på klippan",
    "jag står i klippan",
    "ett berg av ansökningar",
    "vi ska filma ett berg",
    "en lund med träd",
    "jag heter Nora",
    "my name is Mark",
    "mark the date",
    "jag vill måla en kuliss",
    "vi ska skära ner budgeten",
    "ange din kommun här",
    "kinda want to make a documentary",
    "slå en kil mellan dem",
    "mötet hålls i salen",
    "vi gick upp på kullen",
    "Kan ni hjälpa mig med en kortfilm?",
    "hur söker jag produktionsstöd",
    "jag behöver låna en kamera",
    "finns det skolbio för barn och unga?",
    "tack så mycket",
    "hej",
    "what kind of funding do you have for documentaries?",
    "Filmen ska vara klar i höst",
    "Mark nivån är viktig",
    "Boden är full",
]


@pytest.mark.parametrize("text", NOT_PLACES)
def test_everyday_words_do_not_resolve(text):
    res = resolve_place(text, REG)
    assert res.status == "unknown", res.to_json()


# --- ambiguous terms ----------------------------------------------------------------------------

AMBIGUOUS = [(str(_get(a, "term")), [str(c) for c in _get(a, "counties")], _get(a, "default"))
             for a in _get(REG, "ambiguous") or []]


@pytest.mark.parametrize("term,counties,default", AMBIGUOUS, ids=[a[0] for a in AMBIGUOUS])
def test_every_ambiguous_term(term, counties, default):
    index = get_index(REG)
    for part in term.split("/"):
        part = part.strip()
        res = resolve_place(f"jag bor i {part}", REG)
        if fold(part) in {fold(n) for _, n, _ in KOMMUNER}:
            assert res.status == "found" and res.kind == "kommun"
            continue
        if default:
            _check(res, str(default))
        elif len({index.county_info[c][1] for c in counties}) == 1:
            assert res.status == "found" and res.centre_id == index.county_info[counties[0]][1]
        else:
            assert res.status == "ambiguous", res.to_json()
            assert [c.county_code for c in res.candidates] == counties
            assert all(c.kommun_code is None for c in res.candidates)
            assert res.centre_id is None


@pytest.mark.parametrize("text,counties", [
    ("Småland", ["06", "07", "08"]),
    ("i Uppland", ["03", "01"]),
    ("Roslagen", ["01", "03"]),
    ("Lappland", ["24", "25"]),
    ("Bergslagen", ["18", "19", "20"]),
    ("Norrland", ["21", "22", "23", "24", "25"]),
    ("Mälardalen", ["01", "03", "04", "18", "19"]),
])
def test_ambiguous_named(text, counties):
    res = resolve_place(text, REG)
    assert res.status == "ambiguous"
    assert [c.county_code for c in res.candidates] == counties


def test_two_places_different_centres():
    res = resolve_place("Kiruna eller Malmö", REG)
    assert res.status == "ambiguous"
    assert [(c.county_code, c.kommun_code) for c in res.candidates] == [("25", "2584"), ("12", "1280")]
    assert res.centre_id is None


def test_ambiguous_term_refined_by_kommun():
    _check(resolve_place("Småland, närmare bestämt Växjö", REG), "07", "0780")


# --- unknown ------------------------------------------------------------------------------------

@pytest.mark.parametrize("text,matched", [
    ("jag bor i Narnia", "Narnia"),
    ("jag bor i narnia", "narnia"),
    ("I live in Middle Earth", "Middle Earth"),
    ("Narnia", None),
    ("hej hej", None),
    ("", None),
    ("jag är intresserad av stöd i höst", None),
])
def test_unknown(text, matched):
    res = resolve_place(text, REG)
    assert res.status == "unknown"
    assert res.matched == matched
    assert res.confidence == 0.0 and res.centre_id is None
    if matched:
        assert text[res.span[0]:res.span[1]] == matched


# --- split bodies -------------------------------------------------------------------------------

@pytest.mark.parametrize("text,topic,unit", [
    ("Stockholm", "film_for_children_and_youth", "region-stockholm-konsulenterna"),
    ("Stockholm", "short_film", "film-stockholm-ab"),
    ("Solna", "feature", "film-stockholm-ab"),
    ("Göteborg", "screenings_and_film_culture", "vgr-filmkonsulenterna"),
    ("Göteborg", "feature", "film-i-vast"),
    ("Trollhättan", "short_film", "film-i-vast"),
])
def test_split_units(text, topic, unit):
    res = resolve_place(text, REG, topic=topic)
    assert res.unit and res.unit["id"] == unit
    assert res.to_json()["unit"] == res.unit


def test_no_unit_without_topic_or_split():
    assert resolve_place("Stockholm", REG).unit is None
    assert resolve_place("Mora", REG, topic="short_film").unit is None
    assert resolve_place("Småland", REG, topic="short_film").unit is None


# --- JSON shape ---------------------------------------------------------------------------------

KEYS = ["input", "status", "matched", "kind", "kommun_code", "kommun", "county_code", "county", "centre_id",
        "centre_name", "unit", "confidence", "candidates"]


def test_json_keys_stable():
    for text in ("Mora", "Småland", "Narnia", "jag bor i Narnia", "Stokholm"):
        d = resolve_place(text, REG).to_json()
        assert list(d) == KEYS
        for c in d["candidates"]:
            assert list(c) == ["county_code", "county", "centre_id", "centre_name", "kommun_code", "kommun"]


# --- text helpers -------------------------------------------------------------------------------

def test_text_helpers():
    assert fold("Västra  Götalands-län") == "vastra gotalands lan"
    assert fold("Malung–Sälen") == "malung salen"
    assert fold("Örebro É Ü") == "orebro e u"
    assert "dalarna" in inflection_variants("dalarnas")
    assert "stockholm" in inflection_variants("stockholmsomradet")
    assert "vastra gotaland" in inflection_variants("vastra gotalands")
    toks = tokenize("Jag bor i Malung-Sälen.")
    assert [t.text for t in toks] == ["Jag", "bor", "i", "Malung", "Sälen"]
    assert toks[3].start == 10 and toks[4].end == 22
    decomposed = "Va\u0308stera\u030as"
    assert fold(decomposed) == "vasteras"
    assert resolve_place(decomposed, REG).kommun_code == "1980"


def test_index_rebuilt_for_new_registry_object():
    import copy

    other = copy.deepcopy(REG)
    assert get_index(other) is not get_index(REG)
    assert get_index(REG) is get_index(REG)


# --- property -----------------------------------------------------------------------------------

@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_never_raises(text):
    res = resolve_place(text, REG)
    assert isinstance(res, Resolution)
    d = res.to_json()
    assert list(d) == KEYS
    assert d["status"] in {"found", "ambiguous", "unknown"}
    assert 0.0 <= d["confidence"] <= 1.0
    if d["status"] == "found":
        assert d["centre_id"] and d["county_code"] or d["centre_id"]
    if d["status"] == "ambiguous":
        assert len(d["candidates"]) >= 2
    if res.span:
        assert 0 <= res.span[0] < res.span[1] <= len(text)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["jag", "bor", "i", "Mora", "vara", "mark", "Småland", "Götebrog", "och",
                                 "kommun", "län", "Stockholms", "-", "Malung", "Sälen", "!", " ", "eller",
                                 "Kiruna", "Region", "Skåne"]), max_size=30))
def test_word_soup_never_raises(words):
    text = " ".join(words)
    d = resolve_place(text, REG).to_json()
    assert list(d) == KEYS


@pytest.mark.parametrize("text", ["jag har filmat i Holland", "Helsingfors", "Kina", "vi spelade in i Sven",
                                  "Svea", "jag har bott i Norge"])
def test_foreign_and_names_not_fuzzy_matched(text):
    assert resolve_place(text, REG).status == "unknown"
