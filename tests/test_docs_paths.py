"""docs/ARCHITECTURE.md names only paths that exist, and its layout lists every module of bot/."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "ARCHITECTURE.md"
PATH = re.compile(r"(?<![\w/.-])((?:bot|tests|scripts|registry|data|web|docs|bench|deploy|actions)/[\w./*-]*)")


def named_paths(text: str):
    """Every repository path a text names (runtime folders and placeholders such as <centre id> left out)."""
    out = set()
    for m in PATH.finditer(text):
        if text[m.end():m.end() + 1] == "<":
            continue
        out.add(m.group(1).rstrip(".,:;"))
    return out


def missing(text: str):
    return sorted(p for p in named_paths(text) if not (any(ROOT.glob(p)) if "*" in p else (ROOT / p).exists()))


def test_every_path_the_architecture_names_exists():
    gone = missing(DOC.read_text(encoding="utf-8"))
    assert not gone, f"docs/ARCHITECTURE.md names paths that do not exist: {gone}"


def test_the_check_finds_a_path_that_does_not_exist():
    text = "see bot/glue/nlu_components.py and bot/nlu_components.py, tests/test_layers.py; registry/facets/<id>.yaml"
    assert missing(text) == ["bot/nlu_components.py"]


def test_the_layout_lists_every_module_of_bot():
    doc = DOC.read_text(encoding="utf-8")
    layout = doc[doc.index("## Layout"):doc.index("\n## ", doc.index("## Layout") + 5)]
    listed = named_paths(layout)
    modules = [p.relative_to(ROOT).as_posix() for p in (ROOT / "bot").rglob("*.py")
               if "__pycache__" not in p.parts and p.name != "__init__.py"]
    folders = sorted({p.rsplit("/", 1)[0] + "/" for p in modules} - {"bot/"})
    absent = [p for p in modules + folders if p not in listed]
    assert not absent, f"docs/ARCHITECTURE.md's layout does not list {absent}"
