"""A SQL tracker store whose cost per message does not grow with the conversation (Rasa glue).

Rasa's SQLTrackerStore loads every event of the conversation session on every message, replays them all
into a tracker, and before writing counts the stored events to find the new ones; the policies then
featurise the whole tracker and the whole tracker goes to the action server as JSON. A 100-turn
conversation (a long Slack thread) made each message several times dearer than the first.

`WindowedSQLTrackerStore` (endpoints: `tracker_store: type: bot.glue.tracker_store.WindowedSQLTrackerStore`,
the same settings as `type: SQL`, SQLite or PostgreSQL):

- writes exactly what Rasa's store writes: every event once, in order, one row of Rasa's own `events`
  table each (same columns, same JSON), so reports, `python -m bot purge` and Rasa's own store keep
  reading it;
- keeps one row per conversation in `filmbot_tracker_window`: the id of the event where the recent
  window starts and the slot values *before* that event (a function of the older rows only, which
  never change: another Rasa instance appending events does not make it stale);
- retrieves only that window (the last `keep_turns`..2 x `keep_turns` visitor turns) and puts the slot
  values in front of it as SlotSet events that are never stored, so slots, reverts inside the window
  (fallbacks), restarts and session starts (carried-over slots) behave as with the whole history;
- decides which events are new from what it loaded (not by counting stored rows);
- falls back to Rasa's full load when there is no usable window row (a conversation started before
  this store, after `purge`/redaction, a window row from an older session): exact, once.

The window moves forward at most every `keep_turns` turns, and only to the start of a visitor turn with
no active loop (the two-stage fallback never spans the boundary). `keep_turns` (default 3) must cover
the policies' history: 3 turns are at least 6 dialogue states, our MemoizationPolicy uses 3 and Rasa's
default policies 5. The window also keeps the newest of the visitor's last 6 messages that tells a
language (bot/lang.py answers in the language of that message), so the language never changes by it.

`GET /conversations/<id>/tracker` and `rasa export` use `retrieve_full_tracker`, which still loads
everything, as Rasa does. SQLite databases are switched to WAL with synchronous=NORMAL (a commit no
longer waits for the disk; an OS crash can lose the last replies, a Rasa crash cannot).
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Text

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.lang import detect_language

logger = logging.getLogger(__name__)

WINDOW_TABLE = "filmbot_tracker_window"
LANGUAGE_LOOKBACK = 6   # bot.lang.conversation_language reads the visitor's last 6 messages
DEFAULT_KEEP_TURNS = 3


@dataclass
class _Loaded:
    """What a tracker object came with from the store (kept on the tracker as `_filmbot_loaded`)."""

    stored: int                      # tracker.events[:stored] are stored (or carried-in slot values)
    carried: int                     # tracker.events[:carried] are the carried-in SlotSets (never stored)
    ids: Optional[List[int]] = field(default=None)   # ids of tracker.events[carried:stored], if known




class WindowedSQLTrackerStore(SQLTrackerStore):
    def __init__(self, domain: Any = None, keep_turns: Any = DEFAULT_KEEP_TURNS, **kwargs: Any) -> None:
        super().__init__(domain, **kwargs)
        self.keep_turns = max(1, int(keep_turns))
        if self.engine.dialect.name == "sqlite" and self.engine.url.database not in (None, "", ":memory:"):
            # SQLAlchemy 1.4 opens a new SQLite connection per session (NullPool): keep a few open instead
            url = self.engine.url
            self.engine.dispose()
            self.engine = sa.create_engine(url, poolclass=sa.pool.QueuePool, pool_size=4, max_overflow=8,
                                           connect_args={"check_same_thread": False})
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
            self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
            with self.engine.connect() as conn:   # WAL is a property of the file: once is enough
                conn.exec_driver_sql("PRAGMA journal_mode=WAL")
        self._meta = sa.MetaData()
        self.window_table = sa.Table(
            WINDOW_TABLE, self._meta,
            sa.Column("sender_id", sa.String(255), primary_key=True),
            sa.Column("start_id", sa.Integer, nullable=False),        # events.id where the window starts
            sa.Column("start_timestamp", sa.Float),                   # that event's timestamp (a check)
            sa.Column("slots", sa.Text, nullable=False),              # JSON: slot values before it
            sa.Column("updated_at", sa.Float),
        )
        try:
            self._meta.create_all(self.engine)
        except (sa.exc.OperationalError, sa.exc.ProgrammingError, sa.exc.IntegrityError) as exc:
            logger.error("Could not create table %s: %s", WINDOW_TABLE, exc)   # another instance did

    # -- reading -----------------------------------------------------------------------------------
    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        """The latest session's tracker: the window and the slot values before it."""
        with self.session_scope() as session:
            rows, slots = None, {}
            window = session.execute(sa.text(f"SELECT start_id, start_timestamp, slots FROM {WINDOW_TABLE} "
                                             "WHERE sender_id = :s"), {"s": sender_id}).first()
            if window is not None:
                got = session.execute(sa.text("SELECT id, type_name, timestamp, data FROM events "
                                              "WHERE sender_id = :s AND id >= :i ORDER BY id"),
                                      {"s": sender_id, "i": window.start_id}).all()
                # the window's first event must still be the one it was (not purged), and a session
                # started inside the window makes the carried slot values stale
                if got and got[0].id == window.start_id and got[0].timestamp == window.start_timestamp \
                        and not any(r.type_name == SessionStarted.type_name for r in got[1:]):
                    rows = [(r.id, r.data) for r in got]
                    slots = json.loads(window.slots)
            if rows is None:   # no usable window: the whole session, exactly as Rasa loads it
                rows = [(r.id, r.data) for r in self._event_query(session, sender_id, False).all()]
        if not rows or not self.domain:
            return None
        events = [json.loads(data) for _, data in rows]
        known = self.domain.slots and {s.name for s in self.domain.slots}
        ts = events[0].get("timestamp")
        carried = [SlotSet(name, value, timestamp=ts).as_dict() for name, value in slots.items()
                   if not known or name in known]
        tracker = DialogueStateTracker.from_dict(sender_id, carried + events, self.domain.slots)
        tracker._filmbot_loaded = _Loaded(stored=len(tracker.events), carried=len(carried),  # type: ignore
                                          ids=[i for i, _ in rows])
        return tracker

    # -- writing -----------------------------------------------------------------------------------
    async def save(self, tracker: DialogueStateTracker) -> None:
        """Stores the events the tracker has beyond what it was loaded with; moves the window on."""
        loaded: Optional[_Loaded] = getattr(tracker, "_filmbot_loaded", None)
        if loaded is not None and (tracker.events.maxlen is not None or loaded.stored > len(tracker.events)):
            loaded = None
        await self.stream_events(tracker)
        events = list(tracker.events)
        with self.session_scope() as session:
            if loaded is None:   # not from this store (a new tracker, the REST API's replace): Rasa's rule
                start = self._event_query(session, tracker.sender_id, False).count()
                loaded = _Loaded(stored=min(start, len(events)), carried=0, ids=None)
            rows = []
            for event in events[loaded.stored:]:
                data = event.as_dict()
                rows.append({"sender_id": tracker.sender_id, "type_name": event.type_name,
                             "timestamp": data.get("timestamp"),
                             "intent_name": ((data.get("parse_data") or {}).get("intent") or {}).get("name"),
                             "action_name": data.get("name"), "data": json.dumps(data)})
            ids = loaded.ids
            if rows:
                E = self.SQLEvent
                session.execute(E.__table__.insert(), rows)
                if ids is not None and not self._window_can_move(events[loaded.carried:]):
                    ids = None   # not needed now: the next retrieve reads them with the window
                if ids is not None:   # the new rows' ids (the lock store lets one message of a visitor at a time)
                    new_ids = [i for (i,) in session.execute(
                        sa.select(E.id).where(E.sender_id == tracker.sender_id, E.id > (ids[-1] if ids else -1))
                        .order_by(E.id))]
                    ids = ids + new_ids if len(new_ids) == len(rows) else None
            self._move_window(session, tracker, events, loaded.carried, ids)
            session.commit()
        tracker._filmbot_loaded = _Loaded(stored=len(events), carried=loaded.carried, ids=ids)  # type: ignore
        logger.debug("Tracker with sender_id '%s' stored to database", tracker.sender_id)

    def _window_can_move(self, stored: List[Any]) -> bool:
        """Cheap first test of _move_window: more than 2 x keep_turns visitor messages in the stored events
        (counting reverted ones too, so never False where _move_window would move)."""
        return sum(1 for e in stored if isinstance(e, UserUttered)) > 2 * self.keep_turns

    def _move_window(self, session: Any, tracker: DialogueStateTracker, events: List[Any], carried: int,
                     ids: Optional[List[int]]) -> None:
        """With more than 2 x keep_turns visitor turns in memory, stores the slot values before the start
        of the keep_turns-th last turn (or an earlier one, if a loop is active there) as the window's
        new start. The tracker in memory keeps its events; the next retrieve starts there."""
        stored = events[carried:]
        if ids is None or len(ids) != len(stored):
            return
        applied = {id(e) for e in tracker.applied_events()}
        # the visitor's turns that count (a reverted message is no turn of the dialogue's history)
        users = [i for i, e in enumerate(stored) if isinstance(e, UserUttered) and id(e) in applied]
        if len(users) <= 2 * self.keep_turns:
            return
        # the newest of the visitor's last LANGUAGE_LOOKBACK messages that tells a language stays in the
        # window, so that bot.lang.conversation_language answers as it would with the whole history
        last = len(users) - self.keep_turns
        for k in range(len(users) - 1, max(-1, len(users) - 1 - LANGUAGE_LOOKBACK), -1):
            if detect_language(getattr(stored[users[k]], "text", None)):
                last = min(last, k)
                break
        # candidates: that turn, then earlier ones (a loop active at a turn's start: the loop stays whole)
        for k in range(last, max(-1, last - self.keep_turns - 1), -1):
            s = users[k] - 1     # a turn starts with the action_listen before the visitor's message
            if s < 0 or not (isinstance(stored[s], ActionExecuted) and stored[s].action_name == ACTION_LISTEN_NAME):
                continue
            before = DialogueStateTracker.from_events(tracker.sender_id, events[:carried + s],
                                                      self.domain.slots)
            if before.active_loop_name or before.is_paused():
                continue
            slots = {name: slot.value for name, slot in before.slots.items()
                     if getattr(slot, "value", None) != getattr(slot, "initial_value", None)}
            if not self._same_state(tracker, slots, events[carried + s:]):
                continue
            t = self.window_table
            session.execute(t.delete().where(t.c.sender_id == tracker.sender_id))
            session.execute(t.insert().values(sender_id=tracker.sender_id, start_id=ids[s],
                                              start_timestamp=stored[s].timestamp,
                                              slots=json.dumps(slots, ensure_ascii=False), updated_at=time.time()))
            return


    def _same_state(self, tracker: DialogueStateTracker, slots: Dict[str, Any], window: List[Any]) -> bool:
        """Whether the window with these slot values in front gives the tracker's state (a revert in the
        window that reached further back would not)."""
        ts = window[0].timestamp
        replayed = DialogueStateTracker.from_events(
            tracker.sender_id, [SlotSet(k, v, timestamp=ts) for k, v in slots.items()] + list(window),
            self.domain.slots)
        latest = lambda t: t.latest_message.as_dict() if t.latest_message else None  # noqa: E731
        return (replayed.current_slot_values() == tracker.current_slot_values()
                and replayed.active_loop_name == tracker.active_loop_name
                and replayed.latest_action_name == tracker.latest_action_name
                and replayed.is_paused() == tracker.is_paused() and latest(replayed) == latest(tracker))


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.close()
