"""Starts the real action server and the real Rasa server on free loopback ports: the stack of the end-to-end
tests (tests/conftest.py), the benchmark (bench/) and scripts/conversations_report.py.

    with BotStack(model) as stack:
        stack.say("hej", sender="a")   # -> list of bot messages from /webhooks/rest/webhook

Each stack gets its own folder (SQLite tracker, endpoints, credentials, logs, and a copy of
registry/registry.yaml and registry/facets/ that both servers read through FILMBOT_REGISTRY: `stack.registry`, so a test may
edit it, e.g. confirm facts, without touching the repository's file); the endpoints are those of
endpoints.yml (`tracker_store=` replaces the store's YAML block, e.g. for PostgreSQL).
`restart_rasa()` and `stop_actions()/start_actions()` let tests exercise persistence and faults;
`launch_rasa()` starts the Rasa server without waiting for it (the benchmark times its cold start), and
`rasa_command()` / `env()` are the command line and environment it runs with (e.g. under a profiler).
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Dict, List, Optional

from bot.paths import ROOT

VENV_BIN = ROOT / ".venv" / "bin"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def default_model() -> Path:
    env = os.environ.get("FILMBOT_TEST_MODEL")
    if env:
        return Path(env)
    for candidate in (ROOT / "var/test-model/current.tar.gz", ROOT / "models/current.tar.gz"):
        if candidate.exists():
            return candidate
    raise FileNotFoundError("no trained model: run `make test` (trains var/test-model) or `make train`")


class BotStack:
    def __init__(self, model: Optional[Path] = None, workdir: Optional[Path] = None,
                 extra_env: Optional[Dict[str, str]] = None, credentials: Optional[str] = None,
                 endpoints_extra: str = "", rasa_args: Optional[List[str]] = None,
                 tracker_store: Optional[str] = None) -> None:
        self.model = Path(model or default_model())
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="filmbot-stack-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.rasa_port = free_port()
        self.action_port = free_port()
        self.extra_env = dict(extra_env or {})
        self.rasa_args = list(rasa_args or [])
        self.tracker_db = self.workdir / "tracker.db"
        self.endpoints = self.workdir / "endpoints.yml"
        self.endpoints.write_text(
            f'action_endpoint:\n  url: "http://127.0.0.1:{self.action_port}/webhook"\n'
            '  enable_selective_domain: true\n'
            + (tracker_store or 'tracker_store:\n  type: bot.glue.tracker_store.WindowedSQLTrackerStore\n'
               f'  dialect: "sqlite"\n  db: "{self.tracker_db}"\n')
            + 'nlg:\n  type: bot.glue.nlg.LanguageNLG\n'
            + endpoints_extra
        )
        self.registry = Path(self.extra_env.get("FILMBOT_REGISTRY") or self.workdir / "registry.yaml")
        if "FILMBOT_REGISTRY" not in self.extra_env:
            source = os.environ.get("FILMBOT_REGISTRY") or ROOT / "registry" / "registry.yaml"
            self.registry.write_bytes(Path(source).read_bytes())
            facets = Path(source).parent / "facets"     # the hand-edited facets files beside it
            if facets.is_dir():
                shutil.copytree(facets, self.registry.parent / "facets", dirs_exist_ok=True)
            self.extra_env["FILMBOT_REGISTRY"] = str(self.registry)
        self.credentials = self.workdir / "credentials.yml"
        self.credentials.write_text(credentials or (ROOT / "credentials.yml").read_text())
        self.rasa_proc: Optional[subprocess.Popen] = None
        self.action_proc: Optional[subprocess.Popen] = None

    # -- processes -------------------------------------------------------------------------
    def env(self) -> Dict[str, str]:
        """The servers' environment: ours, loopback Sanic, the repository on PYTHONPATH, `extra_env`."""
        env = dict(os.environ)
        env.update({"SANIC_HOST": "127.0.0.1", "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"})
        env.update(self.extra_env)
        return env

    def start_actions(self) -> None:
        log = open(self.workdir / "actions.log", "ab")
        self.action_proc = subprocess.Popen(
            [str(VENV_BIN / "python"), "-m", "rasa_sdk", "--actions", "actions", "--port", str(self.action_port)],
            cwd=ROOT, env=self.env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self._wait_http(f"http://127.0.0.1:{self.action_port}/health", self.action_proc, 60)

    def rasa_command(self) -> List[str]:
        return ([str(VENV_BIN / "rasa"), "run", "--model", str(self.model), "--endpoints", str(self.endpoints),
                 "--credentials", str(self.credentials), "-i", "127.0.0.1", "-p", str(self.rasa_port)]
                + self.rasa_args)

    def launch_rasa(self) -> subprocess.Popen:
        """`rasa run` started (log in the stack's folder), not waited for."""
        log = open(self.workdir / "rasa.log", "ab")
        self.rasa_proc = subprocess.Popen(self.rasa_command(), cwd=ROOT, env=self.env(), stdout=log,
                                          stderr=subprocess.STDOUT, start_new_session=True)
        return self.rasa_proc

    def start_rasa(self) -> None:
        self._wait_http(f"http://127.0.0.1:{self.rasa_port}/", self.launch_rasa(), 180)

    def _wait_http(self, url: str, proc: subprocess.Popen, timeout: float) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"process exited with {proc.returncode} before {url} answered; "
                                   f"see logs in {self.workdir}")
            try:
                with urllib.request.urlopen(url, timeout=2):
                    return
            except Exception:
                time.sleep(0.3)
        raise TimeoutError(f"{url} did not answer within {timeout} s; see logs in {self.workdir}")

    @staticmethod
    def _stop(proc: Optional[subprocess.Popen]) -> None:
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)

    def stop_actions(self) -> None:
        self._stop(self.action_proc)

    def stop_rasa(self) -> None:
        self._stop(self.rasa_proc)

    def restart_rasa(self) -> None:
        self.stop_rasa()
        self.start_rasa()

    def start(self) -> "BotStack":
        self.start_actions()
        self.start_rasa()
        return self

    def stop(self) -> None:
        self.stop_rasa()
        self.stop_actions()

    def __enter__(self) -> "BotStack":
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- talking ---------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    def post(self, path: str, body: Any, timeout: float = 30, raw: Optional[bytes] = None,
             headers: Optional[Dict[str, str]] = None):
        data = raw if raw is not None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method="POST",
                                     headers={"Content-Type": "application/json", **(headers or {})})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as err:
            return err.code, err.read()

    def say(self, message: str, sender: str = "tester", timeout: float = 30) -> List[Dict[str, Any]]:
        status, body = self.post("/webhooks/rest/webhook", {"sender": sender, "message": message}, timeout)
        assert status == 200, (status, body[:500])
        return json.loads(body)

    def text(self, message: str, sender: str = "tester") -> str:
        """All bot texts of one reply joined, for assertions."""
        return "\n".join(m.get("text", "") for m in self.say(message, sender))
