"""A fake Slack Web API on a free loopback port, for tests that must not leave the machine.

    with FakeSlack() as slack:            # base URL: slack.api_url ("http://127.0.0.1:PORT/api/")
        ...                               # point the bot at it with SLACK_API_URL=slack.api_url
        posts = slack.wait_for_posts(2, timeout=20, channel="D1")

Records every call (method, token, parsed JSON or form body) and answers like Slack:
`chat.postMessage` -> {"ok": true, "channel", "ts", "message"}; `auth.test` -> a bot identity;
other methods -> {"ok": true}. Like Slack with a granular bot token, `chat.postMessage` with `as_user`
is answered {"ok": false, "error": "invalid_arguments"} (the call is still recorded).
"""
from __future__ import annotations

import itertools
import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Optional


class FakeSlack:
    def __init__(self) -> None:
        self.calls: List[Dict[str, Any]] = []
        self._lock = threading.Condition()
        self._ts = itertools.count(1)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                fake._handle(self)

            def do_GET(self) -> None:
                fake._handle(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    # -- server ----------------------------------------------------------------------------
    def _handle(self, req: BaseHTTPRequestHandler) -> None:
        parsed = urllib.parse.urlsplit(req.path)
        method = parsed.path.rsplit("/", 1)[-1]
        length = int(req.headers.get("Content-Length") or 0)
        raw = req.rfile.read(length) if length else b""
        ctype = (req.headers.get("Content-Type") or "").split(";")[0].strip()
        body: Dict[str, Any] = dict(urllib.parse.parse_qsl(parsed.query))
        if ctype == "application/json" and raw:
            body.update(json.loads(raw))
        elif raw:
            body.update(urllib.parse.parse_qsl(raw.decode()))
            for key in ("blocks", "attachments"):  # form posts carry these as JSON strings
                if isinstance(body.get(key), str):
                    body[key] = json.loads(body[key])
        auth = req.headers.get("Authorization") or ""
        token = auth[len("Bearer "):] if auth.startswith("Bearer ") else body.get("token")
        call = {"method": method, "token": token, "body": body, "time": time.time()}

        if method == "chat.postMessage":
            if "as_user" in body:
                answer = {"ok": False, "error": "invalid_arguments", "deprecated_argument": "as_user"}
            elif not body.get("channel"):
                answer = {"ok": False, "error": "channel_not_found"}
            else:
                ts = f"{int(time.time())}.{next(self._ts):06d}"
                call["ts"] = ts
                answer = {"ok": True, "channel": body["channel"], "ts": ts,
                          "message": {"type": "message", "bot_id": "B0FAKE", "text": body.get("text", ""),
                                      "ts": ts, "thread_ts": body.get("thread_ts")}}
        elif method == "auth.test":
            answer = {"ok": True, "url": "https://fake.slack.com/", "team": "Fake", "user": "filmbot",
                      "team_id": "T0FAKE", "user_id": "U0BOT", "bot_id": "B0FAKE"}
        else:
            answer = {"ok": True}
        call["answer"] = answer
        with self._lock:
            self.calls.append(call)
            self._lock.notify_all()
        data = json.dumps(answer).encode()
        req.send_response(200)
        req.send_header("Content-Type", "application/json; charset=utf-8")
        req.send_header("Content-Length", str(len(data)))
        req.end_headers()
        req.wfile.write(data)

    def start(self) -> "FakeSlack":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> "FakeSlack":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- assertions --------------------------------------------------------------------------
    def posts(self, channel: Optional[str] = None, thread_ts: Optional[str] = None) -> List[Dict[str, Any]]:
        """Bodies of recorded chat.postMessage calls, optionally only one channel / thread."""
        with self._lock:
            bodies = [c["body"] for c in self.calls if c["method"] == "chat.postMessage"]
        return [b for b in bodies
                if (channel is None or b.get("channel") == channel)
                and (thread_ts is None or b.get("thread_ts") == thread_ts)]

    def wait_for_posts(self, count: int, timeout: float = 20.0, settle: float = 0.0,
                       **filters: Any) -> List[Dict[str, Any]]:
        """Waits until at least `count` matching posts were recorded (or the timeout passes), then
        `settle` seconds more so that extra posts would show up; returns the matching posts."""
        deadline = time.time() + timeout
        with self._lock:
            while len(self.posts(**filters)) < count and time.time() < deadline:
                self._lock.wait(min(0.2, max(0.0, deadline - time.time())))
        if settle:
            time.sleep(settle)
        return self.posts(**filters)

    def wait_quiet(self, quiet: float = 1.5, timeout: float = 30.0) -> None:
        """Waits until no call has arrived for `quiet` seconds (the bot has finished replying)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self._lock:
                last = self.calls[-1]["time"] if self.calls else 0.0
            if time.time() - last >= quiet:
                return
            time.sleep(0.1)


def text_of(post: Dict[str, Any]) -> str:
    """All visible text of a post: its `text` and any section/button texts in its blocks."""
    parts = [post.get("text") or ""]
    for block in post.get("blocks") or []:
        if block.get("type") == "section":
            parts.append((block.get("text") or {}).get("text", ""))
        for el in block.get("elements") or []:
            parts.append((el.get("text") or {}).get("text", ""))
    return "\n".join(parts)


def buttons_of(post: Dict[str, Any]) -> List[Dict[str, str]]:
    return [{"title": (el.get("text") or {}).get("text", ""), "value": el.get("value", "")}
            for block in post.get("blocks") or [] if block.get("type") == "actions"
            for el in block.get("elements") or [] if el.get("type") == "button"]

