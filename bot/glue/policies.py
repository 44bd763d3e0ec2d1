"""A policy for the one turn that rules must not learn: a visitor's rating of an answer (Rasa glue).

The widget's and Slack's 👍/👎 arrive as `/feedback{...}` (bot/feedback.py). A rule for them would add the
`feedback` intent and `action_feedback` to the NLU training data (Rasa turns every rule's intents and actions
into featuriser vocabulary), which changes the trained classifier for a message no visitor types. This policy
answers it instead, above every other policy, whatever the conversation's state (an open "Menade du …?" loop
included): `feedback` → action_feedback → action_listen. Nothing else is predicted by it.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

FEEDBACK_INTENT = "feedback"
FEEDBACK_ACTION = "action_feedback"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True)
class FeedbackPolicy(Policy):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # above RulePolicy (6): an open loop would otherwise take the rating as its answer
        return {"priority": 7}

    def train(self, training_trackers: List[TrackerWithCachedStates], domain: Domain,
              **kwargs: Any) -> Resource:
        return self._resource  # nothing to learn

    def predict_action_probabilities(self, tracker: DialogueStateTracker, domain: Domain,
                                     rule_only_data: Optional[Dict[Text, Any]] = None,
                                     **kwargs: Any) -> PolicyPrediction:
        result = self._default_predictions(domain)
        message = tracker.latest_message
        if message is not None and (message.intent or {}).get("name") == FEEDBACK_INTENT \
                and FEEDBACK_ACTION in domain.action_names_or_texts:
            last = tracker.latest_action_name
            if last == ACTION_LISTEN_NAME:
                result[domain.index_for_action(FEEDBACK_ACTION)] = 1.0
            elif last == FEEDBACK_ACTION:
                result[domain.index_for_action(ACTION_LISTEN_NAME)] = 1.0
        return self._prediction(result)
