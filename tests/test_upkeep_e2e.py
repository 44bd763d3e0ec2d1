"""End to end: staff confirm a centre's facts with `python -m bot registry confirm` while the real action
server and Rasa run; the next answer has no "kontrollera" note for the confirmed facts and still its
sources. Works on the stack's own copy of the registry (BotStack.registry) and puts it back afterwards."""
import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path

from bot.answers import t

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "Finns det stöd till kortfilm i Dalarna?"
NOTE = t("stale_note", "sv")


def confirm_cli(stack, *args):
    return subprocess.run([sys.executable, "-m", "bot", "registry", "confirm", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "FILMBOT_REGISTRY": str(stack.registry), "USER": "e2e-staff"})


def sources(text):
    return set(re.findall(r"https://\S+?(?=[\s)]|$)", text))


def test_confirming_a_centre_changes_its_next_answer_without_a_restart(stack):
    original = stack.registry.read_bytes()
    pids = (stack.rasa_proc.pid, stack.action_proc.pid)
    try:
        before = stack.text(QUESTION, sender="upkeep-1")
        assert "Film i Dalarna" in before and NOTE in before and "Källa: https://" in before

        # confirming facts the answer does not show leaves the note
        done = confirm_cli(stack, "film-i-dalarna", "--kind", "contact")
        assert done.returncode == 0, done.stderr
        assert NOTE in stack.text(QUESTION, sender="upkeep-2")

        from bot.registry import load_registry
        sourced = [(kind, key) for kind, key, _, fact in load_registry(stack.registry).centre("film-i-dalarna")
                   .keyed_facts() if getattr(fact, "source", None)]
        done = confirm_cli(stack, "Film i Dalarna")
        assert done.returncode == 0, done.stderr
        # every fact of the centre that has a source, the facets file's too
        assert f"confirmed {len(sourced)} fact(s) of Film i Dalarna" in done.stdout and "by e2e-staff" in done.stdout
        assert any(kind == "facet" for kind, _ in sourced)
        after = stack.text(QUESTION, sender="upkeep-3")
        assert NOTE not in after and "kontrollera" not in after
        assert f"bekräftad {dt.date.today().isoformat()}" in after
        assert sources(before) and sources(before) <= sources(after)

        # an invalid edit is refused and the answer stays as it is
        bad = confirm_cli(stack, "film-i-dalarna", "--key", "offer:short_film:000000")
        assert bad.returncode == 2 and "no fact with key" in bad.stderr
        assert stack.text(QUESTION, sender="upkeep-4") == after
        assert (stack.rasa_proc.pid, stack.action_proc.pid) == pids
        assert stack.rasa_proc.poll() is None and stack.action_proc.poll() is None
    finally:
        tmp = stack.registry.with_name(".restore.tmp")
        tmp.write_bytes(original)
        os.replace(tmp, stack.registry)
    assert NOTE in stack.text(QUESTION, sender="upkeep-5")      # the copy is back: so is the note
