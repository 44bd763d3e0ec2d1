"""Short load run in `make test` (issue 6, part 5): 10 conversations x 20 messages through REST with
the real action server; no errors, no lost replies (timings are reported, not asserted)."""
from __future__ import annotations

import asyncio
import sys

from reliability_helpers import ROOT, turns

sys.path.insert(0, str(ROOT / "bench"))
import load  # noqa: E402


def test_short_load_no_errors_no_lost_replies(stack):
    result = asyncio.run(load.run_load(stack.url, conversations=10, messages=20, timeout=60, max_seconds=600,
                                       tag="pytest-load"))
    print(load.human(result))
    assert result["errors"] == 0, result["error_samples"]
    assert result["lost_replies"] == 0
    assert result["not_sent"] == 0 and result["answered"] == 200
    assert result["degraded_replies"] == 0, "the action server timed out under a small load"


def test_every_load_message_is_stored_with_a_reply(stack):
    import sqlite3

    con = sqlite3.connect(str(stack.tracker_db))
    senders = [r[0] for r in con.execute("SELECT DISTINCT sender_id FROM events WHERE sender_id LIKE 'pytest-load-%'")]
    con.close()
    assert len(senders) == 10
    for sender in senders:
        stored = turns(stack.tracker_db, sender)
        assert len(stored) == 20, (sender, len(stored))
        assert all(replies for _, replies in stored)
