"""Experiment only (bench/exp_action_validation.py): put this folder on PYTHONPATH of `rasa run` to validate
custom action responses with one cached jsonschema validator instead of jsonschema.validate(), which checks
the schema itself against its meta-schema on every call. Does nothing in other processes."""
import os
import sys

if os.path.basename(sys.argv[0] if sys.argv else "") == "rasa" and os.environ.get("BENCH_FAST_VALIDATION"):
    import jsonschema
    from rasa.core.actions import action as _action

    _cache = {}

    def _validate_action_result(self, result):
        validator = _cache.get("v")
        if validator is None:
            schema = self.action_response_format_spec()
            validator = _cache["v"] = jsonschema.validators.validator_for(schema)(schema)
        try:
            validator.validate(result)
            return True
        except jsonschema.ValidationError as e:
            e.message += ". Failed to validate Action server response from API."
            raise e

    _action.RemoteAction._validate_action_result = _validate_action_result
    print("bench: cached action-response validator active", file=sys.stderr)
