"""The staff page `/staff` on the page server (bot/tools/web.py): the report of bot/tools/report.py for a chosen period,
one conversation's transcript, and the registry facts to check (bot/tools/upkeep.py).

Closed (404 for everything under /staff) unless FILMBOT_STAFF_TOKEN is set to a token of at least
MIN_TOKEN_LENGTH characters. Then:
- `/staff/login`: a form; POST with the token (compared with hmac.compare_digest) starts a session: a random
  id (valid SESSION_HOURS hours) in an HttpOnly, SameSite=Strict cookie with Path=/staff (Secure when the
  page is served over https). Sessions live in the tracker database (table `staff_sessions`, the id's
  SHA-256 and its expiry), so every page server on that database knows them and a restart keeps them; with
  no SQL tracker store (the in-memory one) they live in the process. A wrong token gets
  401 and the form again; after MAX_FAILURES wrong tokens from one address within FAILURE_WINDOW seconds,
  429 until the window has passed. `POST /staff/logout` ends the session.
- Without a session, `/staff` and its pages answer 303 to /staff/login and `/staff/api/*` 401 (JSON).
- Every POST must come from this origin (Origin, or else Referer, naming this host): with SameSite=Strict
  that keeps other sites from posting with a staff member's cookie (CSRF). /staff/api/confirm takes JSON only.
- Pages are static files in web/staff/ (HTML, JS, CSS; no inline script or style), served only to a
  session, with a Content-Security-Policy that allows scripts, styles and connections to this server only.
  The pages fetch the JSON endpoints: `/staff/api/report?since=&until=`, `/staff/api/conversation?sender=`,
  `/staff/api/stale` and `POST /staff/api/confirm` {centre, kind?, key?, by}. Visitor text is put on the
  page with textContent only.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import secrets
import time
from collections import deque
from pathlib import Path
from typing import Any, Deque, Dict, Optional
from urllib.parse import urlsplit

from bot.paths import ROOT

STAFF_DIR = ROOT / "web" / "staff"
COOKIE = "filmbot_staff"
MIN_TOKEN_LENGTH = 16
SESSION_HOURS = 8
MAX_FAILURES = 10
FAILURE_WINDOW = 900
TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
         ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
           "Referrer-Policy": "same-origin", "Cache-Control": "no-store"}
LOGIN_ERROR = '<p class="error" role="alert">Fel inloggningsnyckel. Försök igen.</p>'
LOGIN_LOCKED = ('<p class="error" role="alert">För många felaktiga försök. Vänta en stund och försök '
                'igen.</p>')
PUBLIC = {"/staff/login", "/staff/login.css"}


def staff_token(value: Optional[str] = None) -> Optional[str]:
    """The token that opens /staff, or None (closed)."""
    token = (value if value is not None else os.environ.get("FILMBOT_STAFF_TOKEN", "")).strip()
    return token or None


def token_problem(token: Optional[str]) -> Optional[str]:
    if token is not None and len(token) < MIN_TOKEN_LENGTH:
        return (f"FILMBOT_STAFF_TOKEN is shorter than {MIN_TOKEN_LENGTH} characters; /staff stays closed "
                "(make one with: python3 -c 'import secrets; print(secrets.token_urlsafe(24))')")
    return None


class Sessions:
    """Session ids of logged-in staff in this process, each with its expiry time."""

    def __init__(self, hours: float = SESSION_HOURS):
        self.ttl = hours * 3600
        self._ids: Dict[str, float] = {}

    def new(self) -> str:
        self._expire()
        sid = secrets.token_urlsafe(32)
        self._ids[sid] = time.time() + self.ttl
        return sid

    def valid(self, sid: Optional[str]) -> bool:
        if not sid:
            return False
        expiry = self._ids.get(sid)
        if expiry is None:
            return False
        if expiry < time.time():
            self._ids.pop(sid, None)
            return False
        return True

    def drop(self, sid: Optional[str]) -> None:
        if sid:
            self._ids.pop(sid, None)

    def _expire(self) -> None:
        now = time.time()
        for sid in [s for s, e in self._ids.items() if e < now]:
            del self._ids[sid]


class SqlSessions(Sessions):
    """Sessions in a SQL database (the tracker store's): shared by every page server on it, kept across
    restarts. Only the SHA-256 of a session id is stored."""

    TABLE = "staff_sessions"

    def __init__(self, url: Any, hours: float = SESSION_HOURS):
        import sqlalchemy as sa

        super().__init__(hours)
        self.url = url
        self._engine = None
        self._meta = sa.MetaData()
        self.table = sa.Table(self.TABLE, self._meta, sa.Column("id_hash", sa.String(64), primary_key=True),
                              sa.Column("expires", sa.Float, nullable=False))

    @property
    def engine(self):
        """Connected on first use (a database still starting does not stop the page server)."""
        if self._engine is None:
            import sqlalchemy as sa

            engine = sa.create_engine(self.url, pool_pre_ping=True)
            self._meta.create_all(engine, checkfirst=True)
            self._engine = engine
        return self._engine

    @staticmethod
    def _hash(sid: str) -> str:
        return hashlib.sha256(sid.encode("utf-8")).hexdigest()

    def new(self) -> str:
        self._expire()
        sid = secrets.token_urlsafe(32)
        with self.engine.begin() as conn:
            conn.execute(self.table.insert().values(id_hash=self._hash(sid), expires=time.time() + self.ttl))
        return sid

    def valid(self, sid: Optional[str]) -> bool:
        if not sid:
            return False
        with self.engine.connect() as conn:
            row = conn.execute(self.table.select().where(self.table.c.id_hash == self._hash(sid))).first()
        if row is None:
            return False
        if row.expires < time.time():
            self.drop(sid)
            return False
        return True

    def drop(self, sid: Optional[str]) -> None:
        if sid:
            with self.engine.begin() as conn:
                conn.execute(self.table.delete().where(self.table.c.id_hash == self._hash(sid)))

    def _expire(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(self.table.delete().where(self.table.c.expires < time.time()))


def session_store(endpoints: Optional[os.PathLike] = None, hours: float = SESSION_HOURS) -> Sessions:
    """Sessions in the tracker store's SQL database when the endpoints name one, else in this process."""
    from bot.tools.report import ReportError, store_url

    try:
        url = store_url(endpoints)
    except ReportError:
        return Sessions(hours)
    return SqlSessions(url, hours) if url else Sessions(hours)


def same_origin(request) -> bool:
    """The POST comes from a page of this server: Origin (or, without one, Referer) names this host."""
    source = request.headers.get("Origin") or request.headers.get("Referer")
    if not source or source == "null":
        return False
    parts = urlsplit(source)
    return parts.scheme in ("http", "https") and parts.netloc.lower() == (request.host or "").lower()


def add_routes(app, token: Optional[str], endpoints: Optional[os.PathLike] = None,
               staff_dir: Path = STAFF_DIR) -> None:
    """Register /staff on an aiohttp app: closed (404) without a token, else the login and the pages."""
    from aiohttp import web

    if token is None or token_problem(token):
        async def closed(_request: web.Request) -> web.Response:
            raise web.HTTPNotFound()

        app.router.add_route("*", "/staff", closed)
        app.router.add_route("*", "/staff/{tail:.*}", closed)
        return

    sessions = session_store(endpoints)
    failures: Dict[str, Deque[float]] = {}
    expected = hashlib.sha256(token.encode("utf-8")).digest()
    holder: Dict[str, Any] = {}

    def store():
        from bot.tools.report import Store

        if "store" not in holder:
            holder["store"] = Store(endpoints)     # raises ReportError (a bad endpoints file): not kept
        return holder["store"]

    def page(name: str, status: int = 200, replace: Optional[Dict[str, str]] = None) -> web.Response:
        path = staff_dir / name
        body = path.read_text(encoding="utf-8")
        for old, new in (replace or {}).items():
            body = body.replace(old, new)
        return web.Response(text=body, status=status, headers={**HEADERS, "Content-Type": TYPES[path.suffix]})

    def as_json(data: Any, status: int = 200) -> web.Response:
        return web.Response(text=json.dumps(data, ensure_ascii=False), status=status,
                            headers={**HEADERS, "Content-Type": "application/json; charset=utf-8"})

    def logged_in(request: web.Request) -> bool:
        return sessions.valid(request.cookies.get(COOKIE))

    @web.middleware
    async def guard(request: web.Request, handler):
        path = request.path
        if path != "/staff" and not path.startswith("/staff/"):
            return await handler(request)
        if request.method == "POST" and not same_origin(request):
            return as_json({"error": "förfrågan kom inte från personalsidan"}, 403)
        if path in PUBLIC or logged_in(request):
            return await handler(request)
        if path.startswith("/staff/api/"):
            return as_json({"error": "inte inloggad"}, 401)
        raise web.HTTPSeeOther("/staff/login", headers=HEADERS)

    async def login_form(request: web.Request) -> web.Response:
        if logged_in(request):
            raise web.HTTPSeeOther("/staff", headers=HEADERS)
        return page("login.html", replace={"<!--error-->": ""})

    async def login(request: web.Request) -> web.Response:
        client = request.remote or "?"
        recent = failures.setdefault(client, deque())
        now = time.time()
        while recent and recent[0] < now - FAILURE_WINDOW:
            recent.popleft()
        if len(recent) >= MAX_FAILURES:
            return page("login.html", 429, {"<!--error-->": LOGIN_LOCKED})
        form = await request.post()
        given = form.get("token")
        given = given.strip().encode("utf-8") if isinstance(given, str) else b""
        # digests of equal length, so the comparison does not even tell the token's length
        if not hmac.compare_digest(hashlib.sha256(given).digest(), expected):
            recent.append(now)
            await asyncio.sleep(0.2)        # a guess costs time
            return page("login.html", 401, {"<!--error-->": LOGIN_ERROR})
        failures.pop(client, None)
        sessions.drop(request.cookies.get(COOKIE))
        resp = web.HTTPSeeOther("/staff", headers=HEADERS)
        secure = request.secure or request.headers.get("X-Forwarded-Proto", "").lower() == "https"
        resp.set_cookie(COOKIE, sessions.new(), path="/staff", httponly=True, samesite="Strict",
                        secure=secure, max_age=int(sessions.ttl))
        raise resp

    async def logout(request: web.Request) -> web.Response:
        sessions.drop(request.cookies.get(COOKIE))
        resp = web.HTTPSeeOther("/staff/login", headers=HEADERS)
        resp.del_cookie(COOKIE, path="/staff")
        raise resp

    async def index(_request: web.Request) -> web.Response:
        return page("index.html")

    async def transcript_page(_request: web.Request) -> web.Response:
        return page("conversation.html")

    async def asset(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        path = staff_dir / name
        if "/" in name or name.startswith(".") or path.suffix not in (".js", ".css", ".svg") or not path.is_file():
            raise web.HTTPNotFound()
        return web.Response(body=path.read_bytes(), headers={**HEADERS, "Content-Type": TYPES[path.suffix]})

    async def login_css(_request: web.Request) -> web.Response:
        return web.Response(body=(staff_dir / "login.css").read_bytes(),
                            headers={**HEADERS, "Content-Type": TYPES[".css"]})

    async def in_thread(fn, *args, **kwargs):
        return await asyncio.get_running_loop().run_in_executor(None, lambda: fn(*args, **kwargs))

    async def api_report(request: web.Request) -> web.Response:
        from bot.tools.report import ReportError, build_report, period

        try:
            since, until = period(request.query.get("since"), request.query.get("until"))
        except ReportError as exc:
            return as_json({"error": str(exc)}, 400)
        try:
            return as_json(await in_thread(build_report, since, until, store=store()))
        except ReportError as exc:
            return as_json({"error": str(exc)}, 503)

    async def api_conversation(request: web.Request) -> web.Response:
        from bot.tools.report import ReportError, conversation

        sender = request.query.get("sender", "")
        if not sender:
            return as_json({"error": "ange sender"}, 400)
        try:
            result = await in_thread(conversation, sender, store=store())
        except ReportError as exc:
            return as_json({"error": str(exc)}, 503)
        if not result["messages"]:
            return as_json({"error": f"inget samtal med id {sender}"}, 404)
        return as_json(result)

    async def api_stale(_request: web.Request) -> web.Response:
        from bot.tools import upkeep
        try:
            facts = await in_thread(upkeep.stale)
        except ValueError as exc:
            return as_json({"error": str(exc)}, 503)
        return as_json({"facts": facts})

    async def api_confirm(request: web.Request) -> web.Response:
        if request.content_type != "application/json":
            return as_json({"error": "skicka JSON"}, 415)
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return as_json({"error": "skicka ett JSON-objekt"}, 400)
        centre, kind, key, by = (body.get(k) for k in ("centre", "kind", "key", "by"))
        by = by.strip() if isinstance(by, str) else ""
        if not isinstance(centre, str) or not centre:
            return as_json({"error": "ange vilken verksamhet (centre)"}, 400)
        if not by:
            return as_json({"error": "skriv ditt namn, så syns vem som bekräftade"}, 400)
        if any(v is not None and not isinstance(v, str) for v in (kind, key)):
            return as_json({"error": "kind och key är text"}, 400)
        from bot.tools import upkeep
        try:
            n = await in_thread(upkeep.confirm, centre, kind=kind or None, key=key or None, by=by[:80])
        except ValueError as exc:
            return as_json({"error": str(exc)}, 400)
        return as_json({"confirmed": n, "centre": centre, "kind": kind, "key": key, "by": by[:80]})

    app.middlewares.append(guard)
    r = app.router
    r.add_get("/staff", index)
    r.add_get("/staff/", index)
    r.add_get("/staff/login", login_form)
    r.add_post("/staff/login", login)
    r.add_get("/staff/login.css", login_css)
    r.add_post("/staff/logout", logout)
    r.add_get("/staff/conversation", transcript_page)
    r.add_get("/staff/assets/{name}", asset)
    r.add_get("/staff/api/report", api_report)
    r.add_get("/staff/api/conversation", api_conversation)
    r.add_get("/staff/api/stale", api_stale)
    r.add_post("/staff/api/confirm", api_confirm)

    async def other(request: web.Request) -> web.Response:
        if request.path.startswith("/staff/api/"):
            return as_json({"error": "finns inte"}, 404)
        raise web.HTTPNotFound()

    r.add_route("*", "/staff/{tail:.*}", other)
