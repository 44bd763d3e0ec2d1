"""The chat page (web/) in a real headless Chromium against the real Rasa + action server.

Starts its own BotStack (socket.io channel, --cors *) and `python -m bot web` on free ports, then drives
the page with Playwright (Debian's /usr/bin/chromium). Screenshots go to test-output/web/.
The tests run in file order and share one browser page: each step builds on the conversation before it.
"""
from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from bot.tools.stack import ROOT, VENV_BIN, BotStack, default_model, free_port

CHROMIUM = os.environ.get("FILMBOT_CHROMIUM", "/usr/bin/chromium")
SOCKET_IO_JS = ROOT / "web/node_modules/socket.io-client/dist/socket.io.min.js"
OUT = ROOT / "test-output" / "web"
XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
ANSWER_TIMEOUT = 45_000  # ms; the machine is shared and the first answers warm the model up

import playwright.sync_api as sync_api  # noqa: E402

expect = sync_api.expect

# Missing parts fail the tests (they are installed by `make setup` / `make setup-system`), never skip them.
assert Path(CHROMIUM).exists(), f"no Chromium at {CHROMIUM}: run `make setup-system`"
assert SOCKET_IO_JS.exists(), "web/node_modules missing: run `make setup`"


def _wait_http(url: str, proc: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        assert proc.poll() is None, f"page server exited with {proc.returncode}"
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except Exception:
            time.sleep(0.2)
    raise TimeoutError(url)


def _start_page_server(rasa_url: str) -> tuple:
    port = free_port()
    proc = subprocess.Popen([str(VENV_BIN / "python"), "-m", "bot", "web", "--port", str(port),
                             "--rasa-url", rasa_url], cwd=ROOT, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    _wait_http(url, proc)
    return proc, url


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def bot():
    with BotStack(default_model(), rasa_args=["--cors", "*"]) as stack:
        yield stack


@pytest.fixture(scope="module")
def site(bot):
    proc, url = _start_page_server(bot.url)
    yield url
    _stop(proc)


@pytest.fixture(scope="module")
def page(browser, site):
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="sv-SE")
    pg = context.new_page()
    pg.errors = []
    pg.on("pageerror", lambda exc: pg.errors.append(str(exc)))
    pg.goto(site)
    yield pg
    context.close()


OUT.mkdir(parents=True, exist_ok=True)


def bot_messages(pg):
    return pg.locator(".fb-messages .fb-bot .fb-bubble")


def user_messages(pg):
    return pg.locator(".fb-messages .fb-user .fb-bubble")


def session_id(pg) -> str:
    state = pg.evaluate("() => Object.keys(sessionStorage).filter(k => k.startsWith('filmbot:'))"
                        ".map(k => JSON.parse(sessionStorage.getItem(k)))[0]")
    return state["sessionId"]


def wait_greeting(pg) -> None:
    expect(bot_messages(pg).first).to_contain_text("Hej", timeout=ANSWER_TIMEOUT)
    expect(pg.locator(".fb-typing")).to_be_hidden(timeout=ANSWER_TIMEOUT)


def ask(pg, text: str) -> None:
    before = bot_messages(pg).count()
    box = pg.get_by_label("Skriv din fråga")
    box.fill(text)
    box.press("Enter")
    expect(user_messages(pg).last).to_have_text(text)
    expect(bot_messages(pg)).not_to_have_count(before, timeout=ANSWER_TIMEOUT)
    expect(pg.locator(".fb-typing")).to_be_hidden(timeout=ANSWER_TIMEOUT)


def tracker_senders(bot) -> dict:
    """sender_id -> list of user texts, straight from the stack's SQLite tracker store."""
    con = sqlite3.connect(bot.tracker_db)
    try:
        rows = con.execute("SELECT sender_id, type_name, data FROM events ORDER BY id").fetchall()
    finally:
        con.close()
    out: dict = {}
    for sender, kind, data in rows:
        texts = out.setdefault(sender, [])
        if kind == "user":
            texts.append(json.loads(data).get("text"))
    return out


# --- tests -------------------------------------------------------------------------------------------------

def test_first_open_privacy_notice_greeting_and_accessibility(page):
    notice = page.locator(".fb-notice")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("30 dagar")
    expect(notice).to_contain_text("personuppgifter")
    expect(page.locator(".fb-messages")).to_have_attribute("aria-live", "polite")
    wait_greeting(page)
    # Focus starts in the text box; the notice can be dismissed with the keyboard and stays dismissed.
    expect(page.get_by_label("Skriv din fråga")).to_be_focused()
    page.get_by_role("button", name="Jag förstår").focus()
    page.keyboard.press("Enter")
    expect(notice).to_be_hidden()
    expect(page.get_by_label("Skriv din fråga")).to_be_focused()
    assert not page.errors, page.errors


def test_page_server_serves_only_the_page(site, bot):
    def get(path):
        try:
            with urllib.request.urlopen(site.rstrip("/") + path, timeout=5) as resp:
                return resp.status, resp.headers, resp.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as err:
            return err.code, err.headers, ""

    status, headers, body = get("/config.js")
    assert status == 200 and json.dumps(bot.url) in body
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert get("/socket.io.min.js")[0] == 200
    for path in ("/package.json", "/node_modules/socket.io-client/package.json", "/..%2fMakefile",
                 "/%2e%2e/credentials.yml", "/README.md"):
        assert get(path)[0] == 404, path


def test_question_gets_answer_with_link(page):
    # record whether the typing indicator showed while waiting
    page.evaluate("""() => {
        const t = document.querySelector('.fb-typing');
        window.__typingSeen = false;
        new MutationObserver(() => { if (!t.hidden) window.__typingSeen = true; })
            .observe(t, {attributes: true, attributeFilter: ['hidden']});
    }""")
    ask(page, "Var kan jag söka stöd för film i Dalarna?")
    assert page.evaluate("() => window.__typingSeen"), "no typing indicator while waiting"
    answer = bot_messages(page).last
    expect(answer).to_contain_text("Film i Dalarna")
    # URLs in bot text become real links, built as DOM nodes.
    links = page.locator(".fb-messages .fb-bot a[href^='https://']")
    assert links.count() >= 1, bot_messages(page).all_inner_texts()
    href = links.first.get_attribute("href")
    assert links.first.inner_text().rstrip("/") in href
    assert links.first.get_attribute("rel") == "noopener noreferrer"
    page.screenshot(path=str(OUT / "desktop.png"))


def test_buttons_send_payload_and_show_title(page):
    ask(page, "Småland")
    button = page.get_by_role("button", name="Jönköpings län")
    expect(button).to_be_visible()
    # Buttons are reachable with Tab from the text box (shift-tab walks backwards through them).
    page.get_by_label("Skriv din fråga").focus()
    for _ in range(12):
        page.keyboard.press("Shift+Tab")
        if page.evaluate("() => document.activeElement.textContent") == "Jönköpings län":
            break
    else:
        pytest.fail("the Jönköpings län button was not reachable with the keyboard")
    before = bot_messages(page).count()
    page.keyboard.press("Enter")
    expect(user_messages(page).last).to_have_text("Jönköpings län")  # the title, not the payload
    expect(bot_messages(page)).not_to_have_count(before, timeout=ANSWER_TIMEOUT)
    expect(page.locator(".fb-typing")).to_be_hidden(timeout=ANSWER_TIMEOUT)
    expect(bot_messages(page).last).to_contain_text("Jönköping")
    assert not any("/inform_place" in t for t in user_messages(page).all_inner_texts())
    # the used buttons are disabled now
    expect(page.get_by_role("button", name="Jönköpings län")).to_be_disabled()


def test_history_survives_reload(page):
    users_before = user_messages(page).all_inner_texts()
    bots_before = bot_messages(page).all_inner_texts()
    sid = session_id(page)
    page.reload()
    expect(user_messages(page)).to_have_count(len(users_before))
    assert user_messages(page).all_inner_texts() == users_before
    assert bot_messages(page).all_inner_texts() == bots_before
    assert session_id(page) == sid
    expect(page.locator(".fb-notice")).to_be_hidden()  # dismissed once is enough
    # the same session still talks to the bot after the reload (rejoins its socket.io room)
    expect(page.locator(".fb-root")).to_have_attribute("data-session-id", sid, timeout=ANSWER_TIMEOUT)
    ask(page, "tack")
    assert bot_messages(page).count() > len(bots_before)


def test_restart_starts_a_new_conversation(page, bot):
    old = session_id(page)
    page.get_by_role("button", name=re.compile("Börja om")).click()
    expect(user_messages(page)).to_have_count(0)
    wait_greeting(page)
    expect(bot_messages(page)).to_have_count(1)
    new = session_id(page)
    assert new != old
    expect(page.locator(".fb-root")).to_have_attribute("data-session-id", new)
    expect(page.get_by_label("Skriv din fråga")).to_be_focused()
    # server side: the old conversation has the Dalarna question, the new one only the greeting
    senders = tracker_senders(bot)
    assert "Var kan jag söka stöd för film i Dalarna?" in senders[old]
    assert new in senders, list(senders)
    assert senders[new] == ["/greet"], senders[new]
    page.reload()
    expect(bot_messages(page)).to_have_count(1)
    expect(user_messages(page)).to_have_count(0)


def test_markup_is_shown_as_text_never_executed(page):
    ask(page, XSS)
    expect(user_messages(page).last).to_have_text(XSS)
    assert page.evaluate("() => window.__xss") is None
    assert page.locator(".fb-messages img, .fb-messages script").count() == 0
    # Bot text goes through the same renderer as the stored history: plant markup (and a javascript:
    # "link") in a stored bot message and reload.
    page.evaluate("""(xss) => {
        const key = Object.keys(sessionStorage).find(k => k.startsWith('filmbot:'));
        const state = JSON.parse(sessionStorage.getItem(key));
        state.history.push({from: 'bot', text: 'Svar ' + xss + ' javascript:window.__xss=3 https://example.se/a',
                            buttons: [{title: xss, payload: '/greet'}]});
        sessionStorage.setItem(key, JSON.stringify(state));
    }""", XSS)
    page.reload()
    expect(user_messages(page).last).to_have_text(XSS)
    expect(bot_messages(page).last).to_contain_text(XSS)
    expect(page.locator(".fb-messages .fb-button").last).to_have_text(XSS)
    assert page.locator(".fb-messages img, .fb-messages script").count() == 0
    hrefs = page.locator(".fb-messages a").evaluate_all("as => as.map(a => a.href)")
    assert "https://example.se/a" in hrefs and not any(h.startswith("javascript:") for h in hrefs), hrefs
    page.wait_for_timeout(300)
    assert page.evaluate("() => window.__xss") is None


def _feedback_rows(bot, sender: str, wait_for: int, timeout: float = 30.0) -> tuple:
    """(answer ids of the stored rateable bot messages in order, feedback entity dicts in order), once
    `wait_for` feedback messages are stored (the widget sends them without waiting for an answer)."""
    deadline = time.time() + timeout
    while True:
        con = sqlite3.connect(bot.tracker_db)
        try:
            rows = con.execute("SELECT type_name, intent_name, data FROM events WHERE sender_id = ? ORDER BY id",
                               (sender,)).fetchall()
        finally:
            con.close()
        ids, rated = [], []
        for kind, intent, data in rows:
            event = json.loads(data)
            tag = (event.get("metadata") or {}).get("filmbot") or {}
            if kind == "bot" and tag.get("answer_id"):
                ids.append(tag["answer_id"])
            if kind == "user" and intent == "feedback":
                rated.append({e["entity"]: e["value"] for e in event["parse_data"]["entities"]})
        if len(rated) >= wait_for or time.time() > deadline:
            return ids, rated
        time.sleep(0.3)


def test_rate_answers_up_and_down_with_comment(browser, site, bot):
    context = browser.new_context(viewport={"width": 1024, "height": 860}, locale="sv-SE")
    pg = context.new_page()
    pg.errors = []
    pg.on("pageerror", lambda exc: pg.errors.append(str(exc)))
    try:
        pg.goto(site)
        wait_greeting(pg)
        pg.get_by_role("button", name="Jag förstår").click()
        expect(pg.locator(".fb-messages .fb-bot").first.locator(".fb-rate")).to_have_count(0)  # a greeting

        # 👍 with the mouse on the first answer
        ask(pg, "Kan man söka pengar till en kortfilm i Dalarna?")
        first = pg.locator(".fb-messages .fb-bot").filter(has=pg.locator(".fb-feedback")).last
        up, down = first.get_by_role("button", name="Bra svar"), first.get_by_role("button", name="Dåligt svar")
        expect(up).to_have_attribute("aria-pressed", "false")
        expect(up).to_be_enabled()
        n_bot = bot_messages(pg).count()
        up.click()
        expect(up).to_be_disabled()
        expect(down).to_be_disabled()
        expect(up).to_have_attribute("aria-pressed", "true")
        expect(down).to_have_attribute("aria-pressed", "false")
        expect(bot_messages(pg)).to_have_count(n_bot + 1, timeout=ANSWER_TIMEOUT)   # the bot's thanks
        expect(first.locator(".fb-comment")).to_have_count(0)

        # 👎 with the keyboard on the second answer, then the comment
        ask(pg, "Finns det stöd för dokumentärfilm i Jämtland?")
        second = pg.locator(".fb-messages .fb-bot").filter(has=pg.locator(".fb-feedback")).last
        pg.get_by_label("Skriv din fråga").focus()
        for _ in range(12):
            pg.keyboard.press("Shift+Tab")
            if pg.evaluate("() => document.activeElement.getAttribute('aria-label')") == "Dåligt svar":
                break
        else:
            pytest.fail("the 👎 button was not reachable with the keyboard")
        pg.keyboard.press("Enter")
        down2 = second.get_by_role("button", name="Dåligt svar")
        expect(down2).to_have_attribute("aria-pressed", "true")
        expect(second.get_by_role("button", name="Bra svar")).to_be_disabled()
        field = second.get_by_label("Vad saknades?")
        expect(field).to_be_focused()
        pg.keyboard.type("Stödbeloppen saknades <b>x</b>")
        pg.keyboard.press("Enter")
        expect(second.locator(".fb-comment-done")).to_be_visible()
        expect(second.locator(".fb-comment")).to_have_count(0)
        assert second.locator("b").count() == 0

        sid = session_id(pg)
        ids, rated = _feedback_rows(bot, sid, 3)
        assert len(ids) >= 2, ids
        assert rated == [{"answer_id": ids[0], "rating": "up"},
                         {"answer_id": ids[1], "rating": "down"},
                         {"answer_id": ids[1], "rating": "down", "comment": "Stödbeloppen saknades <b>x</b>"}]
        assert not any("/feedback" in t for t in user_messages(pg).all_inner_texts())   # no visitor bubble

        # the state survives a reload: still one rating per answer
        pg.reload()
        rated_boxes = pg.locator(".fb-messages .fb-feedback")
        expect(rated_boxes).to_have_count(2)
        expect(rated_boxes.nth(0).get_by_role("button", name="Bra svar")).to_have_attribute("aria-pressed", "true")
        expect(rated_boxes.nth(1).get_by_role("button", name="Dåligt svar")).to_be_disabled()
        expect(pg.locator(".fb-comment")).to_have_count(0)

        # an English conversation gets English labels
        ask(pg, "Where can I get funding for a short film in Skåne?")
        english = pg.locator(".fb-messages .fb-feedback").last
        expect(english.get_by_role("button", name="Good answer")).to_be_enabled()
        expect(english.get_by_role("button", name="Bad answer")).to_be_enabled()
        pg.screenshot(path=str(OUT / "feedback.png"))
        assert not pg.errors, pg.errors
    finally:
        context.close()


def test_mobile_width(browser, site):
    context = browser.new_context(viewport={"width": 375, "height": 700}, locale="sv-SE",
                                  is_mobile=True, has_touch=True)
    pg = context.new_page()
    try:
        pg.goto(site)
        wait_greeting(pg)
        ask(pg, "Var kan jag söka stöd för film i Dalarna?")
        expect(bot_messages(pg).last).to_contain_text("Film i Dalarna")
        no_overflow = pg.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
        assert no_overflow, "page scrolls sideways at 375 px"
        for sel in (".fb-input", ".fb-send", ".fb-restart"):
            box = pg.locator(sel).bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= 375, (sel, box)
        pg.screenshot(path=str(OUT / "mobile-375.png"))
    finally:
        context.close()


def test_unreachable_bot_and_retry(browser, site, bot):
    context = browser.new_context(viewport={"width": 800, "height": 700}, locale="sv-SE")
    pg = context.new_page()
    try:
        pg.goto(site)
        wait_greeting(pg)
        bot.stop_rasa()
        status = pg.locator(".fb-status")
        expect(status).to_be_visible(timeout=20_000)
        expect(status).to_contain_text("går inte att nå")
        retry = pg.get_by_role("button", name="Försök igen")
        expect(retry).to_be_visible()
        retry.click()  # still down: the message comes back
        expect(retry).to_be_visible(timeout=20_000)
        pg.screenshot(path=str(OUT / "unreachable.png"))
        bot.start_rasa()
        pg.get_by_role("button", name="Försök igen").click()
        expect(status).to_be_hidden(timeout=20_000)
        ask(pg, "Var kan jag söka stöd för film i Dalarna?")
        expect(bot_messages(pg).last).to_contain_text("Film i Dalarna")
    finally:
        context.close()


def test_floating_widget_embed(browser, site, bot, tmp_path):
    """The one-line embed on a foreign page: launcher button, opens a panel, Escape closes it."""
    embed = (f'<!doctype html><html lang="sv"><head><meta charset="utf-8"><title>Värdsida</title></head>'
             f'<body><h1>Värdsida</h1><script src="{site}widget.js" data-rasa-url="{bot.url}" defer>'
             f'</script></body></html>')
    host_port = free_port()
    (tmp_path / "index.html").write_text(embed, encoding="utf-8")
    host = subprocess.Popen([sys.executable, "-m", "http.server", str(host_port), "--bind", "127.0.0.1"],
                            cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    context = browser.new_context(viewport={"width": 1024, "height": 760}, locale="sv-SE")
    pg = context.new_page()
    try:
        _wait_http(f"http://127.0.0.1:{host_port}/", host)
        pg.goto(f"http://127.0.0.1:{host_port}/")
        launcher = pg.locator(".fb-launcher")
        expect(launcher).to_be_visible()
        expect(pg.locator(".fb-panel")).to_be_hidden()
        launcher.click()
        expect(pg.locator(".fb-panel")).to_be_visible()
        expect(pg.get_by_label("Skriv din fråga")).to_be_focused()
        wait_greeting(pg)
        pg.screenshot(path=str(OUT / "embed.png"))
        pg.keyboard.press("Escape")
        expect(pg.locator(".fb-panel")).to_be_hidden()
        expect(launcher).to_be_focused()
    finally:
        context.close()
        _stop(host)
