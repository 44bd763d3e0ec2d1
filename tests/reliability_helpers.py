"""Helpers for tests/test_reliability_*.py: read a conversation back from the SQLite tracker file."""
from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path
from typing import Any, Dict, List, Tuple

ROOT = Path(__file__).resolve().parent.parent
for p in (str(ROOT), str(Path(__file__).resolve().parent)):
    if p not in sys.path:
        sys.path.insert(0, p)

REST = "/webhooks/rest/webhook"
UNAVAILABLE_SV = "Jag kan inte svara just nu, försök igen om en stund."


def events(db: Path, sender: str) -> List[Tuple[str, Dict[str, Any]]]:
    """(type_name, data) of one conversation, in stored order, read straight from the SQLite file."""
    con = sqlite3.connect(str(db))
    try:
        rows = con.execute("SELECT type_name, data FROM events WHERE sender_id = ? ORDER BY id",
                           (sender,)).fetchall()
    finally:
        con.close()
    return [(t, json.loads(d) if d else {}) for t, d in rows]


def turns(db: Path, sender: str) -> List[Tuple[str, List[str]]]:
    """[(user text, [bot texts that followed])] for one conversation."""
    out: List[Tuple[str, List[str]]] = []
    rewound = False
    for type_name, data in events(db, sender):
        if type_name == "rewind":  # Rasa re-logs the same user message after a rewind (two-stage fallback)
            rewound = True
        elif type_name == "user":
            text = data.get("text") or ""
            if not (rewound and out and out[-1][0] == text and not out[-1][1]):
                out.append((text, []))
            rewound = False
        elif type_name == "bot" and out:
            out[-1][1].append(data.get("text") or "")
    return out


def assert_consistent(db: Path, sender: str, sent: List[str]) -> None:
    """Every accepted message is stored once, in order, each followed by at least one non-empty bot reply."""
    stored = turns(db, sender)
    assert [u for u, _ in stored] == sent, (stored, sent)
    for user, replies in stored:
        assert replies and all(r.strip() for r in replies), (user[:80], replies)
