"""`python -m bot ask "fråga" ["följdfråga" ...]`: one-off checks for staff and scripts.

Runs the questions as one conversation through the trained model and the real actions (an action server
is started on a free loopback port for the duration, unless --action-url points at a running one), and
prints per question: the bot's reply, the detected intent with its confidence, and the resolved place.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from typing import Iterator, List, Optional

from bot.paths import ROOT


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def action_server(url: Optional[str]) -> Iterator[str]:
    if url:
        yield url
        return
    port = _free_port()
    env = dict(os.environ, SANIC_HOST="127.0.0.1", PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", str(port),
                             "--quiet"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            if proc.poll() is not None:
                raise RuntimeError("the action server did not start (try: python -m rasa_sdk --actions actions)")
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/webhook"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


async def _ask(model: str, questions: List[str], action_url: str, sender: str) -> List[dict]:
    from rasa.core.agent import Agent
    from rasa.utils.endpoints import EndpointConfig
    from rasa.utils.log_utils import configure_structlog

    from bot.places import resolve_place

    logging.getLogger("rasa").setLevel(logging.ERROR)
    configure_structlog(logging.ERROR)
    agent = Agent.load(model, action_endpoint=EndpointConfig(action_url),
                       generator=EndpointConfig(type="bot.glue.nlg.LanguageNLG"))
    results = []
    for q in questions:
        parsed = await agent.parse_message(q)
        replies = await agent.handle_text(q, sender_id=sender)
        intent = parsed.get("intent") or {}
        name = intent.get("name")
        if name == "faq":
            resp = ((parsed.get("response_selector") or {}).get("faq") or {}).get("response") or {}
            name = resp.get("intent_response_key") or name
        place = resolve_place(q)
        results.append({
            "question": q,
            "reply": [r.get("text", "") for r in replies or []],
            "buttons": [b.get("title") for r in replies or [] for b in r.get("buttons") or []],
            "intent": name,
            "confidence": round(float(intent.get("confidence") or 0), 3),
            "place": place.to_json() if place.status != "unknown" or place.matched else None,
        })
    return results


def ask(model: str, questions: List[str], action_url: Optional[str] = None, as_json: bool = False,
        sender: str = "ask") -> int:
    with action_server(action_url) as url:
        results = asyncio.run(_ask(model, questions, url, sender))
    for r in results:
        if as_json:
            print(json.dumps(r, ensure_ascii=False))
            continue
        print(f"> {r['question']}")
        for line in r["reply"]:
            print("  " + line.replace("\n", "\n  "))
        if r["buttons"]:
            print("  [" + "] [".join(r["buttons"]) + "]")
        print(f"  intent: {r['intent']} ({r['confidence']})")
        p = r["place"]
        if p:
            where = p.get("kommun") or p.get("county") or p.get("matched")
            print(f"  place: {p['status']} {where} -> {p.get('centre_name') or ', '.join(c['county'] for c in p['candidates'])}")
        else:
            print("  place: -")
    return 0
