"""Builds the credentials file `rasa run` uses: credentials.yml, plus Slack when configured."""
from __future__ import annotations

import os
from typing import List, Tuple

from bot.paths import ROOT

SLACK_VARS = ("SLACK_TOKEN", "SLACK_SIGNING_SECRET")


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
        text = text.rstrip("\n") + "\n\n" + slack_file.read_text(encoding="utf-8")
        notes.append("Slack enabled")
    return text, notes
