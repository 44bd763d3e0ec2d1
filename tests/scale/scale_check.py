"""Scale-out check: two Rasa instances on one PostgreSQL tracker store and one Redis lock store, behind
nginx round robin (see tests/scale/scale_stack.py). Run by scripts/test_scale.sh (`make test-scale`):

    .venv/bin/python -m pytest tests/scale/scale_check.py

The file name does not match test_*.py on purpose: the default `pytest tests` run does not collect it
(it needs PostgreSQL, Redis, nginx and two Rasa processes, about 2-4 minutes on 2 cores).
Writes a JSON report (RSS of the Rasa processes, timings, retries) to $FILMBOT_SCALE_REPORT
(default var/test-scale/report.json).
"""
from __future__ import annotations

import json
import os
import re
import sys
import threading
import time
from pathlib import Path
from typing import Any, Dict, List

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from scale_stack import ROOT, ScaleStack  # noqa: E402

REPORT: Dict[str, Any] = {}


def _model() -> Path:
    env = os.environ.get("FILMBOT_TEST_MODEL")
    candidates = [Path(env)] if env else [ROOT / "var/test-model/current.tar.gz", ROOT / "models/current.tar.gz"]
    for c in candidates:
        if c.exists():
            return c
    pytest.fail(f"no trained model at {candidates}: run scripts/test_scale.sh (trains one) or make train")


@pytest.fixture(scope="module")
def scale():
    t0 = time.time()
    from bot.channels.config import slack_section
    from fake_slack import FakeSlack
    from test_slack import SECRET, TOKEN

    stack = ScaleStack(_model())
    fake = FakeSlack().start()
    stack.fake_slack = fake
    stack.extra_env = {"SLACK_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": fake.api_url}
    stack.credentials = stack.workdir / "credentials.yml"
    stack.credentials.write_text((ROOT / "credentials.yml").read_text().rstrip("\n") + "\n\n"
                                 + slack_section(env=stack.extra_env))
    try:
        stack.start()
        REPORT["startup_s"] = round(time.time() - t0, 1)
        stack.measure_rss("after_start")
        yield stack
    finally:
        stack.stop()
        fake.stop()
        REPORT["workdir"] = str(stack.workdir)
        REPORT["rss_kib"] = stack.rss
        out = Path(os.environ.get("FILMBOT_SCALE_REPORT", ROOT / "var/test-scale/report.json"))
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(REPORT, indent=2, ensure_ascii=False) + "\n")
        stack.cleanup()


def texts(messages: List[Dict[str, Any]]) -> List[str]:
    return [m["text"] for m in messages if m.get("text")]


def turns(events: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Split stored events into turns: each user message with the events up to the next user message."""
    out: List[Dict[str, Any]] = []
    for e in events:
        if e["event"] == "user":
            out.append({"text": e.get("text"), "after": []})
        elif out:
            out[-1]["after"].append(e)
    return out


# -- 1. one conversation alternating between the instances ------------------------------------------
def test_conversation_alternating_between_instances_keeps_place_and_topic(scale):
    sender = "alternate-1"
    first = scale.text("A", sender, "Var kan jag få stöd för kortfilm i Dalarna?")
    assert "Film i Dalarna" in first and "kortfilm" in first.lower(), first
    second = scale.text("B", sender, "och för barn och unga då?")
    assert "Film i Dalarna" in second, second
    assert "barn" in second.lower(), second
    third = scale.text("A", sender, "vem kan jag kontakta?")
    assert "Dalarna" in third, third

    # the tracker in PostgreSQL holds all three turns with the slots the actions set
    events = scale.events(sender)
    user_texts = [e["text"] for e in events if e["event"] == "user"]
    assert user_texts == ["Var kan jag få stöd för kortfilm i Dalarna?", "och för barn och unga då?",
                          "vem kan jag kontakta?"]
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert slots.get("centre_id") == "film-i-dalarna", slots
    assert slots.get("county_code") == "20", slots
    row = scale.psql(f"SELECT count(*) FROM events WHERE sender_id = '{sender}' AND type_name = 'bot'")
    assert int(row) >= 3
    REPORT["alternating"] = {"events_in_postgres": len(events), "slots": slots}


# -- 2. simultaneous messages to one conversation through both instances ------------------------------
CONCURRENT = [
    "hej",
    "Var kan jag få stöd för kortfilm i Dalarna?",
    "vem ska jag kontakta i Jönköpings län?",
    "vilka filmcentrum finns det?",
    "dokumentärfilm i Skåne",
    "tack",
]


@pytest.mark.parametrize("round_no", [1, 2, 3])
def test_concurrent_messages_to_one_conversation_are_processed_in_order(scale, round_no):
    sender = f"concurrent-{round_no}"
    barrier = threading.Barrier(len(CONCURRENT))
    replies: Dict[str, Any] = {}

    def send(i: int, message: str) -> None:
        target = "AB"[i % 2]
        barrier.wait()
        try:
            replies[message] = scale.say(target, sender, message, timeout=120)
        except Exception as err:  # reported below
            replies[message] = err

    t0 = time.time()
    threads = [threading.Thread(target=send, args=(i, m)) for i, m in enumerate(CONCURRENT)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(180)
    elapsed = time.time() - t0

    failed = {m: r for m, r in replies.items() if isinstance(r, Exception) or not texts(r)}
    assert not failed and len(replies) == len(CONCURRENT), f"no reply for {failed}"

    got = turns(scale.events(sender))
    assert sorted(t["text"] for t in got) == sorted(CONCURRENT), [t["text"] for t in got]
    for turn in got:
        after = turn["after"]
        # each user message is followed by its own bot reply, then the bot listens again, before the
        # next user message: nothing of another message's processing in between
        bots = [e["text"] for e in after if e["event"] == "bot" and e.get("text")]
        assert bots, f"no bot reply stored after {turn['text']!r}: {after}"
        assert after[-1]["event"] == "action" and after[-1]["name"] == "action_listen", (turn["text"], after)
        assert sum(1 for e in after if e["event"] == "action" and e["name"] == "action_listen") == 1, after
        # ... and the reply stored in the tracker is the one that went back to that message's sender
        assert bots == texts(replies[turn["text"]]), (turn["text"], bots, texts(replies[turn["text"]]))
    REPORT.setdefault("concurrent", []).append(
        {"sender": sender, "order_processed": [t["text"] for t in got], "seconds": round(elapsed, 1)})


# -- 3. a conversation whose lock holder died ---------------------------------------------------------
def test_message_waiting_for_a_dead_instances_ticket_is_served_when_it_expires(scale):
    """What a retry after a crash meets: the dead instance's ticket, issued a moment earlier, never released.

    Rasa 3.6's own RedisLockStore lets the waiting ticket expire together with the dead one and then never
    serves it (the request ends in a 503 after 60 s); bot.glue.lock_store.AtomicRedisLockStore renews it.
    """
    import redis

    from scale_stack import REDIS_PASSWORD

    sender = "dead-ticket-1"
    assert scale.text("A", sender, "hej")
    red = redis.Redis(host="127.0.0.1", port=scale.redis_port, password=REDIS_PASSWORD, db=1)
    key = f"filmbot:lock:{sender}"
    dead = {"number": 41, "expires": time.time() + scale.lock_lifetime}
    red.set(key, json.dumps({"conversation_id": sender, "tickets": [json.dumps(dead)]}))
    t0 = time.time()
    reply = scale.text("B", sender, "vad är filmregionerna?")
    waited = time.time() - t0
    assert reply and "kan inte svara" not in reply, reply
    assert scale.lock_lifetime - 2 <= waited <= scale.lock_lifetime + 10, waited
    assert red.get(key) is None  # released and removed
    REPORT["dead_ticket_wait_s"] = round(waited, 1)


# -- 4. one instance killed during a load run through nginx, then restarted --------------------------
PLACES = ["Dalarna", "Skåne", "Västerbotten", "Jönköpings län", "Gotland", "Värmland", "Uppsala",
          "Halland", "Norrbotten", "Kalmar län"]


def script_for(place: str) -> List[str]:
    return ["hej", f"Var kan jag få stöd för kortfilm i {place}?", "och för barn och unga då?",
            "vem kan jag kontakta?", "vilka filmcentrum finns det?", f"dokumentärfilm i {place}",
            "kurser då?", "vad är filmregionerna?", "tack", "hej då"]


def _upstreams(lines: List[str]) -> List[str]:
    return [m.group(1) for m in (re.search(r"upstream=(\S+(?:, \S+)*) ustatus", ln) for ln in lines) if m]


def test_instance_killed_during_load_loses_no_conversation_and_rejoins(scale):
    n_conv, n_msg = 10, 10
    kill_after = 25
    done = 0
    done_lock = threading.Lock()
    lost: List[str] = []
    results: Dict[str, List[str]] = {}
    port_a, port_b = scale.rasa_ports
    log_before = len(scale.access_log())

    def conversation(k: int) -> None:
        nonlocal done
        sender = f"load-{k}"
        results[sender] = []
        for message in script_for(PLACES[k]):
            try:
                reply = texts(scale.say("nginx", sender, message, timeout=150))
                if not reply:
                    lost.append(f"{sender} {message!r}: empty reply")
            except Exception as err:
                reply = []
                lost.append(f"{sender} {message!r}: {err}")
            results[sender].append("\n".join(reply))
            with done_lock:
                done += 1

    t0 = time.time()
    threads = [threading.Thread(target=conversation, args=(k,)) for k in range(n_conv)]
    for t in threads:
        t.start()
    # let both instances take traffic, then SIGKILL B while requests are in flight
    while done < kill_after and any(t.is_alive() for t in threads):
        time.sleep(0.05)
    scale.measure_rss("under_load")
    done_at_kill = done
    scale.kill_rasa(1)
    kill_at = time.time() - t0
    for t in threads:
        t.join(400)
    load_s = time.time() - t0

    lines = scale.access_log()[log_before:]
    ups = _upstreams(lines)
    retried = [u for u in ups if "," in u]
    statuses = [ln.split()[1] for ln in lines]
    REPORT["load"] = {"conversations": n_conv, "messages": n_conv * n_msg, "seconds": round(load_s, 1),
                      "killed_B_after_s": round(kill_at, 1), "replies_before_kill": done_at_kill,
                      "lost": lost, "nginx_retried_requests": retried,
                      "nginx_status_counts": {s: statuses.count(s) for s in sorted(set(statuses))},
                      "requests_per_upstream": {u: ups.count(u) for u in sorted(set(ups))}}
    assert not lost, f"{len(lost)} lost replies: {lost[:5]}"
    assert sum(len(v) for v in results.values()) == n_conv * n_msg
    assert any(u == f"127.0.0.1:{port_b}" for u in ups), "B never got traffic before the kill"
    assert all(s == "200" for s in statuses), REPORT["load"]["nginx_status_counts"]

    # every conversation is complete in PostgreSQL (a retry after a kill can at worst repeat a message)
    duplicates = {}
    for k in range(n_conv):
        user_texts = [e["text"] for e in scale.events(f"load-{k}") if e["event"] == "user"]
        assert set(user_texts) == set(script_for(PLACES[k])), (k, user_texts)
        if len(user_texts) != n_msg:
            duplicates[f"load-{k}"] = len(user_texts) - n_msg
    REPORT["load"]["repeated_user_messages"] = duplicates

    # A answered alone meanwhile; now B comes back
    t1 = time.time()
    scale.start_rasa(1)
    REPORT["restart_B_s"] = round(time.time() - t1, 1)
    # straight to B: it continues a conversation from the load run, from the shared tracker
    direct = scale.text("B", "load-0", "och för barn och unga då?")
    assert "Film i Dalarna" in direct, direct

    # nginx sends B traffic again (fail_timeout has long passed)
    mark = len(scale.access_log())
    for i in range(10):
        assert texts(scale.say("nginx", f"rejoin-{i}", "hej"))
    ups_after = _upstreams(scale.access_log()[mark:])
    REPORT["after_rejoin_requests_per_upstream"] = {u: ups_after.count(u) for u in sorted(set(ups_after))}
    assert ups_after.count(f"127.0.0.1:{port_b}") >= 3, ups_after
    assert ups_after.count(f"127.0.0.1:{port_a}") >= 3, ups_after
    scale.measure_rss("end")


# -- 5. personal data: never stored in PostgreSQL; purge --redact rewrites what was stored before --------
def test_personal_data_only_placeholders_in_postgres_and_purge_redact(scale):
    import asyncio
    import subprocess

    sender = "pii-scale"
    originals = ["811218-9876", "070-123 45 67", "anna.svensson@exempel.se"]
    for target, message in (("A", "mitt personnummer är 811218-9876, kortfilm i Dalarna?"),
                            ("B", "ring mig på 070-123 45 67"), ("nginx", "mejla anna.svensson@exempel.se")):
        reply = scale.text(target, sender, message)
        assert reply.strip() and not any(o in reply for o in originals), reply
    raw = json.dumps(scale.events(sender), ensure_ascii=False)
    assert not any(o in raw for o in originals)
    users = [e["text"] for e in scale.events(sender) if e["event"] == "user"]
    assert users == ["mitt personnummer är [personnummer borttaget], kortfilm i Dalarna?",
                     "ring mig på [telefonnummer borttaget]", "mejla [e-post borttagen]"], users

    # a conversation stored before redaction existed (written with Rasa's own SQLTrackerStore)
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    env = scale.prod_env()
    store = SQLTrackerStore(Domain.empty(), dialect="postgresql", host=env["POSTGRES_HOST"],
                            port=env["POSTGRES_PORT"], db=env["POSTGRES_DB"], username=env["POSTGRES_USER"],
                            password=env["POSTGRES_PASSWORD"])
    old = "Hej! 19811218-9876 här, ring 0701234567 eller skriv till anna.svensson@exempel.se"
    asyncio.run(store.save(DialogueStateTracker.from_events("pii-old", [
        ActionExecuted("action_listen"), UserUttered(old, parse_data={"text": old}), BotUttered("Hej!")])))
    before = scale.psql("SELECT count(*) FROM events")

    def purge(*args):
        return subprocess.run([str(ROOT / ".venv/bin/python"), "-m", "bot", "purge", "--endpoints",
                               str(ROOT / "endpoints.prod.yml"), *args], cwd=ROOT,
                              env={**os.environ, **env, "PYTHONPATH": str(ROOT)}, capture_output=True,
                              text=True, timeout=120)

    dry = purge("--dry-run")
    assert dry.returncode == 0 and "found personal data in 1 of" in dry.stdout, dry.stdout + dry.stderr
    assert "email 1, personnummer 1, phone 1" in dry.stdout, dry.stdout
    done = purge("--redact")
    assert done.returncode == 0 and "replaced personal data in 1 of" in done.stdout, done.stdout + done.stderr
    assert scale.psql("SELECT count(*) FROM events") == before
    stored = scale.events("pii-old")
    assert [e["text"] for e in stored if e["event"] == "user"] == [
        "Hej! [personnummer borttaget] här, ring [telefonnummer borttaget] eller skriv till [e-post borttagen]"]
    # the originals themselves (a bare "9876" also occurs in timestamps of other events)
    assert scale.psql("SELECT count(*) FROM events WHERE data LIKE '%811218-9876%' OR data LIKE '%0701234567%'"
                      " OR data LIKE '%070-123 45 67%' OR data LIKE '%anna.svensson@exempel%'").strip() == "0"
    again = purge("--redact")
    assert again.returncode == 0 and "replaced personal data in 0 of" in again.stdout, again.stdout
    REPORT["personal_data"] = {"dry_run": dry.stdout.strip(), "redact": done.stdout.strip()}


def test_slack_event_retried_to_the_other_instance_is_answered_once(scale):
    """Seen Slack event ids live in Redis (the lock store): a retry that reaches instance B after A
    answered posts nothing more; the same after A is restarted."""
    from test_slack import Slack, joined

    class Target:
        def __init__(self, url):
            self.url = url

        def post(self, path, body, raw=None, headers=None, timeout=30):
            import urllib.error
            import urllib.request

            req = urllib.request.Request(self.url + path, data=raw, method="POST", headers=headers or {})
            try:
                with urllib.request.urlopen(req, timeout=timeout) as resp:
                    return resp.status, resp.read()
            except urllib.error.HTTPError as err:
                return err.code, err.read()

    fake = scale.fake_slack
    slack_a = Slack(Target(scale.url("A")), fake)
    slack_b = Slack(Target(scale.url("B")), fake)
    status, _, body, ts = slack_a.dm("Kan man söka pengar till en kortfilm i Dalarna?", channel="DSCALE1")
    assert status == 200
    first = slack_a.replies("DSCALE1", ts)
    assert "Film i Dalarna" in joined(first)
    status, _ = slack_b.post(body, Slack.headers(body, **{"X-Slack-Retry-Num": "1",
                                                          "X-Slack-Retry-Reason": "http_timeout"}))
    assert status == 200
    scale.kill_rasa(0)
    scale.start_rasa(0)
    status, _ = slack_a.post(body, Slack.headers(body, **{"X-Slack-Retry-Num": "2",
                                                          "X-Slack-Retry-Reason": "http_error"}))
    assert status == 200
    time.sleep(3)
    assert len(fake.posts(channel="DSCALE1")) == len(first)
    import redis
    from scale_stack import REDIS_PASSWORD

    keys = redis.Redis(port=scale.redis_port, password=REDIS_PASSWORD, db=1).keys("*slack_seen:*")
    assert len(keys) >= 3, keys  # event id, client_msg_id, channel+ts
