"""Scale-out stack for tests/scale/scale_check.py: PostgreSQL + Redis + one action server + two Rasa
instances running endpoints.prod.yml + nginx round robin in front, all on free loopback ports, all data in
one throw-away folder.

Every process runs in its own process group (start_new_session) so stopping it also stops its children.
The process-group ids are appended to $FILMBOT_SCALE_PIDFILE (when set) as they start, so
scripts/test_scale.sh can still clean up if this Python process is killed.
"""
from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parent))
import compose  # noqa: E402  (tests/scale/compose.py: what deploy/docker-compose.yml declares)

ROOT = Path(__file__).resolve().parent.parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
PG_BIN = Path(os.environ.get("FILMBOT_PG_BIN", "")) if os.environ.get("FILMBOT_PG_BIN") else None
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

DB_NAME = "filmbot"
DB_USER = "filmbot"
DB_PASSWORD = "scale-test-pg"
REDIS_PASSWORD = "scale-test-redis"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pg_bin() -> Path:
    if PG_BIN:
        return PG_BIN
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found:
        raise FileNotFoundError("PostgreSQL not installed: run `make setup-system`")
    return found[-1].parent


def rss_kib(pid: int) -> Dict[str, int]:
    """VmRSS (now) and VmHWM (peak) of a process, in KiB."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0])
    return out


class Proc:
    """One child process in its own process group, with a log file."""

    def __init__(self, name: str, argv: List[str], log: Path, stack: "ScaleStack", **popen: Any) -> None:
        self.name = name
        self.argv = argv
        self.log = log
        self.stack = stack
        self.popen = popen
        self.p: Optional[subprocess.Popen] = None

    def start(self) -> "Proc":
        logf = open(self.log, "ab")
        self.p = subprocess.Popen(self.argv, stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                  start_new_session=True, **self.popen)
        logf.close()
        self.stack._record_pgid(self.p.pid)
        return self

    @property
    def pid(self) -> int:
        assert self.p is not None
        return self.p.pid

    def alive(self) -> bool:
        return self.p is not None and self.p.poll() is None

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.alive():
            try:
                os.killpg(self.p.pid, sig)
            except ProcessLookupError:
                pass
            self.p.wait(10)
            self.stack._forget_pgid(self.p.pid)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> None:
        if self.p is None:
            return
        if self.p.poll() is None:
            try:
                os.killpg(self.p.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        # whatever is left in the group (also after the leader exited)
        try:
            os.killpg(self.p.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.p.wait(5)
        except subprocess.TimeoutExpired:
            pass
        self.stack._forget_pgid(self.p.pid)

    def tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""


class ScaleStack:
    def __init__(self, model: Path, workdir: Optional[Path] = None, lock_lifetime: int = 30) -> None:
        self.model = Path(model)
        workdir = workdir or os.environ.get("FILMBOT_SCALE_WORKDIR")
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="filmbot-scale-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.workdir, 0o755)  # the postgres user must reach its data folder inside
        self.pidfile = os.environ.get("FILMBOT_SCALE_PIDFILE")
        self.lock_lifetime = lock_lifetime
        self.rasa_args = os.environ.get("FILMBOT_SCALE_RASA_ARGS", "").split()
        self.pg_port = free_port()
        self.redis_port = free_port()
        self.action_port = free_port()
        self.rasa_ports = [free_port(), free_port()]
        self.nginx_port = free_port()
        self.procs: Dict[str, Proc] = {}
        self.rss: Dict[str, Dict[str, int]] = {}
        # Set before start() to run the Rasa instances with more channels (e.g. Slack against a fake API).
        self.credentials: Path = ROOT / "credentials.yml"
        self.extra_env: Dict[str, str] = {}

    # -- bookkeeping -----------------------------------------------------------------------
    def _record_pgid(self, pgid: int) -> None:
        if self.pidfile:
            with open(self.pidfile, "a") as f:
                f.write(f"{pgid}\n")

    def _forget_pgid(self, pgid: int) -> None:
        if self.pidfile and os.path.exists(self.pidfile):
            lines = [ln for ln in Path(self.pidfile).read_text().split() if ln != str(pgid)]
            Path(self.pidfile).write_text("".join(f"{ln}\n" for ln in lines))

    def _wait(self, check, proc: Proc, timeout: float, what: str) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if not proc.alive():
                raise RuntimeError(f"{proc.name} exited ({proc.p.returncode}) before {what}:\n{proc.tail()}")
            try:
                if check():
                    return
            except Exception:
                pass
            time.sleep(0.3)
        raise TimeoutError(f"{proc.name}: {what} not within {timeout} s:\n{proc.tail()}")

    @staticmethod
    def _http_ok(url: str) -> bool:
        with urllib.request.urlopen(url, timeout=3) as r:
            return r.status == 200

    @staticmethod
    def _tcp_ok(port: int) -> bool:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True

    # -- PostgreSQL ------------------------------------------------------------------------
    def start_postgres(self) -> None:
        pw = pwd.getpwnam("postgres")
        data = self.workdir / "pg"
        sock = self.workdir / "pg-socket"
        for d in (data, sock):
            d.mkdir(mode=0o700)
            os.chown(d, pw.pw_uid, pw.pw_gid)
        pwfile = self.workdir / "pg-pwfile"
        pwfile.write_text(DB_PASSWORD + "\n")
        os.chown(pwfile, pw.pw_uid, pw.pw_gid)
        as_pg = dict(user=pw.pw_uid, group=pw.pw_gid, extra_groups=[], cwd=str(self.workdir),
                     env={"PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8", "HOME": str(data)})
        subprocess.run([str(pg_bin() / "initdb"), "-D", str(data), "-U", DB_USER, f"--pwfile={pwfile}",
                        "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-sync"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **as_pg)
        pwfile.unlink()
        proc = Proc("postgres", [str(pg_bin() / "postgres"), "-D", str(data), "-h", "127.0.0.1",
                                 "-p", str(self.pg_port), "-k", str(sock), "-c", "fsync=off",
                                 "-c", "max_connections=60"],
                    self.workdir / "postgres.log", self, **as_pg)
        self.procs["postgres"] = proc.start()
        self._wait(lambda: subprocess.run(
            [str(pg_bin() / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.pg_port)],
            stdout=subprocess.DEVNULL).returncode == 0, proc, 60, "accepting connections")
        self.psql(f"CREATE DATABASE {DB_NAME}", db="postgres")

    def pg_connect(self):
        import psycopg2

        return psycopg2.connect(host="127.0.0.1", port=self.pg_port, dbname=DB_NAME, user=DB_USER,
                                password=DB_PASSWORD)

    def psql(self, sql: str, db: str = DB_NAME) -> str:
        out = subprocess.run([str(pg_bin() / "psql"), "-h", "127.0.0.1", "-p", str(self.pg_port), "-U", DB_USER,
                              "-d", db, "-v", "ON_ERROR_STOP=1", "-At", "-c", sql],
                             env={**os.environ, "PGPASSWORD": DB_PASSWORD}, check=True, capture_output=True,
                             text=True)
        return out.stdout

    def events(self, sender: str) -> List[Dict[str, Any]]:
        """The sender's events as Rasa stored them in PostgreSQL, in insertion order."""
        with self.pg_connect() as conn, conn.cursor() as cur:
            cur.execute("SELECT data FROM events WHERE sender_id = %s ORDER BY id", (sender,))
            rows = [json.loads(r[0]) for r in cur.fetchall()]
        conn.close()
        return rows

    # -- Redis -----------------------------------------------------------------------------
    def start_redis(self) -> None:
        d = self.workdir / "redis"
        d.mkdir()
        proc = Proc("redis", ["redis-server", "--bind", "127.0.0.1", "--port", str(self.redis_port),
                              "--dir", str(d), "--save", "", "--appendonly", "no", "--daemonize", "no",
                              "--requirepass", REDIS_PASSWORD, "--protected-mode", "yes"],
                    self.workdir / "redis.log", self)
        self.procs["redis"] = proc.start()
        self._wait(lambda: self._tcp_ok(self.redis_port), proc, 30, "listening")

    # -- Rasa side -------------------------------------------------------------------------
    def prod_env(self) -> Dict[str, str]:
        """The variables endpoints.prod.yml needs, pointing at this stack (see .env.example)."""
        return {
            "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{self.action_port}/webhook",
            "POSTGRES_HOST": "127.0.0.1", "POSTGRES_PORT": str(self.pg_port), "POSTGRES_DB": DB_NAME,
            "POSTGRES_USER": DB_USER, "POSTGRES_PASSWORD": DB_PASSWORD,
            "REDIS_HOST": "127.0.0.1", "REDIS_PORT": str(self.redis_port), "REDIS_PASSWORD": REDIS_PASSWORD,
            "REDIS_DB": "1",
            "TICKET_LOCK_LIFETIME": str(self.lock_lifetime),
        }

    def _env(self) -> Dict[str, str]:
        env = dict(os.environ)
        env.update({"SANIC_HOST": "127.0.0.1", "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"})
        env.update(self.prod_env())
        env.update(self.extra_env)
        return env

    # Services as deploy/docker-compose.yml declares them (tests/scale/compose.py): its command through
    # scripts/container.sh and its environment, with the compose hosts and ports pointed at this stack.
    def _compose(self, service: str, port_var: str, port: int) -> Tuple[List[str], Dict[str, str]]:
        values = {"POSTGRES_DB": DB_NAME, "POSTGRES_USER": DB_USER, "POSTGRES_PASSWORD": DB_PASSWORD,
                  "REDIS_PASSWORD": REDIS_PASSWORD, "ACTION_ENDPOINT_URL": self.prod_env()["ACTION_ENDPOINT_URL"],
                  "TICKET_LOCK_LIFETIME": str(self.lock_lifetime)}
        argv, declared = compose.service(service, {**self._env(), **values})
        loopback = {"POSTGRES_HOST": "127.0.0.1", "POSTGRES_PORT": str(self.pg_port), "REDIS_HOST": "127.0.0.1",
                    "REDIS_PORT": str(self.redis_port), port_var: str(port)}
        env = self._env()
        env.update(declared)
        env.update({k: v for k, v in loopback.items() if k in declared})
        missing = set(self.prod_env()) - set(env)
        assert not missing, f"deploy/docker-compose.yml {service}: no {sorted(missing)}"
        env.update({"FILMBOT_HOST": "127.0.0.1", "FILMBOT_PYTHON": str(VENV_BIN / "python"),
                    "FILMBOT_RUN_DIR": str(self.workdir / service), "FILMBOT_MODEL": str(self.model),
                    "PYTHONWARNINGS": "ignore::DeprecationWarning"})
        return argv, env

    def start_actions(self) -> None:
        argv, env = self._compose("actions", "ACTION_PORT", self.action_port)
        proc = Proc("actions", argv, self.workdir / "actions.log", self, cwd=str(ROOT), env=env)
        self.procs["actions"] = proc.start()

    def rasa_name(self, i: int) -> str:
        return "rasa" + "AB"[i]

    def start_rasa(self, i: int, wait: bool = True) -> None:
        """Start instance i (0 = A, 1 = B) with the unchanged endpoints.prod.yml."""
        port = self.rasa_ports[i]
        name = self.rasa_name(i)
        endpoints = ROOT / "endpoints.prod.yml"
        if os.environ.get("FILMBOT_SCALE_STOCK_LOCK"):
            # for comparison only: Rasa's own RedisLockStore instead of bot.glue.lock_store (see deploy/README.md)
            stock = self.workdir / "endpoints.stock-lock.yml"
            stock.write_text(endpoints.read_text().replace("type: bot.glue.lock_store.AtomicRedisLockStore",
                                                           "type: redis"))
            endpoints = stock
        argv, env = self._compose(f"rasa-{i + 1}", "RASA_PORT", port)
        env.update({"FILMBOT_ENDPOINTS": str(endpoints), "FILMBOT_CREDENTIALS": str(self.credentials)})
        proc = Proc(name, argv + self.rasa_args, self.workdir / f"{name}.log", self, cwd=str(ROOT), env=env)
        self.procs[name] = proc.start()
        if wait:
            self.wait_rasa(i)

    def wait_rasa(self, i: int, timeout: float = 300) -> None:
        port = self.rasa_ports[i]
        # `rasa run` without --enable-api serves only / and the channels; / answers once the model is loaded
        self._wait(lambda: self._http_ok(f"http://127.0.0.1:{port}/"), self.procs[self.rasa_name(i)],
                   timeout, "server up (/)")

    def kill_rasa(self, i: int) -> None:
        self.procs[self.rasa_name(i)].kill(signal.SIGKILL)

    def measure_rss(self, label: str) -> None:
        for name in ("rasaA", "rasaB", "actions"):
            proc = self.procs.get(name)
            if proc and proc.alive():
                self.rss[f"{label}:{name}"] = rss_kib(proc.pid)

    # -- nginx -----------------------------------------------------------------------------
    def nginx_conf(self) -> str:
        w = self.workdir / "nginx"
        servers = "\n".join(f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;" for p in self.rasa_ports)
        return f"""# written by tests/scale/scale_stack.py; same proxy settings as deploy/nginx.conf
daemon off;
master_process on;
worker_processes 1;
user root root;
pid {w}/nginx.pid;
error_log {w}/error.log info;
events {{ worker_connections 512; }}
http {{
    log_format upstreamlog '$time_iso8601 $status $request_time upstream=$upstream_addr '
                           'ustatus=$upstream_status $request';
    access_log {w}/access.log upstreamlog;
    client_body_temp_path {w}/client_body;
    proxy_temp_path {w}/proxy;
    fastcgi_temp_path {w}/fastcgi;
    uwsgi_temp_path {w}/uwsgi;
    scgi_temp_path {w}/scgi;

    upstream rasa {{
        # round robin (nginx's default); a server that fails once is skipped for fail_timeout
{servers}
        keepalive 16;
    }}
    server {{
        listen 127.0.0.1:{self.nginx_port};
        location / {{
            proxy_pass http://rasa;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_connect_timeout 2s;
            # longer than TICKET_LOCK_LIFETIME (30 s): a message retried after an instance died waits until
            # the dead instance's ticket for that conversation expires
            proxy_read_timeout 90s;
            # nginx never retries a POST unless told to (non_idempotent). A retry is safe here only when
            # the first attempt never reached Rasa or died before Rasa saved the tracker (connection
            # refused, or the instance was killed mid-request): the Redis lock + the shared tracker then make
            # the other instance process the message exactly once. If the instance died after saving the
            # tracker but before answering, the retry processes the message a second time.
            proxy_next_upstream error timeout non_idempotent;
            proxy_next_upstream_tries 2;
            proxy_next_upstream_timeout 100s;
        }}
    }}
}}
"""

    def start_nginx(self) -> None:
        w = self.workdir / "nginx"
        w.mkdir(exist_ok=True)
        conf = w / "nginx.conf"
        conf.write_text(self.nginx_conf())
        proc = Proc("nginx", [NGINX, "-p", str(w), "-e", str(w / "error.log"), "-c", str(conf)],
                    self.workdir / "nginx.out", self)
        self.procs["nginx"] = proc.start()
        self._wait(lambda: self._tcp_ok(self.nginx_port), proc, 30, "listening")

    def access_log(self) -> List[str]:
        p = self.workdir / "nginx" / "access.log"
        return p.read_text().splitlines() if p.exists() else []

    # -- whole stack -----------------------------------------------------------------------
    def start(self) -> "ScaleStack":
        self.start_postgres()
        self.start_redis()
        self.start_actions()
        # both Rasa instances load their model at the same time; the first start also creates the
        # tracker tables, so A goes first by a few seconds
        self.start_rasa(0, wait=False)
        time.sleep(5)
        self.start_rasa(1, wait=False)
        self._wait(lambda: self._http_ok(f"http://127.0.0.1:{self.action_port}/health"),
                   self.procs["actions"], 120, "/health")
        self.wait_rasa(0)
        self.wait_rasa(1)
        self.start_nginx()
        return self

    def stop(self) -> None:
        # clients first, then the stores (postgres: SIGINT = fast shutdown)
        for name in ("nginx", "rasaA", "rasaB", "actions", "redis"):
            if name in self.procs:
                self.procs[name].stop()
        if "postgres" in self.procs:
            self.procs["postgres"].stop(signal.SIGINT, timeout=20)

    def cleanup(self) -> None:
        if os.environ.get("FILMBOT_SCALE_KEEP"):
            return
        shutil.rmtree(self.workdir, ignore_errors=True)

    # -- talking ---------------------------------------------------------------------------
    def url(self, target: str) -> str:
        if target == "nginx":
            return f"http://127.0.0.1:{self.nginx_port}"
        return f"http://127.0.0.1:{self.rasa_ports['AB'.index(target)]}"

    def say(self, target: str, sender: str, message: str, timeout: float = 120) -> List[Dict[str, Any]]:
        """POST to /webhooks/rest/webhook of instance "A", "B" or "nginx"; returns the bot messages."""
        req = urllib.request.Request(self.url(target) + "/webhooks/rest/webhook",
                                     data=json.dumps({"sender": sender, "message": message}).encode(),
                                     method="POST", headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            assert resp.status == 200, resp.status
            return json.loads(resp.read())

    def text(self, target: str, sender: str, message: str) -> str:
        return "\n".join(m.get("text", "") for m in self.say(target, sender, message))
