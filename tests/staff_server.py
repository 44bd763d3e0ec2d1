"""The page server (`python -m bot web`) for the staff-page tests: started on a free port with a given
tracker store and token, plus a plain HTTP client that logs in the way the login form does."""
from __future__ import annotations

import http.client
import json
import os
import subprocess
import time
import urllib.parse
from pathlib import Path
from typing import Dict, Optional, Tuple

from bot.tools.stack import ROOT, VENV_BIN, free_port

TOKEN = "staff-test-token-4f1c9a"


class PageServer:
    def __init__(self, endpoints: Path, token: Optional[str] = TOKEN, env: Optional[Dict[str, str]] = None,
                 log: Optional[Path] = None, rasa_url: str = "http://127.0.0.1:9"):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        e = dict(os.environ, PYTHONPATH=str(ROOT), **(env or {}))
        e.pop("FILMBOT_STAFF_TOKEN", None)
        if token is not None:
            e["FILMBOT_STAFF_TOKEN"] = token
        self.log = log
        out = open(log, "ab") if log else subprocess.DEVNULL
        self.proc = subprocess.Popen([str(VENV_BIN / "python"), "-m", "bot", "web", "--port", str(self.port),
                                      "--rasa-url", rasa_url, "--endpoints", str(endpoints)],
                                     cwd=ROOT, env=e, start_new_session=True, stdout=out,
                                     stderr=subprocess.STDOUT)
        if log:
            out.close()
        deadline = time.time() + 30
        while time.time() < deadline:
            assert self.proc.poll() is None, f"page server exited with {self.proc.returncode}"
            try:
                if self.request("GET", "/")[0] == 200:
                    return
            except OSError:
                time.sleep(0.2)
        raise TimeoutError(self.base)

    def request(self, method: str, path: str, body: Optional[bytes] = None,
                headers: Optional[Dict[str, str]] = None) -> Tuple[int, Dict[str, str], bytes]:
        """One request, redirects not followed: (status, headers (lower-case names), body)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            hdrs: Dict[str, str] = {}
            for k, v in resp.getheaders():
                hdrs[k.lower()] = (hdrs[k.lower()] + "\n" + v) if k.lower() in hdrs else v
            return resp.status, hdrs, resp.read()
        finally:
            conn.close()

    def login(self, token: str = TOKEN) -> str:
        """The session cookie after POSTing the login form from this origin."""
        status, hdrs, _ = self.request("POST", "/staff/login",
                                       urllib.parse.urlencode({"token": token}).encode(),
                                       {"Content-Type": "application/x-www-form-urlencoded", "Origin": self.base})
        assert status == 303 and hdrs.get("location") == "/staff", (status, hdrs)
        cookie = hdrs["set-cookie"].split(";", 1)[0]
        assert cookie.startswith("filmbot_staff=")
        return cookie

    def get_json(self, path: str, cookie: Optional[str] = None) -> Tuple[int, dict]:
        status, _, body = self.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        return status, json.loads(body)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def __enter__(self) -> "PageServer":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
