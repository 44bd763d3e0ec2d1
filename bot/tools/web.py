"""`python -m bot web`: serves the chat page and widget in web/ with a small aiohttp server.

    python -m bot web --port 8000 --rasa-url http://localhost:5005 [--host 127.0.0.1] [--endpoints FILE]

Routes: `/` (web/index.html), `/config.js` (``window.FILMBOT_CONFIG = {"rasaUrl": ...}``, written from
--rasa-url), `/socket.io.min.js` (from web/node_modules/socket.io-client, installed by scripts/setup.sh)
and the static files directly in web/ (widget.js, widget.css, page.css, ...). Nothing else under web/ is
served. Every response carries a Content-Security-Policy that allows scripts only from this server and
connections only to this server and the Rasa server.

`/staff` (bot/tools/staff.py, pages in web/staff/): the staff page, closed (404) unless FILMBOT_STAFF_TOKEN is
set; it reads the tracker store named in --endpoints (default: $FILMBOT_ENDPOINTS or endpoints.yml).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Optional
from urllib.parse import urlsplit

from bot.paths import ROOT

WEB_DIR = ROOT / "web"
SOCKET_IO_JS = WEB_DIR / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".map": "application/json",
}


def normalise_rasa_url(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"--rasa-url must be an http(s) URL, got {url!r}")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def content_security_policy(rasa_url: str) -> str:
    parts = urlsplit(rasa_url)
    ws_scheme = "wss" if parts.scheme == "https" else "ws"
    rasa_origin = f"{parts.scheme}://{parts.netloc}"
    return ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; "
            f"connect-src 'self' {rasa_origin} {ws_scheme}://{parts.netloc}; "
            "base-uri 'none'; form-action 'none'; frame-ancestors 'self'; object-src 'none'")


def config_js(rasa_url: str) -> str:
    # json.dumps gives a valid JS string literal; "<" is escaped so the value can never close a tag.
    cfg = json.dumps({"rasaUrl": rasa_url}).replace("<", "\\u003c")
    return f"window.FILMBOT_CONFIG = Object.assign({cfg}, window.FILMBOT_CONFIG || {{}});\n"


def resolve_static(name: str, web_dir: Path = WEB_DIR) -> Optional[Path]:
    """The file for a request path, or None. Only plain files directly in web/ with a known type."""
    if name in ("", "/"):
        name = "index.html"
    name = name.lstrip("/")
    if name == "socket.io.min.js":
        return SOCKET_IO_JS if SOCKET_IO_JS.is_file() and web_dir == WEB_DIR else None
    if "/" in name or "\\" in name or name.startswith(".") or Path(name).suffix not in CONTENT_TYPES:
        return None
    path = web_dir / name
    return path if path.is_file() else None


def make_app(rasa_url: str, web_dir: Path = WEB_DIR, endpoints: Optional[Path] = None,
             staff_token: Optional[str] = None):
    """The page server; `staff_token` (default: $FILMBOT_STAFF_TOKEN) opens /staff."""
    from aiohttp import web

    from bot.tools import staff

    rasa_url = normalise_rasa_url(rasa_url)
    csp = content_security_policy(rasa_url)
    headers = {"Content-Security-Policy": csp, "X-Content-Type-Options": "nosniff",
               "Referrer-Policy": "same-origin", "Cache-Control": "no-cache"}

    async def config(_request: web.Request) -> web.Response:
        return web.Response(text=config_js(rasa_url), content_type="text/javascript", charset="utf-8",
                            headers=headers)

    async def static(request: web.Request) -> web.StreamResponse:
        path = resolve_static(request.match_info.get("name", ""), web_dir)
        if path is None:
            if request.match_info.get("name") == "socket.io.min.js":
                raise web.HTTPNotFound(text="socket.io.min.js missing: run `make setup` (npm ci --prefix web)")
            raise web.HTTPNotFound()
        return web.Response(body=path.read_bytes(),
                            headers={**headers, "Content-Type": CONTENT_TYPES[path.suffix]})

    app = web.Application()
    staff.add_routes(app, staff.staff_token(staff_token), endpoints)   # before "/{name}", which would match /staff
    app.router.add_get("/config.js", config)
    app.router.add_get("/", static)
    app.router.add_get("/{name}", static)
    return app


def register_command(sub) -> None:
    p = sub.add_parser("web", help="serve the chat page and widget (web/)",
                       description="Serve web/ (chat page, widget.js, socket.io client) and tell the page "
                                   "where the Rasa server is.")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--rasa-url", default="http://localhost:5005",
                   help="Rasa server the page connects to (socket.io channel); start Rasa with --cors "
                        "for this page's origin")
    p.add_argument("--endpoints", default=None, metavar="FILE",
                   help="endpoints file whose tracker store the staff page reads "
                        "(default: $FILMBOT_ENDPOINTS or endpoints.yml)")
    p.set_defaults(func=cmd_web)


def cmd_web(args: argparse.Namespace) -> int:
    from aiohttp import web

    from bot.tools import staff

    token = staff.staff_token()
    problem = staff.token_problem(token)
    try:
        app = make_app(args.rasa_url, endpoints=args.endpoints)
    except ValueError as exc:
        print(f"web: {exc}")
        return 2
    if not SOCKET_IO_JS.is_file():
        print("web: warning: web/node_modules/socket.io-client is missing; run `make setup`")
    print(f"web: chat page on http://{args.host}:{args.port}/ (Rasa: {normalise_rasa_url(args.rasa_url)})",
          flush=True)
    if problem:
        print(f"web: warning: {problem}", flush=True)
    elif token:
        print(f"web: staff page on http://{args.host}:{args.port}/staff (token from FILMBOT_STAFF_TOKEN)",
              flush=True)
    web.run_app(app, host=args.host, port=args.port, print=None, access_log=None)
    return 0
