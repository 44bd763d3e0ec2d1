"""Bad and odd input over REST and socket.io against the real stack (issue 6, part 1).

Malformed requests get a clear 4xx with a JSON error and no stack trace; odd but valid text gets a
polite, non-empty answer; nothing gets a 500; both processes stay up; and the SQLite tracker holds
each accepted message followed by a bot reply. One stack for the module (API closed, CORS limited to
one origin), also used for the privacy and binding checks in test_reliability_security.py's spirit.
"""
from __future__ import annotations

import json
import threading
import time
import urllib.request

import pytest

from reliability_helpers import REST, assert_consistent, turns
from bot.tools.stack import BotStack

ALLOWED_ORIGIN = "http://allowed.example"

ODD_TEXTS = {
    "empty": "",
    "whitespace": "   \n\t  ",
    "control": "hej\x00\x01\x07\x1b[31m film\x7f",
    "nul_only": "\x00\x00\x00",
    "emoji": "🎬🎥🍿👍🏽‍",
    "rtl": "مرحبا، أين يمكنني الحصول على دعم للأفلام؟ שלום",
    "html": "<script>alert('x')</script><b>kortfilm</b> i Umeå",
    "sql": "'; DROP TABLE events; -- SELECT * FROM users WHERE 1=1",
    "long_word": "a" * 4999,
    "max_len": ("Hej jag vill göra en kortfilm i Dalarna. " * 200)[:5000],
    "zero_width": "\u200b\u200d\ufeff",
    "combining": "Ume\u0061\u030a Ga\u0308vle",
    "mixed_scripts": "Привет 你好 Göteborg",
    "lone_surrogate_escape": None,  # sent as raw JSON below
}


@pytest.fixture(scope="module")
def stack():
    with BotStack(rasa_args=["--cors", ALLOWED_ORIGIN]) as s:
        yield s


def _raw(stack, raw: bytes, content_type: str = "application/json"):
    return stack.post(REST, None, raw=raw, headers={"Content-Type": content_type})


def _alive(stack) -> None:
    assert stack.rasa_proc.poll() is None and stack.action_proc.poll() is None
    assert stack.text("hej", sender="alive-check").strip()


MALFORMED = [
    ("invalid_json", b"{nope", 400),
    ("empty_body", b"", 400),
    ("not_utf8", b"\xff\xfe\x00", 400),
    ("json_list", b"[1, 2]", 400),
    ("json_string", b'"hej"', 400),
    ("json_null", b"null", 400),
    ("message_int", json.dumps({"sender": "m1", "message": 123}).encode(), 400),
    ("message_null", json.dumps({"sender": "m1", "message": None}).encode(), 400),
    ("message_list", json.dumps({"sender": "m1", "message": ["hej"]}).encode(), 400),
    ("message_missing", json.dumps({"sender": "m1"}).encode(), 400),
    ("sender_dict", json.dumps({"sender": {}, "message": "hej"}).encode(), 400),
    ("sender_missing", json.dumps({"message": "hej"}).encode(), 400),
    ("sender_empty", json.dumps({"sender": "  ", "message": "hej"}).encode(), 400),
    ("sender_bool", json.dumps({"sender": True, "message": "hej"}).encode(), 400),
    ("metadata_list", json.dumps({"sender": "m1", "message": "hej", "metadata": [1]}).encode(), 400),
    ("too_long_100k", json.dumps({"sender": "m1", "message": "film " * 20_000}).encode(), 413),
    ("too_long_5001", json.dumps({"sender": "m1", "message": "x" * 5001}).encode(), 413),
    ("huge_body", b'{"sender": "m1", "message": "' + b"a" * 200_000 + b'"}', 413),
]


@pytest.mark.parametrize("name,raw,status", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_request_gets_clear_4xx(stack, name, raw, status):
    code, body = _raw(stack, raw)
    assert code == status, (code, body[:300])
    payload = json.loads(body)
    assert isinstance(payload.get("error"), str) and payload["error"]
    assert b"Traceback" not in body and b'File "' not in body


def test_malformed_requests_store_nothing(stack):
    assert turns(stack.tracker_db, "m1") == []
    _alive(stack)


@pytest.mark.parametrize("name", [k for k in ODD_TEXTS if ODD_TEXTS[k] is not None])
def test_odd_text_gets_polite_answer(stack, name):
    sender = f"odd-{name}"
    code, body = stack.post(REST, {"sender": sender, "message": ODD_TEXTS[name]}, timeout=30)
    assert code == 200, (code, body[:300])
    messages = json.loads(body)
    assert messages and any((m.get("text") or "").strip() for m in messages), messages
    assert all(m.get("recipient_id") == sender for m in messages)
    stored = turns(stack.tracker_db, sender)
    assert len(stored) == 1 and stored[0][1], stored
    assert "\x00" not in stored[0][0]


def test_lone_surrogate_is_cleaned_and_answered(stack):
    raw = b'{"sender": "odd-surrogate", "message": "hej \\ud800 film"}'
    code, body = _raw(stack, raw)
    assert code == 200, body[:300]
    assert json.loads(body)
    assert len(turns(stack.tracker_db, "odd-surrogate")) == 1


def test_integer_sender_is_accepted_as_string(stack):
    code, body = stack.post(REST, {"sender": 4711, "message": "hej"})
    assert code == 200 and json.loads(body)[0]["recipient_id"] == "4711"


def test_tracker_consistent_after_a_mixed_conversation(stack):
    sender = "mixed"
    sent = []
    for text in ["hej", "", "🎬", "<b>x</b>", "kortfilm i Umeå", "'; DROP TABLE events; --", "a" * 300, "tack"]:
        stack.say(text, sender=sender)
        sent.append(text.strip())
    code, _ = stack.post(REST, {"sender": sender, "message": 123})
    assert code == 400
    code, _ = stack.post(REST, {"sender": sender, "message": "x" * 6000})
    assert code == 413
    assert_consistent(stack.tracker_db, sender, sent)
    _alive(stack)


# --- socket.io --------------------------------------------------------------------------------------

class SioUser:
    def __init__(self, url: str, session_id: str) -> None:
        import socketio

        self.replies: list = []
        self.got = threading.Event()
        self.client = socketio.Client(reconnection=False)
        self.client.on("bot_uttered", self._on_bot)
        self.confirmed = threading.Event()
        self.client.on("session_confirm", lambda *a: self.confirmed.set())
        self.client.connect(url, socketio_path="/socket.io", wait_timeout=10)
        self.session_id = session_id
        self.client.emit("session_request", {"session_id": session_id})
        assert self.confirmed.wait(10), "no session_confirm from the socket.io channel"

    def _on_bot(self, data) -> None:
        self.replies.append(data)
        self.got.set()

    def send(self, payload, wait: float = 15.0) -> list:
        self.replies.clear()
        self.got.clear()
        self.client.emit("user_uttered", payload)
        self.got.wait(wait)
        time.sleep(0.5)  # collect any follow-up messages of the same turn
        return list(self.replies)

    def close(self) -> None:
        self.client.disconnect()


@pytest.fixture(scope="module")
def sio(stack):
    user = SioUser(stack.url, "sio-odd")
    yield user
    user.close()


@pytest.mark.parametrize("name", ["empty", "whitespace", "control", "emoji", "rtl", "html", "sql",
                                  "long_word", "zero_width"])
def test_socketio_odd_text_gets_answer(stack, sio, name):
    replies = sio.send({"message": ODD_TEXTS[name], "session_id": sio.session_id})
    assert replies and any((r.get("text") or "").strip() for r in replies), replies


@pytest.mark.parametrize("payload", [
    {"message": 123}, {"message": None}, {"message": {"a": 1}}, {"message": ["x"]}, "just a string", 42,
    {"message": "hej", "metadata": "{not json"}, {"message": "hej", "session_id": {}},
])
def test_socketio_malformed_payload_does_not_break_the_server(stack, sio, payload):
    if isinstance(payload, dict):
        payload = {"session_id": sio.session_id, **payload} if "session_id" not in payload else payload
    sio.send(payload, wait=2)
    # The server stays up and the same socket still gets answers.
    replies = sio.send({"message": "hej", "session_id": sio.session_id})
    assert replies and replies[0].get("text")
    assert stack.rasa_proc.poll() is None


def test_socketio_tracker_consistent(stack, sio):
    stored = turns(stack.tracker_db, sio.session_id)
    assert stored
    for user, replies in stored:
        assert replies, (user[:60], stored)


# --- HTTP API closed, CORS ----------------------------------------------------------------------------

@pytest.mark.parametrize("method,path", [("GET", "/conversations/x/tracker"), ("POST", "/model/parse"),
                                         ("GET", "/status"), ("POST", "/conversations/x/messages")])
def test_http_api_closed_without_enable_api(stack, method, path):
    req = urllib.request.Request(stack.url + path, method=method,
                                 data=b"{}" if method == "POST" else None)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            code = resp.status
    except urllib.error.HTTPError as err:
        code = err.code
    assert code in (403, 404, 405), code


def _cors(stack, origin: str):
    req = urllib.request.Request(stack.url + REST, method="OPTIONS", headers={
        "Origin": origin, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, dict(resp.headers)
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers)


def _post_with_origin(stack, origin: str):
    req = urllib.request.Request(stack.url + REST, method="POST",
                                 data=json.dumps({"sender": "cors", "message": "hej"}).encode(),
                                 headers={"Origin": origin, "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return dict(resp.headers)


def test_cors_allows_configured_origin(stack):
    _, headers = _cors(stack, ALLOWED_ORIGIN)
    assert headers.get("Access-Control-Allow-Origin") == ALLOWED_ORIGIN
    assert _post_with_origin(stack, ALLOWED_ORIGIN).get("Access-Control-Allow-Origin") == ALLOWED_ORIGIN


@pytest.mark.parametrize("origin", ["http://evil.example", "http://allowed.example.evil.example", "null"])
def test_cors_refuses_other_origins(stack, origin):
    _, headers = _cors(stack, origin)
    assert "Access-Control-Allow-Origin" not in headers, headers
    assert "Access-Control-Allow-Origin" not in _post_with_origin(stack, origin)


def test_still_alive_at_the_end(stack):
    _alive(stack)
