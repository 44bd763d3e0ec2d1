"""`python -m bot lookup`: JSON lines with stable keys, from arguments and from stdin."""
from __future__ import annotations

import json
import subprocess
import sys

from bot.paths import ROOT

KEYS = ["input", "status", "matched", "kind", "kommun_code", "kommun", "county_code", "county", "centre_id",
        "centre_name", "unit", "confidence", "candidates"]


def _run(args, stdin=None):
    proc = subprocess.run([sys.executable, "-m", "bot", "lookup", *args], input=stdin, capture_output=True,
                          text=True, encoding="utf-8", cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    return [json.loads(line) for line in lines], proc.stdout


def test_lookup_args():
    rows, raw = _run(["jag bor i Mora", "Skånes", "Småland", "Narnia"])
    assert [r["input"] for r in rows] == ["jag bor i Mora", "Skånes", "Småland", "Narnia"]
    assert all(list(r) == KEYS for r in rows)
    assert rows[0]["status"] == "found" and rows[0]["kommun_code"] == "2062" and rows[0]["county_code"] == "20"
    assert rows[0]["centre_id"] == "film-i-dalarna" and rows[0]["confidence"] == 1.0
    assert rows[1]["county_code"] == "12" and rows[1]["kind"] == "county"
    assert rows[2]["status"] == "ambiguous" and len(rows[2]["candidates"]) == 3
    assert rows[3]["status"] == "unknown" and rows[3]["matched"] is None
    assert "Skånes" in raw and "\\u" not in raw       # ensure_ascii=False


def test_lookup_stdin():
    rows, _ = _run([], stdin="Götebrog\n\nKiruna eller Malmö\n")
    assert len(rows) == 2
    assert rows[0]["kommun"] == "Göteborg" and rows[0]["confidence"] < 1.0
    assert rows[1]["status"] == "ambiguous"
    assert [c["kommun_code"] for c in rows[1]["candidates"]] == ["2584", "1280"]


def test_lookup_topic_unit():
    rows, _ = _run(["--topic", "short_film", "Stockholm", "Göteborg", "Mora"])
    assert rows[0]["unit"] == {"id": "film-stockholm-ab", "name": rows[0]["unit"]["name"]}
    assert rows[1]["unit"]["id"] == "film-i-vast"
    assert rows[2]["unit"] is None
