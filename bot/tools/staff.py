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
from typing import Any, Deque, Dict, Optional, Tuple
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


def _response(body: Any, status: int = 200, content_type: str = TYPES[".html"]) -> Any:
    """A response with the staff pages' security headers (text for a str body, bytes otherwise)."""
    from aiohttp import web

    headers = {**HEADERS, "Content-Type": content_type}
    if isinstance(body, str):
        return web.Response(text=body, status=status, headers=headers)
    return web.Response(body=body, status=status, headers=headers)


def _as_json(data: Any, status: int = 200) -> Any:
    """A JSON response."""
    return _response(json.dumps(data, ensure_ascii=False), status, "application/json; charset=utf-8")


async def _in_thread(fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` in the default executor, so a slow database does not block the server."""
    return await asyncio.get_running_loop().run_in_executor(None, lambda: fn(*args, **kwargs))


async def _closed(_request) -> Any:
    """Everything under /staff when no token opens it."""
    from aiohttp import web

    raise web.HTTPNotFound()


class StaffSite:
    """The handlers of an open /staff: sessions, the login with its failure count, pages and JSON endpoints."""

    def __init__(self, token: str, endpoints: Optional[os.PathLike] = None, staff_dir: Path = STAFF_DIR) -> None:
        self.sessions = session_store(endpoints)
        self.failures: Dict[str, Deque[float]] = {}
        self.expected = hashlib.sha256(token.encode("utf-8")).digest()
        self.endpoints = endpoints
        self.staff_dir = staff_dir
        self._store: Any = None

    # --- helpers

    def store(self) -> Any:
        """The tracker store, opened on first use (a bad endpoints file raises ReportError and is not kept)."""
        from bot.tools.report import Store

        if self._store is None:
            self._store = Store(self.endpoints)
        return self._store

    def page(self, name: str, status: int = 200, replace: Optional[Dict[str, str]] = None) -> Any:
        """A static page of staff_dir, with placeholders replaced."""
        path = self.staff_dir / name
        body = path.read_text(encoding="utf-8")
        for old, new in (replace or {}).items():
            body = body.replace(old, new)
        return _response(body, status, TYPES[path.suffix])

    def logged_in(self, request) -> bool:
        """The request carries a valid session cookie."""
        return self.sessions.valid(request.cookies.get(COOKIE))

    def _locked(self, client: str, now: float) -> Tuple[Deque[float], bool]:
        """(the client's recent failures, expired ones dropped; whether it has too many to try again)."""
        recent = self.failures.setdefault(client, deque())
        while recent and recent[0] < now - FAILURE_WINDOW:
            recent.popleft()
        return recent, len(recent) >= MAX_FAILURES

    # --- middleware and pages

    async def guard(self, request, handler):
        """Under /staff: POSTs only from this origin, pages and API only with a session."""
        from aiohttp import web

        path = request.path
        if path != "/staff" and not path.startswith("/staff/"):
            return await handler(request)
        if request.method == "POST" and not same_origin(request):
            return _as_json({"error": "förfrågan kom inte från personalsidan"}, 403)
        if path in PUBLIC or self.logged_in(request):
            return await handler(request)
        if path.startswith("/staff/api/"):
            return _as_json({"error": "inte inloggad"}, 401)
        raise web.HTTPSeeOther("/staff/login", headers=HEADERS)

    async def login_form(self, request) -> Any:
        """GET /staff/login: the form, or the staff page for a session."""
        from aiohttp import web

        if self.logged_in(request):
            raise web.HTTPSeeOther("/staff", headers=HEADERS)
        return self.page("login.html", replace={"<!--error-->": ""})

    async def login(self, request) -> Any:
        """POST /staff/login: the right token starts a session; a wrong one counts as a failure."""
        from aiohttp import web

        client = request.remote or "?"
        now = time.time()
        recent, locked = self._locked(client, now)
        if locked:
            return self.page("login.html", 429, {"<!--error-->": LOGIN_LOCKED})
        form = await request.post()
        given = form.get("token")
        given = given.strip().encode("utf-8") if isinstance(given, str) else b""
        # digests of equal length, so the comparison does not even tell the token's length
        if not hmac.compare_digest(hashlib.sha256(given).digest(), self.expected):
            recent.append(now)
            await asyncio.sleep(0.2)        # a guess costs time
            return self.page("login.html", 401, {"<!--error-->": LOGIN_ERROR})
        self.failures.pop(client, None)
        self.sessions.drop(request.cookies.get(COOKIE))
        resp = web.HTTPSeeOther("/staff", headers=HEADERS)
        secure = request.secure or request.headers.get("X-Forwarded-Proto", "").lower() == "https"
        resp.set_cookie(COOKIE, self.sessions.new(), path="/staff", httponly=True, samesite="Strict",
                        secure=secure, max_age=int(self.sessions.ttl))
        raise resp

    async def logout(self, request) -> Any:
        """POST /staff/logout: the session ends."""
        from aiohttp import web

        self.sessions.drop(request.cookies.get(COOKIE))
        resp = web.HTTPSeeOther("/staff/login", headers=HEADERS)
        resp.del_cookie(COOKIE, path="/staff")
        raise resp

    async def index(self, _request) -> Any:
        """GET /staff: the report page."""
        return self.page("index.html")

    async def transcript_page(self, _request) -> Any:
        """GET /staff/conversation: the transcript page."""
        return self.page("conversation.html")

    async def asset(self, request) -> Any:
        """GET /staff/assets/{name}: a script, style sheet or image of staff_dir."""
        from aiohttp import web

        name = request.match_info["name"]
        path = self.staff_dir / name
        if "/" in name or name.startswith(".") or path.suffix not in (".js", ".css", ".svg") or not path.is_file():
            raise web.HTTPNotFound()
        return _response(path.read_bytes(), content_type=TYPES[path.suffix])

    async def login_css(self, _request) -> Any:
        """GET /staff/login.css: the login form's style sheet (served without a session)."""
        return _response((self.staff_dir / "login.css").read_bytes(), content_type=TYPES[".css"])

    # --- JSON endpoints

    async def api_report(self, request) -> Any:
        """GET /staff/api/report?since=&until=: the report of a period."""
        from bot.tools.report import ReportError, build_report, period

        try:
            since, until = period(request.query.get("since"), request.query.get("until"))
        except ReportError as exc:
            return _as_json({"error": str(exc)}, 400)
        try:
            return _as_json(await _in_thread(build_report, since, until, store=self.store()))
        except ReportError as exc:
            return _as_json({"error": str(exc)}, 503)

    async def api_conversation(self, request) -> Any:
        """GET /staff/api/conversation?sender=: one visitor's transcript."""
        from bot.tools.report import ReportError, conversation

        sender = request.query.get("sender", "")
        if not sender:
            return _as_json({"error": "ange sender"}, 400)
        try:
            result = await _in_thread(conversation, sender, store=self.store())
        except ReportError as exc:
            return _as_json({"error": str(exc)}, 503)
        if not result["messages"]:
            return _as_json({"error": f"inget samtal med id {sender}"}, 404)
        return _as_json(result)

    async def api_stale(self, _request) -> Any:
        """GET /staff/api/stale: the registry facts due for checking."""
        from bot.tools import upkeep
        try:
            facts = await _in_thread(upkeep.stale)
        except ValueError as exc:
            return _as_json({"error": str(exc)}, 503)
        return _as_json({"facts": facts})

    async def api_confirm(self, request) -> Any:
        """POST /staff/api/confirm {centre, kind?, key?, by}: facts checked and still right."""
        if request.content_type != "application/json":
            return _as_json({"error": "skicka JSON"}, 415)
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return _as_json({"error": "skicka ett JSON-objekt"}, 400)
        centre, kind, key, by = (body.get(k) for k in ("centre", "kind", "key", "by"))
        by = by.strip() if isinstance(by, str) else ""
        if not isinstance(centre, str) or not centre:
            return _as_json({"error": "ange vilken verksamhet (centre)"}, 400)
        if not by:
            return _as_json({"error": "skriv ditt namn, så syns vem som bekräftade"}, 400)
        if any(v is not None and not isinstance(v, str) for v in (kind, key)):
            return _as_json({"error": "kind och key är text"}, 400)
        from bot.tools import upkeep
        try:
            n = await _in_thread(upkeep.confirm, centre, kind=kind or None, key=key or None, by=by[:80])
        except ValueError as exc:
            return _as_json({"error": str(exc)}, 400)
        return _as_json({"confirmed": n, "centre": centre, "kind": kind, "key": key, "by": by[:80]})

    async def other(self, request) -> Any:
        """Anything else under /staff: 404 (JSON under /staff/api/)."""
        from aiohttp import web

        if request.path.startswith("/staff/api/"):
            return _as_json({"error": "finns inte"}, 404)
        raise web.HTTPNotFound()


def add_routes(app, token: Optional[str], endpoints: Optional[os.PathLike] = None,
               staff_dir: Path = STAFF_DIR) -> None:
    """Register /staff on an aiohttp app: closed (404) without a token, else the login and the pages."""
    from aiohttp import web

    r = app.router
    if token is None or token_problem(token):
        r.add_route("*", "/staff", _closed)
        r.add_route("*", "/staff/{tail:.*}", _closed)
        return
    site = StaffSite(token, endpoints, staff_dir)

    @web.middleware
    async def guard(request, handler):
        """The site's guard as aiohttp middleware."""
        return await site.guard(request, handler)

    app.middlewares.append(guard)
    r.add_get("/staff", site.index)
    r.add_get("/staff/", site.index)
    r.add_get("/staff/login", site.login_form)
    r.add_post("/staff/login", site.login)
    r.add_get("/staff/login.css", site.login_css)
    r.add_post("/staff/logout", site.logout)
    r.add_get("/staff/conversation", site.transcript_page)
    r.add_get("/staff/assets/{name}", site.asset)
    r.add_get("/staff/api/report", site.api_report)
    r.add_get("/staff/api/conversation", site.api_conversation)
    r.add_get("/staff/api/stale", site.api_stale)
    r.add_post("/staff/api/confirm", site.api_confirm)
    r.add_route("*", "/staff/{tail:.*}", site.other)
