"""The layers of bot/: the pure core imports no Rasa (checked in a subprocess where importing rasa fails) and no
Rasa glue, channel or staff tool; imports run one way, tools -> glue/channels -> core."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORE = ["paths", "text", "topics", "lang", "facets", "registry", "places", "understanding", "answers", "dialogue",
        "feedback", "redact"]
GLUE = ["nlu_components", "fast_inference", "policies", "nlg", "tracker_store", "lock_store", "rasa_speedups",
        "rasa_patches", "channels"]
TOOLS = ["cli", "web", "staff", "report", "purge", "upkeep", "ask", "nlu_eval"]

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


def _imports(path: Path):
    """Every bot.* module a file imports (top level and inside functions)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("bot.")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("bot"):
            if node.module == "bot":
                out |= {"bot." + a.name for a in node.names}
            else:
                out.add(node.module)
    return {name.split(".")[1] for name in out if name.count(".") >= 1}


def test_core_imports_without_rasa():
    run = subprocess.run([sys.executable, "-c", NO_RASA, *CORE], cwd=ROOT, capture_output=True, text=True,
                         timeout=120, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert run.returncode == 0 and run.stdout.strip() == "ok", run.stderr[-2000:]


def test_the_no_rasa_check_catches_a_rasa_import():
    run = subprocess.run([sys.executable, "-c", NO_RASA, "nlu_components"], cwd=ROOT, capture_output=True,
                         text=True, timeout=120, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert run.returncode != 0 and "imported rasa" in run.stderr


@pytest.mark.parametrize("module", CORE)
def test_core_imports_only_core(module):
    bad = _imports(ROOT / "bot" / f"{module}.py") & set(GLUE + TOOLS)
    assert not bad, f"bot/{module}.py imports {sorted(bad)} (core must not import glue or tools)"


@pytest.mark.parametrize("module", GLUE[:-1])
def test_glue_imports_no_tools(module):
    bad = _imports(ROOT / "bot" / f"{module}.py") & set(TOOLS)
    assert not bad, f"bot/{module}.py imports {sorted(bad)} (glue must not import staff tools)"


def test_the_direction_check_catches_an_upward_import(tmp_path):
    bad = tmp_path / "x.py"
    bad.write_text("def f():\n    from bot import staff\n    import bot.nlu_components\n")
    assert _imports(bad) == {"staff", "nlu_components"}
