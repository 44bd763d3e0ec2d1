"""(Rasa) Redis lock store for several Rasa instances: Rasa 3.6's RedisLockStore with two defects fixed.

Used by endpoints.prod.yml (`lock_store: type: bot.glue.lock_store.AtomicRedisLockStore`, same keys as
Rasa's `type: redis`: url, port, db, password, key_prefix, ...). Found by tests/scale/scale_check.py:

1. A waiting ticket expires while it waits. Rasa issues every ticket with the same lifetime
   (TICKET_LOCK_LIFETIME, default 60 s) and never renews it. When an instance dies while it holds a
   conversation's ticket (crash, OOM kill, SIGKILL) and the next message of that conversation arrives
   less than one poll interval later (exactly what a load balancer's retry does), the dead ticket and the
   waiting one expire in the same poll interval; the lock is then left with no ticket, the waiter is
   never served and the request hangs until Sanic's 60 s response timeout answers 503. Here a waiter
   renews its own ticket on every poll, so it is served as soon as the dead ticket expires.
2. Rasa reads, changes and writes the lock JSON in separate Redis calls (GET then SET), so two instances
   issuing or releasing tickets of one conversation at the same moment can overwrite each other (two
   messages processed at once, or a lost ticket). Here each change is one WATCH/MULTI transaction.

Polls every 0.2 s instead of Rasa's 1 s, so queued messages of one conversation follow each other faster.
The Redis key expires on its own (2 × lifetime) when every instance using it is gone.
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
from contextlib import asynccontextmanager
from typing import Any, AsyncGenerator, Callable, Optional, Text, Tuple, TypeVar

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.2
T = TypeVar("T")


class AtomicRedisLockStore(RedisLockStore):
    """RedisLockStore with atomic ticket updates and waiting tickets that do not expire."""

    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, **kwargs: Any) -> None:
        # Rasa builds a lock store named by module path with only `endpoint_config=`
        if endpoint_config is not None:
            kwargs = {"host": endpoint_config.url or "localhost", **endpoint_config.kwargs, **kwargs}
        super().__init__(**kwargs)

    def _update(self, conversation_id: Text,
                change: Callable[[Optional[TicketLock]], Tuple[T, Optional[TicketLock]]],
                lifetime: float = LOCK_LIFETIME) -> T:
        """Apply `change` to the stored lock in one transaction; a returned lock None deletes the key."""
        key = self.key_prefix + conversation_id

        def transaction(pipe) -> T:  # type: ignore[no-untyped-def]
            raw = pipe.get(key)
            lock = TicketLock.from_dict(json.loads(raw)) if raw else None
            result, new_lock = change(lock)
            pipe.multi()
            if new_lock is None or not new_lock.tickets:
                pipe.delete(key)
            else:
                pipe.set(key, new_lock.dumps(), ex=max(1, int(2 * lifetime)))
            return result

        return self.red.transaction(transaction, key, value_from_callable=True)

    def issue_ticket(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME) -> int:
        def change(lock: Optional[TicketLock]) -> Tuple[int, TicketLock]:
            lock = lock or TicketLock(conversation_id)
            return lock.issue_ticket(lock_lifetime), lock

        try:
            return self._update(conversation_id, change, lock_lifetime)
        except Exception as e:
            raise LockError(f"Error while acquiring lock. Error:\n{e}")

    def _poll(self, conversation_id: Text, ticket: int, lifetime: float) -> Tuple[int, bool]:
        """Renew our ticket, drop expired ones; return (our ticket number, whether it is our turn)."""

        def change(lock: Optional[TicketLock]) -> Tuple[Tuple[int, bool], TicketLock]:
            lock = lock or TicketLock(conversation_id)
            now = time.time()
            mine = next((t for t in lock.tickets if t.number == ticket), None)
            for t in list(lock.tickets):
                if t is not mine and t.expires < now:
                    lock.tickets.remove(t)
            if mine is None:
                # our ticket vanished (the key expired, e.g. after a Redis restart): queue again at the end
                number = lock.issue_ticket(lifetime)
            else:
                mine.expires = now + lifetime
                number = ticket
            return (number, lock.tickets[0].number == number), lock

        return self._update(conversation_id, change, lifetime)

    def cleanup(self, conversation_id: Text, ticket_number: int) -> None:
        def change(lock: Optional[TicketLock]) -> Tuple[None, Optional[TicketLock]]:
            if lock is None:
                return None, None
            now = time.time()
            for t in list(lock.tickets):
                if t.number == ticket_number or t.expires < now:
                    lock.tickets.remove(t)
            return None, lock

        self._update(conversation_id, change)

    @asynccontextmanager
    async def lock(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME,
                   wait_time_in_seconds: float = POLL_SECONDS) -> AsyncGenerator[TicketLock, None]:
        ticket = self.issue_ticket(conversation_id, lock_lifetime)
        try:
            while True:
                ticket, my_turn = self._poll(conversation_id, ticket, lock_lifetime)
                if my_turn:
                    break
                await asyncio.sleep(min(wait_time_in_seconds, POLL_SECONDS))
            logger.debug(f"Acquired lock for conversation '{conversation_id}'.")
            yield TicketLock(conversation_id, tickets=None)
        finally:
            self.cleanup(conversation_id, ticket)


