"""bot.places.resolve_place against the real registry (registry/registry.yaml)."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.places import Resolution, field_of, get_index, load_registry_any, resolve_place
from bot.text import fold, inflection_variants, strip_diacritics, tokenize

REG = load_registry_any()


def _counties():
    return list(field_of(REG, "counties"))


def _kommuner():
    for c in _counties():
        for k in field_of(c, "kommuner"):
            yield str(field_of(k, "code")), str(field_of(k, "name")), str(field_of(c, "code"))


def _centre_of_county(code):
    for c in _counties():
        if str(field_of(c, "code")) == code:
            return field_of(c, "centre")
    raise KeyError(code)


KOMMUNER = list(_kommuner())
COUNTIES = [(str(field_of(c, "code")), str(field_of(c, "name")), list(field_of(c, "short_forms") or [])) for c in _counties()]
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
    ("bor i boden och vill göra kortfilm", "25", "kommun", "2582"),
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
    ("Uppsla", "0380"), ("Uppsalla", "0380"),
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

AMBIGUOUS = [(str(field_of(a, "term")), [str(c) for c in field_of(a, "counties")], field_of(a, "default"))
             for a in field_of(REG, "ambiguous") or []]


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
    assert d["status"] in {"found", "ambiguous", "foreign", "unknown"}
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


@pytest.mark.parametrize("text,status", [
    ("jag har filmat i Holland", "foreign"), ("Helsingfors", "foreign"), ("Kina", "foreign"),
    ("vi spelade in i Sven", "unknown"), ("Svea", "unknown"), ("jag har bott i Norge", "foreign"),
])
def test_foreign_and_names_not_fuzzy_matched(text, status):
    res = resolve_place(text, REG)
    assert res.status == status, res.to_json()
    assert res.centre_id is None and res.county_code is None and not res.candidates


# --- find_places: every mention ---------------------------------------------------------------------

from bot.places import Mention, find_places  # noqa: E402
from bot.text import demonym_forms  # noqa: E402


def _mentions(text, **kw):
    return [(m.text, m.kind, m.status, m.county_code) for m in find_places(text, REG, **kw)]


def test_find_places_spans_and_order():
    text = "Jag bor i Mora kommun men jobbar i Umeå och ibland i Malmö."
    ms = find_places(text, REG)
    assert [m.text for m in ms] == ["Mora kommun", "Umeå", "Malmö"]
    assert [m.kommun_code for m in ms] == ["2062", "2480", "1280"]
    for m in ms:
        assert isinstance(m, Mention) and text[m.span[0]:m.span[1]] == m.text
        assert m.status == "found" and m.kind == "kommun" and m.confidence == 1.0 and not m.weak
        assert m.centre_id == _centre_of_county(m.county_code)
    starts = [m.span[0] for m in ms]
    assert starts == sorted(starts)
    assert all(a.span[1] <= b.span[0] for a, b in zip(ms, ms[1:]))       # non-overlapping


def test_find_places_mixed_kinds():
    ms = find_places("Småland, närmare bestämt Växjö, eller kanske Västra Götalands län", REG)
    assert [(m.text, m.status) for m in ms] == [("Småland", "ambiguous"), ("Växjö", "found"),
                                                ("Västra Götalands län", "found")]
    assert [c.county_code for c in ms[0].candidates] == ["06", "07", "08"]
    assert ms[2].kind == "county" and ms[2].county_code == "14" and ms[2].kommun_code is None


def test_find_places_nothing():
    assert find_places("", REG) == [] and find_places(None, REG) == []
    assert find_places("hur söker jag produktionsstöd?", REG) == []
    for text in NOT_PLACES:
        assert all(m.status == "unknown" for m in find_places(text, REG)), text


def test_find_places_same_rules_as_resolve_place():
    for text, kommun in [("Götebrog", "1480"), ("jag bor i Stokholm", "0180")]:      # typos
        (m,) = find_places(text, REG)
        assert m.kommun_code == kommun and 0.6 <= m.confidence < 0.9
    (m,) = find_places("jag bor i vara", REG)                    # everyday word after a cue: weak
    assert m.kommun_code == "1470" and m.weak and m.confidence == 0.85
    assert _mentions("Mora i Dalarna") == [("Mora", "kommun", "found", "20"), ("Dalarna", "county", "found", "20")]
    assert _mentions("Mora är fint") == []                      # sentence-initial everyday word alone
    assert _mentions("Boden i Norrbotten")[0][:2] == ("Boden", "kommun")
    assert find_places("Boden i Norrbotten", REG)[0].weak


def test_find_places_exclude_spans():
    text = "Jag vill kontakta Film i Öst om kortfilm i Norrköping"
    a = text.index("Film i Öst")
    assert [m.text for m in find_places(text, REG, exclude_spans=[(a, a + len("Film i Öst"))])] == ["Norrköping"]
    text = "Film i Skåne eller Malmö?"
    assert [m.text for m in find_places(text, REG)] == ["Skåne", "Malmö"]
    assert [m.text for m in find_places(text, REG, exclude_spans=[(0, 12)])] == ["Malmö"]
    # a masked word is not a cue, and not the "kommun" of a match
    assert find_places("Film i Narnia", REG, exclude_spans=[(0, 6)]) == []
    (m,) = find_places("Umeå kommun", REG, exclude_spans=[(5, 11)])
    assert m.text == "Umeå" and m.span == (0, 4)
    # a span covering part of a multi-word name blocks it
    assert find_places("Västra Götalands län", REG, exclude_spans=[(0, 6)])[0].text == "Götalands län"


def test_find_places_unknown():
    assert _mentions("jag bor i Narnia") == [("Narnia", "unknown", "unknown", None)]
    assert _mentions("jag bor i Narnia men jobbar i Mordor") == [("Narnia", "unknown", "unknown", None),
                                                               ("Mordor", "unknown", "unknown", None)]
    assert _mentions("I live in Middle Earth") == [("Middle Earth", "unknown", "unknown", None)]
    assert _mentions("jag bor i narnia och undrar om stöd") == [("narnia", "unknown", "unknown", None)]
    (m,) = find_places("hej, jag kommer från Ankeborg.", REG)
    assert m.text == "Ankeborg" and m.confidence == 0.0 and m.centre_id is None
    # a known place wins: no unknown mentions beside it
    assert _mentions("jag bor i Narnia och Mora") == [("Mora", "kommun", "found", "20")]


@pytest.mark.parametrize("text", [
    "jag bor i en liten by utanför stan och undrar om stöd",
    "Jag Bor I En Liten By Utanför Stan Och Undrar Om Stöd",
    "jag bor i lägenhet med min sambo och vill göra film",
    "I Live In The Big City Of Somewhere Far Away",
    "jag bor i Stora Mossens Lilla Gröna By",
    "vi bor i ett hus nära skogen",
    "JAG BOR I EN LITEN BY OCH UNDRAR OM STÖD",
])
def test_unknown_mention_never_a_clause(text):
    for m in find_places(text, REG):
        assert len(m.text.split()) <= 3, m
    res = resolve_place(text, REG)
    assert res.status == "unknown"
    assert res.matched is None or len(res.matched.split()) <= 3, res.to_json()
    assert res.matched is None                                   # none of these names a place


# --- demonyms and regional words ------------------------------------------------------------------

DEMONYMS = [
    ("gotlänning", "09"), ("Gotlänningar", "09"), ("gotlänningarna", "09"), ("gotlänningarnas", "09"),
    ("gotlänningen", "09"), ("gotlanning", "09"),
    ("skåning", "12"), ("skåningar", "12"), ("skåningarna", "12"), ("skånsk", "12"), ("skånska", "12"),
    ("värmlänning", "17"), ("värmlänningarna", "17"), ("norrbottning", "25"), ("norrbottningar", "25"),
    ("västerbottning", "24"), ("jämte", "23"), ("jämtar", "23"), ("jämtarna", "23"), ("jämtländsk", "23"),
    ("jämtländska", "23"), ("härjedaling", "23"), ("härjedalingar", "23"), ("dalkarl", "20"),
    ("dalkarlarna", "20"), ("dalkulla", "20"), ("dalkullor", "20"), ("dalmas", "20"), ("dalmasar", "20"),
    ("göteborgare", "14"), ("göteborgarna", "14"), ("stockholmare", "01"), ("stockholmarna", "01"),
    ("uppsalabo", "03"), ("uppsalabor", "03"), ("upsaliensare", "03"), ("hallänning", "13"),
    ("hallänningar", "13"), ("blekinging", "10"), ("blekingingar", "10"), ("ölänning", "08"),
    ("ölänningar", "08"), ("östgöte", "05"), ("östgötar", "05"), ("östgötarna", "05"), ("västgöte", "14"),
    ("västgötar", "14"), ("sörmlänning", "04"), ("sörmlänningar", "04"), ("gästrikling", "21"),
    ("hälsing", "21"), ("hälsinge", "21"), ("hälsingar", "21"), ("medelpading", "22"),
    ("ångermanlänning", "22"), ("ångermanlänningar", "22"),
]


@pytest.mark.parametrize("word,county", DEMONYMS, ids=[d[0] for d in DEMONYMS])
def test_demonyms(word, county):
    for text in (word, f"Vi är {word} och vill göra en kortfilm", f"jag är {word}"):
        res = resolve_place(text, REG)
        _check(res, county)
        assert res.kind == "demonym" and res.matched.casefold() == word.casefold(), res.to_json()
        assert 0.9 <= res.confidence <= 1.0
    (m,) = find_places(f"hej, {word} här", REG)
    assert (m.kind, m.status, m.county_code) == ("demonym", "found", county)
    assert m.centre_id == _centre_of_county(county)


def test_demonym_kommun_and_confidence():
    res = resolve_place("jag är göteborgare", REG)
    assert res.kommun_code == "1480" and res.kommun == "Göteborg" and res.kind == "demonym"
    assert resolve_place("uppsalabo", REG).kommun_code == "0380"
    assert resolve_place("gotlänning", REG).confidence == 1.0
    assert resolve_place("gotlänningarna", REG).confidence == 0.95       # generated form
    assert resolve_place("gotlänningarnas", REG).confidence == 0.9       # + genitive
    assert resolve_place("gotlanning", REG).confidence == 0.95           # no diacritics
    assert demonym_forms("Gotlänning") == ["gotlänningen", "gotlänningar", "gotlänningarna"]
    assert demonym_forms("jämte") == ["jämten", "jämtar", "jämtarna"]
    assert demonym_forms("skånsk") == ["skånska", "skånskt"]
    assert demonym_forms("göteborgare") == ["göteborgaren", "göteborgarna"]
    assert demonym_forms("uppsalabo") == ["uppsalabon", "uppsalabor", "uppsalaborna"]
    assert demonym_forms("dalkulla") == ["dalkullan", "dalkullor", "dalkullorna"]


NORRLAND_CODES = ["21", "22", "23", "24", "25"]
WEST_COAST = ["14", "13", "12"]


@pytest.mark.parametrize("text,matched,counties,kind", [
    ("smålänning", "smålänning", ["06", "07", "08"], "demonym"),
    ("vi är smålänningar", "smålänningar", ["06", "07", "08"], "demonym"),
    ("norrlänning", "norrlänning", NORRLAND_CODES, "demonym"),
    ("vi är norrlänningarna", "norrlänningarna", NORRLAND_CODES, "demonym"),
    ("jag bor i Norrland", "Norrland", NORRLAND_CODES, "region"),
    ("jag bor uppe i norr", "uppe i norr", NORRLAND_CODES, "region"),
    ("vi bor i norra Sverige", "norra Sverige", NORRLAND_CODES, "region"),
    ("I live in the north", "the north", NORRLAND_CODES, "region"),
    ("we are based in northern Sweden", "northern Sweden", NORRLAND_CODES, "region"),
    ("Övre Norrland", "Övre Norrland", ["24", "25"], "region"),
    ("jag bor på västkusten", "västkusten", WEST_COAST, "region"),
    ("Västkustens filmare", "Västkustens", WEST_COAST, "region"),
    ("I live on the west coast", "the west coast", WEST_COAST, "region"),
    ("I live in western Sweden", "western Sweden", ["14", "13"], "region"),
    ("jag bor på ön", "på ön", ["09", "08"], "region"),
    ("Vi bor ute på ön och vill filma", "på ön", ["09", "08"], "region"),
])
def test_ambiguous_regional_words(text, matched, counties, kind):
    res = resolve_place(text, REG)
    assert res.status == "ambiguous", res.to_json()
    assert res.matched == matched and res.kind == kind
    assert [c.county_code for c in res.candidates] == counties
    assert len(res.candidates) <= 5 and res.centre_id is None
    (m,) = find_places(text, REG)
    assert (m.text, m.status, m.kind) == (matched, "ambiguous", kind)
    assert [c.county_code for c in m.candidates] == counties


def test_regional_word_refined_more():
    _check(resolve_place("Habo kommun, fast vi känner oss som västgötar", REG), "06", "0643")
    _check(resolve_place("Västergötland, Habo", REG), "06", "0643")
    res = resolve_place("jag är skåning men bor i Stockholm", REG)       # two centres: ask back
    assert res.status == "ambiguous" and [c.county_code for c in res.candidates] == ["12", "01"]
    assert resolve_place("which centre sits furthest to the north?", REG).status == "unknown"
    assert resolve_place("We're based up in the north of Sweden.", REG).status == "ambiguous"
    _check(resolve_place("West Sweden Film Service", REG), "14")


def test_regional_word_refined():
    _check(resolve_place("jag bor på ön Tjörn", REG), "14", "1419")
    assert _mentions("jag bor på ön Tjörn") == [("Tjörn", "kommun", "found", "14")]
    _check(resolve_place("smålänning, bor i Växjö", REG), "07", "0780")
    _check(resolve_place("gotlänning från Visby", REG), "09")


def test_registry_lists_place_words():
    terms = {str(field_of(a, "term")).casefold(): a for a in field_of(REG, "ambiguous")}
    for term, kind in [("gotlänning", "demonym"), ("smålänning", "demonym"), ("västkusten", "region"),
                       ("på ön", "region"), ("the north", "region")]:
        a = terms[term]
        assert field_of(a, "kind") == kind and field_of(a, "advice_sv")
    assert [str(c) for c in field_of(terms["smålänning"], "counties")] == ["06", "07", "08"]
    assert field_of(terms["värmlänning"], "default") == "17"
    assert list(field_of(terms["göteborgare"], "kommuner")) == ["1480"]


# --- places outside Sweden ------------------------------------------------------------------------

FOREIGN = ["Oslo", "Köpenhamn", "Åland", "Helsingfors", "Helsinki", "Norge", "Danmark", "Finland", "Berlin",
           "Tromsø", "Tromsö", "Trondheim", "Bergen", "Aarhus", "Tallinn", "London", "Paris", "New York",
           "Holland", "Helsingör", "Åbo", "Mariehamn", "Reykjavik"]


@pytest.mark.parametrize("name", FOREIGN)
def test_foreign_places(name):
    for text in (name, f"jag bor i {name}", f"Vi spelar in i {name} nästa år"):
        res = resolve_place(text, REG)
        assert res.status == "foreign" and res.kind == "foreign", res.to_json()
        assert res.matched == name and text[res.span[0]:res.span[1]] == name
        assert res.centre_id is None and res.county_code is None and not res.candidates
        (m,) = find_places(text, REG)
        assert (m.text, m.kind, m.status, m.county_code, m.centre_id) == (name, "foreign", "foreign", None, None)


@pytest.mark.parametrize("text", ["helsinfors", "Hollland", "Helsingfor", "Åländ", "Köpenhamns"])
def test_foreign_never_fuzzy_swedish(text):
    res = resolve_place(text, REG)
    assert res.status in ("foreign", "unknown") and res.centre_id is None, res.to_json()


def test_foreign_inflected_and_plain():
    assert resolve_place("Norges filmfond", REG).status == "foreign"
    res = resolve_place("tromso", REG)
    assert res.status == "foreign" and res.confidence == 0.95
    assert resolve_place("vi filmade i bergen", REG).status == "unknown"     # "the mountains"
    assert resolve_place("Island är fint", REG).status == "unknown"
    assert resolve_place("I live on an island", REG).status == "unknown"
    assert resolve_place("jag har bott på Island", REG).status == "foreign"


def test_foreign_and_swedish_together():
    text = "Jag kommer från Oslo men bor nu i Mora"
    assert _mentions(text) == [("Oslo", "foreign", "foreign", None), ("Mora", "kommun", "found", "20")]
    _check(resolve_place(text, REG), "20", "2062")
    assert _mentions("Helsingfors eller Helsingborg") == [("Helsingfors", "foreign", "foreign", None),
                                                          ("Helsingborg", "kommun", "found", "12")]
    assert _mentions("Holland och Halland") == [("Holland", "foreign", "foreign", None),
                                                ("Halland", "county", "found", "13")]
    assert _mentions("Åland eller Öland")[0][1:] == ("foreign", "foreign", None)
    assert _mentions("Åland eller Öland")[1][3] == "08"
    _check(resolve_place("Köpenhamn eller Malmö", REG), "12", "1280")


def test_mention_json():
    (m,) = find_places("Småland", REG)
    d = m.to_json()
    assert list(d) == ["text", "span", "kind", "status", "county_code", "county", "kommun_code", "kommun",
                       "centre_id", "centre_name", "confidence", "candidates", "weak"]
    assert len(d["candidates"]) == 3


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200), st.lists(st.tuples(st.integers(0, 200), st.integers(0, 200)), max_size=3))
def test_find_places_never_raises(text, spans):
    ms = find_places(text, REG, exclude_spans=spans)
    prev_end = 0
    for m in ms:
        assert m.status in {"found", "ambiguous", "foreign", "unknown"}
        assert prev_end <= m.span[0] < m.span[1] <= len(text)
        assert text[m.span[0]:m.span[1]] == m.text
        assert not any(a < m.span[1] and m.span[0] < b for a, b in spans if b > a)
        if m.status == "unknown":
            assert len(m.text.split()) <= 3
        prev_end = m.span[1]
