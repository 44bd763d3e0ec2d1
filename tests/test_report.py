"""bot/tools/report.py and `python -m bot report` on a SQLite tracker store seeded through Rasa's own
SQLTrackerStore (tests/report_seed.py: the event shapes of the issue-12 contract). No servers."""
from __future__ import annotations

import csv
import io
import json
import os
import subprocess

import pytest

from report_seed import (DOWN_COMMENT, EXPECTED, PERIOD, UNANSWERED_XSS, XSS_COMMENT, XSS_QUESTION,
                         endpoints_sqlite, seed_sqlite)
from bot.tools.stack import ROOT, VENV_BIN


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    d = tmp_path_factory.mktemp("report")
    db = d / "tracker.db"
    seed_sqlite(db)
    endpoints = d / "endpoints.yml"
    endpoints_sqlite(endpoints, db)
    return {"db": db, "url": f"sqlite:///{db}", "endpoints": endpoints}


def run_cli(*args, env=None):
    e = dict(os.environ, PYTHONPATH=str(ROOT), **(env or {}))
    return subprocess.run([str(VENV_BIN / "python"), "-m", "bot", "report", *args], cwd=ROOT, env=e,
                          capture_output=True, text=True, timeout=120)


def check_expected(rep):
    """The report for PERIOD against the hand-made EXPECTED counts (also used by the PostgreSQL test)."""
    for key, value in EXPECTED["totals"].items():
        assert rep["totals"][key] == value, (key, rep["totals"])
    days = {d["day"]: d for d in rep["days"]}
    assert list(days) == ["2026-11-02", "2026-11-03"]
    for day, exp in EXPECTED["days"].items():
        assert days[day]["conversations"] == exp["conversations"], day
        assert days[day]["messages"] == exp["messages"], day
        assert {ch: [v["conversations"], v["messages"]] for ch, v in days[day]["channels"].items()} == exp["channels"]
    assert {ch: [v["conversations"], v["messages"]] for ch, v in rep["channels"].items()} == EXPECTED["channels"]
    assert {c["code"]: c["questions"] for c in rep["counties"]} == EXPECTED["counties"]
    assert {c["id"]: c["questions"] for c in rep["centres"]} == EXPECTED["centres"]
    assert {t["topic"]: t["questions"] for t in rep["topics"]} == EXPECTED["topics"]
    groups = {g["text"]: (g["count"], g["reasons"]) for g in rep["unanswered"]["groups"]}
    assert groups == EXPECTED["unanswered_groups"]
    assert rep["unanswered"]["reasons"] == {"declined": 1, "out_of_scope": 3, "unknown_place": 1}
    fb = rep["feedback"]
    assert (fb["up"], fb["down"], fb["rate"]) == (3, 3, 0.5)
    assert {t["topic"]: (t["up"], t["down"]) for t in fb["topics"]} == EXPECTED["feedback_topics"]
    assert {c["id"]: (c["up"], c["down"]) for c in fb["centres"]} == EXPECTED["feedback_centres"]
    assert {t["topic"]: t["rate"] for t in fb["topics"]}["short_film"] == 0.333
    assert [(d["sender"], d["comment"], d["question"]) for d in fb["down_list"]] == EXPECTED["down"]
    return rep


def test_report_counts(store):
    from bot.tools.report import build_report

    rep = check_expected(build_report(*PERIOD, url=store["url"]))
    # names come from the registry
    assert {c["code"]: c["name"] for c in rep["counties"]}["20"] == "Dalarnas län"
    assert {c["id"]: c["name"] for c in rep["centres"]}["film-i-skane"] == "Film i Skåne"
    down = rep["feedback"]["down_list"][0]
    assert down["answer"] == "Film i Västerbotten om dokumentärfilm: ..."
    assert down["link"] == "/staff/conversation?sender=web-bo"
    assert down["time"] == "2026-11-02T11:01:00+01:00" and down["topic"] == "documentary"
    bio = next(g for g in rep["unanswered"]["groups"] if g["count"] == 2)
    assert bio["texts"] == ["Vad kostar en biobiljett?", "vad kostar en bio-biljett"]
    # the rows read whole (a database without JSON functions) give the very same report
    whole = build_report(*PERIOD, url=store["url"], in_sql=False)
    rep.pop("generated"), whole.pop("generated")
    assert whole == rep


def test_report_period(store):
    from bot.tools.report import build_report

    one = build_report("2026-11-03", "2026-11-03", url=store["url"])
    assert one["totals"]["conversations"] == 4 and one["totals"]["messages"] == 8
    assert [d["day"] for d in one["days"]] == ["2026-11-03"]
    # 👍 on web-anna's answer and web-bo's 👎 were on 2 November; web-old's 👍 too (00:10 Swedish time)
    assert (one["feedback"]["up"], one["feedback"]["down"]) == (1, 2)
    assert [d["sender"] for d in one["feedback"]["down_list"]] == ["U0SLACK1", "web-xss"]
    # web-old rated on 2 November (00:10 in Stockholm, still 1 November in UTC) an answer of 30 October
    first = build_report("2026-11-02", "2026-11-02", url=store["url"])
    assert first["totals"]["conversations"] == 2 and first["totals"]["answers"] == 2
    assert {t["topic"]: (t["up"], t["down"]) for t in first["feedback"]["topics"]}["equipment_loan"] == (1, 0)
    everything = build_report("2026-10-01", "2026-11-30", url=store["url"])
    assert everything["totals"]["conversations"] == 8 and everything["totals"]["messages"] == 14
    # a 👎 on the answer to a topic button shows the written question the button followed
    assert everything["feedback"]["down_list"][-1]["question"] == \
        "Har Film på Gotland stöd för långfilm? · knapp /ask_short_film"
    assert len(everything["days"]) == 61
    late = [g for g in everything["unanswered"]["groups"] if g["reasons"] == {"no_facts": 1}]
    assert [g["text"] for g in late] == ["Har Film på Gotland stöd för långfilm?"]
    assert {t["topic"]: t["questions"] for t in everything["topics"]}["feature"] == 1
    empty = build_report("2026-12-01", "2026-12-02", url=store["url"])
    assert empty["totals"]["conversations"] == 0 and empty["unanswered"]["groups"] == []


def test_conversation_transcript(store):
    from bot.tools.report import conversation

    conv = conversation("web-bo", url=store["url"])
    who = [m["who"] for m in conv["messages"]]
    assert who == ["user", "bot", "feedback", "bot", "feedback", "bot", "user", "bot"]
    answer = conv["messages"][1]
    assert answer["answer_id"] == "b2b2b2b2b2b2"
    assert answer["feedback"] == {"rating": "down", "comment": DOWN_COMMENT}
    assert conv["messages"][4]["comment"] == DOWN_COMMENT
    assert conv["messages"][7]["kind"] == "unanswered" and conv["messages"][7]["reason"] == "out_of_scope"
    assert conversation("nobody", url=store["url"])["messages"] == []


def test_group_texts():
    from bot.tools.report import group_texts

    def item(text, reason="fallback"):
        return {"text": text, "reason": reason, "ts": 1.0, "time": "t", "sender": "s", "link": "l"}

    texts = ["Hur söker jag stöd för kortfilm?", "hur söker jag stöd för kortfilm", "Hur SÖKER jag stöd för kortfilm??",
             "stöd för kortfilm hur söker jag", "Vad kostar en biobiljett?", "Hej", "Var ligger Ankeborg?"]
    groups = group_texts([item(t) for t in texts])
    assert [g["count"] for g in groups] == [4, 1, 1, 1]
    assert groups[0]["text"] in texts[:4]
    # a short greeting does not swallow every question that contains it
    assert {g["text"] for g in groups[1:]} == {"Vad kostar en biobiljett?", "Hej", "Var ligger Ankeborg?"}


def test_cli_formats(store):
    ep = str(store["endpoints"])
    js = run_cli("--since", PERIOD[0], "--until", PERIOD[1], "--format", "json", "--endpoints", ep)
    assert js.returncode == 0, js.stderr
    check_expected(json.loads(js.stdout))

    md = run_cli("--since", PERIOD[0], "--until", PERIOD[1], "--endpoints", ep)
    assert md.returncode == 0, md.stderr
    text = md.stdout
    assert text.startswith("# Filmregionernas bot: rapport 2026-11-02 – 2026-11-03")
    assert "- Samtal: 6" in text and "- Meddelanden från besökare: 11" in text
    assert "| Dalarnas län | 2 |" in text and "| Film i Dalarna | 2 |" in text
    assert "| `Vad kostar en biobiljett?` | 2 | utanför ämnet 2 | `vad kostar en bio-biljett` |" in text
    assert "| kortfilm | 1 | 2 | 33 % |" in text
    assert f"Kommentar: `{DOWN_COMMENT}`" in text and "Samtal: /staff/conversation?sender=web-bo" in text
    # visitor HTML only inside code spans (inert when the Markdown is rendered)
    assert f"`{XSS_QUESTION}`" in text and f"`{XSS_COMMENT}`" in text and f"`{UNANSWERED_XSS}`" in text

    out = run_cli("--since", PERIOD[0], "--until", PERIOD[1], "--format", "csv", "--endpoints", ep)
    assert out.returncode == 0, out.stderr
    rows = list(csv.reader(io.StringIO(out.stdout)))
    assert rows[0] == ["section", "key", "field", "value"]
    table = {(r[0], r[1], r[2]): r[3] for r in rows[1:]}
    assert table[("totals", "conversations", "")] == "6"
    assert table[("day", "2026-11-03", "messages")] == "8"
    assert table[("day_channel", "2026-11-03 slack", "conversations")] == "1"
    assert table[("county", "20", "questions")] == "2"
    assert table[("unanswered", "Vad kostar en biobiljett?", "count")] == "2"
    assert table[("feedback_centre", "film-i-dalarna", "rate")] == "0.5"
    assert table[("thumbs_down", "web-bo 2026-11-02T11:01:00+01:00", "comment")] == DOWN_COMMENT


def test_cli_errors(store, tmp_path):
    bad = run_cli("--since", "2026-13-01", "--endpoints", str(store["endpoints"]))
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.strip().splitlines() == ["report: --since must be a date like 2026-11-30, not '2026-13-01'"]
    order = run_cli("--since", "2026-11-05", "--until", "2026-11-01", "--endpoints", str(store["endpoints"]))
    assert order.returncode == 2 and "is after --until" in order.stderr
    missing = tmp_path / "missing.yml"
    endpoints_sqlite(missing, tmp_path / "nothing-here.db")
    gone = run_cli("--endpoints", str(missing))
    assert gone.returncode == 2 and len(gone.stderr.strip().splitlines()) == 1, gone.stderr
    assert "no tracker store at" in gone.stderr and not (tmp_path / "nothing-here.db").exists()
    pg = tmp_path / "pg.yml"
    pg.write_text("tracker_store:\n  type: SQL\n  dialect: postgresql\n  url: 127.0.0.1\n  port: 9\n"
                  "  db: x\n  username: u\n  password: very-secret-pw\n")
    down = run_cli("--endpoints", str(pg))
    assert down.returncode == 2 and len(down.stderr.strip().splitlines()) == 1, down.stderr
    assert "cannot read the tracker store postgresql://u:***@127.0.0.1:9/x" in down.stderr
    assert "very-secret-pw" not in down.stderr
    tz = run_cli("--endpoints", str(store["endpoints"]), env={"FILMBOT_TZ": "Mars/Olympus"})
    assert tz.returncode == 2 and "FILMBOT_TZ" in tz.stderr


def test_row_that_is_not_json(store, tmp_path):
    """A damaged row makes SQLite's json_extract fail: the report then reads the rows whole and skips it."""
    import shutil
    import sqlite3

    from bot.tools.report import build_report

    db = tmp_path / "damaged.db"
    shutil.copy(store["db"], db)
    con = sqlite3.connect(str(db))
    with con:
        con.execute("INSERT INTO events (sender_id, type_name, timestamp, data) VALUES ('web-bo', 'user', ?, ?)",
                    (1793613800.0, "{not json"))
    con.close()
    check_expected(build_report(*PERIOD, url=f"sqlite:///{db}"))


def test_benchmark_store_and_section():
    """bench/bench_report.py (make bench) on a small generated store: the command agrees with build_report,
    and the BENCHMARKS.md section renders between its markers."""
    import sys

    sys.path.insert(0, str(ROOT / "bench"))
    import bench_report

    result = bench_report.run(3000, 1)
    assert result["store"]["events"] >= 3000 and result["store"]["by_type"]["user"] > 0
    assert result["totals"]["messages"] > 0 and result["totals"]["feedback_up"] + result["totals"]["feedback_down"] > 0
    section = bench_report.render(result)
    assert section.startswith(bench_report.BEGIN) and section.rstrip().endswith(bench_report.END)
    assert f"**{result['store']['events']:,} events**" in section
