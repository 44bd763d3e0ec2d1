"""Answers composed from the registry and bot/copy.yml, in Swedish or English.

Every centre fact shown carries its source and date; facts that are unverified, undated or more than two
years old come with a note to check the centre's website. Nothing here invents a fact: where the registry
has none for a topic, the answer says so and points to the centre.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Dict, Iterable, List, Optional, Tuple

import yaml

from bot.paths import ROOT
from bot.topics import RELATED_KINDS, TOPIC_INTENTS

COPY_PATH = ROOT / "bot" / "copy.yml"
MAX_OFFERS = 3
# "Nej, något annat": Rasa's two-stage fallback reads the intent out_of_scope as "none of these".
SOMETHING_ELSE = "/out_of_scope"


@dataclass
class Answer:
    text: str
    buttons: List[Dict[str, str]] = field(default_factory=list)


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


def _newest_first(offer: Any) -> Tuple[bool, int]:
    rng = offer.published_range()
    return (bool(offer.unverified), -(rng[1].toordinal() if rng else 0))


def _date_label(fact: Any, lang: str) -> str:
    if getattr(fact, "published", None):
        return t("published", lang, date=fact.published)
    return t("published_unknown", lang, date=str(getattr(fact, "checked", "") or ""))


def _website(obj: Any) -> str:
    site = getattr(obj, "website", None)
    if site is None:
        return "https://filmregionerna.se"
    return getattr(site, "url", None) or str(site)


def county_name(registry: Any, code: Optional[str]) -> str:
    county = registry.county(code) if code else None
    return county.name if county else ""


def topic_buttons(lang: str) -> List[Dict[str, str]]:
    return [
        {"title": label("topic_buttons", topic, lang), "payload": f"/{TOPIC_INTENTS[topic]}"}
        for topic in _copy()["topic_buttons"]
    ]


def ask_place(lang: str) -> Answer:
    return Answer(t("ask_place", _lang(lang)))


def unknown_place(place: str, lang: str) -> Answer:
    return Answer(t("unknown_place", _lang(lang), place=place))


def ambiguous_place(place: str, candidates: Iterable[Any], lang: str) -> Answer:
    """Buttons for the candidate län (or kommuner), each sending the place as an inform_place entity."""
    buttons = []
    seen = set()
    for cand in candidates:
        name = getattr(cand, "kommun", None) or getattr(cand, "county", None)
        if not name or name in seen:
            continue
        seen.add(name)
        payload = '/inform_place{"place": "%s"}' % name.replace('"', "")
        buttons.append({"title": name, "payload": payload})
    return Answer(t("ambiguous_place", _lang(lang), place=place), buttons[:5])


def place_known(registry: Any, where: str, county_code: str, lang: str) -> Answer:
    lang = _lang(lang)
    centre = registry.centre_for_county(county_code)
    return Answer(
        t("place_known", lang, where=where, county=county_name(registry, county_code), centre=centre.name),
        topic_buttons(lang),
    )


def _offer_text(offer: Any, lang: str) -> str:
    if lang == "en" and getattr(offer, "text_en", None):
        return offer.text_en
    return offer.text_sv


def _offer_lines(offers: List[Any], lang: str) -> List[str]:
    lines = []
    for offer in offers[:MAX_OFFERS]:
        text = _offer_text(offer, lang).rstrip()
        if getattr(offer, "unverified", False) or not getattr(offer, "source", None):
            lines.append(t("unverified_line", lang, text=text))
        else:
            lines.append(t("offer_line", lang, text=text.rstrip(".") + ".", source=offer.source,
                           date=_date_label(offer, lang)))
    return lines


def _offers_for(centre: Any, topic: str, unit_id: Optional[str]) -> List[Any]:
    offers = [o for o in centre.offers if o.kind == topic]
    if unit_id:
        in_unit = [o for o in offers if getattr(o, "unit", None) in (None, unit_id)]
        offers = in_unit or offers
    if not offers:
        for kind in RELATED_KINDS.get(topic, ()):
            offers = [o for o in centre.offers if o.kind == kind]
            if offers:
                break
    return sorted(offers, key=_newest_first)  # sourced, newest facts first


def answer_topic(registry: Any, county_code: str, topic: str, lang: str,
                 today: Optional[dt.date] = None) -> Answer:
    """The answer for `topic` in the county `county_code`: centre (and unit), its sourced offers,
    a link, and a note to check the website when a fact is unverified or old."""
    lang = _lang(lang)
    centre = registry.centre_for_county(county_code)
    county = county_name(registry, county_code)
    website = _website(centre)
    if topic == "contact":
        return answer_contact(registry, centre, county, lang)
    if topic == "centre":
        return Answer(" ".join([t("centre_intro", lang, county=county, centre=centre.name),
                                t("more_info", lang, website=website)]), topic_buttons(lang))
    unit = registry.unit_for(centre.id, topic) if getattr(centre, "units", None) else None
    parts: List[str] = []
    if unit is not None:
        parts.append(t("unit_intro", lang, topic=topic_name(topic, lang), county=county, unit=unit.name))
        website = getattr(unit, "website", None) or website
    offers = _offers_for(centre, topic, getattr(unit, "id", None))
    if not offers:
        parts.append(t("no_offer", lang, topic=topic_name(topic, lang), centre=centre.name, website=website))
        return Answer("\n".join(parts))
    parts.append(t("topic_intro", lang, centre=unit.name if unit is not None else centre.name, county=county,
                   topic=topic_name(topic, lang)))
    parts.extend(_offer_lines(offers, lang))
    for body in getattr(centre, "related_bodies", None) or []:
        if topic in (getattr(body, "topics", None) or []):
            parts.append(t("related", lang, name=body.name, note=body.note or ""))
    shown = offers[:MAX_OFFERS]
    if any(o.is_stale(today) for o in shown):
        parts.append(t("stale_note", lang, website=website))
    else:
        parts.append(t("more_info", lang, website=website))
    return Answer("\n".join(parts))


def _contact_text(centre: Any) -> Optional[str]:
    gc = getattr(centre, "general_contact", None)
    if not gc:
        return None
    bits = [b for b in (getattr(gc, "email", None), getattr(gc, "phone", None)) if b]
    return ", ".join(bits) or None


def answer_contact(registry: Any, centre: Any, county: str, lang: str) -> Answer:
    website = _website(centre)
    parts = [t("centre_intro", lang, county=county, centre=centre.name)]
    contact = _contact_text(centre)
    if contact:
        parts.append(t("general_contact", lang, contact=contact))
    roles = sorted({c.role for c in (getattr(centre, "contacts", None) or []) if getattr(c, "role", None)})
    if roles:
        parts.append(t("contact_roles", lang, roles=", ".join(roles[:4])))
    parts.append(t("contact_website", lang, website=website))
    return Answer("\n".join(parts))


def list_centres(registry: Any, lang: str) -> Answer:
    lang = _lang(lang)
    lines = [t("list_intro", lang, count=len(registry.centres))]
    for centre in sorted(registry.centres, key=lambda c: min(c.counties)):
        counties = ", ".join(county_name(registry, code) for code in centre.counties)
        lines.append(t("list_line", lang, centre=centre.name, counties=counties, website=_website(centre)))
    lines.append(t("list_outro", lang))
    return Answer("\n".join(lines))


def handoff(registry: Any, centre_id: Optional[str], lang: str) -> Answer:
    """The graceful "vet inte": a person at the visitor's centre if known, else Filmregionerna."""
    lang = _lang(lang)
    centre = registry.centre(centre_id) if centre_id else None
    if centre is None:
        return Answer(t("handoff_general", lang))
    contact = _contact_text(centre) or _website(centre)
    return Answer(t("handoff_centre", lang, centre=centre.name, contact=contact))


def ask_rephrase(lang: str) -> Answer:
    return Answer(t("ask_rephrase", _lang(lang)))


def did_you_mean(intents: List[str], lang: str) -> Answer:
    """Readable buttons for the likeliest intents instead of Rasa's "Did you mean 'intent_name'?"."""
    lang = _lang(lang)
    buttons = [{"title": label("intent_labels", i, lang), "payload": f"/{i}"} for i in intents[:3]]
    buttons.append({"title": t("something_else", lang), "payload": SOMETHING_ELSE})
    return Answer(t("did_you_mean", lang), buttons)


def faq_did_you_mean(subintents: List[str], lang: str) -> Answer:
    lang = _lang(lang)
    buttons = []
    for sub in subintents[:3]:
        q = label("faq_questions", sub, lang)
        buttons.append({"title": q, "payload": q})
    buttons.append({"title": t("something_else", lang), "payload": SOMETHING_ELSE})
    return Answer(t("did_you_mean", lang), buttons)
