"""bot/glue/patches/__init__.py: every patched Rasa target still exists with the signature the patch was written
against; another Rasa series stops the start with one clear line; the patches are installed from one place."""
from __future__ import annotations

import ast
import importlib
import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.glue import patches as rasa_patches
ROOT = Path(__file__).resolve().parent.parent


def _original(target: str):
    module, _, attr = target.partition(":")
    cls_name, _, name = attr.partition(".")
    cls = getattr(importlib.import_module(module), cls_name)
    # the original Rasa function, also when the patch is installed (each patch keeps it reachable)
    value = cls.__dict__.get(name)
    return cls, name, getattr(value, "__wrapped__", None) or getattr(cls, "_filmbot_original_" + name, None) or value


@pytest.mark.parametrize("patch", rasa_patches.PATCHES, ids=[p.target for p in rasa_patches.PATCHES])
def test_every_patched_target_exists_with_its_signature(patch):
    cls, name, value = _original(patch.target)
    if patch.signature == "":                       # an attribute the patch adds (Slot.__copy__)
        assert name not in vars(cls) or getattr(vars(cls)[name], "__module__", "").startswith("bot."), \
            f"{patch.target}: Rasa now defines it itself"
        return
    assert value is not None, f"{patch.target} no longer exists"
    # compare with Rasa's own definition in its source file (not with the installed wrapper)
    tree = ast.parse(inspect.getsource(sys.modules[cls.__module__]))
    klass = next(n for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and n.name == cls.__name__)
    fn = next((n for n in klass.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == name),
              None)
    assert fn is not None, f"{patch.target}: no def {name} in class {cls.__name__} of {cls.__module__}"
    params = [a.arg for a in fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs]
    expected = [p.split("=")[0].strip() for p in patch.signature.strip("()").split(",") if p.strip()]
    assert params == expected, f"{patch.target}: Rasa's signature is now ({', '.join(params)})"


def test_each_patch_says_what_and_why():
    assert len({p.target for p in rasa_patches.PATCHES}) == len(rasa_patches.PATCHES)
    assert all(len(p.why) > 20 and "\n" not in p.why for p in rasa_patches.PATCHES)


def test_another_rasa_series_stops_with_one_clear_line():
    code = ("import rasa; rasa.__version__ = '3.7.2'\n"
            "import bot.glue.nlu_components\n")
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode != 0
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith("filmbot: Rasa 3.7.2 is not supported") and "3.6 series" in last, run.stderr[-2000:]
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize("version,ok", [("3.6.21", True), ("3.6", True), ("3.7.0", False), ("3.60.1", False),
                                        ("2.8.0", False)])
def test_version_check(version, ok):
    if ok:
        rasa_patches.check_version(version)
    else:
        with pytest.raises(SystemExit):
            rasa_patches.check_version(version)


def test_patches_are_installed_from_one_place():
    calls = []
    for path in (ROOT / "bot").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for m in re.finditer(r"^\s*(?!def )[\w.]*(install_all|\binstall)\(\)", text, re.M):
            calls.append((path.relative_to(ROOT).as_posix(), m.group(1)))
    outside = [c for c in calls if c[0] != "bot/glue/patches/__init__.py"]
    assert outside == [("bot/glue/nlu_components.py", "install_all")], calls
