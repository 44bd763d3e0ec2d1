"""ResponseValidator (bot/glue/patches/action_guard.py) gives Rasa's verdict on action-server replies: generated
replies, valid and broken, checked against jsonschema with Rasa's full response schema."""
from __future__ import annotations

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.glue.patches.action_guard import ResponseValidator


def _schema():
    from rasa.core.actions.action import RemoteAction

    return RemoteAction.action_response_format_spec()


FULL = jsonschema.validators.validator_for(_schema())(_schema())
OURS = ResponseValidator(_schema())

EVENT_TYPES = ["user", "action", "slot", "entities", "bot", "followup", "session_started", "restart",
               "active_loop", "reset_slots", "undo", "rewind", "reminder", "agent", "nonsense", ""]
scalars = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.floats(allow_nan=False, width=16),
                    st.text(max_size=4))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=2),
                                                        st.dictionaries(st.text(max_size=3), inner, max_size=2)),
                      max_leaves=4)
event_fields = st.fixed_dictionaries({}, optional={
    "event": st.one_of(st.sampled_from(EVENT_TYPES), scalars),
    "name": st.one_of(st.text(max_size=5), scalars),
    "value": values,
    "timestamp": st.one_of(st.floats(allow_nan=False, width=32), st.none(), st.text(max_size=2)),
    "metadata": st.one_of(st.none(), st.dictionaries(st.text(max_size=3), scalars, max_size=2), scalars),
    "text": st.one_of(st.text(max_size=5), st.none(), st.integers()),
    "entities": st.one_of(st.lists(st.fixed_dictionaries({"entity": st.text(max_size=3), "value": values}),
                                   max_size=2), scalars),
    "policy": st.one_of(st.text(max_size=3), st.none(), st.integers()),
    "hide_rule_turn": st.one_of(st.booleans(), scalars),
    "parse_data": st.one_of(st.dictionaries(st.sampled_from(["text", "intent", "entities"]), values, max_size=2),
                            scalars),
})
events = st.lists(st.one_of(event_fields, scalars), max_size=4)
replies = st.one_of(
    st.fixed_dictionaries({}, optional={"events": st.one_of(events, scalars),
                                        "responses": st.one_of(st.lists(st.one_of(
                                            st.dictionaries(st.sampled_from(["text", "buttons"]), values,
                                                            max_size=2), scalars), max_size=2), scalars)}),
    scalars)


@settings(max_examples=3000, deadline=None)
@given(replies)
def test_the_same_verdict_as_the_full_schema(reply):
    assert OURS.is_valid(reply) == FULL.is_valid(reply)
    if FULL.is_valid(reply):
        OURS.validate(reply)
    else:
        with pytest.raises(jsonschema.ValidationError):
            OURS.validate(reply)


def test_what_our_actions_send_takes_the_short_way_and_broken_replies_raise_rasas_error(monkeypatch):
    reply = {"events": [{"event": "slot", "timestamp": None, "name": "centre_id", "value": "film-i-skane"},
                        {"event": "bot", "text": "Film i Skåne", "metadata": {"filmbot": {"kind": "registry"}}},
                        {"event": "followup", "name": "action_listen"}],
             "responses": [{"text": "Film i Skåne …", "buttons": []}]}
    monkeypatch.setattr(OURS.full, "validate", lambda r: pytest.fail("the full schema was needed"))
    OURS.validate(reply)
    monkeypatch.undo()
    for broken in ({"events": [{"event": "slot", "name": "x"}]},           # a slot without value
                   {"events": [{"event": "teleport"}]},                       # no such event
                   {"events": [{"name": "x", "value": 1}]},                   # no type
                   {"events": {"event": "slot"}},                             # not a list
                   {"events": [{"event": "slot", "name": 3, "value": 1}]}):   # a name that is no string
        with pytest.raises(jsonschema.ValidationError):
            OURS.validate(broken)


def test_a_schema_of_another_shape_uses_only_the_full_check():
    schema = {"type": "object", "properties": {"events": {"type": "array", "items": {"type": "object"}}}}
    validator = ResponseValidator(schema)
    assert validator.per_type is None
    assert validator.is_valid({"events": [{}]}) and not validator.is_valid({"events": 3})
