"""What visitors asked and missed, from the tracker store: `python -m bot report` and the staff page.

`build_report(since, until)` reads Rasa's `events` table (the SQL tracker store in endpoints.yml, found
like bot/tools/purge.py does: SQLite by default, PostgreSQL in production) and returns a plain dict for the
period [since, until] (whole days in FILMBOT_TZ, default Europe/Stockholm; until included):

- conversations (distinct sender ids with a visitor message that day) and visitor messages per day and per
  channel (the user event's `input_channel`); bot messages per day;
- län and centres asked about, and topics: per visitor question, from the answer's tag
  (`metadata.filmbot` county/centre/topic of the bot messages that answered it) or, when the answer names
  none, from the question's own `parse_data.understanding` (place, named centre, topic) and intent;
- unanswered questions: the visitor text that got a reply tagged kind "unanswered", with the reason; a
  reply to a button payload ("/deny" after "Menade du …?") is counted for the visitor's last written
  question. Near-identical texts are grouped (normalised text; rapidfuzz token_set_ratio or ratio ≥ 90,
  similar length; greedy, most frequent first);
- 👍/👎: the `/feedback{...}` user messages (intent `feedback`, entities answer_id/rating/comment); the last
  one per (sender, answer_id) counts and the comment is the last non-empty one; counts and rate per topic
  and per centre of the rated answer, and every 👎 with its answer, question, comment and transcript link.

Feedback messages are not counted as visitor messages or questions (they have their own counts). A
conversation that started before the period still gives the context (which answer was rated), but only
events inside the period are counted. One query, one pass over the rows in id order; only user and bot
events are read (filtered by type_name in SQL), each row's JSON parsed once.

`conversation(sender)` returns one visitor's transcript (user and bot messages, feedback marked) for the
staff page. `to_markdown` / `to_csv` format a report for `python -m bot report`.
"""
from __future__ import annotations

import bisect
import csv
import datetime as dt
import io
import json
import os
import re
import unicodedata
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Tuple
from urllib.parse import quote

DEFAULT_DAYS = 30                 # default period: the last 30 days (the retention period)
MAX_DAYS = 1000                   # a longer period is a typo
GROUP_SCORE = 90                  # rapidfuzz token_set_ratio for "the same question"
GROUP_LENGTH_RATIO = 0.5          # ... and the shorter normalised text at least half as long as the longer
LINK = "/staff/conversation?sender="
REASONS = ("fallback", "declined", "unknown_place", "out_of_scope", "no_facts")
REASON_NAMES = {"fallback": "förstod inte (Menade du …?)", "declined": "nej till alla förslag",
                "unknown_place": "okänd ort", "out_of_scope": "utanför ämnet", "no_facts": "inga uppgifter"}
CHANNEL_NAMES = {"socketio": "webbchatt", "rest": "REST", "slack": "Slack", "cmdline": "rasa shell"}
_FEEDBACK_RE = re.compile(r"^\s*/feedback\s*(\{.*\})\s*$", re.S)


class ReportError(Exception):
    """A bad period or an unreadable tracker store; the message is one line for staff."""


class _StatementError(Exception):
    """A statement the database could not run (no JSON functions, a row that is not JSON)."""


# --- period -----------------------------------------------------------------------------------------

def timezone():
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    name = os.environ.get("FILMBOT_TZ") or "Europe/Stockholm"
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ReportError(f"FILMBOT_TZ={name!r} is not a known time zone (e.g. Europe/Stockholm)")


def parse_day(value: Any, what: str = "date") -> Optional[dt.date]:
    if value is None or value == "":
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ReportError(f"{what} must be a date like 2026-11-30, not {value!r}")


def period(since: Any = None, until: Any = None, today: Optional[dt.date] = None) -> Tuple[dt.date, dt.date]:
    """(since, until) as dates; defaults: until = today, since = the DEFAULT_DAYS days up to until."""
    since_d, until_d = parse_day(since, "--since"), parse_day(until, "--until")
    if today is None:
        today = dt.datetime.now(timezone()).date()
    until_d = until_d or max(today, since_d or today)
    since_d = since_d or until_d - dt.timedelta(days=DEFAULT_DAYS - 1)
    if since_d > until_d:
        raise ReportError(f"--since {since_d} is after --until {until_d}")
    if (until_d - since_d).days >= MAX_DAYS:
        raise ReportError(f"the period {since_d} – {until_d} is longer than {MAX_DAYS} days")
    return since_d, until_d


def _midnight(day: dt.date, tz) -> float:
    return dt.datetime.combine(day, dt.time.min, tzinfo=tz).timestamp()


# --- the store --------------------------------------------------------------------------------------

def store_url(endpoints: Optional[os.PathLike] = None, url: Any = None):
    """The SQLAlchemy URL of the tracker store (endpoints.yml or FILMBOT_ENDPOINTS, as bot/tools/purge.py)."""
    if url is not None:
        return url
    from bot.tools.purge import PurgeError, db_url, tracker_store_config

    try:
        return db_url(tracker_store_config(Path(endpoints) if endpoints else None))
    except PurgeError as exc:
        raise ReportError(str(exc).replace("purge supports", "the report reads"))


def _safe(url: Any) -> str:
    from bot.tools.purge import _safe as safe

    return safe(url)


class Store:
    """One engine for the tracker store; `rows()` and `transcript()` read it."""

    def __init__(self, endpoints: Optional[os.PathLike] = None, url: Any = None):
        self.url = store_url(endpoints, url)
        self._engine = None

    @property
    def name(self) -> str:
        return _safe(self.url)

    def engine(self):
        import sqlalchemy as sa

        if self._engine is None:
            u = sa.engine.make_url(str(self.url)) if not hasattr(self.url, "drivername") else self.url
            if u.drivername.startswith("sqlite") and u.database not in (None, "", ":memory:") \
                    and not Path(u.database).exists():
                # SQLite would create an empty file; a missing store is a wrong path (or a bot never run)
                raise ReportError(f"no tracker store at {u.database} (wrong endpoints file, or the bot has "
                                  "not stored a conversation yet)")
            self._engine = sa.create_engine(self.url, pool_pre_ping=True)
        return self._engine

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def dialect(self) -> str:
        return self.engine().dialect.name

    def query(self, sql: str, params: Dict[str, Any], raw_errors: bool = False) -> List[Tuple]:
        """Rows of `sql`; [] when Rasa has not created its table yet. With raw_errors, an error of the
        statement itself (not of the connection) is raised as _StatementError, for the caller to try
        another way."""
        import sqlalchemy as sa

        try:
            with self.engine().connect() as conn:
                if not sa.inspect(conn).has_table("events"):
                    return []
                try:
                    return conn.execute(sa.text(sql), params).fetchall()
                except (sa.exc.OperationalError, sa.exc.DataError, sa.exc.ProgrammingError) as exc:
                    if raw_errors and not exc.connection_invalidated:
                        raise _StatementError(exc)
                    raise
        except (ReportError, _StatementError):
            raise
        except sa.exc.SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:200]
            raise ReportError(f"cannot read the tracker store {self.name}: {reason}")


# Conversations with a visitor message in the period, with their earlier messages as context.
_IN_PERIOD = ("type_name IN ('user', 'bot') AND timestamp < :end AND sender_id IN ("
              "SELECT DISTINCT sender_id FROM events WHERE type_name = 'user' AND timestamp >= :start "
              "AND timestamp < :end)")

# The few fields the report reads from an event's JSON. SQLite (json_extract with several paths) and
# PostgreSQL (json #> path) pick them in SQL and hand back one small JSON array per row, so the big parts of
# a user event (intent ranking, response selector, tokens) never reach Python; any other database, or a
# store with a row that is not valid JSON, is read whole and parsed in Python (same result).
FIELDS = (("text",), ("input_channel",), ("parse_data", "intent", "name"),
          ("parse_data", "understanding", "topic"), ("parse_data", "understanding", "place", "centre_id"),
          ("parse_data", "understanding", "place", "county_code"),
          ("parse_data", "understanding", "centre", "centre_id"), ("parse_data", "entities"),
          ("metadata", "filmbot"))


def _rows_sql(dialect: str) -> Optional[str]:
    if dialect == "sqlite":
        paths = ", ".join("'$." + ".".join(f) + "'" for f in FIELDS)
        return (f"SELECT sender_id, type_name, timestamp, json_extract(data, {paths}) FROM events "
                f"WHERE {_IN_PERIOD} ORDER BY id")
    if dialect == "postgresql":
        paths = ", ".join("j #> '{" + ",".join(f) + "}'" for f in FIELDS)
        return (f"SELECT sender_id, type_name, timestamp, json_build_array({paths})::text FROM ("
                f"SELECT id, sender_id, type_name, timestamp, data::json AS j FROM events WHERE {_IN_PERIOD}"
                f") AS e ORDER BY id")
    return None


_ROWS_SQL_ANY = f"SELECT sender_id, type_name, timestamp, data FROM events WHERE {_IN_PERIOD} ORDER BY id"


def _pick(data: Any) -> List[Any]:
    """The FIELDS of a whole event (the Python twin of the SQL extraction)."""
    out = []
    for path in FIELDS:
        value = data
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        out.append(value)
    return out


def read_rows(store: "Store", start: float, end: float, in_sql: bool = True) -> List[Tuple]:
    """(sender, type_name, timestamp, [FIELDS values]) of the user and bot events to count, in id order."""
    params = {"start": start, "end": end}
    sql = _rows_sql(store.dialect()) if in_sql else None
    if sql is not None:
        try:
            return [(s, t, ts, json.loads(v) if v else [None] * len(FIELDS))
                    for s, t, ts, v in store.query(sql, params, raw_errors=True)]
        except _StatementError:
            pass              # no JSON functions, or a row that is not JSON: read the rows whole
    out = []
    for s, t, ts, raw in store.query(_ROWS_SQL_ANY, params):
        try:
            out.append((s, t, ts, _pick(json.loads(raw))))
        except (TypeError, ValueError):
            continue
    return out


# --- parsing helpers --------------------------------------------------------------------------------

def _tag(data: Dict[str, Any]) -> Dict[str, Any]:
    meta = data.get("metadata")
    tag = meta.get("filmbot") if isinstance(meta, dict) else None
    return tag if isinstance(tag, dict) else {}


def feedback_of(text: str, intent: Optional[str], entities: Any) -> Optional[Dict[str, Any]]:
    """{answer_id, rating, comment} of a feedback user message (answer_id None when it names no answer),
    else None."""
    text = text or ""
    if intent != "feedback" and not text.lstrip().startswith("/feedback"):
        return None
    out: Dict[str, Any] = {}
    for ent in entities if isinstance(entities, list) else ():
        if isinstance(ent, dict) and ent.get("entity") in ("answer_id", "rating", "comment"):
            out[ent["entity"]] = ent.get("value")
    if "answer_id" not in out or "rating" not in out:
        m = _FEEDBACK_RE.match(text)
        if m:
            try:
                payload = json.loads(m.group(1))
            except ValueError:
                payload = {}
            if isinstance(payload, dict):
                for key in ("answer_id", "rating", "comment"):
                    out.setdefault(key, payload.get(key))
    if not isinstance(out.get("answer_id"), str) or out.get("rating") not in ("up", "down"):
        return {"answer_id": None, "rating": None, "comment": None}
    comment = out.get("comment")
    out["comment"] = comment.strip() if isinstance(comment, str) and comment.strip() else None
    return out


def _event_feedback(data: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    parse = data.get("parse_data") or {}
    return feedback_of(data.get("text") or "", (parse.get("intent") or {}).get("name"), parse.get("entities"))


_PUNCT = re.compile(r"[^\w\s]+")
_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Lower case, no accents, no punctuation, single spaces: the form questions are grouped on."""
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return _SPACE.sub(" ", _PUNCT.sub(" ", text)).strip()


def group_texts(items: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Greedy clusters of near-identical texts: most frequent normalised text first, each text joins the
    best-scoring earlier cluster (token_set_ratio ≥ GROUP_SCORE, similar length) or starts its own."""
    from rapidfuzz import fuzz, process

    by_norm: Dict[str, List[Dict[str, Any]]] = {}
    for it in items:
        by_norm.setdefault(normalise(it["text"]) or it["text"].strip(), []).append(it)
    order = sorted(by_norm, key=lambda k: (-len(by_norm[k]), k))
    reps: List[str] = []
    clusters: List[List[str]] = []
    for norm in order:
        best, best_score = None, -1.0
        # token_set_ratio forgives word order and extra words; plain ratio forgives a compound written
        # apart ("biobiljett" / "bio-biljett"), which token_set_ratio scores low
        for scorer in (fuzz.token_set_ratio, fuzz.ratio):
            for _rep, score, idx in process.extract_iter(norm, reps, scorer=scorer, score_cutoff=GROUP_SCORE):
                a, b = len(norm), len(reps[idx])
                if min(a, b) >= GROUP_LENGTH_RATIO * max(a, b) and score > best_score:
                    best, best_score = idx, score
        if best is None:
            reps.append(norm)
            clusters.append([norm])
        else:
            clusters[best].append(norm)
    groups = []
    for norms in clusters:
        members = [it for n in norms for it in by_norm[n]]
        texts: Dict[str, int] = {}
        reasons: Dict[str, int] = {}
        for it in members:
            texts[it["text"]] = texts.get(it["text"], 0) + 1
            reasons[it["reason"]] = reasons.get(it["reason"], 0) + 1
        ordered_texts = sorted(texts, key=lambda t: (-texts[t], t))
        latest = max(members, key=lambda it: it["ts"])
        groups.append({
            "text": ordered_texts[0], "count": len(members), "texts": ordered_texts[:10],
            "reasons": dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))),
            "last": latest["time"], "last_sender": latest["sender"], "last_link": latest["link"],
        })
    groups.sort(key=lambda g: (-g["count"], g["text"]))
    return groups


def _rate(up: int, down: int) -> Optional[float]:
    return round(up / (up + down), 3) if up + down else None


# --- names ------------------------------------------------------------------------------------------

def _names(registry: Any = None) -> Tuple[Dict[str, str], Dict[str, str]]:
    """({county code: name}, {centre id: name}) from the registry; empty when it cannot be read."""
    try:
        if registry is None:
            from bot.registry import get_registry

            registry = get_registry()
        counties = {c.code: c.name for c in registry.counties}
        centres = {c.id: c.name for c in registry.centres}
        return counties, centres
    except Exception:  # noqa: BLE001 - names are a nicety; the counts do not depend on them
        return {}, {}


def _topic_names() -> Dict[str, str]:
    try:
        from bot.answers import _copy

        copy = _copy()
        names = {k: v.get("sv") for k, v in (copy.get("topic_names") or {}).items()}
        names.update({k: v.get("sv") for k, v in (copy.get("topic_short_names") or {}).items()})
        return {k: v for k, v in names.items() if v}
    except Exception:  # noqa: BLE001
        return {}


class _TopicNames(dict):
    """Swedish topic names; an FAQ topic "faq/what_is_x" reads "vanlig fråga: what is x"."""

    def get(self, key, default=None):
        if key in self:
            return self[key]
        if isinstance(key, str) and key.startswith("faq/"):
            return "vanlig fråga: " + key[4:].replace("_", " ")
        return default


# --- the report -------------------------------------------------------------------------------------

class _Question:
    __slots__ = ("sender", "ts", "text", "channel", "in_period", "topic", "centre", "county", "tags",
                 "reason", "payload")

    def __init__(self, sender, ts, text, channel, in_period, understood):
        self.sender, self.ts, self.text, self.channel, self.in_period = sender, ts, text, channel, in_period
        self.topic, self.centre, self.county = understood
        self.tags: List[Dict[str, Any]] = []
        self.reason: Optional[str] = None
        self.payload = text.startswith("/")


class _Tally:
    """What one pass over the rows in id order collects: messages per day, questions, answers, feedback."""

    def __init__(self, bounds: List[float]) -> None:
        from bot.topics import INTENT_TOPICS

        self.intent_topics = INTENT_TOPICS
        self.bounds = bounds
        self.start, self.end = bounds[0], bounds[-1]
        ndays = len(bounds) - 1
        self.day_msgs: List[Dict[str, int]] = [dict() for _ in range(ndays)]        # channel -> visitor messages
        self.day_convs: List[Dict[str, set]] = [dict() for _ in range(ndays)]       # channel -> set of senders
        self.day_bot = [0] * ndays
        self.questions_in_period: List[_Question] = []
        self.current: Dict[str, Optional[_Question]] = {}     # sender -> question the bot is answering now
        self.last_written: Dict[str, _Question] = {}          # sender -> last question typed (not a button)
        self.answers: Dict[Tuple[str, str], Dict[str, Any]] = {}
        self.feedback: Dict[Tuple[str, str], Dict[str, Any]] = {}
        self.unanswered_qs: List[_Question] = []
        self.marked: set = set()
        self.feedback_msgs = 0

    def add(self, sender: str, type_name: str, ts: Any, f: Tuple) -> None:
        """One event row: a visitor message or a bot message."""
        text, channel, intent, u_topic, p_centre, p_county, n_centre, entities, tag = f
        text = text if isinstance(text, str) else ""
        ts = float(ts or 0.0)
        in_period = self.start <= ts < self.end
        if type_name == "user":
            self._user(sender, ts, in_period, text, channel, intent, entities,
                       (u_topic or self.intent_topics.get(intent or ""), p_centre or n_centre, p_county))
        elif type_name == "bot":
            self._bot(sender, ts, in_period, text, tag)

    def _day(self, ts: float) -> int:
        """The index of the day ``ts`` falls on."""
        return bisect.bisect_right(self.bounds, ts) - 1

    def _user(self, sender: str, ts: float, in_period: bool, text: str, channel: Any, intent: Any,
              entities: Any, understood: Tuple) -> None:
        """A visitor message: a 👍/👎 or a question the following bot messages answer."""
        fb = feedback_of(text, intent, entities)
        if fb is not None:
            self._feedback(sender, ts, in_period, fb, channel)
            return
        channel = channel or "okänd"
        q = _Question(sender, ts, text, channel, in_period, understood)
        self.current[sender] = q
        if not q.payload:
            self.last_written[sender] = q
        if in_period:
            i = self._day(ts)
            self.day_msgs[i][channel] = self.day_msgs[i].get(channel, 0) + 1
            self.day_convs[i].setdefault(channel, set()).add(sender)
            self.questions_in_period.append(q)

    def _feedback(self, sender: str, ts: float, in_period: bool, fb: Dict[str, Any], channel: Any) -> None:
        """A 👍/👎: the last one per (sender, answer) counts, with the last non-empty comment."""
        self.current[sender] = None        # the thanks that follows answers no question
        if in_period and fb["answer_id"]:
            self.feedback_msgs += 1
            key = (sender, fb["answer_id"])
            prev = self.feedback.get(key)
            comment = fb["comment"] or (prev["comment"] if prev else None)
            self.feedback[key] = {"rating": fb["rating"], "ts": ts, "comment": comment, "channel": channel}

    def _bot(self, sender: str, ts: float, in_period: bool, text: str, tag: Any) -> None:
        """A bot message: counted, its tag given to the question it answers, its answer and "unanswered" kept."""
        if in_period:
            self.day_bot[self._day(ts)] += 1
        q = self.current.get(sender)
        if not isinstance(tag, dict) or not tag:
            return
        if q is not None:
            q.tags.append(tag)
        if tag.get("answer_id"):
            self._answer(sender, ts, in_period, text, tag, q)
        if tag.get("kind") == "unanswered" and q is not None:
            target = self.last_written.get(sender, q) if q.payload else q
            target.reason = tag.get("reason") or "fallback"
            if target.in_period and id(target) not in self.marked:
                self.marked.add(id(target))
                self.unanswered_qs.append(target)

    def _answer(self, sender: str, ts: float, in_period: bool, text: str, tag: Dict[str, Any],
                q: Optional[_Question]) -> None:
        """A tagged answer (the messages of one answer id joined), with the question it answered."""
        key = (sender, tag["answer_id"])
        if key in self.answers:
            self.answers[key]["answer"] += "\n" + text
            return
        question = q.text if q else None
        if q is not None and q.payload and sender in self.last_written:
            # a button click ("/ask_short_film"): show the written question it followed too
            question = f"{self.last_written[sender].text} · knapp {q.text}"
        self.answers[key] = {"answer": text, "question": question,
                             "topic": tag.get("topic"), "centre": tag.get("centre"),
                             "county": tag.get("county"), "kind": tag.get("kind"), "ts": ts,
                             "in_period": in_period}


def _period_bounds(since_d: dt.date, until_d: dt.date, tz) -> Tuple[List[dt.date], List[float]]:
    """The days of the period and their midnights (one more than days: the end of the last)."""
    days = [since_d + dt.timedelta(days=i) for i in range((until_d - since_d).days + 1)]
    return days, [_midnight(d, tz) for d in days] + [_midnight(until_d + dt.timedelta(days=1), tz)]


def _asked_about(questions: List[_Question]) -> Tuple[Dict[str, int], Dict[str, int], Dict[str, int]]:
    """(topics, centres, län) -> questions: from the answers' tags, else from the question's understanding."""
    topics: Dict[str, int] = {}
    centres: Dict[str, int] = {}
    counties: Dict[str, int] = {}
    for q in questions:
        t_topics = {t.get("topic") for t in q.tags if t.get("topic")}
        t_centres = {t.get("centre") for t in q.tags if t.get("centre")}
        t_counties = {t.get("county") for t in q.tags if t.get("county")}
        for name in t_topics or ({q.topic} if q.topic else ()):
            topics[name] = topics.get(name, 0) + 1
        for name in t_centres or ({q.centre} if q.centre else ()):
            centres[name] = centres.get(name, 0) + 1
        for name in t_counties or ({q.county} if q.county else ()):
            counties[str(name)] = counties.get(str(name), 0) + 1
    return topics, centres, counties


def _iso(ts: float, tz) -> str:
    """A timestamp as local ISO time to the second."""
    return dt.datetime.fromtimestamp(ts, tz).isoformat(timespec="seconds")


def _link(sender: str) -> str:
    """The staff page's transcript link of a sender."""
    return LINK + quote(sender, safe="")


def _unanswered(questions: List[_Question], tz) -> Dict[str, Any]:
    """The unanswered questions: total, per reason, and near-identical texts grouped."""
    items = [{"text": q.text, "reason": q.reason, "ts": q.ts, "time": _iso(q.ts, tz), "sender": q.sender,
              "link": _link(q.sender)} for q in questions]
    reasons: Dict[str, int] = {}
    for it in items:
        reasons[it["reason"]] = reasons.get(it["reason"], 0) + 1
    return {"total": len(items), "reasons": dict(sorted(reasons.items())), "groups": group_texts(items)}


def _feedback_summary(tally: _Tally, tz, topic_names: Dict[str, str],
                      centre_names: Dict[str, str]) -> Dict[str, Any]:
    """👍/👎 counts and rates per topic and centre of the rated answer, and every 👎 with its context."""
    fb_topics: Dict[str, List[int]] = {}
    fb_centres: Dict[str, List[int]] = {}
    up = down = 0
    down_list = []
    for (sender, answer_id), fb in tally.feedback.items():
        ans = tally.answers.get((sender, answer_id)) or {}
        is_up = fb["rating"] == "up"
        up += is_up
        down += not is_up
        for table, name in ((fb_topics, ans.get("topic") or "okänt"), (fb_centres, ans.get("centre") or "okänt")):
            table.setdefault(name, [0, 0])[0 if is_up else 1] += 1
        if not is_up:
            down_list.append({
                "answer_id": answer_id, "answer": ans.get("answer"), "question": ans.get("question"),
                "comment": fb["comment"], "sender": sender, "time": _iso(fb["ts"], tz), "ts": fb["ts"],
                "channel": fb["channel"], "topic": ans.get("topic"),
                "topic_name": topic_names.get(ans.get("topic") or "", ans.get("topic")), "centre": ans.get("centre"),
                "centre_name": centre_names.get(ans.get("centre") or ""), "link": _link(sender)})
    down_list.sort(key=lambda d: d["ts"])
    return {"up": up, "down": down, "rate": _rate(up, down),
            "topics": _rates(fb_topics, topic_names, "topic"),
            "centres": _rates(fb_centres, centre_names, "id"),
            "down_list": down_list}


def _per_day(tally: _Tally, days: List[dt.date]) -> Tuple[List[Dict[str, Any]], Dict[str, Dict[str, Any]], set]:
    """(a row per day, totals per channel, every sender of the period) of the visitor and bot messages."""
    channel_totals: Dict[str, Dict[str, Any]] = {}
    day_rows = []
    all_senders: set = set()
    for i, day in enumerate(days):
        chans = {}
        senders_today: set = set()
        for ch in sorted(set(tally.day_msgs[i]) | set(tally.day_convs[i])):
            convs = tally.day_convs[i].get(ch, set())
            chans[ch] = {"conversations": len(convs), "messages": tally.day_msgs[i].get(ch, 0)}
            senders_today |= convs
            tot = channel_totals.setdefault(ch, {"senders": set(), "messages": 0})
            tot["senders"] |= convs
            tot["messages"] += tally.day_msgs[i].get(ch, 0)
        all_senders |= senders_today
        day_rows.append({"day": day.isoformat(), "conversations": len(senders_today),
                         "messages": sum(tally.day_msgs[i].values()), "bot_messages": tally.day_bot[i],
                         "channels": chans})
    return day_rows, channel_totals, all_senders


def _ranked(counts: Dict[str, int], names: Dict[str, str], key: str) -> List[Dict[str, Any]]:
    """Question counts, most asked first, each with its name."""
    return [{key: k, "name": names.get(k, k), "questions": n}
            for k, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def _rates(table: Dict[str, List[int]], names: Dict[str, str], key: str) -> List[Dict[str, Any]]:
    """[up, down] counts with their rate, most rated first, each with its name."""
    return [{key: k, "name": names.get(k, k), "up": u, "down": d, "rate": _rate(u, d)}
            for k, (u, d) in sorted(table.items(), key=lambda kv: (-(kv[1][0] + kv[1][1]), kv[0]))]


def build_report(since: Any = None, until: Any = None, endpoints: Optional[os.PathLike] = None,
                 url: Any = None, store: Optional[Store] = None, registry: Any = None,
                 today: Optional[dt.date] = None, in_sql: bool = True) -> Dict[str, Any]:
    """The report for [since, until] (dates, until included) as a plain JSON-able dict. in_sql=False
    reads every row whole (what a database without JSON functions gets; tests compare the two)."""
    tz = timezone()
    since_d, until_d = period(since, until, today)
    days, bounds = _period_bounds(since_d, until_d, tz)
    own = store is None
    store = store or Store(endpoints, url)
    try:
        rows = read_rows(store, bounds[0], bounds[-1], in_sql)
    finally:
        if own:
            store.dispose()
    tally = _Tally(bounds)
    for sender, type_name, ts, f in rows:
        tally.add(sender, type_name, ts, f)

    county_names, centre_names = _names(registry)
    centre_names["okänt"] = "ingen särskild verksamhet"     # rated answers that name no centre (FAQ)
    topic_names = _TopicNames(_topic_names())
    topics, centres, counties = _asked_about(tally.questions_in_period)
    unanswered = _unanswered(tally.unanswered_qs, tz)
    feedback = _feedback_summary(tally, tz, topic_names, centre_names)
    day_rows, channel_totals, all_senders = _per_day(tally, days)
    return {
        "period": {"since": since_d.isoformat(), "until": until_d.isoformat(), "timezone": str(tz)},
        "store": store.name,
        "generated": dt.datetime.now(tz).isoformat(timespec="seconds"),
        "totals": {
            "conversations": len(all_senders),
            "messages": sum(d["messages"] for d in day_rows),
            "bot_messages": sum(tally.day_bot),
            "answers": sum(1 for a in tally.answers.values() if a["in_period"]),
            "unanswered": unanswered["total"],
            "feedback_messages": tally.feedback_msgs,
            "feedback_up": feedback["up"], "feedback_down": feedback["down"],
        },
        "channels": {ch: {"conversations": len(v["senders"]), "messages": v["messages"]}
                     for ch, v in sorted(channel_totals.items())},
        "days": day_rows,
        "counties": _ranked(counties, county_names, "code"),
        "centres": _ranked(centres, centre_names, "id"),
        "topics": _ranked(topics, topic_names, "topic"),
        "unanswered": unanswered,
        "feedback": feedback,
    }


# --- one conversation -------------------------------------------------------------------------------

_TRANSCRIPT_SQL = ("SELECT type_name, timestamp, data FROM events WHERE sender_id = :s "
                   "AND type_name IN ('user', 'bot', 'session_started') ORDER BY id")


def conversation(sender: str, endpoints: Optional[os.PathLike] = None, url: Any = None,
                 store: Optional[Store] = None) -> Dict[str, Any]:
    """One visitor's messages in order: {"sender", "messages": [{who, time, text, ...}]}; bot answers that
    were rated carry `feedback` {rating, comment}; feedback messages are entries with who "feedback"."""
    tz = timezone()
    own = store is None
    store = store or Store(endpoints, url)
    try:
        rows = store.query(_TRANSCRIPT_SQL, {"s": sender})
    finally:
        if own:
            store.dispose()
    out: List[Dict[str, Any]] = []
    by_answer: Dict[str, Dict[str, Any]] = {}
    for type_name, ts, raw in rows:
        try:
            data = json.loads(raw)
        except (TypeError, ValueError):
            continue
        time = dt.datetime.fromtimestamp(float(ts or 0), tz).isoformat(timespec="seconds")
        if type_name == "session_started":
            out.append({"who": "session", "time": time})
            continue
        if type_name == "user":
            fb = _event_feedback(data)
            if fb is not None:
                out.append({"who": "feedback", "time": time, "answer_id": fb["answer_id"],
                            "rating": fb["rating"], "comment": fb["comment"]})
                target = by_answer.get(fb["answer_id"] or "")
                if target is not None and fb["rating"]:
                    prev = target.get("feedback") or {}
                    target["feedback"] = {"rating": fb["rating"], "comment": fb["comment"] or prev.get("comment")}
                continue
            parse = data.get("parse_data") or {}
            out.append({"who": "user", "time": time, "text": data.get("text") or "",
                        "channel": data.get("input_channel"), "intent": (parse.get("intent") or {}).get("name")})
        else:
            tag = _tag(data)
            buttons = [b.get("title") for b in ((data.get("data") or {}).get("buttons") or [])
                       if isinstance(b, dict) and b.get("title")]
            msg = {"who": "bot", "time": time, "text": data.get("text") or "", "buttons": buttons,
                   "kind": tag.get("kind"), "reason": tag.get("reason"), "answer_id": tag.get("answer_id"),
                   "topic": tag.get("topic"), "centre": tag.get("centre")}
            out.append(msg)
            if tag.get("answer_id"):
                by_answer.setdefault(tag["answer_id"], msg)
    if out and out[0]["who"] == "session":
        out = out[1:]                 # every conversation starts with one; later ones are new sessions
    return {"sender": sender, "messages": out}


# --- formats ----------------------------------------------------------------------------------------

def _pct(rate: Optional[float]) -> str:
    return "–" if rate is None else f"{round(rate * 100)} %"


def _md_cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ").replace("`", "'")


def _md_text(value: Any) -> str:
    """A visitor's text in a code span: readable as plain text, inert HTML in any Markdown renderer."""
    text = _md_cell(value)
    return f"`{text}`" if text else "–"


def to_markdown(report: Dict[str, Any]) -> str:
    p, t = report["period"], report["totals"]
    lines = [f"# Filmregionernas bot: rapport {p['since']} – {p['until']}", "",
             f"Källa: {report['store']} · tidszon {p['timezone']} · skapad {report['generated']}", "",
             "## Sammanfattning", "",
             f"- Samtal: {t['conversations']}",
             f"- Meddelanden från besökare: {t['messages']} (botens svar: {t['bot_messages']})",
             f"- Obesvarade frågor: {t['unanswered']}",
             f"- Betyg: 👍 {t['feedback_up']} · 👎 {t['feedback_down']} "
             f"(andel 👍 {_pct(report['feedback']['rate'])})", "",
             "## Per kanal", "", "| Kanal | Samtal | Meddelanden |", "|---|---:|---:|"]
    for ch, v in report["channels"].items():
        lines.append(f"| {_md_cell(CHANNEL_NAMES.get(ch, ch))} | {v['conversations']} | {v['messages']} |")
    lines += ["", "## Per dag", "", "| Dag | Samtal | Meddelanden | Per kanal |", "|---|---:|---:|---|"]
    for d in report["days"]:
        if not d["messages"] and not d["conversations"]:
            continue
        per = ", ".join(f"{CHANNEL_NAMES.get(ch, ch)} {v['conversations']}/{v['messages']}"
                        for ch, v in d["channels"].items())
        lines.append(f"| {d['day']} | {d['conversations']} | {d['messages']} | {_md_cell(per)} |")
    for title, key, col in (("Län som besökarna frågade om", "counties", "Län"),
                            ("Filmverksamheter som besökarna frågade om", "centres", "Verksamhet"),
                            ("Ämnen", "topics", "Ämne")):
        lines += ["", f"## {title}", ""]
        if not report[key]:
            lines.append("Inga.")
            continue
        lines += [f"| {col} | Frågor |", "|---|---:|"]
        lines += [f"| {_md_cell(r['name'])} | {r['questions']} |" for r in report[key]]
    un = report["unanswered"]
    lines += ["", f"## Obesvarade frågor ({un['total']})", ""]
    if un["groups"]:
        lines += ["| Fråga | Antal | Varför | Liknande |", "|---|---:|---|---|"]
        for g in un["groups"]:
            why = ", ".join(f"{REASON_NAMES.get(r, r)} {n}" for r, n in g["reasons"].items())
            similar = "; ".join(_md_text(x) for x in g["texts"][1:4])
            lines.append(f"| {_md_text(g['text'])} | {g['count']} | {_md_cell(why)} | {similar} |")
    else:
        lines.append("Inga.")
    fb = report["feedback"]
    for title, key, col in (("Betyg per ämne", "topics", "Ämne"), ("Betyg per verksamhet", "centres", "Verksamhet")):
        lines += ["", f"## {title}", ""]
        if not fb[key]:
            lines.append("Inga betyg.")
            continue
        lines += [f"| {col} | 👍 | 👎 | Andel 👍 |", "|---|---:|---:|---:|"]
        lines += [f"| {_md_cell(r['name'])} | {r['up']} | {r['down']} | {_pct(r['rate'])} |" for r in fb[key]]
    lines += ["", f"## Alla 👎 ({len(fb['down_list'])})", ""]
    if not fb["down_list"]:
        lines.append("Inga.")
    for d in fb["down_list"]:
        about = " · ".join(_md_cell(x) for x in (d["centre_name"] or d["centre"], d["topic_name"]) if x)
        lines += [f"- **{d['time']}** · {_md_text(d['sender'])}" + (f" · {about}" if about else ""),
                  f"  - Fråga: {_md_text(d['question'])}",
                  f"  - Svar: {_md_text((d['answer'] or '')[:300])}",
                  f"  - Kommentar: {_md_text(d['comment'])}",
                  f"  - Samtal: {d['link']}"]
    return "\n".join(lines) + "\n"


def _csv_safe(value: Any) -> Any:
    # a visitor's text starting with = + - @ would be a formula in a spreadsheet
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def csv_rows(report: Dict[str, Any]) -> Iterable[List[Any]]:
    yield ["section", "key", "field", "value"]
    p = report["period"]
    yield ["period", "since", "", p["since"]]
    yield ["period", "until", "", p["until"]]
    for k, v in report["totals"].items():
        yield ["totals", k, "", v]
    for ch, v in report["channels"].items():
        for f in ("conversations", "messages"):
            yield ["channel", ch, f, v[f]]
    for d in report["days"]:
        for f in ("conversations", "messages", "bot_messages"):
            yield ["day", d["day"], f, d[f]]
        for ch, v in d["channels"].items():
            for f in ("conversations", "messages"):
                yield ["day_channel", f"{d['day']} {ch}", f, v[f]]
    for key, ident, sec in (("counties", "code", "county"), ("centres", "id", "centre"), ("topics", "topic", "topic")):
        for r in report[key]:
            yield [sec, r[ident], "questions", r["questions"]]
    for g in report["unanswered"]["groups"]:
        yield ["unanswered", g["text"], "count", g["count"]]
        for reason, n in g["reasons"].items():
            yield ["unanswered", g["text"], f"reason:{reason}", n]
    fb = report["feedback"]
    for key, ident, sec in (("topics", "topic", "feedback_topic"), ("centres", "id", "feedback_centre")):
        for r in fb[key]:
            for f in ("up", "down", "rate"):
                yield [sec, r[ident], f, "" if r[f] is None else r[f]]
    for d in fb["down_list"]:
        key = f"{d['sender']} {d['time']}"
        for f in ("question", "answer", "comment", "topic", "centre", "link"):
            yield ["thumbs_down", key, f, d[f] or ""]


def to_csv(report: Dict[str, Any]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    for row in csv_rows(report):
        writer.writerow([_csv_safe(v) for v in row])
    return buf.getvalue()
