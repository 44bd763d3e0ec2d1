"""Builds the credentials file `rasa run` uses: credentials.yml, plus Slack when configured."""
from __future__ import annotations

import os
from typing import List, Mapping, Optional, Tuple

from bot.paths import ROOT

SLACK_VARS = ("SLACK_TOKEN", "SLACK_SIGNING_SECRET")
# Optional variables: their lines are dropped from credentials.slack.yml when unset, because Rasa
# refuses to start on a ${VAR} it cannot expand.
SLACK_OPTIONAL_VARS = ("SLACK_CHANNEL",)


def slack_section(env: Optional[Mapping[str, str]] = None) -> str:
    """credentials.slack.yml without the lines of unset optional variables (values stay ${VAR}:
    Rasa reads them from the environment, so no secret is written to disk)."""
    env = os.environ if env is None else env
    lines = (ROOT / "credentials.slack.yml").read_text(encoding="utf-8").splitlines()
    unset = [f"${{{v}}}" for v in SLACK_OPTIONAL_VARS if not env.get(v)]
    return "\n".join(line for line in lines if not any(u in line for u in unset)) + "\n"


def render_credentials() -> Tuple[str, List[str]]:
    text = (ROOT / "credentials.yml").read_text(encoding="utf-8")
    notes: List[str] = []
    slack_file = ROOT / "credentials.slack.yml"
    missing = [v for v in SLACK_VARS if not os.environ.get(v)]
    if not slack_file.exists():
        notes.append("Slack channel not available in this build")
    elif missing:
        notes.append(f"Slack disabled ({', '.join(missing)} not set)")
    else:
        text = text.rstrip("\n") + "\n\n" + slack_section()
        where = os.environ.get("SLACK_CHANNEL") or "DMs and @mentions only, SLACK_CHANNEL not set"
        api = os.environ.get("SLACK_API_URL")
        notes.append(f"Slack enabled (POST /webhooks/slack/webhook; {where}"
                     + (f"; API {api}" if api else "") + ")")
    return text, notes
