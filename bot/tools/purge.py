"""Retention: delete old conversations (or one visitor's) from the SQL tracker store Rasa uses.

Reads `tracker_store` from endpoints.yml (or FILMBOT_ENDPOINTS / --endpoints; `${VAR}` references are
expanded as Rasa does), builds the same SQLAlchemy URL as Rasa's SQLTrackerStore (SQLite by default,
PostgreSQL works too) and deletes from Rasa's `events` table (and the conversation's row of `filmbot_tracker_window`, kept by
bot.glue.tracker_store.WindowedSQLTrackerStore):
- every conversation whose last event is older than FILMBOT_RETENTION_DAYS days (default 30), or
- with a sender id, that one conversation, whatever its age (a visitor's request to be forgotten).
A conversation is all rows with one sender_id, so nothing half-deleted is left behind (one transaction).

Personal data (bot/redact.py, the rules the channels apply to new messages): `redact_store()` finds
it in stored user events (every string of the event's JSON: text, parse_data.text, entity values, ...)
and, unless dry_run, rewrites those rows in place with the placeholders (one transaction; other events
and other fields are kept; running it again changes nothing). `--dry-run` also reports the counts.
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from bot.paths import ROOT

DEFAULT_RETENTION_DAYS = 30
EVENTS_TABLE = "events"  # fixed by rasa.core.tracker_store.SQLTrackerStore.SQLEvent
# bot.glue.tracker_store.WindowedSQLTrackerStore: per conversation, the slot values before its recent window
WINDOW_TABLE = "filmbot_tracker_window"
SQL_STORE_TYPES = ("sql", "bot.glue.tracker_store.windowedsqltrackerstore")


class PurgeError(Exception):
    pass


@dataclass
class PurgeResult:
    url: str
    senders: List[str]
    events: int
    dry_run: bool


@dataclass
class RedactResult:
    url: str
    scanned: int                      # user events read
    events: int                       # user events holding personal data (rewritten unless dry_run)
    counts: Dict[str, int] = field(default_factory=dict)   # kind -> occurrences in the messages' text
    dry_run: bool = False


TEXT_KEYS = ("text", "value")


def redact_event_data(data: Any) -> Tuple[Any, Dict[str, int]]:
    """(data with personal data replaced in every string, counts by kind of the message text)."""
    from bot.lang import detect_language
    from bot.redact import redact

    text = data.get("text") if isinstance(data, dict) else None
    lang = detect_language(text) if isinstance(text, str) else None
    counts: Dict[str, int] = {}
    if isinstance(text, str):
        counts = dict(redact(text, lang=lang).counts)

    def walk(value: Any, key: Optional[str] = None) -> Any:
        # Only what the visitor wrote: "text" (the event's and parse_data's) and entity values taken from it;
        # ids, timestamps and channel metadata (Slack thread ts) are digits that are not personal data.
        if isinstance(value, str):
            return redact(value, lang=lang).text if key in TEXT_KEYS else value
        if isinstance(value, list):
            return [walk(v, key) for v in value]
        if isinstance(value, dict):
            return {k: walk(v, k) for k, v in value.items()}
        return value

    return walk(data), counts


def redact_store(sender: Optional[str] = None, endpoints: Optional[Path] = None, dry_run: bool = False,
                 url: Any = None) -> RedactResult:
    """Find (dry_run) or replace personal data in the stored user events, in place."""
    import sqlalchemy as sa

    url = url or db_url(tracker_store_config(endpoints))
    engine = sa.create_engine(url)
    scanned = changed = 0
    counts: Dict[str, int] = {}
    try:
        with engine.begin() as conn:
            if not sa.inspect(conn).has_table(EVENTS_TABLE):
                return RedactResult(_safe(url), 0, 0, {}, dry_run)
            query = f"SELECT id, data, sender_id FROM {EVENTS_TABLE} WHERE type_name = 'user'"
            params: Dict[str, Any] = {}
            if sender is not None:
                query += " AND sender_id = :s"
                params["s"] = sender
            rows = conn.execute(sa.text(query + " ORDER BY id"), params).fetchall()
            redacted = set()
            for row_id, raw, row_sender in rows:
                scanned += 1
                try:
                    data = json.loads(raw)
                except (TypeError, ValueError):
                    continue
                new, found = redact_event_data(data)
                if new == data:
                    continue
                changed += 1
                for kind, n in found.items():
                    counts[kind] = counts.get(kind, 0) + n
                if not dry_run:
                    conn.execute(sa.text(f"UPDATE {EVENTS_TABLE} SET data = :d WHERE id = :i"),
                                 {"d": json.dumps(new), "i": row_id})
                    redacted.add(row_sender)
            if redacted and sa.inspect(conn).has_table(WINDOW_TABLE):
                # the windowed store rebuilds these from the rewritten events on the next message
                for s in sorted(redacted):
                    conn.execute(sa.text(f"DELETE FROM {WINDOW_TABLE} WHERE sender_id = :s"), {"s": s})
    finally:
        engine.dispose()
    return RedactResult(_safe(url), scanned, changed, counts, dry_run)


def retention_days(value: Optional[str] = None) -> float:
    raw = value if value is not None else os.environ.get("FILMBOT_RETENTION_DAYS", str(DEFAULT_RETENTION_DAYS))
    try:
        days = float(raw)
    except ValueError:
        raise PurgeError(f"FILMBOT_RETENTION_DAYS must be a number of days, not {raw!r}")
    if days < 0:
        raise PurgeError("the retention period cannot be negative")
    return days


def tracker_store_config(endpoints: Optional[Path] = None) -> Dict[str, Any]:
    from rasa.shared.utils.io import read_config_file

    path = Path(endpoints or os.environ.get("FILMBOT_ENDPOINTS") or ROOT / "endpoints.yml")
    if not path.is_absolute() and not path.exists():
        path = ROOT / path
    if not path.exists():
        raise PurgeError(f"endpoints file not found: {path}")
    cfg = (read_config_file(str(path)) or {}).get("tracker_store") or {}
    store_type = str(cfg.get("type") or cfg.get("store_type") or "").lower()
    if store_type not in SQL_STORE_TYPES:
        raise PurgeError(f"{path}: tracker_store type is {cfg.get('type')!r}; purge supports type: SQL and "
                         "bot.glue.tracker_store.WindowedSQLTrackerStore only")
    return dict(cfg)


def db_url(cfg: Dict[str, Any]):
    """The SQLAlchemy URL Rasa's SQLTrackerStore.get_db_url builds from the same settings."""
    import sqlalchemy as sa
    from urllib import parse

    dialect = cfg.get("dialect", "sqlite")
    # endpoints.yml names the host `url` (Rasa passes EndpointConfig.url as the store's host)
    host, port = cfg.get("host") or cfg.get("url"), cfg.get("port")
    db = str(cfg.get("db", "rasa.db"))
    if host and "://" in str(host):
        return str(host)
    if host:
        parsed = parse.urlsplit(f"scheme://{host}")
        port = parsed.port or port
        host = parsed.hostname or host
    if dialect == "sqlite" and db != ":memory:" and not Path(db).is_absolute():
        db = str(ROOT / db)  # scripts/run.sh starts Rasa in the repository root
    return sa.engine.url.URL.create(dialect, username=cfg.get("username"), password=cfg.get("password"),
                                    host=host, port=int(port) if port else None, database=db,
                                    query=cfg.get("query") or {})


def purge(days: Optional[float] = None, sender: Optional[str] = None, endpoints: Optional[Path] = None,
          now: Optional[float] = None, dry_run: bool = False, url: Any = None) -> PurgeResult:
    import sqlalchemy as sa

    url = url or db_url(tracker_store_config(endpoints))
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            if not sa.inspect(conn).has_table(EVENTS_TABLE):
                return PurgeResult(_safe(url), [], 0, dry_run)
            if sender is not None:
                senders = [r[0] for r in conn.execute(
                    sa.text(f"SELECT DISTINCT sender_id FROM {EVENTS_TABLE} WHERE sender_id = :s"), {"s": sender})]
            else:
                cutoff = (now if now is not None else time.time()) - retention_days(
                    None if days is None else str(days)) * 86400
                senders = [r[0] for r in conn.execute(sa.text(
                    f"SELECT sender_id FROM {EVENTS_TABLE} GROUP BY sender_id HAVING MAX(timestamp) < :c"),
                    {"c": cutoff})]
            count = 0
            window_table = sa.inspect(conn).has_table(WINDOW_TABLE)
            for s in senders:
                if dry_run:
                    count += conn.execute(sa.text(f"SELECT COUNT(*) FROM {EVENTS_TABLE} WHERE sender_id = :s"),
                                          {"s": s}).scalar() or 0
                else:
                    count += conn.execute(sa.text(f"DELETE FROM {EVENTS_TABLE} WHERE sender_id = :s"),
                                          {"s": s}).rowcount or 0
                    if window_table:
                        conn.execute(sa.text(f"DELETE FROM {WINDOW_TABLE} WHERE sender_id = :s"), {"s": s})
            if window_table and not dry_run:   # and any left by conversations deleted some other way
                conn.execute(sa.text(f"DELETE FROM {WINDOW_TABLE} WHERE sender_id NOT IN "
                                     f"(SELECT DISTINCT sender_id FROM {EVENTS_TABLE})"))
    finally:
        engine.dispose()
    return PurgeResult(_safe(url), senders, count, dry_run)


def _safe(url: Any) -> str:
    """The URL without its password, for messages."""
    try:
        return url.render_as_string(hide_password=True)
    except AttributeError:
        import sqlalchemy as sa

        try:
            return sa.engine.make_url(str(url)).render_as_string(hide_password=True)
        except Exception:  # noqa: BLE001
            return "<database>"
