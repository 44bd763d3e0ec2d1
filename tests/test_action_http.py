"""The action-server call's plain-HTTP path (bot/glue/patches/action_guard.py) against real loopback servers:
keep-alive reuse, a connection the server closed, errors and timeouts as Rasa's endpoint reports them."""
from __future__ import annotations

import json
import socket
import threading
import time
from typing import List

import pytest

from bot.glue.patches import action_guard


class _Endpoint:
    def __init__(self, url: str) -> None:
        self.url = url
        self.headers = {}
        self.basic_auth = None
        self.cafile = None
        self.params = {}
        self.token = None

    def combine_parameters(self, kwargs=None):
        return {}


class RawServer:
    """A tiny HTTP/1.1 server on loopback whose behaviour per request is scripted."""

    def __init__(self, behaviour) -> None:
        self.behaviour = behaviour  # (connection number, request number on it) -> "ok" | "close" | "slow" | int
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.requests: List[bytes] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn, self.connections), daemon=True).start()

    def _serve(self, conn: socket.socket, number: int) -> None:
        buf = b""
        on_conn = 0
        with conn:
            while True:
                while b"\r\n\r\n" not in buf:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buf += chunk
                head, _, rest = buf.partition(b"\r\n\r\n")
                length = int(next((line.split(b":")[1] for line in head.split(b"\r\n")
                                   if line.lower().startswith(b"content-length")), b"0"))
                while len(rest) < length:
                    rest += conn.recv(65536)
                body, buf = rest[:length], rest[length:]
                on_conn += 1
                self.requests.append(body)
                what = self.behaviour(number, on_conn)
                if what == "close":
                    return
                if what == "slow":
                    time.sleep(action_guard.ACTION_TIMEOUT + 0.5)
                status = what if isinstance(what, int) else 200
                payload = json.dumps({"events": [], "responses": [{"text": f"conn {number} req {on_conn}"}]}).encode()
                conn.sendall(b"HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                             % (status, len(payload), payload))

    def close(self) -> None:
        self.sock.close()


def _call(server: RawServer, body=None):
    endpoint = _Endpoint(f"http://127.0.0.1:{server.port}/webhook")
    return action_guard._blocking_request(endpoint, "post", None, "application/json",
                                          {"json": body or {"next_action": "action_x"}, "timeout": 300})


@pytest.fixture(autouse=True)
def fresh_connections():
    action_guard._local.__dict__.pop("connections", None)
    yield
    action_guard._local.__dict__.pop("connections", None)


def test_calls_reuse_one_connection_and_do_not_use_requests(monkeypatch):
    monkeypatch.setattr(action_guard, "_session", lambda: pytest.fail("requests was used"))
    server = RawServer(lambda conn, req: "ok")
    try:
        replies = [_call(server, {"n": i})["responses"][0]["text"] for i in range(3)]
        assert replies == ["conn 1 req 1", "conn 1 req 2", "conn 1 req 3"]
        assert [json.loads(b)["n"] for b in server.requests] == [0, 1, 2]
    finally:
        server.close()


def test_a_kept_alive_connection_the_server_dropped_is_retried_once_on_a_new_one():
    # the second request on every connection is read and the connection closed without an answer
    server = RawServer(lambda conn, req: "close" if req == 2 else "ok")
    try:
        assert _call(server)["responses"][0]["text"] == "conn 1 req 1"
        assert _call(server)["responses"][0]["text"] == "conn 2 req 1"
        assert server.connections == 2
    finally:
        server.close()


def test_a_call_after_the_server_closed_the_idle_connection_gets_through_on_a_new_one():
    closed = threading.Event()

    class Server(RawServer):
        def _serve(self, conn, number):  # answer once, then close the idle keep-alive connection
            super()._serve(_OneShot(conn, closed), number)

    server = Server(lambda conn, req: "ok")
    try:
        assert _call(server)["responses"][0]["text"] == "conn 1 req 1"
        assert closed.wait(2)
        time.sleep(0.05)
        assert _call(server)["responses"][0]["text"] == "conn 2 req 1"
        assert len(server.requests) == 2
    finally:
        server.close()


class _OneShot:
    """Wraps a server socket: after the first reply is sent, the connection is closed."""

    def __init__(self, conn: socket.socket, closed: threading.Event) -> None:
        self.conn, self.closed, self.done = conn, closed, False

    def recv(self, n):
        if self.done:
            return b""
        return self.conn.recv(n)

    def sendall(self, data):
        self.conn.sendall(data)
        self.conn.shutdown(socket.SHUT_RDWR)
        self.conn.close()
        self.done = True
        self.closed.set()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.conn.close()


def test_an_error_status_is_rasas_client_response_error():
    from rasa.utils.endpoints import ClientResponseError

    server = RawServer(lambda conn, req: 400)
    try:
        with pytest.raises(ClientResponseError) as err:
            _call(server)
        assert err.value.status == 400 and b"responses" in err.value.text
    finally:
        server.close()


def test_a_silent_server_times_out_and_a_missing_one_is_a_connection_error():
    import aiohttp

    server = RawServer(lambda conn, req: "slow")
    try:
        start = time.monotonic()
        with pytest.raises(action_guard.ActionTimeout):
            _call(server)
        assert time.monotonic() - start < action_guard.ACTION_TIMEOUT + 0.4
    finally:
        server.close()
    unused = socket.socket()
    unused.bind(("127.0.0.1", 0))
    port = unused.getsockname()[1]
    unused.close()
    with pytest.raises(aiohttp.ClientConnectionError):
        action_guard._blocking_request(_Endpoint(f"http://127.0.0.1:{port}/webhook"), "post", None,
                                       "application/json", {"json": {}})
