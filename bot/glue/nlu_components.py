"""Rasa NLU components for Swedish: tokenizer, place extractor, NumPy-predicting DIET and ResponseSelector, and the
registry understanding step; importing this module installs the bot's patches of Rasa (bot.glue.patches).

SwedishTokenizer: spaCy's Swedish tokenizer. Uses the `sv_core_news_sm` pipeline (lemmas) when that
package is installed, and spaCy's bundled Swedish language data (`spacy.blank("sv")`) otherwise, so the
default install needs no model download.

PlaceExtractor: emits `place` entities found by bot.places.resolve_place (kommuner, län, towns, typos,
inflections), so place recognition follows the registry instead of what DIET memorised.

FaqResponseSelector: Rasa's ResponseSelector, skipped for messages that cannot be FAQ questions.
"""
from __future__ import annotations

import logging
import warnings
import os
import re
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.diet_classifier import DIETClassifier
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.nlu.selectors.response_selector import ResponseSelector
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.constants import (
    ENTITIES,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from bot.glue.fast_inference import NumpyInferenceMixin

logger = logging.getLogger(__name__)

SPACY_MODEL = "sv_core_news_sm"
# The classifiers (DIET's transformer attends every token to every other) cost grows with the square of
# the number of tokens: 5000 emoji were 5000 tokens and 4 s of blocked event loop for every visitor.
# Only the first MAX_TOKENS tokens are classified (a long message's purpose is stated early); places and
# the registry understanding still read the whole text. Not part of the model: no retraining needed.
try:
    MAX_TOKENS = max(1, int(os.environ.get("FILMBOT_MAX_TOKENS", "400")))
except ValueError:
    MAX_TOKENS = 400
# spaCy's tokenizer splits prefixes/suffixes off a whitespace-free chunk one at a time: 5000 emoji in one
# chunk took 2.5 s. Chunks longer than this get a space every RUN_LIMIT characters (same length, so the
# token offsets still point into the message); no word or address a visitor types is that long.
RUN_LIMIT = 64
# FaqResponseSelector: below this confidence of the retrieval intent in the classifier's ranking, the
# message cannot become an FAQ question (bot/understanding.py takes a ranked intent from 0.15 up).
FAQ_CANDIDATE_CONFIDENCE = 0.1
_LONG_RUN = re.compile(r"\S{%d,}" % (RUN_LIMIT + 1))


def _break_long_runs(text: str) -> str:
    def cut(match: "re.Match[str]") -> str:
        return "".join(" " if i % (RUN_LIMIT + 1) == RUN_LIMIT else c for i, c in enumerate(match.group(0)))

    return _LONG_RUN.sub(cut, text)


def load_swedish_spacy(model_name: str = SPACY_MODEL):
    """Returns (nlp, name): the installed Swedish model if any, else spaCy's blank Swedish pipeline."""
    import spacy
    import spacy.util

    if model_name and spacy.util.is_package(model_name):
        try:
            return spacy.load(model_name, disable=["parser", "ner"]), model_name
        except Exception as exc:  # a broken or mismatched model must not stop the bot
            logger.warning("Could not load spaCy model %s (%s); using spacy.blank('sv')", model_name, exc)
    return spacy.blank("sv"), "blank:sv"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class SwedishTokenizer(Tokenizer):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "intent_tokenization_flag": False,
            "intent_split_symbol": "_",
            "token_pattern": None,
            "prefix_separator_symbol": None,
            "spacy_model": SPACY_MODEL,
        }

    def __init__(self, config: Dict[Text, Any]) -> None:
        super().__init__(config)
        self.nlp, self.spacy_source = load_swedish_spacy(self._config.get("spacy_model") or "")
        self._use_lemmas = self.spacy_source != "blank:sv"

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "SwedishTokenizer":
        return cls(config)

    @staticmethod
    def required_packages() -> List[Text]:
        return ["spacy"]

    def tokenize(self, message: Message, attribute: Text) -> List[Token]:
        text = _break_long_runs(message.get(attribute) or "")
        doc = self.nlp(text) if self._use_lemmas else self.nlp.make_doc(text)
        tokens = []
        for t in doc:
            if t.is_space or not t.text.strip():
                continue
            lemma = t.lemma_ if self._use_lemmas and t.lemma_ else t.text
            tokens.append(Token(t.text, t.idx, lemma=lemma.lower()))
            if len(tokens) >= MAX_TOKENS:
                break
        return self._apply_token_pattern(tokens)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class PlaceExtractor(GraphComponent, EntityExtractorMixin):
    """Adds one `place` entity per message: the place bot.places found, or an ambiguous term (Småland)
    so the dialogue can ask back. Unknown names ("i Narnia") are left to the action, which reads the text."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"entity": "place"}

    def __init__(self, config: Dict[Text, Any]) -> None:
        self.entity = config.get("entity", "place")

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "PlaceExtractor":
        return cls(config)

    def extract(self, text: Optional[str]) -> List[Dict[Text, Any]]:
        from bot.places import resolve_place

        if not text or text.startswith("/"):
            return []
        res = resolve_place(text)
        if res.status == "unknown" or not res.matched or not res.span:
            return []
        start, end = res.span
        return [
            {
                "entity": self.entity,
                "start": start,
                "end": end,
                "value": text[start:end],
                "confidence_entity": res.confidence,
            }
        ]

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            found = self.add_extractor_name(self.extract(message.get(TEXT)))
            if found:
                message.set(ENTITIES, message.get(ENTITIES, []) + found, add_to_output=True)
        return messages


# Rasa's recipe validator looks for its own classes by exact type: our subclasses (FaqResponseSelector of
# ResponseSelector, NumpyDIETClassifier of DIETClassifier, which extracts the place entity) are not seen, so
# it warns that the FAQ examples and the entity examples train nothing. They do; the warnings are silenced.
warnings.filterwarnings("ignore", message=r"You have defined training data with examples for training a response")
warnings.filterwarnings("ignore", message=r"You have defined training data consisting of entity examples")


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class RegistryUnderstanding(GraphComponent):
    """The last NLU step: fuses the classifier's intent with what the registry recognises (places,
    centre names, topic words) through bot.understanding.understand, and writes the decision into the
    parse result: `intent` (the classifier's ranking kept below it) and `understanding` (read by the
    actions). Not trained: the rules live in bot/understanding.py."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {}

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "RegistryUnderstanding":
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        from bot.understanding import FALLBACK, understand

        for message in messages:
            text = message.get(TEXT) or ""
            if not text or text.startswith("/"):
                continue
            intent = message.get(INTENT) or {}
            ranking = list(message.get(INTENT_RANKING_KEY) or [])
            try:
                decision = understand(text, ranking, intent.get(INTENT_NAME_KEY))
            except Exception:  # the classifier's answer stands if the registry step fails
                logger.exception("understanding failed; keeping the classifier's intent")
                continue
            if decision.intent != intent.get(INTENT_NAME_KEY):
                chosen = {INTENT_NAME_KEY: decision.intent, PREDICTED_CONFIDENCE_KEY: decision.confidence}
                rest = [r for r in ranking if r.get(INTENT_NAME_KEY) not in (decision.intent, FALLBACK)]
                message.set(INTENT, chosen, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [chosen] + rest, add_to_output=True)
            if decision.faq:
                _choose_faq(message, decision.faq)
            message.set("understanding", decision.to_json(), add_to_output=True)
        return messages


def _choose_faq(message: Message, sub: str) -> None:
    """The FAQ answer the registry's words picked: the response selector's prediction for `faq` becomes
    faq/<sub> at full confidence (action_check_faq and utter_faq read it from there)."""
    selectors = dict(message.get("response_selector") or {})
    faq = dict(selectors.get("faq") or {"ranking": []})
    faq["response"] = {"id": None, "responses": [], "response_templates": [], "confidence": 1.0,
                       "intent_response_key": f"faq/{sub}", "utter_action": f"utter_faq/{sub}"}
    selectors["faq"] = faq
    selectors.setdefault("all_retrieval_intents", ["faq"])
    message.set("response_selector", selectors, add_to_output=True)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class NumpyDIETClassifier(NumpyInferenceMixin, DIETClassifier):
    """Rasa's DIETClassifier (same training, same model files); a message's intent ranking is computed from
    the trained weights with NumPy instead of a TensorFlow call (bot/glue/fast_inference.py: same confidences to
    1e-6, about 3 ms less per message)."""


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class FaqResponseSelector(NumpyInferenceMixin, ResponseSelector):
    """Rasa's ResponseSelector (same training, same model), run only on messages that can end up with the
    retrieval intent: the classifier ranks it first or at least FAQ_CANDIDATE_CONFIDENCE (RegistryUnderstanding
    may pick it from the ranking for a question put as small talk, at 0.15 and above), or a button payload
    ("/faq"). Its answer is read only for that intent (the `faq` rules, action_check_faq), so skipping the
    other messages changes no reply; it saves one model call on most messages. Where it runs, it computes with
    NumPy like NumpyDIETClassifier."""

    def process(self, messages: List[Message]) -> List[Message]:
        wanted = [m for m in messages if self._may_be_retrieval(m)]
        if wanted:
            super().process(wanted)
        return messages

    def _may_be_retrieval(self, message: Message) -> bool:
        text = message.get(TEXT) or ""
        if not self.retrieval_intent or text.startswith("/"):
            return True
        intent = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
        if intent is None or intent == self.retrieval_intent:
            return True
        return any(r.get(INTENT_NAME_KEY) == self.retrieval_intent
                   and (r.get(PREDICTED_CONFIDENCE_KEY) or 0.0) >= FAQ_CANDIDATE_CONFIDENCE
                   for r in message.get(INTENT_RANKING_KEY) or [])


# Every model's pipeline imports this module: the one place the bot's patches of Rasa are installed
# (bot/glue/patches/__init__.py: bounded action calls, personal data removed before Rasa stores a message, the
# prediction graph without dask), however Rasa is started (rasa run, rasa shell); it stops on another Rasa.
import bot.glue.patches as _rasa_patches  # noqa: E402

_rasa_patches.install_all()
