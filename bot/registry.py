"""The facts the bot answers from: the regional film centres, their offers and contacts, and the län, kommuner
and towns they cover, read from registry/registry.yaml, validated, and served reloaded when the file changes.

Pydantic models, loading with validation, and a hot-reloading store.

`load_registry(path)` reads registry/registry.yaml (format: docs/ARCHITECTURE.md) and either returns a
`Registry` or raises `RegistryError` whose `.problems` lists every problem found, one line each, naming
the file, the entry (`centres[3] (film-i-ost)`) and the field (`offers[2].source`). Entries are validated
one by one so one broken entry does not hide the problems of the others; cross-checks (ids, län coverage,
kommun codes, unit references) run over the entries that parsed.

Facts may carry a staff confirmation (`confirmed: {date, by}`, written by `python -m bot registry confirm`,
bot/tools/upkeep.py): a fact confirmed within the last two years is fresh whatever its page date, and an unverified
fact that staff confirmed counts as verified from then on. Each fact has a stable key within its centre
(`Centre.keyed_facts()`, `iter_fact_dicts()` for raw YAML) by which confirmations are named and kept when the
importer regenerates the file.

`get_registry()` is the process-wide store: it re-reads the file when it changes (stat on every call; a
change within the file system's timestamp granularity is caught by comparing the content) and keeps serving
the last good registry when an edit is broken. No Rasa imports.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import re
import threading
import time
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Tuple, Type
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, Extra, PrivateAttr, ValidationError, root_validator, validator

from bot.facets import FACETS
from bot.paths import ROOT
from bot.topics import OFFER_KINDS

log = logging.getLogger(__name__)

DEFAULT_PATH = ROOT / "registry" / "registry.yaml"
ENV_VAR = "FILMBOT_REGISTRY"

# Topics an answer can be about: the offer kinds plus the contact and the centre in general.
TOPICS = OFFER_KINDS + ("contact", "centre")
# What a question asks of an offer or a centre (besides an overview): bot/facets.py.
FACETS_DIR = "facets"   # beside registry.yaml: one hand-edited file per centre
# SCB län codes: Sweden's 21 län.
LAN_CODES = ("01", "03", "04", "05", "06", "07", "08", "09", "10", "12", "13", "14",
             "17", "18", "19", "20", "21", "22", "23", "24", "25")
STALE_AFTER_YEARS = 2
_YamlLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)   # libyaml: ~7x faster on this file

_PARTIAL_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class RegistryError(Exception):
    """The registry file is broken. `.problems`: one clear line per problem."""

    def __init__(self, problems: List[str], path: Optional[Path] = None):
        self.problems = list(problems)
        self.path = path
        super().__init__("\n".join(self.problems))


# ---------------------------------------------------------------- field helpers

def check_url(value: Optional[str], https_only: bool = False) -> Optional[str]:
    if value is None:
        return None
    value = str(value)
    parts = urlsplit(value)
    schemes = ("https",) if https_only else ("http", "https")
    if parts.scheme not in schemes or not parts.netloc or "." not in parts.netloc or any(c.isspace() for c in value):
        kind = "https" if https_only else "http(s)"
        raise ValueError(f"not a well-formed {kind} URL: {value!r}")
    return value


def partial_date_bounds(value: str) -> Tuple[dt.date, dt.date]:
    """(first day, last day) of an ISO partial date "YYYY", "YYYY-MM" or "YYYY-MM-DD"; ValueError if invalid."""
    m = _PARTIAL_DATE.match(value)
    if not m:
        raise ValueError(f"not an ISO date 'YYYY', 'YYYY-MM' or 'YYYY-MM-DD': {value!r}")
    year, month, day = int(m.group(1)), m.group(2), m.group(3)
    try:
        if day:
            d = dt.date(year, int(month), int(day))
            return d, d
        first = dt.date(year, int(month or 1), 1)
    except ValueError as exc:
        raise ValueError(f"not a valid date: {value!r} ({exc})") from None
    if month:
        nxt = dt.date(year + (first.month == 12), first.month % 12 + 1, 1)
        return first, nxt - dt.timedelta(days=1)
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _to_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"not a date YYYY-MM-DD: {value!r}")


class _Model(BaseModel):
    class Config:
        extra = Extra.forbid
        anystr_strip_whitespace = True


# ---------------------------------------------------------------- models

class Confirmation(_Model):
    """Staff checked the fact against its source on `date` (bot/tools/upkeep.py writes it)."""

    date: dt.date
    by: str

    @validator("date", pre=True)
    def _date(cls, v):
        day = _to_date(v)
        if day > dt.date.today():
            raise ValueError(f"{day.isoformat()} is in the future (today is {dt.date.today().isoformat()})")
        return day

    @validator("by")
    def _by(cls, v):
        if not v:
            raise ValueError("must name who confirmed the fact")
        if len(v) > 80 or any(not c.isprintable() for c in v):
            raise ValueError(f"must be a name on one line, at most 80 characters: {v!r}")
        return v


class Fact(_Model):
    """Fields every sourced fact carries."""

    # unverified comes first so the source check below can see it.
    unverified: bool = False          # rests on general knowledge only: never present as fact
    source: Optional[str] = None      # required unless unverified
    published: Optional[str] = None   # the page's own date, ISO partial; None = page gives no date
    date_note: Optional[str] = None   # the reference's wording of the page date
    checked: dt.date                  # when the fact was last checked against the reference
    note: Optional[str] = None
    confirmed: Optional[Confirmation] = None   # staff checked it against the source (after source/published)

    @validator("source", always=True)
    def _source_url(cls, v, values):
        if v is None:
            if not values.get("unverified"):
                raise ValueError("required field is missing (it may be left out only with unverified: true)")
            return None
        return check_url(v)

    @validator("published", pre=True)
    def _published(cls, v):
        if v is None:
            return None
        if isinstance(v, dt.datetime):
            v = v.date()
        if isinstance(v, dt.date):
            return v.isoformat()
        if isinstance(v, int):
            v = str(v)
        if not isinstance(v, str):
            raise ValueError(f"not an ISO date 'YYYY', 'YYYY-MM' or 'YYYY-MM-DD': {v!r}")
        partial_date_bounds(v.strip())
        return v.strip()

    @validator("checked", pre=True)
    def _checked(cls, v):
        return _to_date(v)

    @validator("confirmed")
    def _confirmed(cls, v, values):
        # A field that failed its own validation is absent from `values`: no follow-on problem then.
        if v is None:
            return v
        if "source" in values and values["source"] is None:
            raise ValueError("a fact without a source URL cannot be confirmed (there is nothing to check it against)")
        published = values.get("published")
        if published and v.date < partial_date_bounds(published)[0]:
            raise ValueError(f"date {v.date.isoformat()} is before the page's own date (published: {published})")
        return v

    def published_range(self) -> Optional[Tuple[dt.date, dt.date]]:
        return partial_date_bounds(self.published) if self.published else None

    @property
    def verified(self) -> bool:
        """Rests on a source: not marked unverified, or confirmed by staff against its source."""
        return not self.unverified or (self.confirmed is not None and bool(self.source))

    def confirmed_recently(self, today: Optional[dt.date] = None) -> bool:
        """Confirmed by staff within the last two years (as of `today`; a later confirmation does not count)."""
        if self.confirmed is None:
            return False
        today = today or dt.date.today()
        return _years_before(today, STALE_AFTER_YEARS) <= self.confirmed.date <= today

    def is_stale(self, today: Optional[dt.date] = None) -> bool:
        """Needs checking: not confirmed within two years, and unverified, undated, or published more than two
        years before today.

        A partial date counts from its last day ("2023" = 2023-12-31), as bot.answers does. A confirmation
        within the last two years makes any fact fresh; an unverified fact that staff confirmed counts as
        verified from then on, so once that confirmation is two years old only its page date decides."""
        today = today or dt.date.today()
        if self.confirmed_recently(today):
            return False
        if not self.verified or not self.published:
            return True
        return partial_date_bounds(self.published)[1] < _years_before(today, STALE_AFTER_YEARS)


class Organisation(Fact):
    value: str
    form: Optional[str] = None


class Seat(Fact):
    value: Optional[str] = None


class Website(Fact):
    url: str

    @validator("url")
    def _url(cls, v):
        return check_url(v, https_only=True)


class GeneralContact(Fact):
    email: Optional[str] = None
    phone: Optional[str] = None
    page: Optional[str] = None        # the contact page

    @validator("page")
    def _page(cls, v):
        return check_url(v)

    @validator("email")
    def _email(cls, v):
        if v is not None and not re.fullmatch(r"[\w.+-]+@[\w-]+(\.[\w-]+)+", v):
            raise ValueError(f"not an e-mail address: {v!r}")
        return v


class Unit(Fact):
    id: str
    name: str
    role: Optional[str] = None
    website: Optional[str] = None
    topics: List[str] = []

    @validator("id")
    def _valid_id(cls, v):
        return _check_id(v)

    @validator("website")
    def _website(cls, v):
        return check_url(v, https_only=True)

    @validator("topics", each_item=True)
    def _topics(cls, v):
        return _check_kind(v)


class Offer(Fact):
    kind: str
    unit: Optional[str] = None
    text_sv: str
    text_en: Optional[str] = None

    @validator("kind")
    def _kind(cls, v):
        return _check_kind(v)


class Contact(Fact):
    role: str
    name: Optional[str] = None


class FacetFact(Fact):
    """How to apply, amounts, intake, eligibility, contact or organisation, of one offer (`topic`) or of the
    centre as a whole (topic None). Kept in registry/facets/<centre id>.yaml (hand-edited)."""
    facet: str
    topic: Optional[str] = None
    unit: Optional[str] = None
    text_sv: str
    text_en: Optional[str] = None
    url: Optional[str] = None         # the page a visitor acts on (application page, form)

    @validator("facet")
    def _facet(cls, v):
        return _check_facet(v)

    @validator("topic")
    def _topic(cls, v):
        return None if v is None else _check_kind(v)

    @validator("url")
    def _url(cls, v):
        return check_url(v)


class NotFound(_Model):
    """A facet looked for on the centre's pages and not found (so nobody guesses it later)."""
    facet: str
    topic: Optional[str] = None
    unit: Optional[str] = None
    checked: dt.date
    searched: Optional[str] = None
    note: Optional[str] = None

    @validator("facet")
    def _facet(cls, v):
        return _check_facet(v)

    @validator("topic")
    def _topic(cls, v):
        return None if v is None else _check_kind(v)

    @validator("checked", pre=True)
    def _checked(cls, v):
        return _to_date(v)


class FacetsFile(_Model):
    """registry/facets/<centre id>.yaml."""
    centre: str
    general_contact: Optional[GeneralContact] = None
    facts: List[FacetFact] = []
    not_found: List[NotFound] = []


class RelatedBody(_Model):
    name: str
    note: Optional[str] = None
    sources: List[str] = []
    topics: List[str] = []
    checked: Optional[dt.date] = None

    @validator("sources", each_item=True)
    def _sources(cls, v):
        return check_url(v)

    @validator("topics", each_item=True)
    def _topics(cls, v):
        return _check_kind(v)

    @validator("checked", pre=True)
    def _checked(cls, v):
        return None if v is None else _to_date(v)


class Confidence(_Model):
    level: str
    reason: Optional[str] = None

    @validator("level")
    def _level(cls, v):
        if v not in ("high", "medium", "low"):
            raise ValueError(f"must be high, medium or low, not {v!r}")
        return v


class Centre(_Model):
    id: str
    name: str
    former_names: List[str] = []
    runs: List[str] = []              # names of what the centre runs (a film commission, a studio): they name it
    organisation: Organisation
    counties: List[str]
    counties_source: Optional[str] = None
    seat: Optional[Seat] = None
    website: Website
    general_contact: Optional[GeneralContact] = None
    note_sv: Optional[str] = None
    note_en: Optional[str] = None
    units: List[Unit] = []
    offers: List[Offer] = []
    contacts: List[Contact] = []
    related_bodies: List[RelatedBody] = []
    sources: List[str] = []
    confidence: Confidence
    facets: List[FacetFact] = []             # from registry/facets/<id>.yaml (merged at load)
    facets_not_found: List[NotFound] = []    # ditto: looked for, not found

    def facet_facts(self, facet: str, topic: Optional[str] = None) -> List[FacetFact]:
        """The centre's facts on `facet` for `topic` (None: the centre as a whole), in file order."""
        return [f for f in self.facets if f.facet == facet and f.topic == topic]

    @validator("id")
    def _valid_id(cls, v):
        return _check_id(v)

    @validator("counties", pre=True, each_item=True)
    def _county_code(cls, v):
        return _lan_code(v)

    @validator("counties_source")
    def _counties_source(cls, v):
        return check_url(v)

    @validator("sources", each_item=True)
    def _sources(cls, v):
        return check_url(v)

    def unit(self, unit_id: str) -> Optional[Unit]:
        return next((u for u in self.units if u.id == unit_id), None)

    def facts(self) -> Iterable[Tuple[str, Fact]]:
        """(field path, fact) for every dated fact of the centre."""
        for _, _, where, fact in self.keyed_facts():
            yield where, fact

    def keyed_facts(self) -> Iterator[Tuple[str, str, str, Fact]]:
        """(kind, stable key, field path, fact) for every dated fact of the centre (see fact_key)."""
        return _keyed(self, lambda obj, name: getattr(obj, name, None))

    def fact(self, key: str) -> Optional[Fact]:
        return next((f for _, k, _, f in self.keyed_facts() if k == key), None)


# ---------------------------------------------------------------- fact kinds and stable keys

# kind -> field of the centre: a single fact, or a list of facts.
SINGLE_FACTS = ("organisation", "seat", "website", "general_contact")
LIST_FACTS = {"unit": "units", "offer": "offers", "contact": "contacts", "facet": "facets"}
FACT_KINDS = SINGLE_FACTS + tuple(LIST_FACTS)


def _norm(value: Any) -> str:
    return "" if value is None else " ".join(str(value).split())


def _digest(*values: Any) -> str:
    return hashlib.sha1("\x1f".join(_norm(v) for v in values).encode("utf-8")).hexdigest()[:6]


def fact_key(kind: str, get: Callable[[str], Any]) -> str:
    """The stable key of a fact within its centre, from its own content (`get(field)` reads a field).

    Single facts are named by their kind ("website"); units by their id ("unit:film-i-vast"); offers by kind
    and a digest of kind, unit, Swedish text and source ("offer:short_film:3fa92c"); contacts by a digest of
    role, name and source ("contact:8c1d2e"). The key survives regenerating the file and reordering; when a
    fact's text or source changes it is another fact, and an earlier confirmation no longer applies."""
    if kind in SINGLE_FACTS:
        return kind
    if kind == "unit":
        return f"unit:{_norm(get('id'))}"
    if kind == "offer":
        return f"offer:{_norm(get('kind'))}:{_digest(get('kind'), get('unit'), get('text_sv'), get('source'))}"
    if kind == "contact":
        return f"contact:{_digest(get('role'), get('name'), get('source'))}"
    if kind == "facet":
        return (f"facet:{_norm(get('facet'))}:"
                f"{_digest(get('facet'), get('topic'), get('unit'), get('text_sv'), get('source'))}")
    raise ValueError(f"unknown fact kind {kind!r} (one of {', '.join(FACT_KINDS)})")


def _keyed(centre: Any, get: Callable[[Any, str], Any]) -> Iterator[Tuple[str, str, str, Any]]:
    """(kind, key, field path, fact) for a centre read through `get` (a model or a raw mapping).
    Two identical facts in one centre get "-2", "-3" … after the key, in file order."""
    seen: Dict[str, int] = {}

    def unique(key: str) -> str:
        seen[key] = seen.get(key, 0) + 1
        return key if seen[key] == 1 else f"{key}-{seen[key]}"

    for kind in SINGLE_FACTS:
        fact = get(centre, kind)
        if fact is not None:
            yield kind, unique(kind), kind, fact
    for kind, field in LIST_FACTS.items():
        for i, fact in enumerate(get(centre, field) or []):
            yield kind, unique(fact_key(kind, lambda name, f=fact: get(f, name))), f"{field}[{i}]", fact


def iter_fact_dicts(centre: Mapping) -> Iterator[Tuple[str, str, str, dict]]:
    """(kind, key, field path, raw mapping) for every fact of a centre as read from the YAML file,
    in the same order and with the same keys as Centre.keyed_facts(). Non-mappings are skipped."""
    def get(obj: Any, name: str) -> Any:
        return obj.get(name) if isinstance(obj, Mapping) else None

    for kind, key, where, fact in _keyed(centre, get):
        if isinstance(fact, dict):
            yield kind, key, where, fact


class Kommun(_Model):
    code: str
    name: str

    @validator("code", pre=True)
    def _code(cls, v):
        return _kommun_code(v)

    @property
    def county_code(self) -> str:
        return self.code[:2]


class County(_Model):
    code: str
    name: str
    short_forms: List[str] = []
    landskap: List[str] = []
    seat: Optional[str] = None
    region_body: Optional[str] = None
    letter: Optional[str] = None
    other_local_terms: List[str] = []
    centre: str
    kommuner: List[Kommun]

    @validator("code", pre=True)
    def _code(cls, v):
        return _lan_code(v)


class Town(_Model):
    name: str
    kommun: Optional[str] = None
    county: Optional[str] = None

    @validator("kommun", pre=True)
    def _kommun(cls, v):
        return None if v is None else _kommun_code(v)

    @validator("county", pre=True)
    def _county(cls, v):
        return None if v is None else _lan_code(v)

    @root_validator(skip_on_failure=True)
    def _one_target(cls, values):
        if bool(values.get("kommun")) == bool(values.get("county")):
            raise ValueError("give exactly one of kommun or county")
        return values


class Ambiguous(_Model):
    term: str
    kind: Optional[str] = None            # landskap | landsdel | region
    counties: List[str]
    default: Optional[str] = None         # the län a bare mention means (e.g. "Västmanland" -> "19")
    kommuner: List[str] = []
    advice_sv: Optional[str] = None
    advice_en: Optional[str] = None

    @validator("counties", pre=True, each_item=True)
    def _counties(cls, v):
        return _lan_code(v)

    @validator("default", pre=True)
    def _default(cls, v):
        return None if v is None else _lan_code(v)

    @validator("kommuner", pre=True, each_item=True)
    def _kommuner(cls, v):
        return _kommun_code(v)

    @root_validator(skip_on_failure=True)
    def _default_listed(cls, values):
        if values.get("default") and values["default"] not in values.get("counties", []):
            raise ValueError(f"default {values['default']!r} is not one of its counties")
        return values


class Filmregionerna(_Model):
    name: str
    website: str
    source: str
    checked: dt.date

    @validator("website", "source")
    def _urls(cls, v):
        return check_url(v)

    @validator("checked", pre=True)
    def _checked(cls, v):
        return _to_date(v)


class GeneralSource(_Model):
    url: str
    note_sv: Optional[str] = None
    note_en: Optional[str] = None
    topics: List[str] = []
    checked: Optional[dt.date] = None

    @validator("url")
    def _url(cls, v):
        return check_url(v)

    @validator("topics", each_item=True)
    def _topics(cls, v):
        if v not in TOPICS:
            raise ValueError(f"unknown topic {v!r}")
        return v

    @validator("checked", pre=True)
    def _checked(cls, v):
        return None if v is None else _to_date(v)


def _check_id(v: str) -> str:
    if not _ID.match(v):
        raise ValueError(f"must be kebab-case (a-z, 0-9, '-'): {v!r}")
    return v


def _check_kind(v: str) -> str:
    if v not in OFFER_KINDS:
        raise ValueError(f"unknown kind {v!r} (allowed: {', '.join(OFFER_KINDS)})")
    return v


def _check_facet(v: str) -> str:
    if v not in FACETS:
        raise ValueError(f"unknown facet {v!r} (one of {', '.join(FACETS)})")
    return v


def _code(v: Any, width: int, what: str) -> str:
    if isinstance(v, bool) or not isinstance(v, (str, int)):
        raise ValueError(f"{what} must be a {width}-digit string, not {v!r}")
    s = str(v).strip()
    if not s.isdigit() or len(s) > width:
        raise ValueError(f"{what} must be a {width}-digit string, not {v!r}")
    return s.zfill(width)


def _lan_code(v: Any) -> str:
    return _code(v, 2, "län code")


def _kommun_code(v: Any) -> str:
    return _code(v, 4, "kommun code")


class Registry(_Model):
    schema_version: int = 1
    checked: dt.date
    generated_from: Optional[str] = None
    filmregionerna: Filmregionerna
    general_sources: List[GeneralSource] = []
    centres: List[Centre]
    counties: List[County]
    towns: List[Town] = []
    ambiguous: List[Ambiguous] = []

    _centres: Dict[str, Centre] = PrivateAttr(default_factory=dict)
    _counties: Dict[str, County] = PrivateAttr(default_factory=dict)
    _kommuner: Dict[str, Kommun] = PrivateAttr(default_factory=dict)
    _centre_by_county: Dict[str, Centre] = PrivateAttr(default_factory=dict)
    _path: Optional[Path] = PrivateAttr(default=None)

    def __init__(self, **data):
        super().__init__(**data)
        self._centres = {c.id: c for c in self.centres}
        self._counties = {k.code: k for k in self.counties}
        self._kommuner = {m.code: m for k in self.counties for m in k.kommuner}
        self._centre_by_county = {code: c for c in self.centres for code in c.counties}

    @property
    def path(self) -> Optional[Path]:
        """The file this registry was loaded from."""
        return self._path

    # -- look-ups (None when unknown)
    def centre(self, centre_id: str) -> Optional[Centre]:
        return self._centres.get(centre_id)

    def county(self, code: Any) -> Optional[County]:
        try:
            return self._counties.get(_lan_code(code))
        except ValueError:
            return None

    def kommun(self, code: Any) -> Optional[Kommun]:
        try:
            return self._kommuner.get(_kommun_code(code))
        except ValueError:
            return None

    @property
    def kommuner(self) -> List[Kommun]:
        return list(self._kommuner.values())

    def county_of_kommun(self, code: Any) -> Optional[County]:
        k = self.kommun(code)
        return self.county(k.county_code) if k else None

    def centre_for_county(self, code: Any) -> Optional[Centre]:
        try:
            return self._centre_by_county.get(_lan_code(code))
        except ValueError:
            return None

    def unit_for(self, centre_id: str, topic: str) -> Optional[Unit]:
        """The unit of a split body that handles `topic`; None for single bodies or unrouted topics."""
        centre = self.centre(centre_id)
        if centre is None:
            return None
        return next((u for u in centre.units if topic in u.topics), None)

    def offers_for(self, centre_id: str, topic: str) -> List[Offer]:
        """The centre's offers of kind `topic` (all units), in file order."""
        centre = self.centre(centre_id)
        return [o for o in centre.offers if o.kind == topic] if centre else []

    def facts(self) -> Iterable[Tuple[Centre, str, Fact]]:
        for c in self.centres:
            for where, f in c.facts():
                yield c, where, f

    def stale_facts(self, today: Optional[dt.date] = None) -> List[Tuple[Centre, str, Fact]]:
        return [(c, w, f) for c, w, f in self.facts() if f.is_stale(today)]

    def summary(self, today: Optional[dt.date] = None) -> str:
        facts = list(self.facts())
        stale = sum(1 for _, _, f in facts if f.is_stale(today))
        confirmed = sum(1 for _, _, f in facts if f.confirmed_recently(today))
        offers = sum(len(c.offers) for c in self.centres)
        return (f"{len(self.centres)} centres, {len(self.counties)} län, {len(self._kommuner)} kommuner, "
                f"{len(self.towns)} towns, {len(self.ambiguous)} ambiguous terms, {offers} offers, "
                f"{stale} of {len(facts)} facts stale, {confirmed} confirmed within two years")


# ---------------------------------------------------------------- loading

def default_path() -> Path:
    env = os.environ.get(ENV_VAR)
    return Path(env) if env else DEFAULT_PATH


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _loc(loc: Iterable[Any]) -> str:
    out = ""
    for part in loc:
        if part == "__root__":
            continue
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _entry_label(section: str, index: int, raw: Any, key: str) -> str:
    label = f"{section}[{index}]"
    if isinstance(raw, dict) and raw.get(key) not in (None, ""):
        label += f" ({raw[key]})"
    return label


def _pydantic_problems(fname: str, entry: str, err: ValidationError) -> List[str]:
    out = []
    for e in err.errors():
        field = _loc(e["loc"])
        msg = e["msg"]
        if e["type"] == "value_error.missing":
            msg = "required field is missing"
        elif e["type"] == "value_error.extra":
            msg = "unknown field (not in the registry format)"
        out.append(f"{fname}: {entry}: {field}: {msg}" if field else f"{fname}: {entry}: {msg}")
    return out


SECTIONS: Tuple[Tuple[str, Type[_Model], str], ...] = (
    ("general_sources", GeneralSource, "url"),
    ("centres", Centre, "id"),
    ("counties", County, "code"),
    ("towns", Town, "name"),
    ("ambiguous", Ambiguous, "term"),
)
REQUIRED_SECTIONS = ("centres", "counties")


# ---------------------------------------------------------------- writing

class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):
    def ignore_aliases(self, data):  # no &id001 anchors for a shared date
        return True


def _represent_str(dumper, value):
    # Quote codes and partial dates so no YAML reader turns them into numbers or dates.
    style = '"' if re.fullmatch(r"[0-9][0-9\-]*", value) else None
    if "\n" in value:
        style = "|"
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def dump_registry(data: Mapping, header: str = "") -> str:
    """The registry's YAML text in the one style every writer uses (scripts/import_reference.py and
    bot/tools/upkeep.py): block style, keys in the given order, 120 columns, codes and partial dates quoted,
    after `header` (comment lines)."""
    return header + yaml.dump(dict(data), Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=120,
                              default_flow_style=False)


def read_raw(text: str) -> Any:
    """The registry YAML as plain data (dates as datetime.date), as the writers round-trip it."""
    return yaml.load(text, Loader=_YamlLoader)


def load_registry(path: Optional[os.PathLike] = None) -> Registry:
    """Read and validate the registry file; RegistryError lists every problem found."""
    path = Path(path) if path is not None else default_path()
    return parse_registry(_read_text(path), path)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise RegistryError([f"{_display(path)}: cannot read the file: {reason}"], path) from None


def parse_registry(text: str, path: Optional[os.PathLike] = None) -> Registry:
    """Validate registry YAML `text`; problems name `path` (the file the text is, or will be, stored in)."""
    path = Path(path) if path is not None else default_path()
    fname = _display(path)
    try:
        data = yaml.load(text, Loader=_YamlLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        context = getattr(exc, "context", None)
        detail = f"{context}; {problem}" if context else problem
        raise RegistryError([f"{fname}: {where}invalid YAML: {detail}"], path) from None
    facets, problems = read_facets(facets_dir(path))
    try:
        return validate_registry(merge_facets(data, facets, problems), path, problems)
    except RegistryError as exc:
        raise RegistryError(exc.problems, path) from None


# ---------------------------------------------------------------- facets files (registry/facets/*.yaml)

def facets_dir(path: os.PathLike) -> Path:
    """The folder of a registry file's facets files: `facets/` beside it."""
    return Path(path).parent / FACETS_DIR


def facets_path(registry_path: os.PathLike, centre_id: str) -> Path:
    return facets_dir(registry_path) / f"{centre_id}.yaml"


def facets_files(folder: Path) -> List[Path]:
    try:
        return sorted(p for p in folder.iterdir() if p.suffix == ".yaml" and p.is_file())
    except OSError:
        return []


def read_facets(folder: Path) -> Tuple[Dict[str, Tuple[Path, dict]], List[str]]:
    """{centre id: (file, raw mapping)} of the facets files that validate on their own, and the problems of
    those that do not (one line each, naming the file)."""
    out: Dict[str, Tuple[Path, dict]] = {}
    problems: List[str] = []
    for file in facets_files(folder):
        fname = _display(file)
        try:
            raw = yaml.load(file.read_text(encoding="utf-8"), Loader=_YamlLoader)
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            problems.append(f"{fname}: cannot read the file: {str(exc).splitlines()[0]}")
            continue
        if not isinstance(raw, dict):
            problems.append(f"{fname}: the file must be a mapping with centre, general_contact, facts, not_found")
            continue
        try:
            FacetsFile.parse_obj(raw)
        except ValidationError as exc:
            problems.extend(_pydantic_problems(fname, f"centre {raw.get('centre')}", exc))
            continue
        if file.stem != raw["centre"]:
            problems.append(f"{fname}: centre: {raw['centre']!r} does not match the file name "
                            f"(expected {file.stem!r})")
            continue
        out[raw["centre"]] = (file, raw)
    return out, problems


def merge_facets(data: Any, facets: Mapping[str, Tuple[Path, dict]], problems: List[str]) -> Any:
    """The registry data with each centre's facets file merged in (`facets`, `facets_not_found`, and
    `general_contact` when registry.yaml has none). Centres are shallow copies: the fact mappings are the
    files' own objects, so bot/tools/upkeep.py can confirm a fact in place and write the file it came from.
    Problems (a facets file for an unknown centre, a general contact given twice) go to `problems`."""
    if not facets or not isinstance(data, dict) or not isinstance(data.get("centres"), list):
        return data
    ids = {c.get("id") for c in data["centres"] if isinstance(c, dict)}
    for centre_id, (file, _) in facets.items():
        if centre_id not in ids:
            problems.append(f"{_display(file)}: centre: no centre {centre_id!r} in the registry")
    centres = []
    for c in data["centres"]:
        if isinstance(c, dict) and c.get("id") in facets:
            file, raw = facets[c["id"]]
            c = dict(c)
            c["facets"] = raw.get("facts") or []
            c["facets_not_found"] = raw.get("not_found") or []
            if raw.get("general_contact") is not None:
                if c.get("general_contact") is not None:
                    problems.append(f"{_display(file)}: general_contact: also given in the registry file; "
                                    "keep one")
                else:
                    c["general_contact"] = raw["general_contact"]
            units = {u.get("id") for u in c.get("units") or [] if isinstance(u, dict)}
            for j, f in enumerate(c["facets"]):
                if isinstance(f, dict) and f.get("unit") is not None and f["unit"] not in units:
                    problems.append(f"{_display(file)}: facts[{j}].unit: {f['unit']!r} is not a unit of "
                                    f"{c['id']} ({', '.join(sorted(units)) or 'it has no units'})")
        centres.append(c)
    return {**data, "centres": centres}


def validate_registry(data: Any, path: Optional[os.PathLike] = None,
                      problems: Optional[List[str]] = None) -> Registry:
    """Validate registry data as read from YAML (read_raw), facets merged in (merge_facets); problems name
    `path`, after `problems` already found. `data` is not changed."""
    path = Path(path) if path is not None else default_path()
    fname = _display(path)
    if not isinstance(data, dict):
        raise RegistryError([f"{fname}: the file must be a mapping with centres, counties, ... "
                             f"(got {type(data).__name__})"], path)

    problems = list(problems or [])
    parsed: Dict[str, List[Tuple[int, Any]]] = {}
    failed: Dict[str, List[dict]] = {}   # raw entries that did not parse, to mute follow-on problems
    for section, model, key in SECTIONS:
        raw_list = data.get(section)
        parsed[section] = []
        failed[section] = []
        if raw_list is None:
            if section in REQUIRED_SECTIONS:
                problems.append(f"{fname}: {section}: required section is missing")
            continue
        if not isinstance(raw_list, list):
            problems.append(f"{fname}: {section}: must be a list, not {type(raw_list).__name__}")
            continue
        for i, raw in enumerate(raw_list):
            entry = _entry_label(section, i, raw, key)
            if not isinstance(raw, dict):
                problems.append(f"{fname}: {entry}: must be a mapping, not {type(raw).__name__}")
                continue
            try:
                parsed[section].append((i, model.parse_obj(raw)))
            except ValidationError as exc:
                problems.extend(_pydantic_problems(fname, entry, exc))
                failed[section].append((i, raw))

    top = {k: v for k, v in data.items() if k not in dict((s, 1) for s, _, _ in SECTIONS)}
    top.setdefault("centres", [])
    top.setdefault("counties", [])
    try:
        header = Registry.parse_obj(top)
    except ValidationError as exc:
        header = None
        problems.extend(_pydantic_problems(fname, "top level", exc))
    if header is not None and header.schema_version != 1:
        problems.append(f"{fname}: top level: schema_version: unsupported version {header.schema_version} (expected 1)")

    problems.extend(_cross_check(fname, parsed, failed))
    if problems:
        raise RegistryError(problems, path)

    reg = Registry(**{**top, **{s: [m for _, m in parsed[s]] for s, _, _ in SECTIONS}})
    reg._path = path
    return reg


def _raw_codes(values: Any, width: int) -> set:
    out = set()
    for v in values if isinstance(values, list) else [values]:
        try:
            out.add(_code(v, width, "code"))
        except ValueError:
            pass
    return out


class _CrossCheck:
    """The cross-checks over the parsed entries, each adding its problems in file order."""

    def __init__(self, fname: str, parsed: Dict[str, List[Tuple[int, Any]]], failed: Dict[str, List[dict]]):
        self.fname = fname
        self.problems: List[str] = []
        self.centres = parsed["centres"]
        self.counties = parsed["counties"]
        self.towns = parsed["towns"]
        self.ambiguous = parsed["ambiguous"]
        self.failed_centres = failed.get("centres", [])
        failed_counties = [raw for _, raw in failed.get("counties", [])]
        self.failed_centre_ids = {raw.get("id") for _, raw in self.failed_centres}
        self.failed_centre_lan = set().union(*[_raw_codes(raw.get("counties"), 2) for _, raw in self.failed_centres])
        self.failed_lan = set().union(*[_raw_codes(raw.get("code"), 2) for raw in failed_counties])
        self.failed_kommuner = set().union(*[
            _raw_codes([m.get("code") for m in raw.get("kommuner") or [] if isinstance(m, dict)], 4)
            for raw in failed_counties])
        self.county_codes: Dict[str, int] = {}     # län code -> index in counties
        self.kommun_seen: Dict[str, str] = {}      # kommun code -> where it is listed
        self.kommun_names: Dict[str, str] = {}     # casefolded kommun name -> code
        self.forms: Dict[str, str] = {}            # casefolded short form -> län code

    def add(self, entry: str, field: str, msg: str) -> None:
        """One problem of an entry's field (or of the whole entry when field is empty)."""
        self.problems.append(f"{self.fname}: {entry}: {field}: {msg}" if field else f"{self.fname}: {entry}: {msg}")

    def failed_offer_units(self) -> None:
        """Offers' unit references in centres that failed to parse for other reasons (best effort, raw data)."""
        for i, raw in self.failed_centres:
            units = raw.get("units") if isinstance(raw.get("units"), list) else []
            unit_ids = [u.get("id") for u in units if isinstance(u, dict)]
            offers = raw.get("offers") if isinstance(raw.get("offers"), list) else []
            for j, o in enumerate(offers):
                if isinstance(o, dict) and o.get("unit") is not None and o["unit"] not in unit_ids:
                    known = ", ".join(str(u) for u in unit_ids) or "this centre has no units"
                    self.add(_entry_label("centres", i, raw, "id"), f"offers[{j}].unit",
                             f"unknown unit {o['unit']!r} ({known})")

    def centre_entries(self) -> None:
        """Centres: unique ids, then each centre's units, offers' unit references and län codes."""
        seen_ids: Dict[str, int] = {}
        for i, c in self.centres:
            entry = f"centres[{i}] ({c.id})"
            if c.id in seen_ids:
                self.add(entry, "id", f"duplicate centre id {c.id!r} (also centres[{seen_ids[c.id]}])")
            else:
                seen_ids[c.id] = i
            self._units(entry, c)
            self._centre_counties(entry, c)

    def _units(self, entry: str, c: Any) -> None:
        """A centre's unit ids unique, each topic routed to one unit, offers naming units that exist."""
        unit_ids: Dict[str, int] = {}
        topic_unit: Dict[str, str] = {}
        for j, u in enumerate(c.units):
            if u.id in unit_ids:
                self.add(entry, f"units[{j}].id", f"duplicate unit id {u.id!r} (also units[{unit_ids[u.id]}])")
            unit_ids.setdefault(u.id, j)
            for t in u.topics:
                if t in topic_unit and topic_unit[t] != u.id:
                    self.add(entry, f"units[{j}].topics", f"topic {t!r} is already routed to unit {topic_unit[t]!r}")
                topic_unit.setdefault(t, u.id)
        for j, o in enumerate(c.offers):
            if o.unit is not None and o.unit not in unit_ids:
                known = ", ".join(unit_ids) or "this centre has no units"
                self.add(entry, f"offers[{j}].unit", f"unknown unit {o.unit!r} ({known})")

    def _centre_counties(self, entry: str, c: Any) -> None:
        """A centre's län codes known and each listed once."""
        seen_codes = set()
        for j, code in enumerate(c.counties):
            if code not in LAN_CODES:
                self.add(entry, f"counties[{j}]", f"unknown län code {code!r}")
            if code in seen_codes:
                self.add(entry, f"counties[{j}]", f"län {code!r} listed twice")
            seen_codes.add(code)

    def county_entries(self) -> None:
        """Counties: the 21 län, each once."""
        for i, k in self.counties:
            entry = f"counties[{i}] ({k.code})"
            if k.code not in LAN_CODES:
                self.add(entry, "code", f"unknown län code {k.code!r} (Sweden's län: {', '.join(LAN_CODES)})")
            if k.code in self.county_codes:
                self.add(entry, "code", f"duplicate län {k.code!r} (also counties[{self.county_codes[k.code]}])")
            self.county_codes.setdefault(k.code, i)
        if self.counties:
            for code in LAN_CODES:
                if code not in self.county_codes and code not in self.failed_lan:
                    self.problems.append(f"{self.fname}: counties: län {code!r} is missing (all 21 län must be listed)")

    def kommuner(self) -> None:
        """Kommun codes unique and inside their län, kommun names unique."""
        for i, k in self.counties:
            entry = f"counties[{i}] ({k.code})"
            for j, m in enumerate(k.kommuner):
                where = f"kommuner[{j}].code"
                if m.code in self.kommun_seen:
                    self.add(entry, where, f"kommun {m.code} ({m.name}) is also listed in {self.kommun_seen[m.code]}; "
                                           f"a kommun belongs to exactly one län")
                else:
                    self.kommun_seen[m.code] = f"{entry} kommuner[{j}]"
                if not m.code.startswith(k.code):
                    self.add(entry, where, f"kommun {m.code} ({m.name}) does not belong to län {k.code} "
                                           f"(its code starts with {m.code[:2]})")
                key = m.name.casefold()
                if key in self.kommun_names and self.kommun_names[key] != m.code:
                    self.add(entry, f"kommuner[{j}].name",
                             f"kommun name {m.name!r} is also used by {self.kommun_names[key]}")
                self.kommun_names.setdefault(key, m.code)

    def coverage(self) -> None:
        """Every län covered by exactly one centre, and each county's centre agrees."""
        covering: Dict[str, List[str]] = {}
        for i, c in self.centres:
            for j, code in enumerate(c.counties):
                if code in LAN_CODES and self.counties and code not in self.county_codes \
                        and code not in self.failed_lan:
                    self.add(f"centres[{i}] ({c.id})", f"counties[{j}]", f"län {code!r} is not in the counties list")
                covering.setdefault(code, []).append(c.id)
        if self.centres and self.counties:
            centre_ids = {c.id for _, c in self.centres}
            for i, k in self.counties:
                by = list(dict.fromkeys(covering.get(k.code, [])))   # a duplicated centre is reported once, above
                self._county_centre(f"counties[{i}] ({k.code})", k, by, centre_ids)

    def _county_centre(self, entry: str, k: Any, by: List[str], centre_ids: set) -> None:
        """One län: covered by one centre, the one its `centre` names."""
        if not by and k.code not in self.failed_centre_lan:
            self.add(entry, "", f"no centre lists län {k.code} in its counties")
        elif len(by) > 1:
            self.add(entry, "", f"län {k.code} is covered by more than one centre: {', '.join(by)}")
        if k.centre in self.failed_centre_ids:
            pass
        elif k.centre not in centre_ids:
            self.add(entry, "centre", f"unknown centre id {k.centre!r}")
        elif by and k.centre not in by:
            self.add(entry, "centre", f"{k.centre!r} does not list län {k.code} in its counties "
                                      f"(covered by {', '.join(by)})")

    def short_forms(self) -> None:
        """One county per short form."""
        for i, k in self.counties:
            for j, f in enumerate(k.short_forms):
                key = f.casefold()
                if key in self.forms and self.forms[key] != k.code:
                    self.add(f"counties[{i}] ({k.code})", f"short_forms[{j}]",
                             f"{f!r} is also a short form of län {self.forms[key]}")
                self.forms.setdefault(key, k.code)

    def town_entries(self) -> None:
        """Towns point at existing kommuner and län, are unique, and are neither kommuner nor other län's forms."""
        seen_towns: Dict[str, int] = {}
        for i, t in self.towns:
            entry = f"towns[{i}] ({t.name})"
            if t.kommun and t.kommun not in self.kommun_seen and t.kommun not in self.failed_kommuner:
                self.add(entry, "kommun", f"unknown kommun code {t.kommun!r}")
            if t.county and t.county not in self.county_codes and t.county not in self.failed_lan:
                self.add(entry, "county", f"unknown län code {t.county!r}")
            key = t.name.casefold()
            if key in seen_towns:
                self.add(entry, "name", f"duplicate town {t.name!r} (also towns[{seen_towns[key]}])")
            seen_towns.setdefault(key, i)
            if key in self.kommun_names:
                self.add(entry, "name", f"{t.name!r} is a kommun name; towns are for places that are not kommuner")
            target = t.county or (t.kommun or "")[:2]
            if key in self.forms and self.forms[key] != target:
                self.add(entry, "name", f"{t.name!r} is a short form of län {self.forms[key]} but points to {target}")

    def ambiguous_entries(self) -> None:
        """Ambiguous terms point at existing län and kommuner, and a short form's default is its län."""
        for i, a in self.ambiguous:
            entry = f"ambiguous[{i}] ({a.term})"
            for j, code in enumerate(a.counties):
                if code not in self.county_codes and code not in self.failed_lan:
                    self.add(entry, f"counties[{j}]", f"unknown län code {code!r}")
            for j, code in enumerate(a.kommuner):
                if code not in self.kommun_seen and code not in self.failed_kommuner:
                    self.add(entry, f"kommuner[{j}]", f"unknown kommun code {code!r}")
            key = a.term.casefold()
            if key in self.forms and a.default != self.forms[key]:
                self.add(entry, "default", f"{a.term!r} is a short form of län {self.forms[key]}; set default: "
                                           f"\"{self.forms[key]}\" or remove the short form")


def _cross_check(fname: str, parsed: Dict[str, List[Tuple[int, Any]]], failed: Dict[str, List[dict]]) -> List[str]:
    """Consistency across entries. Entries that failed to parse were already reported: what they would
    have supplied (ids, län, kommuner) is taken from their raw data so no follow-on problem is reported."""
    check = _CrossCheck(fname, parsed, failed)
    check.failed_offer_units()
    check.centre_entries()
    check.county_entries()
    check.kommuner()
    check.coverage()
    check.short_forms()
    if check.counties:        # towns and ambiguous terms are checked against the län and kommuner listed
        check.town_entries()
        check.ambiguous_entries()
    return check.problems


# ---------------------------------------------------------------- hot-reloading store

class RegistryStore:
    """Serves a Registry and re-reads the file when it changes.

    The file is stat'ed at most once per `check_interval` seconds (0: on every get). A change is a new
    inode, mtime, ctime or size; while the file's mtime is within RACY_SECONDS of the clock, a write in the
    same timestamp tick could leave all of them unchanged, so the content's digest is compared as well.
    A broken edit is logged (WARNING, with every problem) and the last good registry stays in use until
    the file changes again."""

    RACY_SECONDS = 2.0   # coarser than any file system's timestamp granularity we run on (FAT: 2 s)

    def __init__(self, path: Optional[os.PathLike] = None, check_interval: float = 1.0,
                 clock: Callable[[], float] = time.monotonic):
        self.path = Path(path) if path is not None else default_path()
        self.check_interval = check_interval
        self._clock = clock
        self._lock = threading.Lock()
        self._registry: Optional[Registry] = None
        self._signature: Optional[Tuple[Any, ...]] = None   # of the last files read, good or bad
        self._digest: Optional[bytes] = None
        self._last_check = float("-inf")
        self.last_problems: List[str] = []

    def _files(self) -> List[Path]:
        """The registry file and its facets files: what the registry is read from."""
        return [self.path, *facets_files(facets_dir(self.path))]

    def _stat(self) -> Optional[Tuple[Any, ...]]:
        """Inode, mtime, ctime and size of every file read (None when the registry file is missing)."""
        out = []
        for file in self._files():
            try:
                st = file.stat()
            except OSError:
                if file == self.path:
                    return None
                continue
            out.append((file.name, st.st_ino, st.st_mtime_ns, st.st_ctime_ns, st.st_size))
        return tuple(out)

    def _content_digest(self) -> bytes:
        h = hashlib.sha1()
        for file in self._files():
            h.update(file.name.encode() + b"\0" + file.read_bytes() + b"\0")
        return h.digest()

    def _unchanged(self, signature: Optional[Tuple[Any, ...]]) -> bool:
        if signature is None or signature != self._signature:
            return False
        if time.time() - max(s[2] for s in signature) / 1e9 >= self.RACY_SECONDS:
            return True
        try:
            return self._content_digest() == self._digest
        except OSError:
            return False

    def get(self) -> Registry:
        with self._lock:
            now = self._clock()
            if self._registry is not None and now - self._last_check < self.check_interval:
                return self._registry
            self._last_check = now
            signature = self._stat()
            if self._registry is not None and self._unchanged(signature):
                return self._registry
            data: Optional[bytes] = None
            try:
                try:
                    data = self.path.read_bytes()
                    text = data.decode("utf-8")
                except (OSError, UnicodeDecodeError) as exc:
                    reason = getattr(exc, "strerror", None) or exc
                    raise RegistryError([f"{_display(self.path)}: cannot read the file: {reason}"],
                                        self.path) from None
                registry = parse_registry(text, self.path)
            except RegistryError as exc:
                if self._registry is None:
                    raise
                self._signature = signature
                self._digest = self._digest_or_none()
                self.last_problems = exc.problems
                log.warning("registry %s is broken; keeping the last good registry. Problems:\n%s",
                            self.path, "\n".join(exc.problems))
                return self._registry
            self._registry = registry
            self._signature, self._digest = signature, self._digest_or_none()
            self.last_problems = []
            return registry

    def _digest_or_none(self) -> Optional[bytes]:
        try:
            return self._content_digest()
        except OSError:
            return None

    def reload(self) -> Registry:
        """Force a re-read on the next get()."""
        with self._lock:
            self._signature = None
            self._last_check = float("-inf")
        return self.get()


_store: Optional[RegistryStore] = None
_store_lock = threading.Lock()


def get_registry() -> Registry:
    """The process-wide registry (path: $FILMBOT_REGISTRY or ROOT/registry/registry.yaml)."""
    global _store
    path = default_path()
    with _store_lock:
        if _store is None or _store.path != path:
            # Checked on every call (a stat, microseconds): a confirmation written by
            # `python -m bot registry confirm` or the staff page shapes the very next answer.
            _store = RegistryStore(path, check_interval=0)
        store = _store
    return store.get()


def reset_registry_store() -> None:
    """Forget the process-wide store (tests)."""
    global _store
    with _store_lock:
        _store = None
