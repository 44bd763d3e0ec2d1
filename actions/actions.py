"""Rasa SDK glue: read slots and the latest message, call bot/, dispatch the answer.

Slots used: place (from the `place` entity), centre_id, county_code, kommun_code, pending_topic (a topic
asked before the place was known), last_topic, faq_confident. The answer language is that of the
visitor's own messages (bot.lang.conversation_language), as for the domain's responses (bot/nlg.py).
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

from bot import answers
from bot.lang import conversation_language, user_texts_newest_first
from bot.places import resolve_place
from bot.registry import get_registry
from bot.topics import INTENT_TOPICS

logger = logging.getLogger(__name__)

# Below this ResponseSelector confidence an FAQ answer is not given; the visitor picks from buttons.
# (FallbackClassifier only checks the intent `faq`, whose confidence can be high while the selector's
# choice among FAQ answers is a guess.)
FAQ_MIN_CONFIDENCE = 0.5


def _say(dispatcher: CollectingDispatcher, answer: answers.Answer) -> None:
    dispatcher.utter_message(text=answer.text, buttons=answer.buttons or None)


def _lang(tracker: Tracker) -> str:
    """Swedish or English, from the visitor's own messages (as bot/nlg.py decides for domain responses)."""
    texts = [tracker.latest_message.get("text") or ""] + user_texts_newest_first(tracker.events)[1:]
    return conversation_language(texts, tracker.get_slot("language"))


class RegistryAction:
    """Mixin for actions that read the registry; tests inject a registry, the server uses the live one.
    (Not an Action subclass itself: rasa_sdk registers every Action subclass it finds.)"""

    def __init__(self, registry: Any = None) -> None:
        self._registry = registry

    @property
    def registry(self) -> Any:
        return self._registry or get_registry()


class ActionAnswerTopic(RegistryAction, Action):
    """Answers a topic question for the visitor's place; asks for the place when it is missing,
    ambiguous or unknown, and offers topic buttons when only a place was given."""

    def name(self) -> Text:
        return "action_answer_topic"

    async def run(self, dispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        registry = self.registry
        lang = _lang(tracker)
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        topic = INTENT_TOPICS.get(intent)
        if topic is None:  # a place alone, or a correction ("nej, jag menade Västerås")
            topic = tracker.get_slot("pending_topic") or tracker.get_slot("last_topic")

        mentioned = [e.get("value") for e in tracker.latest_message.get("entities", [])
                     if e.get("entity") == "place" and e.get("value")]
        text = tracker.latest_message.get("text") or ""
        if mentioned:
            res = resolve_place(str(mentioned[0]), registry=registry)
        elif not text.startswith("/"):
            # No place entity: the text may still name an unknown place after a cue ("i Narnia").
            # A topic question that names no place at all uses the place from earlier turns.
            res = resolve_place(text, registry=registry)
            if res.status == "unknown" and not res.matched and intent != "inform_place":
                res = None
        else:
            res = None

        if res is not None and res.status == "ambiguous":
            _say(dispatcher, answers.ambiguous_place(res.matched or str(mentioned[0]), res.candidates, lang))
            return [SlotSet("pending_topic", topic)]
        if res is not None and res.status == "unknown":
            if mentioned or res.matched:
                _say(dispatcher, answers.unknown_place(res.matched or str(mentioned[0]), lang))
            elif intent == "inform_place" and not topic:
                # Classified as "a place" but names none and no question is pending: not understood.
                ranking = [r.get("name") for r in tracker.latest_message.get("intent_ranking") or []]
                _say(dispatcher, answers.did_you_mean(
                    [i for i in ranking if i and i not in NOT_OFFERED][:2] or ["help"], lang))
                return []
            else:
                _say(dispatcher, answers.ask_place(lang))
            return [SlotSet("pending_topic", topic)]

        events: List[EventType] = []
        if res is not None:  # found
            county_code, kommun_code = res.county_code, res.kommun_code
            # a town as the visitor wrote it ("Visby"), else the kommun or län it resolved to
            where = (res.matched[:1].upper() + res.matched[1:] if res.kind == "town" and res.matched
                     else res.kommun or res.county or res.matched)
            events += [SlotSet("county_code", county_code), SlotSet("kommun_code", kommun_code),
                       SlotSet("centre_id", res.centre_id)]
        else:
            county_code = tracker.get_slot("county_code")
            kommun_code = tracker.get_slot("kommun_code")
            where = None
            if not county_code or registry.county(county_code) is None:
                _say(dispatcher, answers.ask_place(lang))
                return [SlotSet("pending_topic", topic)]

        if topic is None:
            _say(dispatcher, answers.place_known(registry, where or answers.county_name(registry, county_code),
                                                 county_code, lang))
            return events + [SlotSet("pending_topic", None)]

        _say(dispatcher, answers.answer_topic(registry, county_code, topic, lang))
        return events + [SlotSet("last_topic", topic), SlotSet("pending_topic", None)]


class ActionListCentres(RegistryAction, Action):
    def name(self) -> Text:
        return "action_list_centres"

    async def run(self, dispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        _say(dispatcher, answers.list_centres(self.registry, _lang(tracker)))
        return []


class ActionCheckFaq(Action):
    """Sets `faq_confident`: the rules then give the ResponseSelector's answer (utter_faq) only when the
    selector itself is confident; otherwise this action offers the likeliest FAQ questions as buttons."""

    def name(self) -> Text:
        return "action_check_faq"

    async def run(self, dispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        selector = (tracker.latest_message.get("response_selector") or {}).get("faq") or {}
        response = selector.get("response") or {}
        if response.get("utter_action") and (response.get("confidence") or 0.0) >= FAQ_MIN_CONFIDENCE:
            return [SlotSet("faq_confident", True)]
        ranking = [r.get("intent_response_key", "") for r in selector.get("ranking") or []]
        subs = [key.split("/", 1)[1] for key in ranking if "/" in key]
        _say(dispatcher, answers.faq_did_you_mean(subs or ["what_is", "nearest_centre"], _lang(tracker)))
        return [SlotSet("faq_confident", False)]


class ActionDefaultAskRephrase(Action):
    """Two-stage fallback, second stage: ask the visitor to put it another way (copy in bot/copy.yml)."""

    def name(self) -> Text:
        return "action_default_ask_rephrase"

    async def run(self, dispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        _say(dispatcher, answers.ask_rephrase(_lang(tracker)))
        return []


# Intents not worth offering as "Menade du ...?" buttons.
NOT_OFFERED = ("nlu_fallback", "affirm", "deny", "out_of_scope", "inform_place")


class ActionDefaultAskAffirmation(Action):
    """Two-stage fallback, first stage: "Menade du …?" with readable buttons for the likeliest intents."""

    def name(self) -> Text:
        return "action_default_ask_affirmation"

    async def run(self, dispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        ranking = tracker.latest_message.get("intent_ranking") or []
        intents = [r.get("name") for r in ranking if r.get("name") and r.get("name") not in NOT_OFFERED]
        _say(dispatcher, answers.did_you_mean(intents[:2] or ["help"], _lang(tracker)))
        return []


class ActionDefaultFallback(RegistryAction, Action):
    """The graceful "vet inte": hand the visitor to a person at their centre, or to Filmregionerna."""

    def name(self) -> Text:
        return "action_default_fallback"

    async def run(self, dispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        _say(dispatcher, answers.handoff(self.registry, tracker.get_slot("centre_id"), _lang(tracker)))
        return [UserUtteranceReverted()]
