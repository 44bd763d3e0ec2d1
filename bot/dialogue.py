"""The reply to one registry question, from the understanding step's decision and the conversation's slots.

``reply(decision, intent, slots, lang, registry) -> (Answer, slot_updates)``

Pure Python (no Rasa): actions/actions.py passes the tracker's slots and the parse result's
``understanding`` (bot.understanding.Decision.to_json()) and dispatches what comes back.

- A place outside Sweden: the bot covers Sweden's regional film centres only (no Swedish centre named).
- A centre named by its name: that centre's answer for the topic, or its overview.
- Places to choose between: ask with one button per candidate; the topic waits in `pending_topic`.
- The deciding place: its centre's answer for the topic (a wrong premise corrected first), or, with no
  topic yet, the centre and topic buttons. A follow-up without a topic keeps the earlier topic.
- No place in the message: the place from earlier turns, else ask for it.
"""
from __future__ import annotations

import dataclasses
from types import SimpleNamespace
from typing import Any, Dict, List, Optional, Tuple

from bot import answers
from bot.topics import INTENT_TOPICS
from bot.understanding import SPECIFIC_KINDS, place_name

Slots = Dict[str, Any]


def _cand(c: Dict[str, Any]) -> SimpleNamespace:
    return SimpleNamespace(county_code=c.get("county_code"), county=c.get("county"),
                           centre_id=c.get("centre_id"), centre_name=c.get("centre_name"),
                           kommun_code=c.get("kommun_code"), kommun=c.get("kommun"))


def _said_county(premise: Dict[str, Any]) -> str:
    """The län the visitor wrongly named ("räknas vi till Västernorrland?"), to name in the correction; not a
    landskap (Karlskoga is in Värmland the landskap, but in Örebro län) nor a centre."""
    return premise.get("said") or "" if premise.get("said_kind") == "county" else ""


def _with_premise(answer: answers.Answer, premise: Optional[Dict[str, Any]], lang: str) -> answers.Answer:
    if not premise:
        return answer
    note = answers.premise_note(premise.get("place") or "", premise.get("county") or "",
                                premise.get("centre_name") or "", lang,
                                            _said_county(premise))
    return dataclasses.replace(answer, text=note + "\n" + answer.text)


def topic_of(intent: Optional[str], decision: Dict[str, Any], slots: Slots) -> Optional[str]:
    """The topic to answer: the message's own, else the one asked before the place was known, else the
    last one answered (a follow-up such as "och i Jönköping då?"). A message that asks a facet ("hur
    mycket kan man få då?") keeps the conversation's topic unless it names another one; its generic
    funding words ("måste man ha bolag för att få stöd?", "pengar till det") do not replace it."""
    topic = INTENT_TOPICS.get(intent or "") or decision.get("topic")
    earlier = slots.get("pending_topic") or slots.get("last_topic")
    if decision.get("facets"):
        if topic in (None, "contact", "centre"):
            return earlier if earlier not in ("contact", "centre") else None
        if topic == "production_funding" and earlier not in (None, "contact", "centre"):
            return earlier     # "hur söker man pengar till det?": money for what was talked about
    if topic:
        return topic
    return earlier


def _split(value: Any) -> List[str]:
    return [f for f in str(value or "").split(",") if f]


def facets_of(intent: Optional[str], decision: Dict[str, Any], slots: Slots) -> List[str]:
    """The facets to answer: the message's own; a message that names no topic of its own (a new place, "och
    i Kalmar då?") keeps the facet asked before; a new topic without a facet asks for its overview."""
    if decision.get("facets"):
        return list(decision["facets"])
    if INTENT_TOPICS.get(intent or "") not in (None, "centre") or decision.get("topic"):
        return []
    return _split(slots.get("pending_facet")) or _split(slots.get("last_facet"))


# Intents not worth offering as "Menade du ...?" buttons.
NOT_OFFERED = ("nlu_fallback", "affirm", "deny", "out_of_scope", "inform_place")


def follow_up_in_context(decision: Dict[str, Any], slots: Slots) -> bool:
    """A message the understanding step found out of scope only for want of film words (a place and other
    words, no clearly non-film need) is a follow-up when the conversation is already about a place or a
    topic."""
    if not decision.get("out_of_scope") or decision.get("non_film_need"):
        return False
    if not (decision.get("place") or decision.get("candidates")):
        return False
    return any(slots.get(k) for k in ("last_topic", "pending_topic", "county_code", "centre_id"))


# Decisions whose place is the one already talked about ("och jag med", "vad finns där?"), not a new one.
PLACE_FROM_CONTEXT = ("same_place_as_before", "place_from_context")


def remembered_place(decision: Dict[str, Any]) -> Slots:
    """Slots for the place of an out-of-scope message ("vilket fint väder i Ystad idag"), so that a later
    film question ("finns det stöd för kortfilm här?") knows where "här" is, while "vem ringer jag?" in the
    same non-film errand gets no centre. Empty when no single Swedish place was found."""
    place = decision.get("place") or {}
    if place.get("status") != "found" or not place.get("county_code"):
        return {}
    return {"aside_county_code": place["county_code"]}


def reply(decision: Dict[str, Any], intent: Optional[str], slots: Slots, lang: str,
          registry: Any, ranking: Optional[List[Dict[str, Any]]] = None) -> Tuple[answers.Answer, Slots]:
    answer, updates = _reply(decision, intent, slots, lang, registry, ranking)
    if decision.get("national") and answer.centre:
        answer = dataclasses.replace(answer, text=answer.text + "\n" + answers.t("national_line", lang))
    if decision.get("reason") == "funding_from_the_association":   # the association is not the funder
        answer = dataclasses.replace(answer, text=answers.t("association_not_funder", lang) + "\n" + answer.text)
    joined = ",".join(facets_of(intent, decision, slots)) or None
    answered = "last_topic" in updates or "centre_id" in updates   # (an overview asks no facet)
    if "last_topic" in updates and updates["last_topic"] is None:
        del updates["last_topic"]       # a facet of the centre as a whole keeps the topic talked about
    if answered:
        changes = {"last_facet": joined, "pending_facet": None}
    elif "pending_topic" in updates:                            # asked back: the facet waits with the topic
        changes = {"pending_facet": joined}
    else:
        changes = {}
    updates.update({k: v for k, v in changes.items() if v != slots.get(k)})   # only what changes
    return answer, updates


def _reply(decision: Dict[str, Any], intent: Optional[str], slots: Slots, lang: str,
           registry: Any, ranking: Optional[List[Dict[str, Any]]] = None) -> Tuple[answers.Answer, Slots]:
    topic = topic_of(intent, decision, slots)
    facets = facets_of(intent, decision, slots)
    place = decision.get("place")
    centre_named = decision.get("centre")

    if decision.get("foreign") and not place and not centre_named:
        return answers.outside_sweden(decision["foreign"], lang), {"pending_topic": topic,
                                                                    "foreign_place": decision["foreign"]}

    if centre_named:
        centre = registry.centre(centre_named["centre_id"])
        if centre is not None:
            updates: Slots = {"centre_id": centre.id, "county_code": centre.counties[0],
                              "kommun_code": (place or {}).get("kommun_code"), "pending_topic": None}
            if topic in (None, "centre") and not facets:
                return answers.centre_overview(registry, centre.id, lang), updates
            updates["last_topic"] = topic
            return answers.answer_centre_topic(registry, centre.id, topic, lang, facets=facets), updates

    candidates = decision.get("candidates") or []
    if candidates and decision.get("each") and len(candidates) <= 3:
        # "Vem ger kortfilmsstöd i respektive kommun?": one answer per place
        parts, buttons, ones = [], [], []
        for c in candidates:
            code = c.get("county_code")
            if not code or registry.county(code) is None:
                continue
            one = (answers.answer_topic(registry, code, topic, lang, facets=facets) if topic or facets
                   else answers.place_known(registry, c.get("kommun") or c.get("county") or "", code, lang))
            parts.append(one.text)
            ones.append(one)
            buttons = buttons or one.buttons
        if parts:
            # one message about several places: an answer when any part is; the centre only when one
            answered = [o for o in ones if o.kind == "registry"] or ones
            same = lambda attr: len({getattr(o, attr) for o in ones}) == 1  # noqa: E731
            joined = answers.Answer("\n\n".join(parts), buttons, kind=answered[0].kind, reason=answered[0].reason,
                                    topic=answered[0].topic, centre=ones[0].centre if same("centre") else None,
                                    county=ones[0].county if same("county") else None)
            return joined, {"pending_topic": None, **({"last_topic": topic} if topic else {})}
    if candidates:
        names = [p.get("text") for p in decision.get("places") or []
                 if p.get("text") and p.get("status") in ("found", "ambiguous")]
        cands = [_cand(c) for c in candidates]
        answer = (answers.ambiguous_places(names, cands, lang) if len(names) > 1
                  else answers.ambiguous_place(names[0] if names else "", cands, lang))
        return answer, {"pending_topic": topic}

    updates = {}
    premise = decision.get("premise")
    if place is not None and decision.get("belonging") and place.get("kind") not in SPECIFIC_KINDS \
            and slots.get("kommun_code") and place.get("county_code"):
        # "Habo" earlier, now "vi känner oss som västgötar, blir det Västra Götaland då?": the kommun decides
        kommun = registry.kommun(slots["kommun_code"])
        home = registry.county_of_kommun(slots["kommun_code"]) if kommun is not None else None
        home_code = getattr(home, "code", home)
        if kommun is not None and home_code and str(home_code) != place["county_code"]:
            centre = registry.centre_for_county(str(home_code))
            premise = {"said": place.get("text"), "place": kommun.name,
                       "county": answers.county_name(registry, str(home_code)), "centre_name": centre.name}
            place = dict(place, kind="kommun", kommun=kommun.name, kommun_code=slots["kommun_code"],
                         county_code=str(home_code), centre_id=centre.id, text=kommun.name)
    if place is not None and place.get("status") == "found" and not place.get("county_code") \
            and place.get("centre_id") and registry.centre(place["centre_id"]) is not None:
        # a term whose län all belong to one centre ("Lappland" would not; a landskap across one centre's län)
        place = dict(place, county_code=registry.centre(place["centre_id"]).counties[0])
    if place is not None and place.get("status") == "found" and place.get("county_code"):
        county_code = place["county_code"]
        updates = {"county_code": county_code, "kommun_code": place.get("kommun_code"),
                   "centre_id": place.get("centre_id"), "foreign_place": None}
        if topic is None and not facets:
            updates["pending_topic"] = None
            if premise:   # the correction already says where the place belongs and whose it is
                note = answers.premise_note(premise.get("place") or "", premise.get("county") or "",
                                            premise.get("centre_name") or "", lang,
                                            _said_county(premise))
                return answers.Answer(note + " " + answers.t("overview_prompt", lang),
                                      answers.topic_buttons(lang), centre=updates["centre_id"],
                                      county=county_code), updates
            return answers.place_known(registry, place_name(place), county_code, lang), updates
        answer = answers.answer_topic(registry, county_code, topic, lang, facets=facets)
        updates.update({"last_topic": topic, "pending_topic": None})
        return _with_premise(answer, premise, lang), updates

    if place is not None and place.get("status") == "unknown" and place.get("text"):
        return answers.unknown_place(place["text"], lang), {"pending_topic": topic}

    if intent == "inform_place" and topic is None and not facets and not decision.get("places") \
            and decision.get("reason") not in PLACE_FROM_CONTEXT:
        # "a place", says the classifier, but none is named and no question is pending: not understood
        offered = [r.get("name") for r in ranking or [] if r.get("name") and r.get("name") not in NOT_OFFERED]
        return answers.did_you_mean(offered[:2] or ["help"], lang), {}
    county_code = slots.get("county_code")
    film_words = decision.get("film") and facets != ["contact"]   # "vem ringer jag?" alone is no film question
    if not county_code and (film_words or topic not in (None, "contact", "centre")):
        county_code = slots.get("aside_county_code")
    if not county_code and slots.get("foreign_place") and (decision.get("film") or topic):
        # "Kan jag söka regionalt filmstöd hos er?" after "jag bor på Åland"
        return answers.outside_sweden(slots["foreign_place"], lang), {"pending_topic": topic}
    centre_id = slots.get("centre_id")
    if facets and centre_id and registry.centre(centre_id) is not None and (
            not county_code or county_code in registry.centre(centre_id).counties):
        # a facet of the centre talked about ("är det ett bolag?" after "Film i Skåne, vad är det?")
        return (answers.answer_centre_topic(registry, centre_id, topic, lang, facets=facets),
                {"last_topic": topic, "pending_topic": None})
    if not county_code or registry.county(county_code) is None:
        return answers.ask_place(lang), {"pending_topic": topic}
    if topic is None and not facets:
        return answers.place_known(registry, answers.county_name(registry, county_code), county_code,
                                   lang), {"pending_topic": None}
    updates = {"last_topic": topic, "pending_topic": None}
    if county_code != slots.get("county_code"):        # the place named aside is now the visitor's place
        updates.update({"county_code": county_code, "aside_county_code": None})
    return answers.answer_topic(registry, county_code, topic, lang, facets=facets), updates
