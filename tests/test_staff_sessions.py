"""Staff sessions live in the tracker database: two page servers on one store share a login, a restart keeps
it, logout and expiry still end it. Real page servers (`python -m bot web`) on a real SQLite tracker file."""
from __future__ import annotations

import sqlite3
import time

from report_seed import endpoints_sqlite, seed_sqlite
from staff_server import PageServer

from bot.tools import staff


def _store(tmp_path):
    db = tmp_path / "tracker.db"
    seed_sqlite(db)
    endpoints = tmp_path / "endpoints.yml"
    endpoints_sqlite(endpoints, db)
    return db, endpoints


def test_two_page_servers_share_a_login_and_a_restart_keeps_it(tmp_path):
    db, endpoints = _store(tmp_path)
    with PageServer(endpoints) as a, PageServer(endpoints) as b:
        cookie = a.login()
        assert b.get_json("/staff/api/stale", cookie)[0] == 200      # logged in on A, used on B
        assert b.get_json("/staff/api/stale")[0] == 401               # (and not without the cookie)
        # only a hash of the session id is stored
        stored = [r[0] for r in sqlite3.connect(db).execute("SELECT id_hash FROM staff_sessions")]
        assert len(stored) == 1 and cookie.split("=", 1)[1] not in stored[0]
    with PageServer(endpoints) as again:                              # both stopped, one started again
        assert again.get_json("/staff/api/stale", cookie)[0] == 200


def test_logout_on_one_server_ends_the_session_on_the_other(tmp_path):
    _, endpoints = _store(tmp_path)
    with PageServer(endpoints) as a, PageServer(endpoints) as b:
        cookie = a.login()
        status, _, _ = b.request("POST", "/staff/logout", b"", {"Cookie": cookie, "Origin": b.base})
        assert status == 303
        assert a.get_json("/staff/api/stale", cookie)[0] == 401


def test_an_expired_session_is_refused_and_removed(tmp_path):
    db, endpoints = _store(tmp_path)
    sessions = staff.session_store(endpoints, hours=1 / 3600)        # one second
    assert isinstance(sessions, staff.SqlSessions)
    sid = sessions.new()
    assert sessions.valid(sid)
    time.sleep(1.2)
    assert not sessions.valid(sid)
    assert sqlite3.connect(db).execute("SELECT COUNT(*) FROM staff_sessions").fetchone()[0] == 0


def test_without_a_sql_tracker_store_sessions_stay_in_the_process(tmp_path):
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text("tracker_store:\n  type: InMemoryTrackerStore\n")
    assert type(staff.session_store(endpoints)) is staff.Sessions
