"""The classifiers' NumPy prediction (bot/glue/fast_inference.py) against Rasa's own TensorFlow prediction, on the
trained model (var/test-model) and every message of the held-out NLU set."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Tuple

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent


def _held_out_texts() -> List[str]:
    from rasa.shared.nlu.training_data.loading import load_data

    texts = []
    for name in ("test_nlu.yml", "test_nlu_en.yml"):
        texts += [m.get("text") for m in load_data(str(ROOT / "tests" / "nlu" / name)).intent_examples]
    assert len(texts) > 400
    return texts


def _component(agent, class_name: str) -> Tuple[str, Any]:
    for name, node in agent.processor.graph_runner._instantiated_nodes.items():
        if type(node._component).__name__ == class_name:
            return name, node._component
    raise AssertionError(f"{class_name} is not in the model's graph")


def _featurised(agent, node_name: str, texts: List[str]) -> List[Any]:
    """The messages as the component receives them: run the model's graph up to (and including) it."""
    from rasa.core.channels.channel import UserMessage
    from rasa.engine.constants import PLACEHOLDER_MESSAGE, PLACEHOLDER_TRACKER
    from rasa.shared.core.trackers import DialogueStateTracker

    tracker = DialogueStateTracker.from_events("fast-inference", [])
    out = []
    for text in texts:
        result = agent.processor.graph_runner.run(
            inputs={PLACEHOLDER_MESSAGE: [UserMessage(text)], PLACEHOLDER_TRACKER: tracker}, targets=[node_name])
        out.append(result[node_name][0])
    return out


@pytest.mark.parametrize("class_name, base", [("NumpyDIETClassifier", "DIETClassifier"),
                                              ("FaqResponseSelector", "ResponseSelector")])
def test_numpy_and_tensorflow_give_the_same_scores_on_every_held_out_message(agent, class_name, base, monkeypatch):
    from rasa.nlu.classifiers.diet_classifier import DIETClassifier

    monkeypatch.delenv("FILMBOT_TF_INFERENCE", raising=False)
    name, component = _component(agent, class_name)
    assert component._numpy() is not None, "the trained model is not computed with NumPy"
    worst = 0.0
    for message in _featurised(agent, name, _held_out_texts()):
        tf_scores = np.asarray(DIETClassifier._predict(component, message)["i_scores"]).reshape(-1)
        np_scores = np.asarray(component._predict(message)["i_scores"]).reshape(-1)
        assert np_scores.shape == tf_scores.shape
        assert int(np_scores.argmax()) == int(tf_scores.argmax()), message.get("text")
        worst = max(worst, float(np.abs(np_scores - tf_scores).max()))
    assert worst < 1e-4, worst


def test_prediction_does_not_call_tensorflow_unless_forced(agent, monkeypatch):
    import asyncio

    _, component = _component(agent, "NumpyDIETClassifier")
    calls: List[int] = []
    original = component.model.run_inference

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(component.model, "run_inference", counting)
    monkeypatch.delenv("FILMBOT_TF_INFERENCE", raising=False)
    parsed = asyncio.run(agent.parse_message("Var kan jag få stöd för att göra film i Dalarna?"))
    assert parsed["intent"]["name"] and calls == []
    monkeypatch.setenv("FILMBOT_TF_INFERENCE", "1")
    forced = asyncio.run(agent.parse_message("Var kan jag få stöd för att göra film i Dalarna?"))
    assert calls, "FILMBOT_TF_INFERENCE=1 did not use Rasa's TensorFlow path"
    assert forced["intent"]["name"] == parsed["intent"]["name"]
    assert abs(forced["intent"]["confidence"] - parsed["intent"]["confidence"]) < 1e-4


def test_features_the_numpy_model_does_not_know_go_to_tensorflow(agent, monkeypatch):
    """Dense features (a featuriser the model was not trained with in this form) or a vocabulary of another
    size are not guessed at: Rasa's own path answers."""
    import scipy.sparse
    from rasa.nlu.classifiers.diet_classifier import DIETClassifier
    from rasa.shared.nlu.training_data.features import Features

    monkeypatch.delenv("FILMBOT_TF_INFERENCE", raising=False)
    name, component = _component(agent, "NumpyDIETClassifier")
    message = _featurised(agent, name, ["hej, vem jobbar med skolbio i Umeå?"])[0]
    sentinel = {"i_scores": np.zeros((1, 1))}
    monkeypatch.setattr(DIETClassifier, "_predict", lambda self, m: sentinel)
    assert component._predict(message) is not sentinel  # the NumPy path

    from rasa.shared.nlu.training_data.message import Message

    with_dense = Message(data=dict(message.data), features=list(message.features))
    with_dense.add_features(Features(np.ones((1, 5)), "sentence", "text", "SomeDenseFeaturizer"))
    assert component._predict(with_dense) is sentinel

    other_vocab = Message(data=dict(message.data), features=[
        Features(scipy.sparse.coo_matrix(np.ones((3, 7))), "sequence", "text", "X"),
        Features(scipy.sparse.coo_matrix(np.ones((1, 7))), "sentence", "text", "X")])
    assert component._predict(other_vocab) is sentinel


def test_models_it_cannot_reproduce_are_refused():
    from bot.glue.fast_inference import NumpyTextModel, Unsupported

    class TED:  # a policy model, not DIET
        config: Dict[str, Any] = {}

    with pytest.raises(Unsupported):
        NumpyTextModel(TED())

