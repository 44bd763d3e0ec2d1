"""Rasa SDK glue: read slots and the latest message, call bot/, dispatch the answer.

Slots used: place (from the `place` entity), centre_id, county_code, kommun_code, pending_topic (a topic
asked before the place was known), last_topic, pending_facet / last_facet (bot/facets.py), faq_confident.
An answer never repeats the bot's previous message word for word (_say_once). The answer language is that of the
visitor's own messages (bot.lang.conversation_language), as for the domain's responses (bot/glue/nlg.py).
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, Restarted, SlotSet, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

from bot import answers, feedback
from bot.lang import conversation_language, user_texts_newest_first
from bot.dialogue import NOT_OFFERED, follow_up_in_context, remembered_place, reply
from bot.registry import get_registry
from bot.understanding import understand

logger = logging.getLogger(__name__)

# Below this ResponseSelector confidence an FAQ answer is not given; the visitor picks from buttons.
# (FallbackClassifier only checks the intent `faq`, whose confidence can be high while the selector's
# choice among FAQ answers is a guess.)
FAQ_MIN_CONFIDENCE = 0.5


def _say(dispatcher: CollectingDispatcher, answer: answers.Answer, lang: str) -> None:
    """Sends the answer with its feedback tag (bot/feedback.py), which Rasa stores as the BotUttered
    event's metadata and hands to the output channel: rateable answers get their answer_id here."""
    dispatcher.utter_message(text=answer.text, buttons=answer.buttons or None,
                             **{feedback.METADATA_KEY: answer.tag(), feedback.LANG_KEY: lang})


def _previous_bot_text(tracker: Tracker) -> Optional[str]:
    for event in reversed(tracker.events or []):
        if event.get("event") == "bot":
            return event.get("text")
        if event.get("event") in ("restart", "session_started"):
            return None
    return None


def _say_once(dispatcher: CollectingDispatcher, tracker: Tracker, answer: answers.Answer, lang: str,
              registry: Any = None) -> None:
    """_say, but never the bot's previous message again word for word (bot.answers.instead_of_repeat)."""
    if answer.text and answer.text == _previous_bot_text(tracker):
        decision = (tracker.latest_message or {}).get("understanding") or {}
        answer = answers.instead_of_repeat(answer, lang, decision.get("place"), registry)
    _say(dispatcher, answer, lang)


def _lang(tracker: Tracker) -> str:
    """Swedish or English, from the visitor's own messages (as bot/glue/nlg.py decides for domain responses)."""
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
    """Answers a registry question: the decision of the understanding step (bot/understanding.py, in the
    parse result as `understanding`) and the slots go to bot.dialogue.reply, which composes the answer."""

    def name(self) -> Text:
        return "action_answer_topic"

    async def run(self, dispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        registry = self.registry
        latest = tracker.latest_message or {}
        intent = (latest.get("intent") or {}).get("name")
        decision = latest.get("understanding")
        if not decision:  # a button payload, or a parse result from before the understanding step
            text = latest.get("text") or ""
            places = [e.get("value") for e in latest.get("entities", [])
                      if e.get("entity") == "place" and e.get("value")]
            decision = understand(str(places[0]) if places else ("" if text.startswith("/") else text),
                                  [{"name": intent, "confidence": 1.0}] if intent else [], intent,
                                  registry=registry).to_json()
        slots = _slots(tracker)
        lang = _lang(tracker)
        answer, updates = reply(decision, intent, slots, lang, registry, latest.get("intent_ranking") or [])
        _say_once(dispatcher, tracker, answer, lang, registry)
        return [SlotSet(name, value) for name, value in updates.items()]


CONTEXT_SLOTS = ("county_code", "kommun_code", "centre_id", "pending_topic", "last_topic", "aside_county_code",
                 "foreign_place", "pending_facet", "last_facet")


def _slots(tracker: Tracker) -> Dict[str, Any]:
    return {name: tracker.get_slot(name) for name in CONTEXT_SLOTS}


class ActionOutOfScope(RegistryAction, Action):
    """Out of scope, except a place with no clear non-film need in a conversation already about film:
    that is a follow-up ("okej, men om vi flyttar till Falun i höst?") and gets the place's answer."""

    def name(self) -> Text:
        return "action_out_of_scope"

    async def run(self, dispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        latest = tracker.latest_message or {}
        decision = latest.get("understanding") or {}
        slots = _slots(tracker)
        if follow_up_in_context(decision, slots):
            lang = _lang(tracker)
            answer, updates = reply(decision, "inform_place", slots, lang, self.registry)
            _say_once(dispatcher, tracker, answer, lang, self.registry)
            return [SlotSet(name, value) for name, value in updates.items()]
        dispatcher.utter_message(response="utter_out_of_scope")
        # The place is remembered without naming its centre: "finns det stöd för kortfilm här?" next
        # is answered for it.
        return [SlotSet(name, value) for name, value in remembered_place(decision).items()]


class ActionStartOver(Action):
    """Clears the conversation on a clear request ("börja om", the "Ja, börja om" button); a message the
    classifier only guessed to be one ("kan vi ta om det där?") gets the question first, with buttons."""

    def name(self) -> Text:
        return "action_start_over"

    async def run(self, dispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        decision = (tracker.latest_message or {}).get("understanding") or {}
        if decision.get("reason") == "restart_unclear":
            lang = _lang(tracker)
            _say(dispatcher, answers.confirm_start_over(lang), lang)
            return []
        dispatcher.utter_message(response="utter_restarted")
        return [Restarted()]


class ActionListCentres(RegistryAction, Action):
    def name(self) -> Text:
        return "action_list_centres"

    async def run(self, dispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        lang = _lang(tracker)
        _say(dispatcher, answers.list_centres(self.registry, lang), lang)
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
        lang = _lang(tracker)
        _say(dispatcher, answers.faq_did_you_mean(subs or ["what_is", "nearest_centre"], lang), lang)
        return [SlotSet("faq_confident", False)]


class ActionDefaultAskRephrase(Action):
    """Two-stage fallback, second stage: ask the visitor to put it another way (copy in bot/copy.yml)."""

    def name(self) -> Text:
        return "action_default_ask_rephrase"

    async def run(self, dispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        lang = _lang(tracker)
        _say(dispatcher, answers.ask_rephrase(lang), lang)
        return []


class ActionDefaultAskAffirmation(Action):
    """Two-stage fallback, first stage: "Menade du …?" with readable buttons for the likeliest intents."""

    def name(self) -> Text:
        return "action_default_ask_affirmation"

    async def run(self, dispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        ranking = tracker.latest_message.get("intent_ranking") or []
        intents = [r.get("name") for r in ranking if r.get("name") and r.get("name") not in NOT_OFFERED]
        lang = _lang(tracker)
        _say(dispatcher, answers.did_you_mean(intents[:2] or ["help"], lang), lang)
        return []


class ActionDefaultFallback(RegistryAction, Action):
    """The graceful "vet inte": hand the visitor to a person at their centre, or to Filmregionerna."""

    def name(self) -> Text:
        return "action_default_fallback"

    async def run(self, dispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        # After "Nej, något annat" twice (Rasa's two-stage fallback gives up): the visitor declined.
        declined = ((tracker.latest_message or {}).get("intent") or {}).get("name") == "out_of_scope"
        lang = _lang(tracker)
        _say(dispatcher, answers.handoff(self.registry, tracker.get_slot("centre_id"), lang,
                                         "declined" if declined else "fallback"), lang)
        return [UserUtteranceReverted()]


class ActionFeedback(Action):
    """A visitor's 👍/👎 (and comment) on an answer: thanks, nothing else. The rating itself is the user
    message (/feedback{...}, stored in the tracker store); no slot changes, so the conversation's topic
    and place stay as they were for the next question."""

    def name(self) -> Text:
        return "action_feedback"

    async def run(self, dispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        latest = tracker.latest_message or {}
        rating = feedback.from_entities(latest.get("entities") or [])
        lang = _lang(tracker)
        if rating is None:
            logger.warning("feedback: a feedback message without a valid answer_id and rating")
        elif not _answered(tracker, rating["answer_id"]):
            logger.warning("feedback: answer %s is not in this conversation", rating["answer_id"])
        key = ("feedback_thanks_comment" if rating and rating.get("comment")
               else "feedback_thanks_down" if rating and rating["rating"] == "down" else "feedback_thanks_up")
        _say(dispatcher, answers.Answer(answers.t(key, lang)), lang)
        return []


def _answered(tracker: Tracker, answer_id: str) -> bool:
    for event in tracker.events or []:
        if event.get("event") == "bot" and \
                ((event.get("metadata") or {}).get(feedback.METADATA_KEY) or {}).get("answer_id") == answer_id:
            return True
    return False
