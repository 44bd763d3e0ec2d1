"""The staff report on PostgreSQL: the seeded conversations of tests/report_seed.py stored through Rasa's
SQLTrackerStore in a throw-away PostgreSQL cluster (started as `make test-scale` does, tests/scale/), then
`python -m bot report --format json` must give the hand-made counts, the same report as on SQLite, and the
same as the staff page's /staff/api/report for the period."""
from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import pytest

from report_seed import PERIOD, endpoints_sqlite, seed, seed_sqlite
from staff_server import PageServer
from bot.tools.stack import ROOT
from test_report import run_cli, check_expected

sys.path.insert(0, str(Path(__file__).resolve().parent / "scale"))
from scale_stack import DB_NAME, DB_PASSWORD, DB_USER, ScaleStack  # noqa: E402

VOLATILE = ("generated", "store")


@pytest.fixture(scope="module")
def postgres():
    # its own folder under /tmp (the postgres user cannot enter pytest's private tmp folders)
    stack = ScaleStack(model=ROOT / "models" / "unused.tar.gz",
                       workdir=Path(tempfile.mkdtemp(prefix="filmbot-report-pg-")))
    try:
        stack.start_postgres()
        yield stack
    finally:
        stack.stop()
        stack.cleanup()


def _same(a, b):
    return {k: v for k, v in a.items() if k not in VOLATILE} == {k: v for k, v in b.items() if k not in VOLATILE}


def test_report_on_postgres_matches_sqlite_and_page(postgres, tmp_path):
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain

    seed(SQLTrackerStore(Domain.empty(), dialect="postgresql", host="127.0.0.1", port=postgres.pg_port,
                         db=DB_NAME, username=DB_USER, password=DB_PASSWORD))
    assert int(postgres.psql("SELECT count(*) FROM events WHERE type_name = 'user'")) == 14 + 9   # messages + feedback
    pg_endpoints = tmp_path / "endpoints.pg.yml"
    pg_endpoints.write_text(f"tracker_store:\n  type: SQL\n  dialect: postgresql\n  url: 127.0.0.1\n"
                            f"  port: {postgres.pg_port}\n  db: {DB_NAME}\n  username: {DB_USER}\n"
                            f"  password: {DB_PASSWORD}\n")
    db = tmp_path / "tracker.db"
    seed_sqlite(db)
    sqlite_endpoints = tmp_path / "endpoints.sqlite.yml"
    endpoints_sqlite(sqlite_endpoints, db)

    period = ["--since", PERIOD[0], "--until", PERIOD[1], "--format", "json"]
    on_pg = run_cli(*period, "--endpoints", str(pg_endpoints))
    assert on_pg.returncode == 0, on_pg.stderr
    pg_report = check_expected(json.loads(on_pg.stdout))
    assert pg_report["store"].startswith("postgresql://filmbot:***@127.0.0.1:")
    on_sqlite = run_cli(*period, "--endpoints", str(sqlite_endpoints))
    assert on_sqlite.returncode == 0, on_sqlite.stderr
    assert _same(pg_report, json.loads(on_sqlite.stdout))

    # PostgreSQL picks the fields in SQL; reading the rows whole gives the same
    from bot.tools.report import build_report, store_url

    whole = build_report(*PERIOD, url=store_url(pg_endpoints), in_sql=False)
    assert _same(whole, pg_report)
    from bot.tools.report import FIELDS, Store, _rows_sql

    store = Store(pg_endpoints)
    try:
        picked = store.query(_rows_sql("postgresql"), {"start": 0.0, "end": 2e9}, raw_errors=True)
    finally:
        store.dispose()
    assert len(picked) == 14 + 9 + 18 and all(len(json.loads(r[3])) == len(FIELDS) for r in picked)

    with PageServer(pg_endpoints, log=tmp_path / "web.log") as web:
        cookie = web.login()
        status, page = web.get_json(f"/staff/api/report?since={PERIOD[0]}&until={PERIOD[1]}", cookie)
        assert status == 200, page
        assert _same(page, pg_report)
        status, conv = web.get_json("/staff/api/conversation?sender=web-xss", cookie)
        assert status == 200 and [m["who"] for m in conv["messages"]] == ["user", "bot", "feedback", "user", "bot"]
