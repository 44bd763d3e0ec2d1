#!/usr/bin/env bash
# rasa data validate; any warning fails.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(.venv/bin/rasa data validate --domain domain.yml --data data --config config.yml --fail-on-warnings 2>&1) || {
  echo "$out" | grep -vE 'tensorflow|oneDNN|cuda|TensorRT|DeprecationWarning|^\s' >&2
  echo "validate: FAILED" >&2; exit 1; }
# Rasa merges the retrieval intent `faq` it derives from the NLU data with the `faq` the domain must
# declare, and reports that merge as "duplicated intents ... across multiple domain files"; that one
# warning is not about our files and is the only one tolerated.
# Responses that custom actions send by name (`utter_message(response="utter_...")` in actions/) are used,
# though no story or rule names them; only those "not used" warnings are tolerated.
used=$(grep -ohE 'response="utter_[a-z_/]+"' actions/*.py | sed -E 's/response="(.*)"/\1/' | sort -u)
warnings=$(echo "$out" | grep "UserWarning" | grep -v "duplicated intents have been found across multiple domain files: faq$" || true)
for r in $used; do
  warnings=$(echo "$warnings" | grep -v "The utterance '$r' is not used in any story or rule." || true)
done
# The intent `feedback` is sent only as /feedback{...} by the widget and the Slack buttons (parsed by Rasa's
# RegexMessageHandler), never typed: it has no NLU examples on purpose, so DIET never guesses it.
# No rule names it or action_feedback either: bot.glue.policies.FeedbackPolicy predicts both.
warnings=$(echo "$warnings" | grep -v "The intent 'feedback' is listed in the domain file, but is not found in the NLU training data." || true)
warnings=$(echo "$warnings" | grep -v "The intent 'feedback' is not used in any story or rule." || true)
warnings=$(echo "$warnings" | grep -v "The action 'action_feedback' is not used in any story or rule." || true)
warnings=$(echo "$warnings" | grep -v '^\s*$' || true)
if [ -n "$warnings" ]; then
  echo "$warnings" >&2
  echo "validate: warnings found" >&2; exit 1
fi
echo "validate: training data, domain and config valid, no warnings"
