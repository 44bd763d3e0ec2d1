"""The input contract of every channel (bot/channels/input_contract.py) against the real running server,
probed with real clients: urllib for REST, python-socketio's client for socket.io, signed Events API
requests for Slack (replies captured by tests/fake_slack.py). One stack with all three channels.

Checks: oversize, empty, binary/NUL, non-object and deeply nested payloads get the contract's answer and a
normal question right after is answered; the slowest message that passes the limit is answered within
1 s and a refused one within 50 ms while a normal question on another channel keeps its latency (figures
printed); non-question Slack events post nothing; url_verification gets {"challenge"}; an event retried
after a restart is answered once; Rasa's log holds no traceback.

Run: FILMBOT_TEST_MODEL=var/test-model/current.tar.gz .venv/bin/python -m pytest -s tests/test_channel_contract.py
"""
from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from test_slack import BOT_USER, Slack, slack_ts, joined, slack_bot_stack

REST = "/webhooks/rest/webhook"
LISTEN = "CLISTEN9"
NESTED = 5000
WORST_LIMIT_S = 1.0
REJECT_LIMIT_S = 0.05
QUESTION = "Kan man söka pengar till en kortfilm i Dalarna?"

# Messages of exactly the maximum length that cost the NLU most (measured; see docs/ARCHITECTURE.md).
WORST = {
    "emoji": "🎬" * 5000,
    "one_letter_words": ("a " * 2500)[:5000],
    "i_words": ("i " * 2500)[:5000],
    "place_cues": ("jag bor i Mora och filmar i Kalmar men " * 200)[:5000],
    "places": ("Mora Falun Kiruna Umeå Göteborg Malmö Västerås Småland Sälen Jönköping " * 100)[:5000],
    "typo_places": ("Moraa Faluun Kirna Umea Göterborg " * 200)[:5000],
    "punctuation": ("!?(" * 1700)[:5000],
    "digits": " ".join(str(i) for i in range(2000))[:5000],
}


@pytest.fixture(scope="module")
def stack():
    with slack_bot_stack(LISTEN) as s:
        s.slack = Slack(s, s.fake)
        s.text("hej", sender="warm-up")
        yield s


def rest(stack, body=None, raw=None, timeout=30):
    t0 = time.perf_counter()
    status, resp = stack.post(REST, body, raw=raw, timeout=timeout)
    return status, resp, time.perf_counter() - t0


def assert_normal_rest(stack, sender):
    status, resp, _ = rest(stack, {"sender": sender, "message": QUESTION})
    assert status == 200 and "Film i Dalarna" in resp.decode(), resp[:300]


# --- REST ------------------------------------------------------------------------------------------

def _nested(depth: int) -> bytes:
    return b'{"sender": "n1", "message": ' + b"[" * depth + b"]" * depth + b"}"


REST_CASES = [
    ("oversize_text", json.dumps({"sender": "r1", "message": "x" * 5001}).encode(), 413),
    ("oversize_100k", json.dumps({"sender": "r1", "message": "film " * 20_000}).encode(), 413),
    ("empty_body", b"", 400),
    ("binary", b"\x00\xff\xfe\x01binary", 400),
    ("non_object", b'"just a string"', 400),
    ("nested_message", _nested(NESTED), 400),
    ("nested_metadata", b'{"sender": "n2", "message": "hej", "metadata": ' + b"[" * NESTED + b"]" * NESTED + b"}", 400),
]


@pytest.mark.parametrize("name,raw,expected", REST_CASES, ids=[c[0] for c in REST_CASES])
def test_rest_contract(stack, name, raw, expected):
    status, resp, took = rest(stack, raw=raw)
    assert status == expected, (status, resp[:200])
    assert json.loads(resp)["error"] and b"Traceback" not in resp
    assert took < 1.0, took
    assert_normal_rest(stack, f"rest-after-{name}")


def test_rest_nul_and_empty_text_answered(stack):
    for sender, text in (("rest-nul", "hej\x00\x00 kortfilm i Dalarna"), ("rest-empty", "")):
        status, resp, _ = rest(stack, {"sender": sender, "message": text})
        assert status == 200 and json.loads(resp), resp[:200]


# --- socket.io ---------------------------------------------------------------------------------------

class Visitor:
    """A website visitor on the socket.io channel (python-socketio client)."""

    def __init__(self, url: str, session_id: str) -> None:
        import socketio

        self.bot, self.errors = [], []
        self.got = threading.Event()
        self.client = socketio.Client(reconnection=False)
        self.client.on("bot_uttered", lambda data: (self.bot.append(data), self.got.set()))
        self.client.on("input_error", lambda data: self.errors.append(data))
        confirmed = threading.Event()
        self.client.on("session_confirm", lambda *a: confirmed.set())
        self.client.connect(url, socketio_path="/socket.io", wait_timeout=10)
        self.session_id = session_id
        self.client.emit("session_request", {"session_id": session_id})
        assert confirmed.wait(10)

    def send(self, payload, wait: float = 20.0):
        self.bot.clear()
        self.errors.clear()
        self.got.clear()
        t0 = time.perf_counter()
        self.client.emit("user_uttered", payload)
        self.got.wait(wait)
        took = time.perf_counter() - t0
        time.sleep(0.3)
        return list(self.bot), list(self.errors), took

    def ask(self, text: str, wait: float = 20.0):
        return self.send({"message": text, "session_id": self.session_id}, wait)

    def close(self) -> None:
        self.client.disconnect()


@pytest.fixture(scope="module")
def visitor(stack):
    v = Visitor(stack.url, "contract-sio")
    v.ask("hej")
    yield v
    v.close()


def _sio_cases(session_id):
    import sys

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 4 * NESTED))  # so the client can encode it
    nested: list = []
    node = nested
    for _ in range(NESTED):
        node.append([])
        node = node[0]
    deep = {"message": nested, "session_id": session_id}
    return [
        ("oversize_text", {"message": "x" * 5001, "session_id": session_id}, 413),
        ("oversize_100k", {"message": "film " * 20_000, "session_id": session_id}, 413),
        ("binary", {"message": b"\x00\xffbinary", "session_id": session_id}, 400),
        ("non_object", "just a string", 400),
        ("number", 42, 400),
        ("message_not_string", {"message": {"a": 1}, "session_id": session_id}, 400),
        ("no_session", {"message": "hej"}, 400),
        ("nested_message", {"message": [[[[[[[[[["x"]]]]]]]]]], "session_id": session_id}, 400),
        ("nested_packet", deep, 400),
    ]


@pytest.mark.parametrize("case", range(9), ids=[c[0] for c in _sio_cases("s")])
def test_socketio_contract(stack, visitor, case):
    name, payload, status = _sio_cases(visitor.session_id)[case]
    bot, errors, took = visitor.send(payload, wait=5)
    assert errors and errors[0]["status"] == status, (name, errors, bot)
    assert bot and bot[0].get("text"), bot  # a short sentence the widget shows
    if status == 413:
        assert "för långt" in bot[0]["text"] or "too long" in bot[0]["text"], bot
    bot, errors, _ = visitor.ask(QUESTION)
    assert not errors and "Film i Dalarna" in " ".join(b.get("text", "") for b in bot), bot
    assert stack.rasa_proc.poll() is None


def test_socketio_nul_empty_and_english_refusal(stack, visitor):
    bot, errors, _ = visitor.ask("hej\x00\x01 kortfilm i Dalarna")
    assert bot and not errors
    bot, errors, _ = visitor.ask("")
    assert bot and not errors
    bot, errors, _ = visitor.ask("Where can I get funding for a short film? " * 200)
    assert errors and errors[0]["status"] == 413 and "too long" in bot[0]["text"], bot


# --- the stall test ------------------------------------------------------------------------------------

def test_worst_case_bounded_and_other_visitors_keep_their_latency(stack, visitor):
    figures = {}
    baseline = sorted(rest(stack, {"sender": f"base-{i}", "message": QUESTION})[2] for i in range(5))[2]
    figures["normal REST question (median of 5)"] = baseline
    worst_name, worst = None, 0.0
    for name, text in WORST.items():
        bot, errors, took = visitor.ask(text)
        assert bot and not errors, (name, errors)
        figures[f"socket.io 5000 chars '{name}'"] = took
        if took > worst:
            worst_name, worst = name, took
    rejected = []
    for _ in range(5):
        bot, errors, took = visitor.send({"message": "film " * 20_000, "session_id": visitor.session_id}, wait=5)
        assert errors
        rejected.append(took)
    status, _, rest_reject = rest(stack, {"sender": "rej", "message": "x" * 100_000})
    assert status == 413
    figures["socket.io 100 kB refused (max of 5)"] = max(rejected)
    figures["REST 100 kB refused"] = rest_reject

    # At the same moment: the worst case on socket.io, a normal question over REST.
    with ThreadPoolExecutor(2) as pool:
        heavy = pool.submit(visitor.ask, WORST[worst_name])
        time.sleep(0.05)
        normal = pool.submit(rest, stack, {"sender": "during-worst", "message": QUESTION})
        _, _, heavy_took = heavy.result()
        status, resp, normal_took = normal.result()
    assert status == 200 and "Film i Dalarna" in resp.decode()
    figures[f"worst case '{worst_name}' (concurrent)"] = heavy_took
    figures["normal REST question during it"] = normal_took
    # and a flood of refused 100 kB messages does not slow a normal question down
    with ThreadPoolExecutor(2) as pool:
        flood = pool.submit(lambda: [visitor.send({"message": "x" * 100_000, "session_id": visitor.session_id},
                                                  wait=2) for _ in range(10)])
        normal = pool.submit(rest, stack, {"sender": "during-flood", "message": QUESTION})
        status, _, flood_normal = normal.result()
        flood.result()
    figures["normal REST question during 10 refused 100 kB"] = flood_normal

    print("\n  latency figures (s):")
    for key, value in figures.items():
        print(f"    {key:48s} {value:7.3f}")
    assert worst <= WORST_LIMIT_S, figures
    assert max(rejected) <= REJECT_LIMIT_S and rest_reject <= REJECT_LIMIT_S, figures
    assert normal_took <= baseline + WORST_LIMIT_S, figures
    assert flood_normal <= baseline + 0.5, figures


# --- Slack ---------------------------------------------------------------------------------------------

def test_slack_url_verification_documented_form(stack):
    body = json.dumps({"token": "x", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
                       "type": "url_verification"}).encode()
    status, resp = stack.slack.post(body, Slack.headers(body))
    assert status == 200
    assert json.loads(resp) == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}
    import urllib.request

    req = urllib.request.Request(stack.url + "/webhooks/slack/webhook", data=body, method="POST",
                                 headers=Slack.headers(body))
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.headers.get("Content-Type", "").startswith("application/json")


NOT_QUESTIONS = [
    {"subtype": "channel_join", "text": f"<@U7> has joined the channel", "user": "U7"},
    {"subtype": "channel_leave", "text": "<@U7> has left the channel", "user": "U7"},
    {"subtype": "channel_topic", "text": "set the channel topic: film", "topic": "film", "user": "U7"},
    {"subtype": "channel_purpose", "text": "set the channel purpose: film", "purpose": "film", "user": "U7"},
    {"subtype": "channel_name", "text": "renamed the channel", "user": "U7"},
    {"subtype": "message_changed", "hidden": True, "message": {"text": QUESTION, "user": "U7"}},
    {"subtype": "message_deleted", "hidden": True, "deleted_ts": "1.2"},
    {"subtype": "bot_message", "text": QUESTION, "bot_id": "B1"},
    {"text": QUESTION, "user": "U7", "bot_id": "B2"},
    {"text": QUESTION, "user": BOT_USER},
    {"subtype": "file_share", "text": "", "user": "U7", "files": [{"id": "F1"}]},
    {"subtype": "pinned_item", "text": "pinned a message", "user": "U7"},
]


@pytest.mark.parametrize("event", NOT_QUESTIONS, ids=[e.get("subtype") or f"other{i}" for i, e in enumerate(NOT_QUESTIONS)])
def test_slack_non_questions_post_nothing(stack, event):
    ts = slack_ts()
    full = {"type": "message", "channel_type": "channel", "channel": LISTEN, "ts": ts, **event}
    status, resp, _ = stack.slack.send_event(full)
    assert status == 200, resp[:200]
    time.sleep(1.5)
    assert stack.fake.posts(channel=LISTEN, thread_ts=ts) == []


def test_slack_contract(stack):
    slack = stack.slack
    # oversize text: one short reply in the thread, not processed by the NLU
    status, _, _, ts = slack.dm("x" * 5001, channel="DCON1")
    assert status == 200
    posts = slack.replies("DCON1", ts)
    assert len(posts) == 1 and "för långt" in posts[0]["text"]
    # oversize body, non-object, nested thousands deep, form without payload: 4xx, nothing posted
    for body, expected in ((json.dumps({"type": "event_callback", "x": "y" * 300_000}).encode(), 413),
                           (b'"just a string"', 400), (b"[" * NESTED + b"]" * NESTED, 400),
                           (b'{"type": "event_callback", "event": ' + b"[" * NESTED + b"]" * NESTED + b"}", 400)):
        status, resp = slack.post(body, Slack.headers(body))
        assert status == expected, (status, resp[:200])
    body = b"nothing=here"
    status, _ = slack.post(body, Slack.headers(body, content_type="application/x-www-form-urlencoded"))
    assert status == 400
    # missing signature headers: 400
    body = json.dumps({"type": "event_callback", "event": {"type": "message", "text": "hej"}}).encode()
    status, _ = slack.post(body, {"Content-Type": "application/json"})
    assert status == 400
    status, _ = slack.post(body, {"Content-Type": "application/json", "X-Slack-Request-Timestamp": "soon",
                                  "X-Slack-Signature": "v0=00"})
    assert status == 400
    # NUL in text: cleaned and answered; then a normal question
    status, _, _, ts = slack.dm("hej\x00\x01 kortfilm i Dalarna", channel="DCON2")
    assert status == 200 and slack.replies("DCON2", ts)
    status, _, _, ts = slack.dm(QUESTION, channel="DCON3")
    assert "Film i Dalarna" in joined(slack.replies("DCON3", ts))
    assert stack.fake.posts(channel="DCON1") == posts


def test_slack_retry_after_restart_answered_once(stack):
    slack = stack.slack
    status, _, body, ts = slack.dm(QUESTION, channel="DRESTART1")
    first = slack.replies("DRESTART1", ts)
    assert "Film i Dalarna" in joined(first)
    stack.restart_rasa()
    status, _ = slack.post(body, Slack.headers(body, **{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}))
    assert status == 200
    time.sleep(3)
    assert len(stack.fake.posts(channel="DRESTART1")) == len(first)
    import sqlite3

    with sqlite3.connect(stack.tracker_db) as db:
        assert db.execute("select count(*) from filmbot_slack_seen").fetchone()[0] > 0


def test_zz_log_has_no_traceback(stack):
    log = (stack.workdir / "rasa.log").read_text(errors="replace")
    assert "Traceback" not in log, log[log.find("Traceback") - 2000: log.find("Traceback") + 3000]
    assert "Task exception was never retrieved" not in log
    assert "rejected a" in log  # refusals are logged, as warnings
    for line in log.splitlines():
        if "rejected a" in line:
            assert "WARNING" in line, line
