"""Memory of the Slack events already answered, shared between Rasa processes and kept across restarts.

Slack redelivers an event it got no quick 200 for, and after a restart (or to the other instance behind
the load balancer) a per-process memory has forgotten it: the visitor got a second reply. The store is
chosen from what Rasa already runs (no new server):

- the lock store is Redis (endpoints `lock_store: type: redis` or a subclass such as
  bot.glue.lock_store.AtomicRedisLockStore): one key per id, `SET <prefix>slack_seen:<id> 1 NX EX <ttl>`
  (atomic across instances);
- else the tracker store is SQL (SQLite by default, PostgreSQL in production): a small table
  `filmbot_slack_seen(key PRIMARY KEY, seen_at)` in the same database, insert-if-absent per id in one
  transaction; rows older than the TTL are deleted as new ones arrive;
- else (in-memory tracker and lock store: one process, nothing survives a restart anyway) an in-process
  LRU (`SeenEvents`).

`check_and_add(keys)` records every key and answers whether any of them was seen before (within the TTL,
one hour by default: Slack retries within minutes). The database calls run on a worker thread so the
event loop (other visitors) never waits for them. A failing store is logged and the event is treated as
new: answering twice is better than not answering.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from typing import Any, Callable, Iterable, List, Optional

logger = logging.getLogger(__name__)

TABLE = "filmbot_slack_seen"
MAX_KEY_CHARS = 255


class SeenEvents:
    """Ids of events already accepted: bounded LRU with a time-to-live (one process only)."""

    kind = "memory"

    def __init__(self, max_size: int = 10_000, ttl: float = 3600.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_size = max_size
        self.ttl = ttl
        self.clock = clock
        self._items: "OrderedDict[str, float]" = OrderedDict()

    def _expire(self, now: float) -> None:
        while self._items:
            key, stamp = next(iter(self._items.items()))
            if now - stamp < self.ttl and len(self._items) <= self.max_size:
                break
            self._items.popitem(last=False)

    def __contains__(self, key: str) -> bool:
        now = self.clock()
        self._expire(now)
        return key in self._items

    def check_and_add(self, keys: Iterable[str]) -> bool:
        """True if any key was seen before (within the TTL). Records all keys either way.

        No await inside, so check and add are atomic within the event loop."""
        keys = [k for k in keys if k]
        now = self.clock()
        self._expire(now)
        seen = any(k in self._items for k in keys)
        for key in keys:
            self._items[key] = now
            self._items.move_to_end(key)
        self._expire(now)
        return seen

    async def acheck_and_add(self, keys: Iterable[str]) -> bool:
        return self.check_and_add(keys)

    def __len__(self) -> int:
        return len(self._items)


class RedisSeenEvents:
    kind = "redis"

    def __init__(self, client: Any, prefix: str = "", ttl: float = 3600.0) -> None:
        self.client = client
        self.prefix = f"{prefix}slack_seen:"
        self.ttl = max(1, int(ttl))

    def check_and_add(self, keys: Iterable[str]) -> bool:
        keys = [k for k in keys if k]
        if not keys:
            return False
        pipe = self.client.pipeline(transaction=False)
        for key in keys:
            pipe.set(self.prefix + key, 1, nx=True, ex=self.ttl)
        return not all(pipe.execute())

    async def acheck_and_add(self, keys: Iterable[str]) -> bool:
        return await asyncio.get_running_loop().run_in_executor(None, self.check_and_add, list(keys))


class SqlSeenEvents:
    kind = "sql"

    def __init__(self, engine: Any, ttl: float = 3600.0, clock: Callable[[], float] = time.time) -> None:
        import sqlalchemy as sa

        self.engine = engine
        self.ttl = ttl
        self.clock = clock
        self.table = sa.Table(TABLE, sa.MetaData(),
                              sa.Column("key", sa.String(MAX_KEY_CHARS), primary_key=True),
                              sa.Column("seen_at", sa.Float, nullable=False, index=True))
        self.table.metadata.create_all(engine, checkfirst=True)

    def _insert_if_absent(self, conn: Any, key: str, now: float) -> bool:
        """True when the key was new (inserted)."""
        dialect = self.engine.dialect.name
        values = {"key": key, "seen_at": now}
        if dialect in ("postgresql", "sqlite"):
            module = __import__(f"sqlalchemy.dialects.{dialect}", fromlist=["insert"])
            result = conn.execute(module.insert(self.table).values(**values).on_conflict_do_nothing())
            return result.rowcount == 1
        import sqlalchemy as sa

        try:
            with conn.begin_nested():
                conn.execute(self.table.insert().values(**values))
            return True
        except sa.exc.IntegrityError:
            return False

    def check_and_add(self, keys: Iterable[str]) -> bool:
        keys = [k[:MAX_KEY_CHARS] for k in keys if k]
        if not keys:
            return False
        now = self.clock()
        with self.engine.begin() as conn:
            conn.execute(self.table.delete().where(self.table.c.seen_at < now - self.ttl))
            new = [self._insert_if_absent(conn, key, now) for key in keys]
        return not all(new)

    async def acheck_and_add(self, keys: Iterable[str]) -> bool:
        return await asyncio.get_running_loop().run_in_executor(None, self.check_and_add, list(keys))


def _unwrap(store: Any, attribute: str) -> Optional[Any]:
    """The store itself or the one it wraps (Rasa wraps tracker stores in FailSafe/Awaitable stores)."""
    for _ in range(5):
        if store is None:
            return None
        if getattr(store, attribute, None) is not None:
            return store
        store = getattr(store, "_tracker_store", None) or getattr(store, "tracker_store", None)
    return None


def store_for_agent(agent: Any, ttl: float = 3600.0, max_size: int = 10_000) -> Any:
    """The shared store for the agent's tracker/lock store configuration (module docstring)."""
    lock_store = getattr(agent, "lock_store", None)
    try:
        if lock_store is not None and getattr(lock_store, "red", None) is not None:
            return RedisSeenEvents(lock_store.red, getattr(lock_store, "key_prefix", "") or "", ttl)
        tracker_store = _unwrap(getattr(agent, "tracker_store", None), "engine")
        if tracker_store is not None:
            return SqlSeenEvents(tracker_store.engine, ttl)
    except Exception as exc:  # noqa: BLE001 - fall back rather than refuse to answer
        logger.warning("Slack: shared memory of seen events unavailable (%s: %s); using this process only",
                       type(exc).__name__, exc)
    return SeenEvents(max_size, ttl)


def describe(store: Any) -> str:
    return {"memory": "this process only", "redis": "Redis (lock store)",
            "sql": "the tracker store's database"}.get(getattr(store, "kind", ""), "?")


__all__: List[str] = ["SeenEvents", "RedisSeenEvents", "SqlSeenEvents", "store_for_agent", "describe"]
