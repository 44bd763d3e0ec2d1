"""The layers of bot/, one folder each: the pure core (bot/*.py) imports no Rasa (checked in a subprocess where
importing rasa fails) and nothing from bot.glue, bot.channels or bot.tools; the Rasa glue (bot/glue/) and the
channels (bot/channels/) import no staff tool (bot/tools/). Imports run one way: tools -> glue/channels -> core."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path
from typing import Set

import pytest

ROOT = Path(__file__).resolve().parent.parent
BOT = ROOT / "bot"
LAYERS = ("glue", "channels", "tools")
CORE = sorted(p.stem for p in BOT.glob("*.py") if p.stem not in ("__init__", "__main__"))
GLUE_AND_CHANNELS = sorted(str(p.relative_to(ROOT)) for layer in ("glue", "channels")
                           for p in (BOT / layer).rglob("*.py"))

NO_RASA = """
import builtins, importlib, sys
real = builtins.__import__
def guard(name, *a, **k):
    if name.split(".")[0] in ("rasa", "rasa_sdk", "tensorflow"):
        raise ImportError("the core imported " + name)
    return real(name, *a, **k)
builtins.__import__ = guard
for m in sys.argv[1:]:
    importlib.import_module("bot." + m)
print("ok")
"""


def _imports(path: Path) -> Set[str]:
    """The layer (glue, channels, tools or core) of every bot.* module a file imports, top level and inside
    functions."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module + "." + a.name for a in node.names] if node.module == "bot" else [node.module]
        for name in names:
            parts = name.split(".")
            if parts[0] == "bot" and len(parts) > 1:
                out.add(parts[1] if parts[1] in LAYERS else "core")
    return out


def test_bot_has_only_the_named_layers():
    folders = sorted(p.name for p in BOT.iterdir() if p.is_dir() and p.name != "__pycache__")
    assert folders == sorted(LAYERS), f"bot/ holds {folders}: a new folder needs a layer rule in this test"
    assert len(CORE) >= 10 and "understanding" in CORE and "nlu_components" not in CORE


def test_core_imports_without_rasa():
    run = subprocess.run([sys.executable, "-c", NO_RASA, *CORE], cwd=ROOT, capture_output=True, text=True,
                         timeout=120, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert run.returncode == 0 and run.stdout.strip() == "ok", run.stderr[-2000:]


def test_the_no_rasa_check_catches_a_rasa_import():
    run = subprocess.run([sys.executable, "-c", NO_RASA, "glue.nlu_components"], cwd=ROOT, capture_output=True,
                         text=True, timeout=120, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert run.returncode != 0 and "imported rasa" in run.stderr


@pytest.mark.parametrize("module", CORE)
def test_core_imports_only_core(module):
    bad = _imports(BOT / f"{module}.py") - {"core"}
    assert not bad, f"bot/{module}.py imports from bot.{sorted(bad)} (the core imports only the core)"


@pytest.mark.parametrize("path", GLUE_AND_CHANNELS)
def test_glue_and_channels_import_no_tools(path):
    assert "tools" not in _imports(ROOT / path), f"{path} imports a staff tool (bot.tools)"


def test_the_direction_check_catches_an_upward_import(tmp_path):
    bad = tmp_path / "x.py"
    bad.write_text("import re\ndef f():\n    from bot.tools import staff\n    import bot.glue.nlu_components\n"
                   "    from bot import registry\n    from bot.channels.rest import X\n")
    assert _imports(bad) == {"tools", "glue", "core", "channels"}
