"""`python -m bot ask`: the same model and actions as the server, for staff and scripts."""
import json
import subprocess
import sys

from bot.tools.stack import ROOT, default_model


def test_ask_prints_reply_intent_and_place_for_a_conversation():
    out = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "--json", "--model", str(default_model()),
         "Var kan jag få stöd för att göra film i Dalarna?", "och för barn och unga då?"],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    first, second = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    assert first["intent"] == "ask_production_funding" and first["confidence"] > 0.5
    assert first["place"]["centre_id"] == "film-i-dalarna"
    assert any("Film i Dalarna" in r for r in first["reply"])
    # the second question is answered for the place of the first: one conversation
    assert second["intent"] == "ask_children_youth" and second["place"] is None
    assert any("Film i Dalarna" in r for r in second["reply"])
