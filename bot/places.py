"""Place resolution: free text -> kommun / län / centre (pure Python, no Rasa).

``resolve_place(text, registry=None, topic=None) -> Resolution``: the one place a message names.
``find_places(text, registry=None, exclude_spans=()) -> [Mention]``: every place mention, left to right,
non-overlapping, with the same rules (both share ``_scan``); text inside ``exclude_spans`` (a masked centre
name such as "Film i Öst") is ignored: no match, cue or "kommun"/"län" word is taken from it.

How it works
- An index is built once per Registry object (rebuilt when ``get_registry()`` hands out a new object
  after a hot reload). Keys are folded (casefold, no diacritics, hyphens as spaces): kommun names,
  län names and short forms, "region <län>", landskap, towns, the registry's ambiguous terms and
  FOREIGN_NAMES. Ambiguous terms of kind "demonym" (gotlänning, jämte, skånsk, ...; scripts/place_words.yaml)
  also get their definite/plural forms (``bot.text.demonym_forms``: gotlänningarna, jämtar, skånska; 0.95);
  a term with one län (or a default) is found, with several it is ambiguous; ``kommuner: [one]`` names the
  kommun ("göteborgare" -> Göteborg). Mention kinds: landskap; region (landsdel/region terms: Norrland,
  "uppe i norr", västkusten, "på ön"); demonym. "på ön" gives way to a place right after it ("på ön Tjörn").
- Places abroad (FOREIGN_NAMES: Oslo, Åland, Helsingfors, Holland, ...) match exactly (inflected and
  diacritic-free too) and give status/kind "foreign"; a Swedish key with the same fold wins. They are never
  fuzzy-matched. resolve_place returns "foreign" only when no Swedish place is named.
- Matching is longest-first over token n-grams (up to the longest key, max 4 tokens), left to right.
  Each n-gram is tried as written, then with genitive/definite/compound endings removed
  ("Dalarnas" -> Dalarna, "Stockholmsområdet" -> Stockholm). "Västerås" matches as written, so its
  final s is never lost.
- One key can name several things. Precedence: kommun > county (name/short form) > town > landskap;
  "Stockholm" is the kommun (same centre as the län); "Stockholms län" is the län. A following
  "kommun"/"län" token steers the choice and is included in the span. An ambiguous term from the
  registry (Småland, Uppland, ...) without a default gives status "ambiguous" unless it is also a
  kommun name.
- Everyday words (PROTECTED, see below) only count as places when capitalised (not merely at the start
  of a sentence), preceded by a place cue (i, från, nära, in, from, ...), followed by "kommun"/"län",
  or when they are the whole message. "boden", "klippan", "salen" are definite nouns ("the shed",
  "the rock", "the hall"), so for them a lowercase "i"/"på" cue is not enough.
- Typos: only when nothing matched exactly, tokens of length >= 5 that are not stop/domain words or
  well-known foreign places are compared (rapidfuzz OSA distance, transpositions count 1) against
  keys with the same first letter and similar length; 1 edit for 5-7 letters, 2 for >= 8. Not 4-letter
  words (Sven/Sveg, Kina/Kinna). Lowercase typos need a place cue or a short message (<= 3 words).
  Ties between different centres are ignored.
- Several places in one message: all naming the same centre -> found (the most specific one);
  different centres -> ambiguous with one candidate per place (foreign mentions are ignored there). A
  landskap/region/demonym word read through its default gives way to a kommun/län/town in one of its
  län ("Västergötland, Habo" -> Habo); "the north" counts only after in/from/i/från (CUED_TERMS).
- Unknown places (only when nothing Swedish or foreign matched): after a place cue, a run of at most 3
  capitalised, non-stop words joined by spaces/hyphens ("Middle Earth"; a longer Title Case run is no name),
  or after a strong cue ("bor i", "kommer från") one lowercase word that ends its clause ("jag bor i narnia
  och ..."), never a stop word, so "jag bor i en liten by utanför stan" names nothing.

Confidence: exact 1.0; diacritic-free or inflected 0.95 (both: 0.9); compound ("-området") 0.9;
everyday word accepted through a weak signal 0.85; fuzzy 0.6-0.85; unknown 0.0.
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from rapidfuzz import process
from rapidfuzz.distance import OSA, Indel

from bot.text import STOP_WORDS, Token, casefold_keep, demonym_forms, fold, inflection_variants, tokenize

KIND_RANK = {"kommun": 0, "county": 1, "town": 2, "landskap": 3, "region": 4, "demonym": 5, "foreign": 9}
MAX_NGRAM = 4

# Place names that are also everyday words (folded). Single-token keys that are Swedish/English stop
# words are added automatically when the index is built (e.g. "vara"/"våra", "are" for Åre).
PROTECTED = frozenset(
    """
    vara mark ale are sala boden mora berg klippan lund nora eda kil salem mala skara ange kinda
    salen vg ed kullen ven hoglandet bergen island wales
    """.split()
)
# Definite-form nouns: "i boden" is "in the shed"; need a capital letter, "kommun", or the whole message.
DEFINITE_NOUNS = frozenset({"boden", "klippan", "salen", "kullen", "hoglandet", "bergen"})
# Where one lives: before these a definite noun is the place ("bor i boden").
HOME_CUES = frozenset({("bor", "i"), ("bodde", "i"), ("boende", "i"), ("flyttat", "till"), ("flyttar", "till"),
                       ("flytta", "till"), ("lives", "in"), ("live", "in"), ("living", "in")})

# Places outside Sweden people name ("jag bor i Oslo", "we are based in Helsinki"): exact (and inflected /
# diacritic-free) matches give a "foreign" mention; they are never fuzzy-matched to a Swedish name
# (Holland/Halland, Helsingfors/Helsingborg, Kina/Kinna, Åland/Öland). A Swedish key with the same fold wins.
# (Kristiansand is left out on purpose: it is a common typo of Kristianstad.)
FOREIGN_NAMES: Tuple[str, ...] = tuple(w.strip() for w in """
    Norge, Norway, Danmark, Denmark, Finland, Island, Iceland, Färöarna, Grönland, Greenland, Åland, Ahvenanmaa,
    Tyskland, Germany, Polen, Poland, Estland, Estonia, Lettland, Latvia, Litauen, Lithuania, Ryssland, Russia,
    Ukraina, Ukraine, England, Storbritannien, Skottland, Scotland, Wales, Irland, Ireland, Nederländerna,
    Netherlands, Holland, Belgien, Belgium, Frankrike, France, Spanien, Spain, Portugal, Italien, Italy,
    Grekland, Greece, Schweiz, Switzerland, Österrike, Austria, Tjeckien, Ungern, Turkiet, USA, Kanada, Canada,
    Kina, Japan, Indien, Australien, Australia, Thailand, Malta, Cypern, Kreta, Mallorca, Malaga,
    Oslo, Bergen, Trondheim, Stavanger, Tromsø, Tromsö, Narvik, Bodø, Bodö, Drammen, Fredrikstad, Halden,
    Lillehammer, Ålesund, Kirkenes, Hammerfest, Svalbard, Lofoten,
    Köpenhamn, København, Copenhagen, Aarhus, Århus, Odense, Aalborg, Ålborg, Helsingør, Helsingör, Esbjerg,
    Bornholm, Jylland, Jutland,
    Helsingfors, Helsinki, Åbo, Turku, Tammerfors, Tampere, Uleåborg, Oulu, Vaasa, Mariehamn, Rovaniemi,
    Torneå, Tornio, Lahtis, Lahti, Reykjavik, Reykjavík,
    Tallinn, Riga, Vilnius, Sankt Petersburg, Moskva, Moscow, Berlin, Hamburg, München, Munich, Köln, Frankfurt,
    London, Manchester, Edinburgh, Glasgow, Dublin, Paris, Cannes, Amsterdam, Bryssel, Brussels, Wien, Vienna,
    Prag, Prague, Warszawa, Warsaw, Gdansk, Madrid, Barcelona, Lissabon, Lisbon, Aten, Athens, Istanbul,
    Venedig, Venice, Kyiv, Kiev, New York, Los Angeles, Hollywood, Bollywood, Boston, Dallas, Miami, Texas,
    Kalifornien, California, Toronto, Sydney, Tokyo, Peking, Beijing, Shanghai
""".replace("\n", " ").split(",") if w.strip())
# Never fuzzy-matched: single folded tokens of the foreign names.
FOREIGN_PLACES = frozenset(fold(w) for w in FOREIGN_NAMES if " " not in w.strip())
# Foreign names that are also everyday words: "bergen" (the mountains), "island" (English).
FOREIGN_PROTECTED = frozenset({"bergen", "island", "wales", "turkey", "china"})

# Terms that only say "somewhere" and give way to a place named right after them ("på ön Tjörn").
GENERIC_TERMS = frozenset({"pa on"})
# Terms that count only after a place cue: "in the north", not "furthest to the north".
CUED_TERMS = {"the north": frozenset({"in", "from", "i", "fran"})}
# Registry `ambiguous[].kind` -> mention kind.
TERM_KINDS = {"landskap": "landskap", "landsdel": "region", "region": "region", "demonym": "demonym"}

# Tokens (folded) that announce a place.
PLACE_CUES = frozenset(
    """
    i fran ifran runt utanfor nara kring till mot vid
    in from near around outside at to
    """.split()
)
# Cues strong enough to name an unknown lowercase word as the place ("jag bor i narnia").
STRONG_CUES = frozenset({("bor", "i"), ("bor", "pa"), ("bor", "nara"), ("kommer", "fran"), ("live", "in"),
                         ("living", "in"), ("based", "in"), ("am", "from"), ("im", "from"), ("come", "from")})
# Words before a protected word that make it a person's name ("jag heter Nora", "my name is Mark").
NAME_CUES = frozenset({"heter", "named", "called", "kallas", "name", "namn"})
# After a place named first in a message: "Åmotfors här.", "vetlnada här, söker stöd", "Sala ligger i ..."
HERE_WORDS = frozenset({"här", "here"})      # as written: "har" (has) is no "här"
BELONGING_VERBS = frozenset({"ligger", "hor", "horde", "raknas", "tillhor", "gransar", "belongs", "lies"})
KOMMUN_WORDS = frozenset({"kommun", "kommuns", "kommunen", "municipality", "stad"})
COUNTY_WORDS = frozenset({"lan", "lans", "county", "lanet"})
WEAK = -1.0
_SENTENCE_END = re.compile(r"[.!?:;\n]\s*$")
_NEXT_PUNCT = re.compile(r"^\s*(?:$|[,.!?;:)\]\"'»”–—]|-\s)")


# ---------------------------------------------------------------------------------------------------
# Result types

@dataclass(frozen=True)
class Candidate:
    county_code: str
    county: str
    centre_id: Optional[str]
    centre_name: Optional[str]
    kommun_code: Optional[str] = None
    kommun: Optional[str] = None

    def to_json(self) -> Dict[str, Any]:
        return {
            "county_code": self.county_code,
            "county": self.county,
            "centre_id": self.centre_id,
            "centre_name": self.centre_name,
            "kommun_code": self.kommun_code,
            "kommun": self.kommun,
        }


@dataclass
class Resolution:
    input: str
    status: str = "unknown"                     # "found" | "ambiguous" | "foreign" | "unknown"
    matched: Optional[str] = None               # surface text
    span: Optional[Tuple[int, int]] = None
    kind: Optional[str] = None                  # "kommun" | "county" | "town" | "landskap" | "region" | "demonym" | "foreign"
    kommun_code: Optional[str] = None
    kommun: Optional[str] = None
    county_code: Optional[str] = None
    county: Optional[str] = None
    centre_id: Optional[str] = None
    centre_name: Optional[str] = None
    confidence: float = 0.0
    candidates: List[Candidate] = field(default_factory=list)
    unit: Optional[Dict[str, str]] = None       # {"id", "name"} when a topic routes to a unit

    @property
    def found(self) -> bool:
        return self.status == "found"

    def to_json(self) -> Dict[str, Any]:
        return {
            "input": self.input,
            "status": self.status,
            "matched": self.matched,
            "kind": self.kind,
            "kommun_code": self.kommun_code,
            "kommun": self.kommun,
            "county_code": self.county_code,
            "county": self.county,
            "centre_id": self.centre_id,
            "centre_name": self.centre_name,
            "unit": dict(self.unit) if self.unit else None,
            "confidence": round(float(self.confidence), 3),
            "candidates": [c.to_json() for c in self.candidates],
        }


# ---------------------------------------------------------------------------------------------------
# Registry adapter: accepts pydantic objects or plain dicts

def field_of(obj: Any, name: str, default: Any = None) -> Any:
    """A field of a registry object or of its plain-dict form."""
    if obj is None:
        return default
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _names(values: Any) -> List[str]:
    """Strings from a list of strings or of {name: ...} objects."""
    out = []
    for v in values or []:
        if isinstance(v, str):
            out.append(v)
        else:
            n = field_of(v, "name")
            if n:
                out.append(str(n))
    return out


def _centre_of(registry: Any, centre_id: Optional[str]) -> Any:
    if not centre_id:
        return None
    try:
        return registry.centre(centre_id)
    except Exception:
        for c in field_of(registry, "centres", []) or []:
            if field_of(c, "id") == centre_id:
                return c
    return None


def unit_for(registry: Any, centre_id: Optional[str], topic: Optional[str]) -> Optional[Dict[str, str]]:
    """{id, name} of the unit of a split centre handling ``topic``; None if not split or no topic."""
    if not topic or not centre_id:
        return None
    centre = _centre_of(registry, centre_id)
    units = field_of(centre, "units", None) or []
    if not units:
        return None
    unit = None
    fn = getattr(registry, "unit_for", None)
    if callable(fn):
        try:
            unit = fn(centre_id, topic)
        except Exception:
            unit = None
    if unit is None:
        for u in units:
            if topic in (field_of(u, "topics", None) or []):
                unit = u
                break
    if unit is None:
        return None
    return {"id": str(field_of(unit, "id")), "name": str(field_of(unit, "name"))}


# ---------------------------------------------------------------------------------------------------
# Index

@dataclass(frozen=True)
class Target:
    kind: str
    county_code: str
    kommun_code: Optional[str]
    name: str                  # name of the kommun/town/landskap/county matched
    accents: frozenset         # casefold_keep spellings that count as exact


@dataclass
class KeyInfo:
    targets: List[Target] = field(default_factory=list)
    ambiguous: Optional[Tuple[str, ...]] = None     # county codes, when an ambiguous term without default
    default: Optional[str] = None                   # default county of an ambiguous term
    term_accents: frozenset = frozenset()
    term_kind: Optional[str] = None                 # mention kind of a registry term (landskap/region/demonym)
    term_kommun: Optional[str] = None               # kommun of a one-kommun term ("göteborgare" -> 1480)
    form_conf: float = 1.0                          # < 1 for generated forms ("gotlänningarna")
    foreign: Optional[str] = None                   # name of a place outside Sweden
    term_counties: Tuple[str, ...] = ()             # all counties of a registry term (also with a default)


class PlaceIndex:
    def __init__(self, registry: Any):
        self.registry = registry
        self.keys: Dict[str, KeyInfo] = {}
        self.county_info: Dict[str, Tuple[str, Optional[str], Optional[str]]] = {}  # code -> (name, centre id, name)
        self.kommun_info: Dict[str, Tuple[str, str]] = {}                            # code -> (name, county code)
        self.localities: set = set()        # keys from the gazetteer: count only when written as a place
        self.word_localities: set = set()   # ... and those that are everyday words: only as a name
        self._build()
        self.protected = frozenset(
            k for k in self.keys if " " not in k and (k in PROTECTED or k in STOP_WORDS or k in FOREIGN_PROTECTED)
        ) | frozenset(k for k in self.localities if " " not in k)
        self.max_words = min(MAX_NGRAM, max((k.count(" ") + 1 for k in self.keys), default=1))
        self.first_words = frozenset(k.split(" ", 1)[0] for k in self.keys if " " in k)
        # Fuzzy choices bucketed by first letter: single-word keys (not protected) and multi-word keys.
        self.fuzzy_buckets: Dict[Tuple[str, int], List[str]] = {}
        # Foreign names by the same buckets: a typo at least as close to one of them is not a Swedish place.
        self.foreign_buckets: Dict[Tuple[str, int], List[str]] = {}
        for k, info in self.keys.items():
            if info.foreign and not (info.targets or info.ambiguous or info.default):
                self.foreign_buckets.setdefault((k[0], k.count(" ") + 1), []).append(k)
            if k in self.protected or len(k.replace(" ", "")) < 4 or info.foreign or info.form_conf < 1.0:
                continue
            self.fuzzy_buckets.setdefault((k[0], k.count(" ") + 1), []).append(k)

    # -- building -------------------------------------------------------------------------------
    def _add(self, surface: str, target_kind: str, county_code: str, kommun_code: Optional[str], name: str) -> None:
        key = fold(surface)
        if not key:
            return
        info = self.keys.setdefault(key, KeyInfo())
        accents = frozenset({casefold_keep(surface)})
        for i, t in enumerate(info.targets):
            if (t.kind, t.county_code, t.kommun_code, t.name) == (target_kind, county_code, kommun_code, name):
                info.targets[i] = Target(t.kind, t.county_code, t.kommun_code, t.name, t.accents | accents)
                return
        info.targets.append(Target(target_kind, county_code, kommun_code, name, accents))

    def _build(self) -> None:
        reg = self.registry
        for county in field_of(reg, "counties", []) or []:
            code = str(field_of(county, "code"))
            cname = str(field_of(county, "name"))
            centre_id = field_of(county, "centre") or field_of(county, "centre_id")
            if centre_id is not None and not isinstance(centre_id, str):
                centre_id = field_of(centre_id, "id")
            centre = _centre_of(reg, centre_id)
            self.county_info[code] = (cname, centre_id, field_of(centre, "name"))
            short = [cname] + _names(field_of(county, "short_forms", []))
            for s in short:
                self._add(s, "county", code, None, cname)
                self._add("region " + s, "county", code, None, cname)
            region_body = field_of(county, "region_body")
            if region_body:
                self._add(str(region_body), "county", code, None, cname)
            for ls in _names(field_of(county, "landskap", [])):
                self._add(ls, "landskap", code, None, ls)
            for k in field_of(county, "kommuner", []) or []:
                kcode, kname = str(field_of(k, "code")), str(field_of(k, "name"))
                self.kommun_info[kcode] = (kname, code)
                self._add(kname, "kommun", code, kcode, kname)
        for town in field_of(reg, "towns", []) or []:
            tname = field_of(town, "name")
            kcode = field_of(town, "kommun")
            ccode = field_of(town, "county")
            if kcode and str(kcode) in self.kommun_info:
                ccode = self.kommun_info[str(kcode)][1]
            if not tname or not ccode or str(ccode) not in self.county_info:
                continue
            self._add(str(tname), "town", str(ccode), str(kcode) if kcode else None, str(tname))
        self._add_localities()
        for amb in field_of(reg, "ambiguous", []) or []:
            term = field_of(amb, "term") or ""
            counties = tuple(str(c) for c in (field_of(amb, "counties", []) or []) if str(c) in self.county_info)
            default = field_of(amb, "default")
            if not counties:
                continue
            kind = TERM_KINDS.get(str(field_of(amb, "kind") or ""), "landskap")
            kommuner = [str(k) for k in (field_of(amb, "kommuner", []) or []) if str(k) in self.kommun_info]
            for part in str(term).split("/"):
                part = part.strip()
                if not part:
                    continue
                forms = [(part, 1.0)]
                if kind == "demonym" and " " not in part:
                    forms += [(f, 0.95) for f in demonym_forms(part)]
                for form, fconf in forms:
                    key = fold(form)
                    if not key:
                        continue
                    info = self.keys.get(key)
                    if info is None:
                        info = self.keys[key] = KeyInfo(form_conf=fconf)
                    elif fconf < 1.0 and (info.targets or info.term_kind):
                        continue                 # a generated form never overrides a real name
                    info.term_accents = info.term_accents | {casefold_keep(form)}
                    info.term_kind = info.term_kind or kind
                    info.term_counties = info.term_counties or counties
                    if default and str(default) in self.county_info:
                        info.default = str(default)
                    elif len(counties) == 1:
                        info.default = counties[0]
                    else:
                        info.ambiguous = counties
                    if info.default and len(kommuner) == 1 and self.kommun_info[kommuner[0]][1] == info.default:
                        info.term_kommun = kommuner[0]
        for name in FOREIGN_NAMES:
            key = fold(name)
            if key and key not in self.keys:
                self.keys[key] = KeyInfo(foreign=name, term_accents=frozenset({casefold_keep(name)}))
            elif key in self.keys and self.keys[key].foreign:
                info = self.keys[key]
                info.term_accents = info.term_accents | {casefold_keep(name)}

    def _add_localities(self) -> None:
        """Localities of the gazetteer (registry/localities.tsv) the registry does not name already: one
        län -> a town of that län; several -> the most populous when ten times larger, else asked back."""
        by_key: Dict[str, List[Tuple[str, str, int, bool]]] = {}
        for name, lan, pop, word in localities():
            if lan in self.county_info:
                by_key.setdefault(fold(name), []).append((name, lan, pop, word))
        for key, rows in by_key.items():
            if not key or key in self.keys or key in STOP_WORDS or len(key) < 3:
                continue                     # kommun, län, town or registry term first
            rows.sort(key=lambda r: -r[2])
            if len(rows) > 1 and rows[0][2] < 10 * rows[1][2] and \
                    len({self.county_info[r[1]][1] for r in rows}) > 1:
                info = self.keys[key] = KeyInfo(term_accents=frozenset(casefold_keep(r[0]) for r in rows),
                                                term_kind="town", term_counties=tuple(r[1] for r in rows))
                info.ambiguous = tuple(dict.fromkeys(r[1] for r in rows))
            else:
                self._add(rows[0][0], "town", rows[0][1], None, rows[0][0])
            self.localities.add(key)
            if any(r[3] for r in rows):
                self.word_localities.add(key)

    # -- lookups --------------------------------------------------------------------------------
    def centre(self, county_code: str) -> Tuple[Optional[str], Optional[str]]:
        _, cid, cname = self.county_info.get(county_code, (None, None, None))
        return cid, cname

    def candidate(self, county_code: str, kommun_code: Optional[str] = None) -> Candidate:
        cname, cid, centre_name = self.county_info[county_code]
        kname = self.kommun_info[kommun_code][0] if kommun_code in self.kommun_info else None
        return Candidate(county_code, cname, cid, centre_name, kommun_code if kname else None, kname)


_LOCALITIES: Dict[str, Tuple[float, List[Tuple[str, str, int, bool]]]] = {}


def localities(path: Optional[str] = None) -> List[Tuple[str, str, int, bool]]:
    """(name, län code, population, everyday word) rows of registry/localities.tsv (generated from GeoNames
    by scripts/make_localities.py); empty when the file is absent."""
    import os

    from bot.paths import ROOT

    p = str(path or ROOT / "registry" / "localities.tsv")
    try:
        mtime = os.stat(p).st_mtime
    except OSError:
        return []
    hit = _LOCALITIES.get(p)
    if hit is None or hit[0] != mtime:
        rows = []
        with open(p, encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("#") or not line.strip():
                    continue
                name, lan, pop, _gid, word = line.rstrip("\n").split("\t")
                rows.append((name, lan, int(pop), word == "1"))
        _LOCALITIES[p] = (mtime, rows)
    return _LOCALITIES[p][1]


def default_registry() -> Any:
    """``bot.registry.get_registry()``; falls back to the raw YAML (plain dicts) if that module is absent."""
    try:
        from bot.registry import get_registry
    except ImportError:
        return _raw_registry(None)
    return get_registry()


_RAW: Dict[str, Tuple[float, Any]] = {}


def _raw_registry(path: Optional[str]) -> Any:
    import os

    import yaml

    from bot.paths import ROOT

    p = str(path or ROOT / "registry" / "registry.yaml")
    mtime = os.stat(p).st_mtime
    hit = _RAW.get(p)
    if hit is None or hit[0] != mtime:
        with open(p, encoding="utf-8") as fh:
            _RAW[p] = (mtime, yaml.safe_load(fh))
    return _RAW[p][1]


def load_registry_any(path: Optional[str] = None) -> Any:
    """``bot.registry.load_registry(path)``, or the raw YAML if that module is absent."""
    try:
        from bot.registry import load_registry
    except ImportError:
        return _raw_registry(path)
    return load_registry(path) if path else default_registry()


_CACHE_LOCK = threading.Lock()
_CACHE: Dict[int, Tuple[Any, PlaceIndex]] = {}


def get_index(registry: Any) -> PlaceIndex:
    """The index for this Registry object (built once; a reloaded registry is a new object)."""
    hit = _CACHE.get(id(registry))
    if hit is not None and hit[0] is registry:
        return hit[1]
    with _CACHE_LOCK:
        hit = _CACHE.get(id(registry))
        if hit is not None and hit[0] is registry:
            return hit[1]
        index = PlaceIndex(registry)
        if len(_CACHE) >= 4:
            _CACHE.clear()
        _CACHE[id(registry)] = (registry, index)
        return index


# ---------------------------------------------------------------------------------------------------
# Matching

@dataclass
class _Match:
    start_tok: int
    end_tok: int              # exclusive, including a trailing "kommun"/"län"
    start: int
    end: int
    key: str
    info: KeyInfo
    confidence: float
    prefer: Optional[str]     # "kommun" | "county" | None
    targets: List[Target] = field(default_factory=list)   # chosen (1 = definite, >1 = ambiguous)
    ambiguous_counties: Tuple[str, ...] = ()
    kind: Optional[str] = None
    weak: bool = False        # everyday word at a sentence start: counts only if another place agrees


def _is_sentence_initial(text: str, start: int) -> bool:
    before = text[:start]
    return not before.strip() or bool(_SENTENCE_END.search(before))


def _protected_ok(key: str, toks: Sequence[Token], i: int, j: int, text: str, all_caps: bool,
                  followed_by_word: bool, name_only: bool = False) -> Tuple[bool, float]:
    """May a protected (everyday-word) name at tokens[i:j] count as a place? Returns (ok, confidence)."""
    if followed_by_word:
        return True, 1.0
    if i == 0 and j == len(toks):            # the whole message ("mora" as a reply)
        return True, (1.0 if toks[i].is_capitalised else 0.9)
    prev = [t.norm for t in toks[max(0, i - 2):i]]
    if any(p in NAME_CUES for p in prev):
        return False, 0.0
    tok = toks[i]
    after = toks[j].norm if j < len(toks) else ""
    here = j < len(toks) and toks[j].lower in HERE_WORDS
    if tok.is_capitalised and not all_caps:
        if not _is_sentence_initial(text, tok.start):
            return True, 1.0
        if after in BELONGING_VERBS:
            return True, 1.0                  # "Sala ligger väl i Uppsala län?": the place asked about
        if _NEXT_PUNCT.match(text[toks[j - 1].end:]) or here:
            return True, 0.9                  # "Mora, hur söker jag?", "Åmotfors här."
        return False, WEAK                    # "Mora i Dalarna": kept only if another place agrees
    if i == 0 and not name_only and key not in DEFINITE_NOUNS and key not in STOP_WORDS and \
            (_NEXT_PUNCT.match(text[toks[j - 1].end:]) or here or
             (j == i + 1 and toks[i].norm == key + "s" and j < len(toks))):
        return True, 0.85     # "lammhult. kortfilm. pengar?", "getinge – vem ...", "hammerdals bygdegård vill ..."
    if key in DEFINITE_NOUNS or name_only:
        # "i boden" is "in the shed", but nobody lives in the shed: "bor i boden", "flyttat till boden"
        return (True, 0.85) if tuple(prev[-2:]) in HOME_CUES else (False, 0.0)
    if prev and prev[-1] in PLACE_CUES:
        return True, 0.85
    return False, 0.0


def _choose(index: PlaceIndex, m: _Match, surface_lower: str) -> None:
    info = m.info
    if info.foreign and not info.targets and not info.ambiguous and not info.default:
        m.kind = "foreign"
        return
    term_kind = info.term_kind or "landskap"
    kommun_targets = [t for t in info.targets if t.kind == "kommun"]
    if info.ambiguous and not kommun_targets and m.prefer != "county":
        m.ambiguous_counties = info.ambiguous
        m.kind = term_kind
        return
    if info.default and not kommun_targets:
        county_t = [t for t in info.targets if t.kind == "county" and t.county_code == info.default]
        if county_t:
            m.targets, m.kind = county_t[:1], "county"
        elif info.term_kommun:                 # "göteborgare" -> Göteborg
            kname = index.kommun_info[info.term_kommun][0]
            m.targets = [Target("kommun", info.default, info.term_kommun, kname, frozenset())]
            m.kind = term_kind
        else:
            name = index.county_info[info.default][0]
            m.targets = [Target("landskap", info.default, None, name, frozenset())]
            m.kind = term_kind
        return
    targets = list(info.targets)
    if not targets and info.ambiguous:   # "Smålands län" etc.: fall back to the ambiguous list
        m.ambiguous_counties = info.ambiguous
        m.kind = term_kind
        return

    def rank(t: Target) -> Tuple[int, int, int]:
        pref = 0 if (m.prefer and (t.kind == m.prefer or (m.prefer == "kommun" and t.kind == "town"))) else 1
        accent = 0 if surface_lower in t.accents else 1     # Håbo vs Habo
        return (pref, KIND_RANK[t.kind], accent)

    targets.sort(key=rank)
    if targets[0].kind == "county" and m.prefer != "county":
        # a town the reference also lists as a short form of its län ("Fårö", "Visby"): the town, more specific
        town = next((t for t in targets if t.kind == "town" and t.county_code == targets[0].county_code), None)
        if town is not None:
            targets.remove(town)
            targets.insert(0, town)
    best = rank(targets[0])
    tops = [t for t in targets if rank(t) == best]
    centres = {index.centre(t.county_code)[0] for t in tops}
    if len(centres) > 1:
        m.targets = tops
        m.kind = tops[0].kind
        return
    m.targets = tops[:1]
    m.kind = tops[0].kind


def _free_run(blocked: frozenset, i: int, n: int) -> int:
    """Number of tokens from i on before the first blocked (masked) token."""
    j = i
    while j < n and j not in blocked:
        j += 1
    return j - i


def _exact_matches(index: PlaceIndex, text: str, toks: List[Token], blocked: frozenset = frozenset()) -> List[_Match]:
    matches: List[_Match] = []
    n = len(toks)
    all_caps = text.upper() == text and any(c.isalpha() for c in text)
    i = 0
    while i < n:
        if i in blocked:
            i += 1
            continue
        found = None
        max_len = index.max_words if toks[i].norm in index.first_words else 1
        for length in range(_free_run(blocked, i, min(n, i + max_len)), 0, -1):  # only max_len matters
            seg = toks[i:i + length]
            phrase = " ".join(t.norm for t in seg) if length > 1 else seg[0].norm
            info = index.keys.get(phrase)
            conf = 1.0
            key = phrase
            if info is None:
                for v in inflection_variants(phrase):
                    info = index.keys.get(v)
                    if info is not None:
                        key = v
                        plain_gen = len(v) == len(phrase) - 1
                        conf = 0.95 if plain_gen else 0.9
                        break
            if info is None:
                continue
            found = (length, key, info, conf)
            break
        if not found:
            i += 1
            continue
        length, key, info, conf = found
        if key in CUED_TERMS and not (i > 0 and i - 1 not in blocked and toks[i - 1].norm in CUED_TERMS[key]):
            i += 1
            continue
        if info.form_conf < 1.0:
            conf = 0.95 if conf >= 1.0 else 0.9
        j = i + length
        prefer = None
        if info.foreign and not (info.targets or info.ambiguous or info.default):
            pass                                   # "Oslo kommun" is still Oslo
        elif j < n and j not in blocked and toks[j].norm in KOMMUN_WORDS:
            prefer, j = "kommun", j + 1
        elif j < n and j not in blocked and toks[j].norm in COUNTY_WORDS:
            prefer, j = "county", j + 1
        if key in index.protected:
            ok, pconf = _protected_ok(key, toks, i, i + length, text, all_caps, prefer is not None,
                                      key in index.word_localities)
            if (ok or pconf == WEAK) and key not in index.word_localities and key not in DEFINITE_NOUNS:
                written = " ".join(t.lower for t in toks[i:i + length])
                if written != key and written in _all_accents(info):
                    ok, pconf = True, 1.0     # "i ånge" is Ånge, whatever "ange" means
            weak = not ok and pconf == WEAK
            if not ok and not weak:
                i += length
                continue
            conf = min(conf, 0.9 if weak else pconf)
        else:
            weak = False
        surface_lower = " ".join(t.lower for t in toks[i:i + length])
        accents = _all_accents(info)
        exact_key = key == " ".join(t.norm for t in toks[i:i + length])
        base = surface_lower if exact_key else _accented_base(surface_lower, key)
        if key in index.protected and prefer is None and not toks[i].is_capitalised and accents \
                and base not in accents and not (i == 0 and j == n) and any(c in "åäöéü" for c in base):
            # an everyday word with other letters than the place ("våra" is not Vara, "ären" not Åre)
            i += length
            continue
        m = _Match(i, j, toks[i].start, toks[j - 1].end, key, info, conf, prefer)
        m.weak = weak
        _choose(index, m, base)
        if len(m.targets) == 1 and m.targets[0].accents:
            accents = m.targets[0].accents
        if accents and base not in accents:
            m.confidence = round(conf - 0.05, 3)   # typed without å/ä/ö (or with other accents)
        matches.append(m)
        i = j
    return matches


def _all_accents(info: KeyInfo) -> frozenset:
    out = set(info.term_accents)
    for t in info.targets:
        out |= t.accents
    return frozenset(out)


def _accented_base(surface_lower: str, key: str) -> str:
    """The surface cut to the key's length ("skånes" with key "skane" -> "skåne")."""
    return surface_lower[: len(key)]


def _fuzzy_matches(index: PlaceIndex, text: str, toks: List[Token], blocked: frozenset = frozenset()) -> List[_Match]:
    n = len(toks)
    short_message = n <= 3
    all_caps = text.upper() == text and any(c.isalpha() for c in text)
    out: List[_Match] = []
    i = 0
    while i < n:
        tok = toks[i]
        cued = i > 0 and toks[i - 1].norm in PLACE_CUES and i - 1 not in blocked
        eligible = (
            i not in blocked
            and len(tok.norm) >= 5
            and tok.norm.isalpha()
            and tok.norm not in STOP_WORDS
            and tok.norm not in FOREIGN_PLACES
            and tok.norm not in index.protected
            and (short_message or cued or (n <= 5 and len(tok.norm) >= 8)
                 or (i == 0 and (bool(_NEXT_PUNCT.match(text[tok.end:]))      # "valdemarsvk, vem ..."
                                 or (n > 1 and toks[1].lower in HERE_WORDS)))
                 or (tok.is_capitalised and not all_caps
                                           and not _is_sentence_initial(text, tok.start)))
        )
        if not eligible:
            i += 1
            continue
        best = None   # (dist, key, length)
        for length in (2, 1):
            if i + length > n or (length == 2 and i + 1 in blocked):
                continue
            seg = toks[i:i + length]
            if length == 2 and (seg[1].norm in STOP_WORDS or not seg[1].norm.isalpha()):
                continue
            phrase = " ".join(t.norm for t in seg)
            choices = index.fuzzy_buckets.get((phrase[0], length))
            if not choices:
                continue
            for q in [phrase] + inflection_variants(phrase)[:1]:
                max_d = 1 if len(q) < 8 else 2
                hits = process.extract(q, choices, scorer=OSA.distance, score_cutoff=max_d, limit=4)
                hits = [h for h in hits if abs(len(h[0]) - len(q)) <= max_d]
                if not hits:
                    continue
                d = min(h[1] for h in hits)
                keys = [h[0] for h in hits if h[1] == d]
                # a tie in edits: a dropped or added letter ("kirna": Kiruna) beats a changed one (Kinna)
                indel = {k: Indel.distance(q, k) for k in keys}
                best_indel = min(indel.values())
                keys = [k for k in keys if indel[k] == best_indel]
                abroad = index.foreign_buckets.get((phrase[0], length))
                near_abroad = (process.extractOne(q, abroad, scorer=OSA.distance, score_cutoff=d)
                               if abroad else None)
                if near_abroad is not None and Indel.distance(q, near_abroad[0]) < best_indel:
                    continue                     # "Hollland" is Holland misspelt, not Halland
                centres = set()
                for k in keys:
                    inf = index.keys[k]
                    cs = {index.centre(t.county_code)[0] for t in inf.targets}
                    if inf.ambiguous:
                        cs |= {index.centre(c)[0] for c in inf.ambiguous}
                    if inf.default:
                        cs.add(index.centre(inf.default)[0])
                    centres |= cs
                if len(centres) != 1:
                    continue
                cand = (d + (0.5 if q != phrase else 0), keys[0], length)
                if best is None or cand[0] < best[0] or (cand[0] == best[0] and length > best[2]):
                    best = cand
                break
            if best is not None and best[2] == 2:
                break
        if best is None:
            i += 1
            continue
        dist, key, length = best
        # 1 edit: 0.8 (0.85 for long names), 2 edits: 0.7; found via an inflected form: -0.05.
        conf = (0.85 if len(key) >= 8 else 0.8) if dist < 2 else 0.7
        if dist != int(dist):
            conf -= 0.05
        if not (tok.is_capitalised or cued):
            conf = max(0.6, conf - 0.05)
        j = i + length
        prefer = None
        if j < n and toks[j].norm in KOMMUN_WORDS:
            prefer, j = "kommun", j + 1
        elif j < n and toks[j].norm in COUNTY_WORDS:
            prefer, j = "county", j + 1
        if prefer and j - 1 in blocked:
            prefer, j = None, j - 1
        m = _Match(i, j, tok.start, toks[j - 1].end, key, index.keys[key], round(conf, 3), prefer)
        _choose(index, m, "")
        out.append(m)
        i = j
    return out


# After a strong cue, a lowercase unknown word counts only when the clause ends with it ("jag bor i narnia",
# "jag bor i narnia och undrar ..."), not when it runs on ("jag bor i lägenhet med ...").
_CLAUSE_WORDS = frozenset({"och", "men", "eller", "samt", "nu", "sedan", "just", "and", "but", "or", "now"})
MAX_UNKNOWN_WORDS = 3
_JOIN = re.compile(r"^[ \t\-\u2010\u2011\u2013]+$")


# Capitalised words after "in"/"i" that are not places: languages, months, days ("continue in English").
NOT_PLACES = frozenset(fold(w) for w in """
    English Swedish Svenska Engelska Finska Finnish Norska Norwegian Danska Danish Tyska German Franska French
    Spanska Spanish Arabiska Arabic Somaliska Persiska Meänkieli Samiska Sami Sámi
    January February March April May June July August September October November December
    Januari Februari Mars Maj Juni Juli Augusti Oktober
    Monday Tuesday Wednesday Thursday Friday Saturday Sunday Måndags Tisdags Onsdags Torsdags Fredags
    Lördags Söndags Instagram Facebook Youtube YouTube TikTok Zoom Teams Google Netflix
""".split())


def _unknown_places(text: str, toks: List[Token], blocked: frozenset = frozenset()) -> List[Tuple[str, Tuple[int, int]]]:
    """Name-like words after a place cue that are not known places ("jag bor i Narnia"): at most
    MAX_UNKNOWN_WORDS capitalised words, or one lowercase word after a strong cue ending its clause."""
    out: List[Tuple[str, Tuple[int, int]]] = []
    n = len(toks)
    all_caps = text.upper() == text and any(c.isalpha() for c in text)
    i = 1
    while i < n:
        cue, tok = toks[i - 1], toks[i]
        if (cue.norm not in PLACE_CUES or i in blocked or i - 1 in blocked
                or text[cue.end:tok.start].strip()):
            i += 1
            continue
        if tok.norm in STOP_WORDS or tok.norm in NOT_PLACES or not tok.norm.isalpha() or len(tok.norm) < 2:
            i += 1
            continue
        strong = i >= 2 and i - 2 not in blocked and (toks[i - 2].norm, cue.norm) in STRONG_CUES
        capital = tok.is_capitalised and not all_caps
        if capital:
            j = i + 1
            while (j < n and j not in blocked and toks[j].is_capitalised and toks[j].norm not in STOP_WORDS
                   and toks[j].norm.isalpha() and _JOIN.match(text[toks[j - 1].end:toks[j].start])):
                j += 1
            if j - i > MAX_UNKNOWN_WORDS:       # a Title Case clause, not a name
                i = j
                continue
        elif strong:
            j = i + 1
            rest = text[tok.end:toks[j].start] if j < n else ""
            if j < n and not rest.strip() and toks[j].norm not in _CLAUSE_WORDS:
                i += 1
                continue
        else:
            i += 1
            continue
        start, end = tok.start, toks[j - 1].end
        out.append((text[start:end], (start, end)))
        i = j
    return out


def _scan(index: PlaceIndex, text: str, toks: List[Token], blocked: frozenset = frozenset()) -> List[_Match]:
    """All place matches (Swedish and foreign), left to right, non-overlapping: exact matches (weak
    everyday words kept only when another place agrees), then typos when no Swedish place matched exactly."""
    matches = _exact_matches(index, text, toks, blocked)
    foreign = [m for m in matches if m.kind == "foreign" and not m.weak]     # "Island är ..." is no place
    swedish = [m for m in matches if m.kind != "foreign"]
    if any(m.weak for m in swedish):
        strong_counties = {t.county_code for m in swedish if not m.weak for t in m.targets}
        strong_counties |= {c for m in swedish if not m.weak for c in m.ambiguous_counties}
        swedish = [m for m in swedish
                   if not m.weak or (len(m.targets) == 1 and m.targets[0].county_code in strong_counties)]
    if any(m.key in GENERIC_TERMS for m in swedish):
        starts = {m.start_tok for m in matches}
        swedish = [m for m in swedish if not (m.key in GENERIC_TERMS and m.end_tok in starts)]
    if not swedish:
        covered = {k for m in foreign for k in range(m.start_tok, m.end_tok)}
        swedish = _fuzzy_matches(index, text, toks, frozenset(blocked) | covered)
    return sorted(swedish + foreign, key=lambda m: m.start)


# ---------------------------------------------------------------------------------------------------
# Public API

def _fill_from_target(res: Resolution, index: PlaceIndex, t: Target, kind: str) -> None:
    cname, cid, centre_name = index.county_info[t.county_code]
    res.kind = kind
    res.county_code, res.county = t.county_code, cname
    res.centre_id, res.centre_name = cid, centre_name
    if t.kommun_code and t.kommun_code in index.kommun_info:
        res.kommun_code, res.kommun = t.kommun_code, index.kommun_info[t.kommun_code][0]


def _candidates_of(index: PlaceIndex, m: _Match) -> List[Candidate]:
    if m.ambiguous_counties:
        return [index.candidate(c) for c in m.ambiguous_counties]
    return [index.candidate(t.county_code, t.kommun_code) for t in m.targets]


def _dedupe(cands: Iterable[Candidate]) -> List[Candidate]:
    seen, out = set(), []
    for c in cands:
        k = (c.county_code, c.kommun_code)
        if k not in seen:
            seen.add(k)
            out.append(c)
    return out


def resolve_place(text: Optional[str], registry: Any = None, topic: Optional[str] = None) -> Resolution:
    """Find the place named in ``text`` (see module docstring)."""
    text = "" if text is None else str(text)
    if registry is None:
        registry = default_registry()
    index = get_index(registry)
    res = Resolution(input=text)
    toks = tokenize(text)
    if not toks:
        return res
    found = _scan(index, text, toks)
    matches = [m for m in found if m.kind != "foreign"]
    if not matches:
        foreign = [m for m in found if m.kind == "foreign"]
        if foreign:                       # only places outside Sweden: "jag bor i Oslo"
            m = foreign[0]
            res.status, res.kind = "foreign", "foreign"
            res.matched, res.span = text[m.start:m.end], (m.start, m.end)
            res.confidence = m.confidence
            return res
        unk = _unknown_places(text, toks)
        if unk:
            res.matched, res.span = unk[0]
        return res

    definite = [m for m in matches if len(m.targets) == 1 and not m.ambiguous_counties]
    # A landskap/region/demonym word read through its default gives way to a kommun/län/town inside it
    # ("Habo kommun, fast vi känner oss som västgötar" -> Habo, Jönköpings län).
    specific = {m.targets[0].county_code for m in definite if m.kind in ("kommun", "county", "town")}
    if specific:
        definite = [m for m in definite if m.kind in ("kommun", "county", "town")
                    or not (specific & set(m.info.term_counties))]
    if definite:
        centres = {index.centre(m.targets[0].county_code)[0] for m in definite}
        if len(centres) == 1:
            best = min(definite, key=lambda m: (KIND_RANK.get(m.kind or "landskap", 3), m.start))
            t = best.targets[0]
            _fill_from_target(res, index, t, best.kind or t.kind)
            res.status = "found"
            res.matched, res.span = text[best.start:best.end], (best.start, best.end)
            res.confidence = best.confidence
            res.unit = unit_for(registry, res.centre_id, topic)
            return res
        chosen = definite
    else:
        chosen = matches
        # Several ambiguous terms: keep the counties they share ("Uppland, Roslagen").
        if len(chosen) > 1:
            sets = [set(c.county_code for c in _candidates_of(index, m)) for m in chosen]
            common = set.intersection(*sets)
            if common:
                first = _candidates_of(index, chosen[0])
                cands = [c for c in first if c.county_code in common]
                return _ambiguous(res, index, text, chosen, cands, registry, topic)
    cands = _dedupe(c for m in chosen for c in _candidates_of(index, m))
    return _ambiguous(res, index, text, chosen, cands, registry, topic)


def _ambiguous(res: Resolution, index: PlaceIndex, text: str, chosen: List[_Match], cands: List[Candidate],
               registry: Any, topic: Optional[str]) -> Resolution:
    start, end = chosen[0].start, chosen[-1].end
    res.matched, res.span = text[start:end], (start, end)
    res.confidence = min(m.confidence for m in chosen)
    kinds = {m.kind for m in chosen}
    res.kind = kinds.pop() if len(kinds) == 1 else None
    centres = {c.centre_id for c in cands}
    if len(centres) == 1 and cands:
        # All candidates lead to one centre: no need to ask.
        c = cands[0]
        res.status = "found"
        res.county_code, res.county = c.county_code, c.county
        res.centre_id, res.centre_name = c.centre_id, c.centre_name
        if len(cands) == 1:
            res.kommun_code, res.kommun = c.kommun_code, c.kommun
        else:
            res.county_code = res.county = None if len({x.county_code for x in cands}) > 1 else c.county_code
            res.county = None if res.county_code is None else c.county
        res.unit = unit_for(registry, res.centre_id, topic)
        return res
    res.status = "ambiguous"
    res.candidates = cands
    return res


# ---------------------------------------------------------------------------------------------------
# All mentions

@dataclass
class Mention:
    text: str                          # surface text as written
    span: Tuple[int, int]
    kind: str                          # "kommun" | "county" | "town" | "landskap" | "region" | "demonym" | "foreign" | "unknown"
    status: str                        # "found" | "ambiguous" | "foreign" | "unknown"
    county_code: Optional[str] = None
    county: Optional[str] = None
    kommun_code: Optional[str] = None
    kommun: Optional[str] = None
    centre_id: Optional[str] = None
    centre_name: Optional[str] = None
    confidence: float = 0.0
    candidates: List[Candidate] = field(default_factory=list)   # ambiguous: one per candidate län (or kommun)
    weak: bool = False                 # an everyday word accepted only weakly (lowercase after a cue, ...)

    def to_json(self) -> Dict[str, Any]:
        return {
            "text": self.text, "span": list(self.span), "kind": self.kind, "status": self.status,
            "county_code": self.county_code, "county": self.county, "kommun_code": self.kommun_code,
            "kommun": self.kommun, "centre_id": self.centre_id, "centre_name": self.centre_name,
            "confidence": round(float(self.confidence), 3), "candidates": [c.to_json() for c in self.candidates],
            "weak": self.weak,
        }


def _mention_of(index: PlaceIndex, text: str, m: _Match) -> Mention:
    out = Mention(text=text[m.start:m.end], span=(m.start, m.end), kind=m.kind or "landskap", status="found",
                  confidence=m.confidence)
    # a gazetteer locality is weaker evidence than a kommun or a registry name ("laxfisket i Lagan vid Laholm")
    out.weak = m.weak or (m.key in index.protected and m.confidence < 1.0) or m.key in index.localities
    if m.kind == "foreign":
        out.status = "foreign"
        return out
    if len(m.targets) == 1 and not m.ambiguous_counties:
        t = m.targets[0]
        out.county_code, out.county = t.county_code, index.county_info[t.county_code][0]
        out.centre_id, out.centre_name = index.centre(t.county_code)
        if t.kommun_code and t.kommun_code in index.kommun_info:
            out.kommun_code, out.kommun = t.kommun_code, index.kommun_info[t.kommun_code][0]
        return out
    cands = _dedupe(_candidates_of(index, m))
    if len({c.centre_id for c in cands}) == 1 and cands:   # all candidates lead to one centre
        c = cands[0]
        out.centre_id, out.centre_name = c.centre_id, c.centre_name
        if len({x.county_code for x in cands}) == 1:
            out.county_code, out.county = c.county_code, c.county
        return out
    out.status = "ambiguous"
    out.candidates = cands
    return out


def find_places(text: Optional[str], registry: Any = None,
                exclude_spans: Sequence[Tuple[int, int]] = (),
                tokens: Optional[Sequence[Token]] = None) -> List[Mention]:
    """Every place mention in ``text``, left to right and non-overlapping (rules: module docstring).

    Swedish places give "found"/"ambiguous" mentions, places abroad "foreign" ones (both are returned);
    when neither is named, name-like words after a place cue give "unknown" mentions ("jag bor i
    Narnia"). Text overlapping ``exclude_spans`` (e.g. a centre name such as "Film i Öst") is ignored.
    ``tokens``: ``tokenize(text)`` when the caller already has it (one tokenisation per message).
    """
    text = "" if text is None else str(text)
    if registry is None:
        registry = default_registry()
    index = get_index(registry)
    toks = list(tokens) if tokens is not None else tokenize(text)
    if not toks:
        return []
    spans = [(int(a), int(b)) for a, b in exclude_spans or () if int(b) > int(a)]
    blocked = frozenset(i for i, t in enumerate(toks) if any(t.start < b and a < t.end for a, b in spans))
    matches = _scan(index, text, toks, blocked)
    if matches:
        return [_mention_of(index, text, m) for m in matches]
    return [Mention(text=surface, span=span, kind="unknown", status="unknown")
            for surface, span in _unknown_places(text, toks, blocked)]
