"""The custom NLU components: spaCy's Swedish tokenizer (with its fallback) and the place extractor."""
import logging

import spacy.util
from rasa.shared.nlu.training_data.message import Message

from bot.glue import nlu_components as nc


def test_blank_swedish_is_used_when_the_model_is_not_installed():
    assert not spacy.util.is_package(nc.SPACY_MODEL)  # the default install has no model
    tok = nc.SwedishTokenizer(nc.SwedishTokenizer.get_default_config())
    assert tok.spacy_source == "blank:sv"
    tokens = tok.tokenize(Message(data={"text": "Var får jag stöd för kortfilm i Malung-Sälen?"}), "text")
    assert [t.text for t in tokens][:4] == ["Var", "får", "jag", "stöd"]
    assert all("Var får jag stöd för kortfilm i Malung-Sälen?"[t.start:t.end] == t.text for t in tokens)
    assert tokens[-1].text == "?"


def test_installed_but_broken_model_falls_back_with_a_warning(monkeypatch, caplog):
    monkeypatch.setattr(spacy.util, "is_package", lambda name: True)

    def broken_load(name, **kwargs):
        raise OSError("model for spaCy 3.5 cannot be loaded by 3.4")

    monkeypatch.setattr(spacy, "load", broken_load)
    with caplog.at_level(logging.WARNING):
        nlp, source = nc.load_swedish_spacy()
    assert source == "blank:sv" and nlp.lang == "sv"
    assert "using spacy.blank('sv')" in caplog.text


def test_installed_model_is_used(monkeypatch):
    loaded = {}
    monkeypatch.setattr(spacy.util, "is_package", lambda name: name == nc.SPACY_MODEL)

    def fake_load(name, **kwargs):
        loaded["name"] = name
        return spacy.blank("sv")

    monkeypatch.setattr(spacy, "load", fake_load)
    _, source = nc.load_swedish_spacy()
    assert source == nc.SPACY_MODEL and loaded["name"] == nc.SPACY_MODEL


def _entities(text):
    msg = Message(data={"text": text})
    nc.PlaceExtractor({}).process([msg])
    return msg.get("entities") or []


def test_place_extractor_finds_places_with_exact_spans():
    (ent,) = _entities("Finns det stöd för dokumentär i Dalarnas län?")
    assert ent["entity"] == "place" and ent["value"] == "Dalarnas län"
    assert ent["extractor"] == "PlaceExtractor"
    (ent,) = _entities("jag bor i Småland")  # ambiguous: still an entity, the dialogue asks back
    assert ent["value"] == "Småland"


def test_place_extractor_ignores_everyday_words_unknown_names_and_payloads():
    assert _entities("det ska vara en kortfilm") == []
    assert _entities("jag bor i Narnia") == []
    assert _entities('/inform_place{"place": "Mora"}') == []
