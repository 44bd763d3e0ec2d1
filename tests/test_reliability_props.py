"""Property-based tests in-process (issue 6, part 2): arbitrary text through resolve_place,
detect_language and every action never raises, and every answering action always says something."""
from __future__ import annotations

import asyncio

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rasa_sdk.executor import CollectingDispatcher

from actions import actions as A
from bot.lang import conversation_language, detect_language
from bot.places import resolve_place
from bot.registry import get_registry
from bot.topics import INTENT_TOPICS
from helpers import make_tracker

REGISTRY = get_registry()
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

PLACE_WORDS = ["Umeå", "Dalarna", "Västerås", "Småland", "Sthlm", "Göteborg", "Skåne", "Narnia", "i", "bor",
               "jag", "kortfilm", "län", "kommun", "Vara", "Mark", "Boden"]
texts = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=80),
    st.lists(st.sampled_from(PLACE_WORDS), max_size=8).map(" ".join),
    st.tuples(st.text(max_size=20), st.sampled_from(PLACE_WORDS), st.text(max_size=20)).map("".join),
    st.sampled_from(["", " ", "\x00", "/", "/inform_place", "🎬", "a" * 5000, "ä" * 300, "\u200b", "İı"]),
)
INTENTS = list(INTENT_TOPICS) + ["inform_place", "greet", "faq", "nlu_fallback", "list_centres", None]
SLOT_VALUES = {
    "language": st.sampled_from(["sv", "en", None, "de"]),
    "county_code": st.sampled_from([None, "20", "01", "24", "99", ""]),
    "kommun_code": st.sampled_from([None, "2062", "0000"]),
    "centre_id": st.sampled_from([None, "film-i-dalarna", "no-such-centre"]),
    "pending_topic": st.sampled_from([None] + list(INTENT_TOPICS.values()) + ["nonsense"]),
    "last_topic": st.sampled_from([None, "short_film", "contact", "centre", "nonsense"]),
}
slots = st.fixed_dictionaries({k: v for k, v in SLOT_VALUES.items()})


@st.composite
def entities_for(draw, text):
    if not text or not draw(st.booleans()):
        return []
    start = draw(st.integers(0, len(text) - 1))
    end = draw(st.integers(start + 1, len(text)))
    return [{"entity": "place", "value": text[start:end], "start": start, "end": end}]


def run(action, tracker):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, {}))
    assert isinstance(events, list)
    return dispatcher.messages


def said(messages) -> bool:
    return any((m.get("text") or "").strip() or m.get("response") for m in messages)


@SETTINGS
@given(texts, st.sampled_from([None] + list(INTENT_TOPICS.values())))
def test_resolve_place_never_raises(text, topic):
    res = resolve_place(text, registry=REGISTRY, topic=topic)
    assert res.status in ("found", "ambiguous", "unknown")
    if res.span:
        start, end = res.span
        assert 0 <= start <= end <= len(text)
    res.to_json()


@SETTINGS
@given(texts)
def test_detect_language_never_raises(text):
    assert detect_language(text) in ("sv", "en", None)


@SETTINGS
@given(st.data(), texts, st.sampled_from(INTENTS), slots)
def test_answer_topic_always_answers(data, text, intent, slot_values):
    ents = data.draw(entities_for(text))
    messages = run(A.ActionAnswerTopic(REGISTRY), make_tracker(text, intent, ents, slot_values))
    assert said(messages), messages


def _all_actions():
    """Every rasa_sdk Action the action server registers from actions/actions.py."""
    import inspect

    from rasa_sdk import Action

    found = []
    for _, cls in inspect.getmembers(A, inspect.isclass):
        if issubclass(cls, Action) and cls is not Action and cls.__module__ == A.__name__:
            params = inspect.signature(cls.__init__).parameters
            found.append(cls(REGISTRY) if "registry" in params else cls())
    return found


ACTIONS = _all_actions()
# Actions that may legitimately stay silent: the FAQ check when the
# ResponseSelector is confident (it sets faq_confident and the rule then utters utter_faq).
SILENT_OK = set()


@SETTINGS
@given(texts, st.sampled_from(INTENTS), slots, st.floats(0, 1), st.sampled_from(
    [None, "utter_faq/what_is", "utter_faq/nonexistent"]), st.lists(st.sampled_from(
        ["faq/what_is", "faq/how_many", "faq/bogus", "nofaqkey", ""]), max_size=4))
def test_every_action_answers_arbitrary_input(text, intent, slot_values, confidence, utter, ranking):
    selector = {"faq": {"response": {"confidence": confidence, "utter_action": utter},
                        "ranking": [{"intent_response_key": k} for k in ranking]}}
    tracker = make_tracker(text, intent, [], slot_values, response_selector=selector,
                           intent_ranking=[{"name": n, "confidence": 0.3} for n in INTENTS if n][:5])
    assert len(ACTIONS) >= 5
    for action in ACTIONS:
        dispatcher = CollectingDispatcher()
        events = asyncio.run(action.run(dispatcher, tracker, {}))
        assert isinstance(events, list), action.name()
        if action.name() in SILENT_OK:
            continue
        confident_faq = any(e.get("name") == "faq_confident" and e.get("value") is True for e in events)
        assert said(dispatcher.messages) or confident_faq, action.name()


@SETTINGS
@given(st.lists(texts, max_size=8), st.sampled_from(["sv", "en", None, "de"]))
def test_conversation_language_is_always_sv_or_en(history, fallback):
    assert conversation_language(history, fallback) in ("sv", "en")
