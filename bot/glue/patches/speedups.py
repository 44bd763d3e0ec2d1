"""Three small patches of Rasa 3.6's prediction path and event loading; same results, less CPU per message.

1. **The prediction graph runs in order, without dask.** Every message runs the model's graph twice or
   more (NLU once, the policies once per predicted action) through `DaskGraphRunner.run`, which per call
   derives the minimal sub-graph for the targets, builds a dask graph, orders it (`dask.order`) and runs
   it through dask's scheduler, and formats a debug line with the whole tracker in it even when debug
   logging is off. For a graph of a dozen pure components that overhead was about 1.4 ms per message
   (py-spy, BENCHMARKS.md). Here the order of the nodes a set of targets needs is computed once per set of
   targets (a topological order of `GraphSchema.minimal_graph_schema`), and each run calls those
   `GraphNode`s one after another with exactly the inputs dask would pass them: the outputs of the nodes
   they need, `(name, value)` for the run's inputs, the bare name for anything unresolved. Only runners of
   a loaded model (their ExecutionContext has a model id) run this way; training keeps Rasa's runner.
2. **Copying a slot is a plain attribute copy.** The policies' `tracker.past_states` copies every slot of
   the domain for each prior tracker (`DialogueStateTracker.init_copy` -> `copy.copy(slot)`), through the
   generic `__reduce_ex__` protocol; `Slot.__copy__` does the same shallow copy directly (about 0.8 ms per
   message with this domain).
3. **An event's class is found in a dict.** Loading a tracker resolves each stored event's class by walking
   every Event subclass (`Event.resolve_by_type`); a per-process dict gives the same class.

Installed with the other patches by bot.glue.patches.install_all().
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text, Tuple

logger = logging.getLogger(__name__)

_installed = False


def _plan(runner: Any, targets: Tuple[Text, ...]) -> List[Tuple[Text, Any, List[Text]]]:
    """(node name, GraphNode, names of the nodes it needs) in an order where every need comes first."""
    schema = runner._graph_schema.minimal_graph_schema(list(targets))
    nodes = schema.nodes
    order: List[Tuple[Text, Any, List[Text]]] = []
    state: Dict[Text, int] = {}  # 1 = being visited, 2 = done

    def visit(name: Text) -> None:
        if state.get(name) == 2 or name not in nodes:
            return
        if state.get(name) == 1:
            from rasa.engine.exceptions import GraphRunError

            raise GraphRunError(f"the graph has a cycle through '{name}'")
        state[name] = 1
        needs = list(nodes[name].needs.values())
        for need in needs:
            visit(need)
        state[name] = 2
        order.append((name, runner._instantiated_nodes[name], needs))

    for name in nodes:
        visit(name)
    return order


def sequential_run(runner: Any, inputs: Optional[Dict[Text, Any]] = None,
                   targets: Optional[List[Text]] = None) -> Dict[Text, Any]:
    """DaskGraphRunner.run's result, computed by calling the needed nodes in a fixed order."""
    from rasa.engine.exceptions import GraphRunError

    run_targets = tuple(targets if targets else runner._graph_schema.target_names)
    plans = runner.__dict__.setdefault("_filmbot_plans", {})
    plan = plans.get(run_targets)
    if plan is None:
        plan = plans[run_targets] = _plan(runner, run_targets)
    results: Dict[Text, Any] = {}
    for name, value in (inputs or {}).items():
        if isinstance(value, str) and value in runner._graph_schema.nodes:
            raise GraphRunError(
                f"Input value '{value}' clashes with a node name. Make sure that none of the input names "
                f"passed to the `run` method are the same as node names in the graph schema.")
        results[name] = (name, value)
    try:
        for name, node, needs in plan:
            results[name] = node(*[results.get(need, need) for need in needs])
    except RuntimeError as exc:
        raise GraphRunError("Error running runner.") from exc
    return dict(results[target] for target in run_targets)


def _fast_slot_copy(self: Any) -> Any:
    new = self.__class__.__new__(self.__class__)
    new.__dict__.update(self.__dict__)
    return new


def install() -> None:
    """Idempotent."""
    global _installed
    if _installed:
        return
    from rasa.engine.runner.dask import DaskGraphRunner
    from rasa.shared.core.slots import Slot

    DaskGraphRunner._filmbot_original_run = DaskGraphRunner.run

    def run(self: Any, inputs: Optional[Dict[Text, Any]] = None,
            targets: Optional[List[Text]] = None) -> Dict[Text, Any]:
        if self._execution_context.model_id is None:  # a training or fingerprinting run
            return DaskGraphRunner._filmbot_original_run(self, inputs, targets)
        return sequential_run(self, inputs, targets)

    run.__doc__ = DaskGraphRunner._filmbot_original_run.__doc__
    DaskGraphRunner.run = run
    if "__copy__" not in Slot.__dict__ and not hasattr(Slot, "__slots__"):
        Slot.__copy__ = _fast_slot_copy
    _installed = True


def install_event_type_cache() -> None:
    """Rasa resolves every event's class by walking all Event subclasses (all_subclasses, recursive)
    for each event it deserialises; a dict per process gives the same answer."""
    from rasa.shared.core import events as rasa_events

    if getattr(rasa_events.Event.resolve_by_type, "_filmbot_cached", False):
        return
    original = rasa_events.Event.resolve_by_type
    cache: Dict[str, Any] = {}

    def resolve_by_type(type_name: Text, default: Any = None) -> Any:
        cls = cache.get(type_name)
        if cls is None:
            cls = original(type_name, default)
            if cls is not None and getattr(cls, "type_name", None) == type_name:
                cache[type_name] = cls
        return cls

    resolve_by_type._filmbot_cached = True  # type: ignore[attr-defined]
    rasa_events.Event.resolve_by_type = staticmethod(resolve_by_type)  # type: ignore[assignment]
