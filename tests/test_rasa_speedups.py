"""bot/glue/patches/speedups.py: the prediction graph run in order gives what Rasa's dask runner gives; slots copy
like copy.copy did; training runs keep Rasa's runner."""
from __future__ import annotations

import asyncio
import copy
from pathlib import Path
from typing import Any, List

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _texts() -> List[str]:
    from rasa.shared.nlu.training_data.loading import load_data

    examples = load_data(str(ROOT / "tests" / "nlu" / "test_nlu.yml")).intent_examples
    return [m.get("text") for m in examples[::3]]


def _comparable(parsed: Any) -> Any:
    """A parse result without the per-call ids and float noise."""
    if isinstance(parsed, dict):
        return {k: _comparable(v) for k, v in parsed.items() if k not in ("message_id",)}
    if isinstance(parsed, list):
        return [_comparable(v) for v in parsed]
    if isinstance(parsed, float):
        return round(parsed, 6)
    return parsed


def test_nlu_results_equal_the_dask_runner(agent):
    from rasa.core.channels.channel import UserMessage
    from rasa.engine.constants import PLACEHOLDER_MESSAGE, PLACEHOLDER_TRACKER
    from rasa.engine.runner.dask import DaskGraphRunner
    from rasa.shared.core.trackers import DialogueStateTracker

    runner = agent.processor.graph_runner
    assert runner._execution_context.model_id, "a loaded model's runner has a model id"
    target = agent.processor.model_metadata.nlu_target
    tracker = DialogueStateTracker.from_events("speedups", [])
    texts = _texts()
    assert len(texts) > 50
    for text in texts:
        inputs = {PLACEHOLDER_MESSAGE: [UserMessage(text)], PLACEHOLDER_TRACKER: tracker}
        ours = runner.run(inputs=dict(inputs), targets=[target])
        dask = DaskGraphRunner._filmbot_original_run(runner, dict(inputs), [target])
        assert set(ours) == set(dask) == {target}
        a, b = ours[target][0], dask[target][0]
        assert _comparable(a.as_dict(only_output_properties=True)) == \
            _comparable(b.as_dict(only_output_properties=True)), text


def test_conversation_predictions_equal_the_dask_runner(agent):
    """The same conversation through both runners: the same actions, in the same order, the same replies."""
    from rasa.engine.runner.dask import DaskGraphRunner

    runner = agent.processor.graph_runner
    conversation = ["hallå där!", "Var kan jag få stöd för att göra film i Dalarna?", "och i Skåne då?",
                    "vem kan jag kontakta?", "tack, hej då"]

    def replies(sender: str) -> List[Any]:
        out = []
        for text in conversation:
            out.append([m.get("text") for m in asyncio.run(agent.handle_text(text, sender_id=sender))])
        return out

    ours = replies("speedups-ours")
    original = DaskGraphRunner.run
    DaskGraphRunner.run = DaskGraphRunner._filmbot_original_run
    try:
        dask = replies("speedups-dask")
    finally:
        DaskGraphRunner.run = original
    assert ours == dask
    assert all(turn for turn in ours[1:]), ours
    assert runner.__dict__.get("_filmbot_plans"), "the ordered plan was not used"


def test_training_runs_keep_rasas_runner(monkeypatch):
    from rasa.engine.runner.dask import DaskGraphRunner
    import bot.glue.patches.speedups as speedups

    class Context:
        model_id = None  # what rasa.engine.training.graph_trainer gives its runners

    fake = DaskGraphRunner.__new__(DaskGraphRunner)
    fake._execution_context = Context()
    calls = []
    monkeypatch.setattr(DaskGraphRunner, "_filmbot_original_run",
                        lambda self, inputs=None, targets=None: calls.append(targets) or {"t": 1})
    monkeypatch.setattr(speedups, "sequential_run", lambda *a, **k: pytest.fail("training used the ordered run"))
    assert DaskGraphRunner.run(fake, {}, ["train_x"]) == {"t": 1}
    assert calls == [["train_x"]]


def test_slot_copy_is_a_shallow_independent_copy():
    from rasa.shared.core.slots import CategoricalSlot, ListSlot, TextSlot

    for slot in (TextSlot("place", mappings=[{"type": "custom"}], initial_value="Umeå"),
                 CategoricalSlot("lang", mappings=[{"type": "custom"}], values=["sv", "en"]),
                 ListSlot("seen", mappings=[{"type": "custom"}], initial_value=["a"])):
        slot.value = slot.value  # as after a SlotSet
        twin = copy.copy(slot)
        assert type(twin) is type(slot) and twin is not slot
        assert twin.__dict__ == slot.__dict__
        assert twin.persistence_info() == slot.persistence_info()
        twin.value = "changed"
        assert slot.value != "changed"
