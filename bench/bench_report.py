"""`make bench`, staff report part: `python -m bot report` over a generated tracker store of ≥ 100,000 events.

Generates a SQLite tracker store in Rasa's schema (created by Rasa's own SQLTrackerStore; rows written the
way SQLTrackerStore.save writes them: json.dumps(event.as_dict()) of Rasa events, intent_name/action_name
columns filled alike) with the mix of a real conversation log of this bot (per visitor message about 3.8
action, 4.6 slot, 1 user_featurization and 1 bot event; user events of ~3.5 KB with intent ranking,
response selector and understanding), 30 days, three channels, registry/FAQ answers, unanswered questions
(near-duplicates and one-offs), 👍/👎 with comments. Then times the report: in-process `build_report`
(median of BENCH_REPORT_REPS, default 3) and the command end to end (`python -m bot report --format json`,
Python start-up included). Goal: ≤ 5 s for ≥ 100,000 events.

Writes bench/report_results.json and the "Staff report" section at the end of BENCHMARKS.md (between
markers, so bench/run_bench.py's own rendering is left alone). `--render` only rewrites the section from
bench/report_results.json. Environment: BENCH_REPORT_EVENTS (default 100000).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "report_results.json"
REPORT = ROOT / "BENCHMARKS.md"
BEGIN, END = "<!-- staff-report-bench: begin -->", "<!-- staff-report-bench: end -->"
GOAL_S = 5.0
SINCE, UNTIL = dt.date(2026, 11, 1), dt.date(2026, 11, 30)

TOPICS = ["production_funding", "short_film", "documentary", "feature", "talent_development",
          "film_for_children_and_youth", "screenings_and_film_culture", "film_commission", "equipment_loan",
          "education_and_courses", "contact"]
INTENTS = {t: i for i, t in {"ask_production_funding": "production_funding", "ask_short_film": "short_film",
                             "ask_documentary": "documentary", "ask_feature": "feature",
                             "ask_talent_development": "talent_development",
                             "ask_children_youth": "film_for_children_and_youth",
                             "ask_screenings": "screenings_and_film_culture",
                             "ask_film_commission": "film_commission", "ask_equipment_loan": "equipment_loan",
                             "ask_courses": "education_and_courses", "ask_contact": "contact"}.items()}
PLACES = [("20", "film-i-dalarna", "Dalarna"), ("24", "film-i-vasterbotten", "Umeå"), ("12", "film-i-skane", "Malmö"),
          ("01", "region-stockholm-film", "Stockholm"), ("14", "vastra-gotaland-film", "Göteborg"),
          ("25", "filmpool-nord", "Luleå"), ("23", "filmpool-jamtland", "Östersund"), ("09", "film-pa-gotland", "Visby"),
          ("18", "film-i-orebro-lan", "Örebro"), ("05", "film-i-ost", "Linköping")]
FAQ = ["what_is", "vision", "councils", "started", "nearest_centre", "members", "contact_filmregionerna"]
UNANSWERED = {
    "out_of_scope": ["Vad kostar en biobiljett?", "Vilka filmer går på bio i helgen?", "Hur gör jag en deklaration?",
                     "Var ligger närmaste apotek?", "Kan jag köpa popcorn online?"],
    "fallback": ["Hur funkar det med moms på stöd?", "Får man söka två gånger samma år?",
                 "Vad betyder medfinansiering?", "Kan en förening söka?"],
    "unknown_place": ["Jag bor i Ankeborg", "Finns det stöd i Gnarp by?", "Jag kommer från Östra Ljungby hage"],
    "no_facts": ["Har ni stöd för långfilm?", "Finns det teknikutlån här?", "Stöd för spelfilm?"],
}
WORDS = ("film manus klipp ljud foto regi scen stöd pengar ansökan kurs skola barn ungdom festival bio visning "
         "kamera ljus projekt budget deadline").split()
COMMENTS = ["Svaret saknade sista ansökningsdag", "Fel län", "Länken fungerade inte", "För långt svar",
            "Jag ville veta beloppet", ""]


def variant(rng: random.Random, text: str) -> str:
    """A near-identical rewording: case, punctuation, a filler word, a typo."""
    t = text
    r = rng.random()
    if r < 0.25:
        t = t.lower()
    elif r < 0.4:
        t = t.rstrip("?") + "??"
    elif r < 0.55:
        t = "Hej! " + t
    elif r < 0.7 and len(t) > 8:
        i = rng.randrange(1, len(t) - 1)
        t = t[:i] + t[i + 1:]
    return t


class Gen:
    def __init__(self, seed: int = 12):
        from rasa.shared.core import events as ev

        self.ev = ev
        self.rng = random.Random(seed)
        self.meta = {"model_id": "b18724f6d23a4fd8bacc8e3aefa2078c", "assistant_id": "filmregionerna-bot"}
        self.rows: List[tuple] = []
        self.n_answers = 0

    def add(self, sender: str, event) -> None:
        data = event.as_dict()
        intent = data.get("parse_data", {}).get("intent", {}).get("name")
        self.rows.append((sender, event.type_name, data.get("timestamp"), intent, data.get("name"),
                          json.dumps(data)))

    def parse(self, text: str, intent: str, topic=None, where=None) -> Dict[str, Any]:
        rng = self.rng
        ranking = [{"name": intent, "confidence": 0.9}] + [
            {"name": n, "confidence": round(rng.random() / 20, 6)} for n in rng.sample(list(INTENTS.values()), 9)]
        selector = {"all_retrieval_intents": ["faq"], "faq": {
            "response": {"responses": [{"text": "Filmregionerna är en ideell förening för Sveriges regionala "
                                                "filmverksamheter. " * 4},
                                       {"text": "Filmregionerna is a non-profit association. " * 4,
                                        "condition": [{"type": "slot", "name": "language", "value": "en"}]}],
                         "confidence": 0.99, "intent_response_key": "faq/what_is", "utter_action": "utter_faq/what_is"},
            "ranking": [{"confidence": round(rng.random(), 6), "intent_response_key": f"faq/{k}"} for k in FAQ]}}
        pl = None
        if where:
            pl = {"text": where[2], "span": [0, len(where[2])], "kind": "kommun", "status": "found",
                  "county_code": where[0], "county": None, "kommun_code": None, "kommun": where[2],
                  "centre_id": where[1], "centre_name": None, "confidence": 1.0, "candidates": [], "weak": False}
        und = {"intent": intent, "confidence": 0.9, "reason": "classifier", "classifier_intent": intent,
               "classifier_confidence": 0.9, "topic": topic, "place": pl, "candidates": [], "premise": None,
               "centre": None, "foreign": None, "out_of_scope": intent == "out_of_scope", "non_film_need": False,
               "places": [pl] if pl else [], "belonging": False, "film": bool(topic), "each": False}
        tokens = [[i, i + 3] for i in range(0, len(text), 4)]
        return {"intent": {"name": intent, "confidence": 0.9}, "entities": [], "text": text,
                "message_id": "%032x" % rng.getrandbits(128), "metadata": {}, "text_tokens": tokens,
                "intent_ranking": ranking, "response_selector": selector, "understanding": und}

    def conversation(self, sender: str, channel: str, start: float, turns: int) -> None:
        ev, rng, t = self.ev, self.rng, start
        for e in (ev.ActionExecuted("action_session_start", timestamp=t), ev.SessionStarted(timestamp=t),
                  ev.ActionExecuted("action_listen", timestamp=t)):
            e.metadata = dict(self.meta)
            self.add(sender, e)
        for _ in range(turns):
            t += rng.uniform(5, 90)
            r = rng.random()
            where = rng.choice(PLACES) if rng.random() < 0.8 else None
            tag: Dict[str, Any] = {"answer_id": None, "kind": "other", "reason": None, "topic": None,
                                   "centre": None, "county": None}
            if r < 0.55:
                topic = rng.choice(TOPICS)
                text = f"{rng.choice(['Hur söker jag', 'Finns det', 'Vad gäller för'])} {topic.replace('_', ' ')}" \
                       + (f" i {where[2]}" if where else "") + "?"
                intent = INTENTS[topic]
                tag.update(kind="registry", topic=topic, centre=where[1] if where else None,
                           county=where[0] if where else None)
            elif r < 0.7:
                topic, intent = None, "faq"
                faq = rng.choice(FAQ)
                text = f"Berätta om {faq.replace('_', ' ')}"
                tag.update(kind="faq", topic=f"faq/{faq}")
            elif r < 0.85:
                topic, intent = None, "out_of_scope"
                reason = rng.choice(list(UNANSWERED))
                text = variant(rng, rng.choice(UNANSWERED[reason])) if rng.random() < 0.7 else \
                    " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 7)))
                tag.update(kind="unanswered", reason=reason)
            else:
                topic, intent, text = None, "greet", rng.choice(["Hej", "Tack!", "hallå", "ok"])
            if tag["kind"] in ("registry", "faq"):
                tag["answer_id"] = "%012x" % rng.getrandbits(48)
                self.n_answers += 1
            u = ev.UserUttered(text, intent={"name": intent, "confidence": 0.9},
                               parse_data=self.parse(text, intent, topic, where), timestamp=t,
                               input_channel=channel, message_id="%032x" % rng.getrandbits(128),
                               metadata=dict(self.meta))
            self.add(sender, u)
            self.add(sender, ev.DefinePrevUserUtteredFeaturization(False, timestamp=t, metadata=dict(self.meta)))
            for name, value in (("language", "sv"), ("topic", topic), ("place", where[2] if where else None),
                                ("county", where[0] if where else None), ("centre", where[1] if where else None)):
                if rng.random() < 0.92:
                    self.add(sender, ev.SlotSet(name, value, timestamp=t + 0.01, metadata=dict(self.meta)))
            self.add(sender, ev.ActionExecuted("action_answer", policy="RulePolicy", confidence=1.0,
                                               timestamp=t + 0.02, metadata=dict(self.meta)))
            answer = (f"Svar om {tag['topic'] or 'det'}: " + "Här står det som registret har med källa. " * 6)
            buttons = [{"title": "Kortfilm", "payload": "/ask_short_film"}, {"title": "Kontakt", "payload": "/ask_contact"}]
            self.add(sender, ev.BotUttered(answer, data={"elements": None, "quick_replies": None, "buttons": buttons,
                                                         "attachment": None, "image": None, "custom": None},
                                           metadata={**self.meta, "filmbot": tag}, timestamp=t + 0.05))
            for _ in range(2):
                self.add(sender, ev.ActionExecuted("action_listen", policy="RulePolicy", confidence=1.0,
                                                   timestamp=t + 0.06, metadata=dict(self.meta)))
            if tag["answer_id"] and rng.random() < 0.25:
                rating = "down" if rng.random() < 0.4 else "up"
                payloads = [{"answer_id": tag["answer_id"], "rating": rating}]
                if rating == "down" and rng.random() < 0.5:
                    payloads.append({**payloads[0], "comment": rng.choice(COMMENTS)})
                for p in payloads:
                    t += rng.uniform(3, 30)
                    text = "/feedback" + json.dumps(p, ensure_ascii=False, separators=(",", ":"))
                    ents = [{"entity": k, "value": v, "start": 9, "end": len(text)} for k, v in p.items()]
                    self.add(sender, ev.UserUttered(text, intent={"name": "feedback", "confidence": 1.0},
                                                    entities=ents, parse_data={
                                                        "intent": {"name": "feedback", "confidence": 1.0},
                                                        "entities": ents, "text": text, "metadata": {}},
                                                    timestamp=t, input_channel=channel, metadata=dict(self.meta)))
                    self.add(sender, ev.ActionExecuted("action_feedback", timestamp=t + 0.01, metadata=dict(self.meta)))
                    self.add(sender, ev.BotUttered("Tack!", metadata={**self.meta, "filmbot": {
                        "answer_id": None, "kind": "other", "reason": None, "topic": None, "centre": None,
                        "county": None}}, timestamp=t + 0.02))
                    self.add(sender, ev.ActionExecuted("action_listen", timestamp=t + 0.03, metadata=dict(self.meta)))


def generate(db: Path, n_events: int) -> Dict[str, Any]:
    import sqlite3
    from zoneinfo import ZoneInfo

    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain

    SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(db))     # Rasa creates the schema
    gen = Gen()
    tz = ZoneInfo("Europe/Stockholm")
    first = dt.datetime.combine(SINCE, dt.time(7), tzinfo=tz).timestamp()
    span = (UNTIL - SINCE).days * 86400 + 14 * 3600
    i = 0
    while len(gen.rows) < n_events:
        channel = gen.rng.choices(["socketio", "slack", "rest"], [60, 25, 15])[0]
        sender = f"{channel}-{i:06d}-{gen.rng.getrandbits(32):08x}"
        gen.conversation(sender, channel, first + gen.rng.random() * span, gen.rng.randint(1, 8))
        i += 1
    con = sqlite3.connect(str(db))
    with con:
        con.executemany("INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data) "
                        "VALUES (?, ?, ?, ?, ?, ?)", sorted(gen.rows, key=lambda r: r[2]))
    kinds: Dict[str, int] = {}
    for r in gen.rows:
        kinds[r[1]] = kinds.get(r[1], 0) + 1
    con.close()
    return {"events": len(gen.rows), "conversations": i, "by_type": dict(sorted(kinds.items())),
            "db_mb": round(db.stat().st_size / 1e6, 1)}


def run(n_events: int, reps: int) -> Dict[str, Any]:
    from bot.tools.report import build_report

    work = Path(tempfile.mkdtemp(prefix="bench-report-", dir=str(ROOT / "var") if (ROOT / "var").is_dir() else None))
    db = work / "tracker.db"
    t0 = time.perf_counter()
    store = generate(db, n_events)
    store["generate_s"] = round(time.perf_counter() - t0, 1)
    print(f"[bench report] generated {store['events']} events ({store['conversations']} conversations, "
          f"{store['db_mb']} MB) in {store['generate_s']} s", flush=True)
    url = f"sqlite:///{db}"
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        rep = build_report(SINCE, UNTIL, url=url)
        times.append(time.perf_counter() - t)
    endpoints = work / "endpoints.yml"
    endpoints.write_text(f'tracker_store:\n  type: SQL\n  dialect: "sqlite"\n  db: "{db}"\n')
    t = time.perf_counter()
    out = subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "-m", "bot", "report", "--format", "json",
                          "--since", SINCE.isoformat(), "--until", UNTIL.isoformat(), "--endpoints", str(endpoints)],
                         cwd=ROOT, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    cli_s = time.perf_counter() - t
    if out.returncode != 0:
        raise SystemExit(f"python -m bot report failed: {out.stderr.strip()}")
    cli = json.loads(out.stdout)
    assert cli["totals"] == rep["totals"], (cli["totals"], rep["totals"])
    result = {
        "when": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "store": store, "reps": reps,
        "report_s": {"median": round(statistics.median(times), 2), "min": round(min(times), 2),
                     "max": round(max(times), 2)},
        "cli_s": round(cli_s, 2), "goal_s": GOAL_S,
        "totals": rep["totals"], "unanswered_groups": len(rep["unanswered"]["groups"]),
        "loadavg": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }
    for p in sorted(work.iterdir()):
        p.unlink()
    work.rmdir()
    return result


def render(r: Dict[str, Any]) -> str:
    s, t = r["store"], r["totals"]
    ok = max(r["report_s"]["max"], r["cli_s"]) <= r["goal_s"]
    types = ", ".join(f"{k} {v}" for k, v in s["by_type"].items())
    return "\n".join([
        BEGIN,
        "## Staff report (`python -m bot report`, issue 12)",
        "",
        f"Generated by `bench/bench_report.py` (run by `make bench` after the part above; raw figures in "
        f"`bench/report_results.json`, {r['when']}, load average {r['loadavg']}).",
        "",
        f"Store: SQLite in Rasa's schema, **{s['events']:,} events** ({s['conversations']:,} conversations over "
        f"30 days, {s['db_mb']} MB; {types}), the mix of a real conversation log of this bot.",
        "",
        "| Measure | Seconds | Goal |",
        "|---|---:|---:|",
        f"| `build_report` over the whole store, median of {r['reps']} (min–max) | {r['report_s']['median']:.2f} "
        f"({r['report_s']['min']:.2f}–{r['report_s']['max']:.2f}) | ≤ {r['goal_s']:.0f} |",
        f"| `python -m bot report --format json`, Python start-up included | {r['cli_s']:.2f} | ≤ {r['goal_s']:.0f} |",
        "",
        f"Result: {'met' if ok else 'NOT met'}. The report counted {t['conversations']:,} conversations, "
        f"{t['messages']:,} visitor messages, {t['unanswered']:,} unanswered questions in "
        f"{r['unanswered_groups']:,} groups, {t['feedback_up']:,} 👍 and {t['feedback_down']:,} 👎.",
        END,
    ]) + "\n"


def write_section(r: Dict[str, Any]) -> None:
    text = REPORT.read_text() if REPORT.exists() else ""
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head.rstrip("\n") + "\n\n" + render(r) + rest.split(END, 1)[1].lstrip("\n")
    else:
        text = text.rstrip("\n") + "\n\n" + render(r)
    REPORT.write_text(text)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--render", action="store_true", help="only rewrite the BENCHMARKS.md section")
    args = ap.parse_args(argv)
    if args.render:
        if not RESULTS.exists():
            print("[bench report] no bench/report_results.json yet: run without --render")
            return 0
        result = json.loads(RESULTS.read_text())
    else:
        result = run(int(os.environ.get("BENCH_REPORT_EVENTS", "100000")),
                     int(os.environ.get("BENCH_REPORT_REPS", "3")))
        RESULTS.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    write_section(result)
    ok = max(result["report_s"]["max"], result["cli_s"]) <= result["goal_s"]
    print(f"[bench report] {result['store']['events']} events: report {result['report_s']['median']:.2f} s "
          f"(max {result['report_s']['max']:.2f} s), command {result['cli_s']:.2f} s; goal ≤ {GOAL_S:.0f} s "
          f"{'met' if ok else 'NOT met'}; wrote {RESULTS.relative_to(ROOT)} and the section in BENCHMARKS.md",
          flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
