"""Answers composed from the registry and bot/copy.yml, in Swedish or English.

Every centre fact shown carries its source and date. Only sourced facts are shown: an unverified offer
(a guess such as "sannolikt ...") is never presented; where the registry has no sourced fact for a topic,
the answer says so plainly and says how to ask the centre. When a shown fact is undated or more than two
years old and staff have not confirmed it within the last two years (bot/tools/upkeep.py), one note per answer
asks the visitor to check the website; a confirmed fact shows its confirmation date next to its source
("publicerad 2021-05, bekräftad 2026-12-01"). An unverified fact that staff confirmed against its source
counts as sourced from then on. Every answer about a centre ends
with how to get in touch: the registry's general contact (e-mail/phone) or contact page when there is
one, and the website. English answers use the registry's English texts (`text_en`, `note_en`); registry
text that exists in Swedish only is shown with an "(in Swedish)" lead. Nothing here invents a fact.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Dict, FrozenSet, Iterable, List, Optional, Tuple
from urllib.parse import urlsplit

import yaml

from bot.paths import ROOT
from bot.text import fold
from bot.topics import OFFER_KINDS, RELATED_KINDS, TOPIC_INTENTS

COPY_PATH = ROOT / "bot" / "copy.yml"
MAX_OFFERS = 3
MAX_BUTTONS = 5
# "Nej, något annat": Rasa's two-stage fallback reads the intent out_of_scope as "none of these".
SOMETHING_ELSE = "/out_of_scope"
START_OVER = "/start_over"
DENY = "/deny"


@dataclass
class Answer:
    """One bot message. kind/reason/topic/centre/county become the message's feedback tag
    (bot/feedback.py): "registry" answers can be rated, "unanswered" ones say why."""
    text: str
    buttons: List[Dict[str, str]] = field(default_factory=list)
    kind: str = "other"
    reason: Optional[str] = None
    topic: Optional[str] = None
    centre: Optional[str] = None
    county: Optional[str] = None

    def tag(self) -> Dict[str, Any]:
        from bot.feedback import tag

        return tag(self.kind, self.reason, self.topic, self.centre, self.county)


@lru_cache(maxsize=1)
def _copy() -> Dict[str, Any]:
    with open(COPY_PATH, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def t(key: str, lang: str, **values: Any) -> str:
    """The copy text `key` in `lang` (falling back to Swedish) with placeholders filled."""
    entry = _copy()[key]
    text = entry.get(lang) or entry["sv"]
    return text.format(**values) if values else text


def label(group: str, key: str, lang: str) -> str:
    entry = _copy()[group].get(key)
    if not entry:
        return key
    return entry.get(lang) or entry["sv"]


def topic_name(topic: str, lang: str) -> str:
    return label("topic_names", topic, lang)


def _lang(lang: Optional[str]) -> str:
    return "en" if lang == "en" else "sv"


def _join(items: Iterable[str], lang: str) -> str:
    """"a, b och c" / "a, b and c"."""
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + t("and", lang) + items[-1]


# ---------------------------------------------------------------- registry helpers

def _verified(fact: Any) -> bool:
    """Not a guess: not marked unverified, or confirmed by staff (bot.registry.Fact.verified)."""
    verified = getattr(fact, "verified", None)
    return (not getattr(fact, "unverified", False)) if verified is None else bool(verified)


def _sourced(fact: Any) -> bool:
    return _verified(fact) and bool(getattr(fact, "source", None))


def _newest_first(offer: Any) -> Tuple[bool, int]:
    rng = offer.published_range()
    return (not _verified(offer), -(rng[1].toordinal() if rng else 0))


def _date_label(fact: Any, lang: str) -> str:
    """The page date ("publicerad 2021-05"), with the staff's confirmation date when there is one."""
    confirmed = getattr(fact, "confirmed", None)
    if confirmed is not None:
        day = confirmed.date.isoformat()
        if getattr(fact, "published", None):
            return t("published_confirmed", lang, date=fact.published, confirmed=day)
        return t("published_unknown_confirmed", lang, confirmed=day)
    if getattr(fact, "published", None):
        return t("published", lang, date=fact.published)
    return t("published_unknown", lang, date=str(getattr(fact, "checked", "") or ""))


def _website(obj: Any) -> str:
    site = getattr(obj, "website", None)
    if site is None:
        return "https://filmregionerna.se"
    return getattr(site, "url", None) or str(site)


def _site(centre: Any, unit: Any = None) -> str:
    """The website to point to: the unit's for a split body, else the centre's."""
    return (getattr(unit, "website", None) if unit is not None else None) or _website(centre)


def _host(url: Optional[str]) -> str:
    host = (urlsplit(url or "").hostname or "").lower()
    return host[4:] if host.startswith("www.") else host


def _same_site(a: str, b: str) -> bool:
    return bool(a and b) and (a == b or a.endswith("." + b) or b.endswith("." + a))


def county_name(registry: Any, code: Optional[str]) -> str:
    county = registry.county(code) if code else None
    return county.name if county else ""


def counties_text(registry: Any, codes: Iterable[str], lang: str) -> str:
    """All län of a centre: "Blekinge, Kalmar och Kronobergs län" (registry order)."""
    names = [n for n in (county_name(registry, c) for c in codes) if n]
    suffix = " län"
    if len(names) > 1 and all(n.endswith(suffix) for n in names):
        names = [n[: -len(suffix)] for n in names[:-1]] + [names[-1]]
    return _join(names, lang)


def _registry_text(text_sv: Optional[str], text_en: Optional[str], lang: str) -> str:
    """Registry text in the answer language; Swedish-only text in an English answer gets a short lead."""
    if lang == "en":
        if text_en:
            return text_en.strip()
        return t("in_swedish", lang, text=(text_sv or "").strip())
    return (text_sv or text_en or "").strip()


# ---------------------------------------------------------------- buttons and place questions

def topic_buttons(lang: str) -> List[Dict[str, str]]:
    return [
        {"title": label("topic_buttons", topic, lang), "payload": f"/{TOPIC_INTENTS[topic]}"}
        for topic in _copy()["topic_buttons"]
    ]


def _place_button(name: str, title: Optional[str] = None) -> Dict[str, str]:
    payload = '/inform_place{"place": "%s"}' % name.replace('"', "").replace("\\", "")
    return {"title": title or name, "payload": payload}


def _candidate_field(cand: Any, name: str) -> Optional[str]:
    if isinstance(cand, dict):
        return cand.get(name)
    return getattr(cand, name, None)


def ask_place(lang: str) -> Answer:
    return Answer(t("ask_place", _lang(lang)))


def unknown_place(place: str, lang: str) -> Answer:
    return Answer(t("unknown_place", _lang(lang), place=place), kind="unanswered", reason="unknown_place")


def _short_centre(name: Optional[str]) -> str:
    """A centre's name short enough for a button: "Region Stockholm (filmkonsulenterna) / Film Stockholm AB"
    -> "Region Stockholm", "Region Uppsala, filmverksamheten" -> "Region Uppsala"."""
    return re.split(r" \(| / |, ", name or "", maxsplit=1)[0].strip()


def _centre_lines(candidates: Iterable[Any], lang: str) -> List[str]:
    """One line per candidate län and its centre: "• Hallands län: Region Halland, Kultur i Halland – film"."""
    lines, seen = [], set()
    for cand in candidates:
        county, centre = _candidate_field(cand, "county"), _candidate_field(cand, "centre_name")
        if not county or not centre or county in seen:
            continue
        seen.add(county)
        lines.append(t("candidate_line", lang, county=county, centre=centre))
    return lines if len(lines) > 1 else []


def ambiguous_place(place: str, candidates: Iterable[Any], lang: str) -> Answer:
    """A place of several län ("western Sweden", "Bergslagen"): one line per län naming its centre, and
    buttons for the candidate län (or kommuner), each sending the place as an inform_place entity."""
    lang = _lang(lang)
    candidates = list(candidates)
    buttons = []
    seen = set()
    for cand in candidates:
        name = _candidate_field(cand, "kommun") or _candidate_field(cand, "county")
        if not name or name in seen:
            continue
        seen.add(name)
        buttons.append(_place_button(name))
    lines = _centre_lines(candidates, lang)
    if lines:
        text = "\n".join([t("ambiguous_place_centres", lang, place=place), *lines, t("ambiguous_place_ask", lang)])
    else:
        text = t("ambiguous_place", lang, place=place)
    return Answer(text, buttons[:MAX_BUTTONS])


def ambiguous_places(places: List[str], candidates: Iterable[Any], lang: str) -> Answer:
    """A message naming several places in different län ("Ludvika eller Mora?"): which of them?
    One button per candidate (a Candidate/Resolution with kommun/county, a dict with those keys, or a
    plain name), titled "Ludvika – Film i Dalarna" (or "Ludvika (Dalarnas län)") and sending the kommun (or
    län) name as inform_place; the text names each län's centre on a line."""
    lang = _lang(lang)
    candidates = list(candidates)
    buttons = []
    seen = set()
    for cand in candidates:
        if isinstance(cand, str):
            name, county = cand, None
        else:
            name = _candidate_field(cand, "kommun") or _candidate_field(cand, "county")
            county = _candidate_field(cand, "county")
        if not name or name in seen:
            continue
        seen.add(name)
        centre = _short_centre(_candidate_field(cand, "centre_name")) if not isinstance(cand, str) else ""
        if centre:          # "Knivsta – Region Uppsala": the button says whose answer it leads to
            title = t("place_with_centre", lang, place=name, centre=centre)
        else:
            title = t("place_in_county", lang, place=name, county=county) if county and county != name else name
        buttons.append(_place_button(name, title))
    names = [p[:1].upper() + p[1:] for p in dict.fromkeys(p.strip() for p in places if p and p.strip())]
    text = t("ambiguous_places", lang, places=_join(names, lang)) if len(names) > 1 else \
        t("ambiguous_places_unnamed", lang)
    lines = _centre_lines([c for c in candidates if not isinstance(c, str)], lang)
    if lines:            # the centres of the län, then the question
        head, _, ask = text.rpartition(". ")
        text = "\n".join([head + ":", *lines, ask]) if head else "\n".join([text, *lines])
    return Answer(text, buttons[:MAX_BUTTONS])


def place_known(registry: Any, where: str, county_code: str, lang: str) -> Answer:
    lang = _lang(lang)
    centre = registry.centre_for_county(county_code)
    county = county_name(registry, county_code)
    if not where or where == county:      # "Norrbottens län hör till Norrbottens län" says nothing
        text = t("centre_intro", lang, county=county, centre=centre.name) + " " + t("overview_prompt", lang)
    else:
        text = t("place_known", lang, where=where, county=county, centre=centre.name)
    # A question back ("what would you like to know?"), not an answer to rate; the tag names the place.
    return Answer(text, topic_buttons(lang), centre=centre.id, county=county_code)


def premise_note(place: str, county: str, centre_name: str, lang: str, said: str = "") -> str:
    """One kind sentence for a visitor whose premise was wrong ("räknas vi till Västernorrland?"), naming
    what they said when it is a place of another name; the dialogue puts it before the answer."""
    lang = _lang(lang)
    if said and fold(said) not in (fold(place), fold(county)):
        return t("premise_note_said", lang, place=place, county=county, centre=centre_name,
                 said=said[:1].upper() + said[1:])
    return t("premise_note", lang, place=place, county=county, centre=centre_name)


def outside_sweden(place: str, lang: str) -> Answer:
    """A place outside Sweden: the bot covers Sweden's regional film centres only (names no centre)."""
    return Answer(t("outside_sweden", _lang(lang), place=place), kind="unanswered", reason="out_of_scope")


def out_of_scope_place(place: str, lang: str) -> Answer:
    """A place with a need that is not about film ("tandläkare i Borås"): names no centre."""
    lang = _lang(lang)
    return Answer(t("out_of_scope_place", lang, place=place), topic_buttons(lang), kind="unanswered",
                  reason="out_of_scope")


def confirm_start_over(lang: str) -> Answer:
    lang = _lang(lang)
    return Answer(t("confirm_start_over", lang), [
        {"title": t("start_over_yes", lang), "payload": START_OVER},
        {"title": t("start_over_no", lang), "payload": DENY},
    ])


# ---------------------------------------------------------------- contact block and freshness note

def _contact_text(centre: Any) -> Optional[str]:
    gc = getattr(centre, "general_contact", None)
    if not gc or not _sourced(gc):
        return None
    bits = [b for b in (getattr(gc, "email", None), getattr(gc, "phone", None)) if b]
    return ", ".join(bits) or None


def _contact_owner(centre: Any) -> Any:
    """For a split body: the unit whose website the general contact (e-mail or source) belongs to."""
    gc = centre.general_contact
    email_host = (gc.email or "").rpartition("@")[2].lower()
    for unit in getattr(centre, "units", None) or []:
        host = _host(getattr(unit, "website", None))
        if _same_site(email_host, host) or _same_site(_host(gc.source), host):
            return unit
    return None


def _general_contact(centre: Any, unit: Any) -> Tuple[Any, Optional[str]]:
    """(the sourced general contact, the name it belongs to) when it applies to `unit` (or the centre)."""
    contact = _contact_text(centre)
    if contact is None:
        return None, None
    owner = _contact_owner(centre)
    if unit is not None and owner is not None and owner.id != unit.id:
        return None, None   # another unit's address
    return centre.general_contact, (owner.name if owner is not None else centre.name)


def _contact_page(centre: Any, site: str) -> Optional[str]:
    """The general contact's page, else a contact page among the registry's sources for the centre, on the
    site we point to."""
    host = _host(site)
    gc = getattr(centre, "general_contact", None)
    page = getattr(gc, "page", None) if gc is not None and _sourced(gc) else None
    if page and (_same_site(_host(page), host) or not getattr(centre, "units", None)):
        return page
    for url in getattr(centre, "sources", None) or []:
        path = urlsplit(url).path.lower()
        if ("kontakt" in path or "contact" in path) and _same_site(_host(url), host):
            return url
    return None


def _contact_block(centre: Any, unit: Any, lang: str) -> Tuple[List[str], List[Any]]:
    """How to get in touch: (lines, facts shown)."""
    site = _site(centre, unit)
    gc, owner = _general_contact(centre, unit)
    page = _contact_page(centre, site)
    lines: List[str] = []
    facts: List[Any] = []
    if gc is not None:
        lines.append(t("contact_general", lang, name=owner, contact=_contact_text(centre), source=gc.source,
                       date=_date_label(gc, lang)))
        facts.append(gc)
    if page:
        lines.append(t("contact_page", lang, url=page))
    if lines:
        lines.append(t("website_line", lang, website=site))
    else:
        lines.append(t("contact_via_website", lang, name=unit.name if unit is not None else centre.name,
                       website=site))
    return lines, facts


def _freshness(facts: Iterable[Any], lang: str, today: Optional[dt.date]) -> List[str]:
    """The one freshness note of an answer, when any fact shown is undated or old and not confirmed by
    staff within the last two years (Fact.is_stale)."""
    return [t("stale_note", lang)] if any(f.is_stale(today) for f in facts) else []


# ---------------------------------------------------------------- offers

def _offer_lines(offers: List[Any], lang: str) -> List[str]:
    lines = []
    for offer in offers:
        text = _registry_text(offer.text_sv, getattr(offer, "text_en", None), lang).rstrip()
        lines.append(t("offer_line", lang, text=text.rstrip(".") + ".", source=offer.source,
                       date=_date_label(offer, lang)))
    return lines


def _sourced_offers(centre: Any, kinds: Iterable[str], unit_id: Optional[str], strict_unit: bool) -> List[Any]:
    kinds = set(kinds)
    offers = [o for o in centre.offers if o.kind in kinds and _sourced(o)]
    if unit_id:
        in_unit = [o for o in offers if getattr(o, "unit", None) in (None, unit_id)]
        offers = in_unit if (in_unit or strict_unit) else offers
    return sorted(offers, key=_newest_first)  # newest facts first


def _names_other_centre(offer: Any, centre: Any) -> bool:
    """Does the fact's text name another centre (a partnership: "i samarbete med Filmpool Nord")?"""
    from bot.registry import get_registry
    from bot.understanding import centre_index

    text = " ".join(t for t in (getattr(offer, "text_sv", None), getattr(offer, "text_en", None)) if t)
    return any(cid != centre.id for cid in _centres_named(centre_index(get_registry()), text))


@lru_cache(maxsize=4096)
def _centres_named(index: Any, text: str) -> FrozenSet[str]:
    """Ids of the centres a registry fact's text names: the same facts are checked for every answer, and
    fuzzy name matching was most of the action server's time. Keyed by the registry's centre index, so a
    reloaded registry is matched afresh."""
    return frozenset(m.centre_id for m in index.find(text))


def _offers_for(centre: Any, topic: str, unit_id: Optional[str]) -> Tuple[List[Any], Optional[str]]:
    """(sourced offers, None) for the topic itself, else (sourced offers, kind) of the first related kind
    that has some (a general production fund answers a short-film question in part), else ([], None).
    Unverified offers are never returned. Facts about the centre's own work come before facts about a
    partnership with another centre; a related kind is only borrowed for facts about the centre itself
    when any related kind has such facts."""
    offers = _sourced_offers(centre, [topic], unit_id, strict_unit=False)
    if offers:
        return sorted(offers, key=lambda o: _names_other_centre(o, centre)), None
    related = [(kind, _sourced_offers(centre, [kind], unit_id, strict_unit=True))
               for kind in RELATED_KINDS.get(topic, ())]
    for kind, found in related:
        own = [o for o in found if not _names_other_centre(o, centre)]
        if own:
            return own, kind
    for kind, found in related:
        if found:
            return found, kind
    return [], None


def _related_body_lines(centre: Any, topic: str, lang: str) -> List[str]:
    lines = []
    for body in getattr(centre, "related_bodies", None) or []:
        if topic not in (getattr(body, "topics", None) or []) or not body.sources:
            continue
        note = (body.note or "").strip()   # Swedish only: the English copy gives the lead
        lines.append(t("related", lang, name=body.name, note=(note.rstrip(".") + ".") if note else "",
                       source=body.sources[0]).replace("  ", " "))
    return lines


def sourced_topics(centre: Any, unit_id: Optional[str] = None) -> List[str]:
    """Topic kinds (registry order of OFFER_KINDS, without "other") with sourced offers, optionally of a
    unit (offers marked with the unit, or unmarked offers of a topic routed to it)."""
    kinds = set()
    for o in centre.offers:
        if not _sourced(o):
            continue
        if unit_id is not None:
            unit = centre.unit(unit_id)
            if not (o.unit == unit_id or (o.unit is None and unit is not None and o.kind in unit.topics)):
                continue
        kinds.add(o.kind)
    return [k for k in OFFER_KINDS if k in kinds and k != "other"]


def _topic_list(kinds: Iterable[str], lang: str) -> str:
    return ", ".join(label("topic_short_names", k, lang) for k in kinds)


# ---------------------------------------------------------------- topic answers

def answer_topic(registry: Any, county_code: str, topic: Optional[str], lang: str,
                 today: Optional[dt.date] = None, facets: Iterable[str] = ()) -> Answer:
    """The answer for `topic` in the county `county_code` (see _topic_answer), or to the facets asked of it
    (answer_facets)."""
    lang = _lang(lang)
    centre = registry.centre_for_county(county_code) if county_code else None
    if centre is None:
        return ask_place(lang)
    if facets:
        return answer_facets(registry, centre, topic, facets, lang, today, county_code)
    return _topic_answer(registry, centre, topic, lang, today, county_name(registry, county_code), county_code)


def answer_centre_topic(registry: Any, centre_id: str, topic: Optional[str], lang: str,
                        today: Optional[dt.date] = None, facets: Iterable[str] = ()) -> Answer:
    """The answer for `topic` at a centre the visitor named (no county known: all its län are named)."""
    lang = _lang(lang)
    centre = registry.centre(centre_id) if centre_id else None
    if centre is None:
        return Answer(t("unknown_centre", lang), kind="unanswered", reason="unknown_place")
    if facets:
        return answer_facets(registry, centre, topic, facets, lang, today)
    return _topic_answer(registry, centre, topic, lang, today, counties_text(registry, centre.counties, lang),
                         centre.counties[0] if len(centre.counties) == 1 else None)


def _topic_answer(registry: Any, centre: Any, topic: str, lang: str, today: Optional[dt.date],
                  where: str, county_code: Optional[str] = None) -> Answer:
    """Centre (or, for a split body, the unit), its sourced offers on the topic with source and date, at
    most one freshness note, and how to get in touch. `where`: the län named in the answer
    (`county_code` its code, when one län is meant). No sourced fact on the topic: tagged no_facts."""
    if topic == "contact":
        return dataclasses.replace(answer_contact(registry, centre, where, lang, today), county=county_code)
    if topic == "centre":
        first = [t("centre_intro", lang, county=where, centre=centre.name)]
        if len(centre.counties) > 1:
            first.append(t("centre_covers", lang, centre=centre.name,
                           counties=counties_text(registry, centre.counties, lang)))
        return dataclasses.replace(_overview(registry, centre, lang, today, first), county=county_code)
    unit = registry.unit_for(centre.id, topic) if getattr(centre, "units", None) else None
    name = unit.name if unit is not None else centre.name
    topic_label = topic_name(topic, lang)
    parts: List[str] = []
    if unit is not None:
        parts.append(t("unit_intro", lang, topic=topic_label, county=where, unit=unit.name))
    offers, related_kind = _offers_for(centre, topic, getattr(unit, "id", None))
    shown = offers[:MAX_OFFERS]
    if not shown:
        parts.append(t("no_offer", lang, topic=topic_label, centre=name))
    elif related_kind is None:
        parts.append(t("topic_intro", lang, centre=name, county=where, topic=topic_label))
    else:
        parts.append(t("no_confirmed", lang, topic=topic_label, centre=name))
        parts.append(t("related_kind_intro", lang, topic=topic_name(related_kind, lang), centre=name))
    parts.extend(_offer_lines(shown, lang))
    parts.extend(_related_body_lines(centre, topic, lang))
    contact, contact_facts = _contact_block(centre, unit, lang)
    parts.extend(_freshness(shown + contact_facts, lang, today))
    parts.extend(contact)
    if not shown:
        return Answer("\n".join(parts), kind="unanswered", reason="no_facts", topic=topic, centre=centre.id,
                      county=county_code)
    return Answer("\n".join(parts), kind="registry", topic=topic, centre=centre.id, county=county_code)


def answer_contact(registry: Any, centre: Any, county: str, lang: str,
                   today: Optional[dt.date] = None) -> Answer:
    lang = _lang(lang)
    parts = [t("centre_intro", lang, county=county, centre=centre.name)]
    facts: List[Any] = []
    units = getattr(centre, "units", None) or []
    if units:
        parts.append(t("units_intro", lang))
        for unit in units:
            parts.append(t("unit_line", lang, unit=unit.name, topics=_topic_list(
                [k for k in OFFER_KINDS if k in unit.topics and k != "other"], lang), website=_site(centre, unit)))
    contacts = [c for c in (getattr(centre, "contacts", None) or []) if _sourced(c) and getattr(c, "role", None)]
    roles = sorted({c.role for c in contacts})
    if roles:
        parts.append(t("contact_roles", lang, roles="; ".join(roles[:4])))
        facts.extend(contacts)
    contact, contact_facts = _contact_block(centre, None, lang)
    parts.extend(_freshness(facts + contact_facts, lang, today))
    parts.extend(contact)
    return Answer("\n".join(parts), kind="registry", topic="contact", centre=centre.id,
                  county=centre.counties[0] if len(centre.counties) == 1 else None)


# ---------------------------------------------------------------- facet answers

FUNDING_FAMILY = ("production_funding", "short_film", "documentary", "feature", "talent_development")
MAX_FACET_FACTS = 3


def facet_label(facet: str, lang: str) -> str:
    return label("facet_labels", facet, lang)


def facet_buttons(lang: str, skip: Iterable[str] = ()) -> List[Dict[str, str]]:
    """Buttons that ask another facet (their payload is the question as typed: the understanding step reads
    it like any message)."""
    skip = set(skip)
    return [{"title": label("facet_buttons", f, lang), "payload": label("facet_buttons", f, lang)}
            for f in _copy()["facet_buttons"] if f not in skip]


def _facet_facts_for(centre: Any, facet: str, topic: Optional[str], unit_id: Optional[str]
                     ) -> List[Tuple[Optional[str], List[Any]]]:
    """[(topic the facts are about, facts)] answering `facet` of `topic`: the topic's own facts; else those of
    the related kinds (a general fund's rules answer a short-film question in part); then the centre's
    facts on the facet as a whole. With no topic: the centre's own, else funding's, else any topic's."""
    def facts(kind: Optional[str]) -> List[Any]:
        out = [f for f in centre.facet_facts(facet, kind) if _sourced(f)]
        if unit_id:
            out = [f for f in out if getattr(f, "unit", None) in (None, unit_id)] or out
        return sorted(out, key=_newest_first)

    groups: List[Tuple[Optional[str], List[Any]]] = []
    if topic:
        own = facts(topic)
        if own:
            groups.append((topic, own))
        else:
            for kind in RELATED_KINDS.get(topic, ()):
                related = facts(kind)
                if related:
                    groups.append((kind, related))
                    break
        general = facts(None)
        if general:
            groups.append((None, general))
        return groups
    general = facts(None)
    if general:
        return [(None, general)]
    kinds = ("production_funding",) if facet not in ("contact", "organisation") else ()
    for kind in kinds + tuple(k for k in OFFER_KINDS if k not in kinds):
        found = facts(kind)
        if found:
            groups.append((kind, found))
        if len(groups) == 2:
            break
    return groups


def _fact_line(fact: Any, lang: str) -> str:
    text = _registry_text(fact.text_sv, getattr(fact, "text_en", None), lang).rstrip()
    return t("offer_line", lang, text=text.rstrip(".") + ".", source=fact.source, date=_date_label(fact, lang))


def _best_link(centre: Any, unit: Any, topic: Optional[str]) -> str:
    """Where a visitor reads more on the topic: an application page of the topic, the source of a sourced
    offer of it, the centre's contact page, else the (unit's) website."""
    site = _site(centre, unit)
    kinds = [topic, *RELATED_KINDS.get(topic or "", ())] if topic else list(FUNDING_FAMILY)
    for kind in kinds:
        for f in getattr(centre, "facets", None) or []:
            if f.topic == kind and getattr(f, "url", None) and _sourced(f):
                return f.url
    for kind in kinds:
        for o in _sourced_offers(centre, [kind], getattr(unit, "id", None), strict_unit=False):
            if _same_site(_host(o.source), _host(site)):
                return o.source
    return _contact_page(centre, site) or site


def _not_on_pages(centre: Any, facet: str, topic: Optional[str]) -> Optional[Any]:
    for nf in getattr(centre, "facets_not_found", None) or []:
        if nf.facet == facet and (nf.topic == topic or topic is None or nf.topic is None):
            return nf
    return None


def _form_text(form: str, lang: str) -> str:
    """registry.yaml's organisation form ("region (förvaltning)", "aktiebolag (regionägt)") as a phrase: a
    known leading form (copy.yml organisation_forms) in the answer's language, the rest in brackets."""
    for key in sorted(_copy()["organisation_forms"], key=len, reverse=True):
        if form.startswith(key):
            rest = form[len(key):].strip().strip("()")
            phrase = label("organisation_forms", key, lang)
            return f"{phrase} ({rest})" if rest else phrase
    return form


def _organisation_lines(centre: Any, lang: str) -> Tuple[List[str], List[Any]]:
    lines: List[str] = []
    shown: List[Any] = []
    org = getattr(centre, "organisation", None)
    if org is not None and _sourced(org):
        if getattr(org, "form", None):
            lines.append(t("facet_organisation", lang, value=org.value.rstrip("."), form=_form_text(org.form, lang),
                           source=org.source, date=_date_label(org, lang)))
        else:
            lines.append(t("offer_line", lang, text=_registry_text(org.value, None, lang).rstrip(".") + ".",
                           source=org.source, date=_date_label(org, lang)))
        shown.append(org)
    for f in [f for f in centre.facet_facts("organisation", None) if _sourced(f)][:MAX_FACET_FACTS - 1]:
        lines.append(_fact_line(f, lang))
        shown.append(f)
    return lines, shown


def _general_contact_line(centre: Any, unit: Any, lang: str) -> Tuple[List[str], List[Any]]:
    gc, owner = _general_contact(centre, unit)
    page = _contact_page(centre, _site(centre, unit))
    lines, shown = [], []
    if gc is not None:
        lines.append(t("facet_contact", lang, contact=f"{owner}: {_contact_text(centre)}", source=gc.source,
                       date=_date_label(gc, lang)))
        shown.append(gc)
    if page:
        lines.append(t("contact_page", lang, url=page))
    return lines, shown


def _short_contact(centre: Any, unit: Any, lang: str) -> str:
    """The one line of context after a facet: whom to ask."""
    gc, _ = _general_contact(centre, unit)
    site = _site(centre, unit)
    if gc is not None:
        return t("facet_contact_line", lang, contact=f"{_contact_text(centre)} – {site}")
    return t("contact_via_website", lang, name=unit.name if unit is not None else centre.name, website=site)


def _facet_part(registry: Any, centre: Any, unit: Any, topic: Optional[str], facet: str, lang: str
                ) -> Tuple[List[str], List[Any], bool]:
    """(lines, facts shown, answered) for one facet."""
    name = unit.name if unit is not None else centre.name
    flabel = facet_label(facet, lang)
    topic_label = label("topic_short_names", topic, lang) if topic else None
    heading = (t("facet_heading", lang, centre=name, facet=flabel, topic=topic_label) if topic_label
               and facet != "organisation" else t("facet_heading_centre", lang, centre=name, facet=flabel))
    lines = [heading]
    shown: List[Any] = []
    if facet == "organisation":
        found, shown = _organisation_lines(centre, lang)
        lines.extend(found)
    else:
        if facet == "contact":
            found, shown = _general_contact_line(centre, unit, lang)
            lines.extend(found)
        for kind, facts in _facet_facts_for(centre, facet, topic, getattr(unit, "id", None)):
            if kind is not None and kind != topic:
                lines.append(t("facet_for_topic", lang, topic=label("topic_short_names", kind, lang)))
            for fact in facts[:MAX_FACET_FACTS]:
                lines.append(_fact_line(fact, lang))
                shown.append(fact)
    answered = bool(shown)
    if not answered:
        noun = label("facet_nouns", facet, lang)
        lines.append(t("facet_none", lang, facet=noun, topic=topic_label, centre=name) if topic_label
                     and facet != "organisation" else t("facet_none_centre", lang, facet=noun, centre=name))
        nf = _not_on_pages(centre, facet, topic)
        if nf is not None:
            lines.append(t("facet_not_on_pages", lang, date=nf.checked.isoformat()))
        lines.append(t("facet_see", lang, url=_best_link(centre, unit, topic)))
    elif facet not in ("contact", "organisation"):
        pages = [f.url for f in shown if getattr(f, "url", None)]
        if pages and all(pages[0] not in line for line in lines):
            lines.append(t("facet_page", lang, url=pages[0]))
    return lines, shown, answered


def answer_facets(registry: Any, centre: Any, topic: Optional[str], facets: Iterable[str], lang: str,
                  today: Optional[dt.date] = None, county_code: Optional[str] = None) -> Answer:
    """The answer to what was asked of an offer (`topic`) or of the centre as a whole (topic None): per facet
    one heading naming it, its sourced facts with source and date (or one plain sentence that the register
    has none, and the best page to read), then one freshness line at most and one line on whom to ask."""
    lang = _lang(lang)
    if topic in ("contact", "centre"):
        topic = None
    facets = [f for f in facets if f]
    unit = registry.unit_for(centre.id, topic) if topic and getattr(centre, "units", None) else None
    parts: List[str] = []
    shown: List[Any] = []
    answered = False
    for facet in facets:
        lines, facts, ok = _facet_part(registry, centre, unit, topic, facet, lang)
        parts.extend(lines)
        shown.extend(facts)
        answered = answered or ok
    parts.extend(_freshness(shown, lang, today))
    if facets != ["contact"]:
        parts.append(_short_contact(centre, unit, lang))
    elif not any(getattr(f, "email", None) or getattr(f, "phone", None) for f in shown):
        parts.append(t("website_line", lang, website=_site(centre, unit)))
    county = county_code or (centre.counties[0] if len(centre.counties) == 1 else None)
    tag_topic = topic or ("contact" if facets == ["contact"] else "centre")
    return Answer("\n".join(parts), kind="registry" if answered else "unanswered",
                  reason=None if answered else "no_facts", topic=tag_topic, centre=centre.id, county=county)


def instead_of_repeat(answer: Answer, lang: str, place: Optional[Dict[str, Any]] = None,
                      registry: Any = None) -> Answer:
    """What to send when `answer` would repeat the bot's previous message word for word.

    - A new place with the same answer ("och i Tidaholm?" after Hjo): the answer, led by one line saying
      the place belongs to the same centre.
    - Otherwise an answer about a centre (the same question again): that this is what the register has,
      and buttons for what else can be asked.
    - A question back (where do you live?): the same question, with a lead saying why it is asked again."""
    lang = _lang(lang)
    centre = registry.centre(answer.centre) if registry is not None and answer.centre else None
    if place and place.get("status") == "found" and centre is not None:
        note = t("same_centre_note", lang, place=place_name_of(place), centre=centre.name)
        return dataclasses.replace(answer, text=note + "\n" + answer.text)
    if answer.centre:
        name = centre.name if centre is not None else ""
        text = t("repeat_more_centre", lang, centre=name) if name else t("repeat_more", lang)
        return dataclasses.replace(answer, text=text, buttons=answer.buttons or facet_buttons(lang))
    return dataclasses.replace(answer, text=t("repeat_question", lang, text=answer.text))


def place_name_of(place: Dict[str, Any]) -> str:
    text = place.get("text") or place.get("kommun") or place.get("county") or ""
    return text[:1].upper() + text[1:]


def centre_overview(registry: Any, centre_id: str, lang: str) -> Answer:
    """A centre named without a topic: its name, the län it covers, the topics the registry has sourced
    offers on, how to get in touch, and topic buttons."""
    lang = _lang(lang)
    centre = registry.centre(centre_id) if centre_id else None
    if centre is None:
        return Answer(t("unknown_centre", lang), kind="unanswered", reason="unknown_place")
    first = [t("overview_intro", lang, centre=centre.name,
               counties=counties_text(registry, centre.counties, lang))]
    return _overview(registry, centre, lang, None, first)


def _overview(registry: Any, centre: Any, lang: str, today: Optional[dt.date], first: List[str]) -> Answer:
    parts = list(first)
    note = _registry_text(getattr(centre, "note_sv", None), getattr(centre, "note_en", None), lang) \
        if (getattr(centre, "note_sv", None) or getattr(centre, "note_en", None)) else ""
    if note:
        parts.append(note)
    units = getattr(centre, "units", None) or []
    if units:
        unit_lines = [t("unit_line", lang, unit=u.name, topics=_topic_list(sourced_topics(centre, u.id), lang),
                        website=_site(centre, u)) for u in units if sourced_topics(centre, u.id)]
        if unit_lines:
            parts.append(t("overview_topics_units", lang))
            parts.extend(unit_lines)
        else:
            parts.append(t("overview_no_topics", lang, centre=centre.name))
    else:
        kinds = sourced_topics(centre)
        parts.append(t("overview_topics", lang, topics=_topic_list(kinds, lang)) if kinds
                     else t("overview_no_topics", lang, centre=centre.name))
    contact, contact_facts = _contact_block(centre, None, lang)
    parts.extend(_freshness(contact_facts, lang, today))
    parts.extend(contact)
    parts.append(t("overview_prompt", lang))
    return Answer("\n".join(parts), topic_buttons(lang), kind="registry", topic="centre", centre=centre.id,
                  county=centre.counties[0] if len(centre.counties) == 1 else None)


def list_centres(registry: Any, lang: str) -> Answer:
    lang = _lang(lang)
    lines = [t("list_intro", lang, count=len(registry.centres))]
    for centre in sorted(registry.centres, key=lambda c: min(c.counties)):
        counties = ", ".join(county_name(registry, code) for code in centre.counties)
        lines.append(t("list_line", lang, centre=centre.name, counties=counties, website=_website(centre)))
    lines.append(t("list_outro", lang))
    return Answer("\n".join(lines), kind="registry")


def handoff(registry: Any, centre_id: Optional[str], lang: str, reason: str = "fallback") -> Answer:
    """The graceful "vet inte": a person at the visitor's centre if known, else Filmregionerna.
    `reason`: "declined" when the visitor turned down the "Menade du ...?" suggestions."""
    lang = _lang(lang)
    centre = registry.centre(centre_id) if centre_id else None
    if centre is None:
        return Answer(t("handoff_general", lang), kind="unanswered", reason=reason)
    contact = _contact_text(centre) or _website(centre)
    return Answer(t("handoff_centre", lang, centre=centre.name, contact=contact), kind="unanswered",
                  reason=reason, centre=centre.id)


def ask_rephrase(lang: str) -> Answer:
    """Asked after the visitor said none of the "Menade du ...?" suggestions fit."""
    return Answer(t("ask_rephrase", _lang(lang)), kind="unanswered", reason="declined")


def did_you_mean(intents: List[str], lang: str) -> Answer:
    """Readable buttons for the likeliest intents instead of Rasa's "Did you mean 'intent_name'?"."""
    lang = _lang(lang)
    buttons = [{"title": label("intent_labels", i, lang), "payload": f"/{i}"} for i in intents[:3]]
    buttons.append({"title": t("something_else", lang), "payload": SOMETHING_ELSE})
    return Answer(t("did_you_mean", lang), buttons, kind="unanswered", reason="fallback")


def faq_did_you_mean(subintents: List[str], lang: str) -> Answer:
    lang = _lang(lang)
    buttons = []
    for sub in subintents[:3]:
        q = label("faq_questions", sub, lang)
        buttons.append({"title": q, "payload": q})
    buttons.append({"title": t("something_else", lang), "payload": SOMETHING_ELSE})
    return Answer(t("did_you_mean", lang), buttons, kind="unanswered", reason="fallback")
