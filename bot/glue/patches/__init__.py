"""Every change this bot makes to Rasa's own behaviour, in one folder, installed once by `install_all()`:
action_guard.py (action-server calls), privacy.py (personal data out before Rasa stores it), speedups.py.

`install_all()` runs when Rasa loads the model (the last lines of bot/glue/nlu_components.py, which every model's
pipeline imports, so `rasa run`, `rasa shell` and the tests all get it) and refuses to start on any Rasa
outside the series the patches were written against. tests/test_rasa_patches.py fails when a patched target
no longer exists or its signature changed. Everything else the bot adds to Rasa goes through Rasa's public
extension points instead: NLU components (bot/glue/nlu_components.py), channels (bot/channels/), the NLG
(bot/glue/nlg.py), the tracker and lock stores (bot/glue/tracker_store.py, bot/glue/lock_store.py), policies (bot/glue/policies.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, List

SUPPORTED_SERIES = "3.6"


@dataclass(frozen=True)
class Patch:
    target: str                 # "module:Class.attribute" the patch replaces
    signature: str              # str(inspect.signature(...)) of the original it was written against
    why: str                    # one line: what it changes and why
    install: Callable[[], None]


def _action_guard() -> None:
    from bot.glue.patches import action_guard
    action_guard.install()


def _privacy() -> None:
    from bot.glue.patches import privacy
    privacy.install()


def _speedups() -> None:
    from bot.glue.patches import speedups as rasa_speedups
    rasa_speedups.install()


def _event_type_cache() -> None:
    from bot.glue.patches import speedups as rasa_speedups
    rasa_speedups.install_event_type_cache()


PATCHES: List[Patch] = [
    Patch("rasa.core.actions.action:RemoteAction.run", "(self, output_channel, nlg, tracker, domain)",
          "bounded action-server calls: a slow or dead action server gets a 'cannot answer now' reply, not a "
          "hung conversation (bot/glue/patches/action_guard.py)", _action_guard),
    Patch("rasa.core.actions.action:RemoteAction._validate_action_result", "(self, result)",
          "the action response schema compiled once, not on every call (bot/glue/patches/action_guard.py)",
          _action_guard),
    Patch("rasa.core.agent:Agent.handle_message", "(self, message)",
          "personal data removed from every channel's message before Rasa stores it (bot/glue/patches/privacy.py)",
          _privacy),
    Patch("rasa.engine.runner.dask:DaskGraphRunner.run", "(self, inputs=None, targets=None)",
          "the prediction graph run in order without dask's per-call overhead; training unchanged "
          "(bot/glue/patches/speedups.py)", _speedups),
    Patch("rasa.shared.core.slots:Slot.__copy__", "",
          "slots copied by their __dict__ instead of deepcopy (bot/glue/patches/speedups.py)", _speedups),
    Patch("rasa.shared.core.events:Event.resolve_by_type", "(type_name, default=None)",
          "an event's class found in a dict, not by walking every Event subclass per stored event "
          "(bot/glue/patches/speedups.py)", _event_type_cache),
]


class UnsupportedRasa(SystemExit):
    """Raised (it stops the process) when the installed Rasa is outside SUPPORTED_SERIES."""


def check_version(version: str = "") -> None:
    if not version:
        import rasa
        version = getattr(rasa, "__version__", "")
    if version != SUPPORTED_SERIES and not version.startswith(SUPPORTED_SERIES + "."):
        raise UnsupportedRasa(f"filmbot: Rasa {version or '(unknown)'} is not supported: the bot's patches of "
                              f"Rasa are written for the Rasa {SUPPORTED_SERIES} series ({SUPPORTED_SERIES}.x); "
                              "install requirements.lock")


_installed = False


def install_all() -> None:
    """Check the Rasa version, then install every patch (idempotent)."""
    global _installed
    if _installed:
        return
    check_version()
    for patch in PATCHES:
        patch.install()
    _installed = True
