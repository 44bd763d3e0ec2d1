"""Checks on the NLU training data and the held-out test set (tests/nlu/).

- no held-out message appears in data/nlu.yml (after normalising case, punctuation and annotations),
- every intent in domain.yml (and every faq/<sub> response) has >= 10 Swedish training examples,
- the held-out set has >= 300 Swedish (tests/nlu/test_nlu.yml) and >= 50 English (tests/nlu/test_nlu_en.yml)
  messages.
"""
from __future__ import annotations

import re
import unicodedata
from collections import Counter
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
TRAIN = ROOT / "data" / "nlu.yml"
TEST_SV = ROOT / "tests" / "nlu" / "test_nlu.yml"
TEST_EN = ROOT / "tests" / "nlu" / "test_nlu_en.yml"
DOMAIN = ROOT / "domain.yml"

FAQ_SUBS = {"what_is", "how_many", "started", "financing", "vision", "goals", "councils",
            "nearest_centre", "members_orgs", "why_19_centres", "northernmost", "southernmost", "names",
            "film_policy", "cooperation"}

# Sent only by the widget and the Slack buttons as /feedback{...} (bot/feedback.py), parsed by Rasa's
# RegexMessageHandler: no examples on purpose, so the classifier never guesses a rating from typed text.
PAYLOAD_ONLY_INTENTS = {"feedback"}

_ANNOTATION = re.compile(r"\[([^\]]+)\]\([^)]*\)|\[([^\]]+)\]\{[^}]*\}")
_EN_WORDS = {"the", "is", "are", "what", "who", "how", "where", "which", "can", "i", "i'm", "you", "do",
             "does", "for", "my", "me", "in", "a", "an", "to", "of", "and", "there", "film", "thanks",
             "thank", "yes", "no", "please", "hello", "hi", "bye", "goodbye", "about", "want", "your",
             "help", "we", "our", "it", "that", "with", "any", "be", "live", "from", "start", "over"}
_SV_WORDS = {"är", "och", "jag", "det", "vad", "vem", "hur", "finns", "för", "till", "med", "på", "om",
             "kan", "en", "ett", "att", "vi", "ni", "du", "har", "man", "mig", "min", "var", "vilken",
             "vilka", "inte", "nej", "ja", "tack", "hej", "bor", "i", "från", "då", "av", "som", "söka"}


def examples_of(path: Path) -> list[tuple[str, str]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    out = []
    for block in data.get("nlu", []):
        if "intent" not in block:
            continue
        for line in str(block.get("examples", "")).splitlines():
            line = line.strip()
            if line.startswith("- "):
                out.append((block["intent"], line[2:].strip()))
    return out


def _plain(text: str) -> str:
    return _ANNOTATION.sub(lambda m: m.group(1) or m.group(2), text)


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFC", _plain(text)).casefold()
    text = re.sub(r"[^\w\s]", " ", text)
    return " ".join(text.split())


def is_english(text: str) -> bool:
    words = normalise(text).split()
    if not words:
        return False
    en = sum(w in _EN_WORDS for w in words)
    sv = sum(w in _SV_WORDS for w in words) + (1 if re.search(r"[åäö]", " ".join(words)) else 0)
    return en > sv


def _domain_intents() -> list[str]:
    domain = yaml.safe_load(DOMAIN.read_text(encoding="utf-8"))
    return [i if isinstance(i, str) else next(iter(i)) for i in domain["intents"]]


def test_no_test_message_in_training_data():
    train = {normalise(t) for _, t in examples_of(TRAIN)}
    overlap = [t for path in (TEST_SV, TEST_EN) for _, t in examples_of(path) if normalise(t) in train]
    assert not overlap, f"held-out messages also in data/nlu.yml: {overlap}"


def test_no_sentence_in_two_intents():
    seen: dict[str, set[str]] = {}
    for intent, text in examples_of(TRAIN):
        seen.setdefault(normalise(text), set()).add(intent)
    clashes = {t: sorted(i) for t, i in seen.items() if len(i) > 1}
    assert not clashes, f"same training sentence under several intents: {clashes}"


def test_every_intent_has_ten_swedish_examples():
    counts = Counter(intent for intent, text in examples_of(TRAIN) if not is_english(text))
    wanted = [i for i in _domain_intents() if i != "faq" and i not in PAYLOAD_ONLY_INTENTS] + \
        [f"faq/{s}" for s in sorted(FAQ_SUBS)]
    too_few = {i: counts.get(i, 0) for i in wanted if counts.get(i, 0) < 10}
    assert not too_few, f"intents with < 10 Swedish training examples: {too_few}"


def test_every_intent_has_english_examples():
    counts = Counter(intent for intent, text in examples_of(TRAIN) if is_english(text))
    wanted = [i for i in _domain_intents() if i != "faq" and i not in PAYLOAD_ONLY_INTENTS] + \
        [f"faq/{s}" for s in sorted(FAQ_SUBS)]
    missing = [i for i in wanted if counts.get(i, 0) < 3]
    assert not missing, f"intents without English training examples: {missing}"


def test_held_out_set_size_and_coverage():
    sv = examples_of(TEST_SV)
    en = examples_of(TEST_EN)
    assert len(sv) >= 300, len(sv)
    assert len(en) >= 50, len(en)
    trained = {intent for intent, _ in examples_of(TRAIN)}
    tested = {intent for intent, _ in sv + en}
    assert trained <= tested, f"intents without held-out messages: {sorted(trained - tested)}"
    assert tested <= trained, f"held-out intents unknown to training: {sorted(tested - trained)}"


def test_payload_only_intents_have_no_training_examples():
    assert PAYLOAD_ONLY_INTENTS <= set(_domain_intents())
    trained = {intent for intent, _ in examples_of(TRAIN)}
    assert not PAYLOAD_ONLY_INTENTS & trained


def test_payload_only_intents_are_in_no_rule_or_story():
    # Rasa adds every intent and action named by a rule or story to the featurisers' vocabulary, so a rule
    # for ratings would change the trained classifier; bot.glue.policies.FeedbackPolicy answers them instead.
    for path in (ROOT / "data").glob("*.yml"):
        data = yaml.safe_load(path.read_text()) or {}
        for flow in (data.get("rules") or []) + (data.get("stories") or []):
            named = {step.get("intent") for step in flow.get("steps", [])} | \
                {step.get("action") for step in flow.get("steps", [])}
            assert not named & (PAYLOAD_ONLY_INTENTS | {"action_feedback"}), (path.name, flow.get("rule") or flow.get("story"))
    config = yaml.safe_load((ROOT / "config.yml").read_text())
    assert "bot.glue.policies.FeedbackPolicy" in [p["name"] for p in config["policies"]]
