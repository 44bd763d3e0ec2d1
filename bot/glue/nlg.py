"""Response generation in the visitor's language (Rasa glue).

domain.yml keeps each response's English text as a variation conditioned on the slot `language`. This
generator fills that condition from the conversation itself (bot.lang.conversation_language over the
newest user messages), so no action has to run on every turn just to set a slot.
Configured in the endpoints files: `nlg: {type: bot.glue.nlg.LanguageNLG}`.

Every response also gets its feedback tag (bot.feedback.response_tag: FAQ answers rateable with a new
answer_id, the out-of-scope reply "unanswered", the rest "other") and the language under
`filmbot_lang`. Rasa keeps the keys of a generated response that are not text/buttons/... as the
BotUttered event's metadata and passes them to the output channel; an action that sends a response
by name with its own tag (utter_message(response=..., filmbot=...)) overrides this one.
"""
from __future__ import annotations

from typing import Any, Dict, Optional, Text

from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator

from bot import feedback
from bot.lang import conversation_language, user_texts_newest_first


def tracker_language(tracker: Any) -> str:
    """The language to answer in, for a Rasa DialogueStateTracker."""
    slot = tracker.get_slot("language") if tracker is not None else None
    return conversation_language(user_texts_newest_first(getattr(tracker, "events", None)), slot)


class LanguageNLG(TemplatedNaturalLanguageGenerator):
    def __init__(self, endpoint_config: Any = None, domain: Any = None, **kwargs: Any) -> None:
        super().__init__(domain.responses if domain is not None else {})

    async def generate(self, utter_action: Text, tracker: Any, output_channel: Text,
                       **kwargs: Any) -> Optional[Dict[Text, Any]]:
        filled_slots = tracker.current_slot_values()
        filled_slots["language"] = tracker_language(tracker)
        message = self.generate_from_slots(utter_action, filled_slots, output_channel, **kwargs)
        if message is not None:
            message.setdefault(feedback.METADATA_KEY, feedback.response_tag(utter_action))
            message.setdefault(feedback.LANG_KEY, filled_slots["language"])
        return message
