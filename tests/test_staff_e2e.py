"""The staff console end to end, in real headless Chromium against the real Rasa + action server: a visitor
rates answers in the chat widget, staff log in to /staff and find the ratings, the 👎 conversation and an
unanswered question the visitor asked; confirming a centre's facts on the page changes that centre's next answer
without restarting anything.

One BotStack (socket.io, its own SQLite tracker store and registry copy) and one page server
(`python -m bot web --endpoints` pointing at that store, FILMBOT_STAFF_TOKEN set, FILMBOT_REGISTRY = the copy).
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from staff_server import TOKEN, PageServer
from bot.tools.stack import ROOT, BotStack, default_model

CHROMIUM = os.environ.get("FILMBOT_CHROMIUM", "/usr/bin/chromium")
OUT = ROOT / "test-output" / "staff"
ANSWER_TIMEOUT = 45_000
STALE = "kontrollera på webbplatsen"
COMMENT = "Saknar namn på en kontaktperson <script>window.__xss=1</script>"
UNANSWERED = "Hur blir vädret i Kiruna i helgen?"

import playwright.sync_api as sync_api  # noqa: E402

expect = sync_api.expect
assert Path(CHROMIUM).exists(), f"no Chromium at {CHROMIUM}: run `make setup-system`"
OUT.mkdir(parents=True, exist_ok=True)


@pytest.fixture(scope="module")
def bot():
    with BotStack(default_model(), rasa_args=["--cors", "*"]) as stack:
        yield stack


@pytest.fixture(scope="module")
def server(bot):
    endpoints = bot.workdir / "endpoints.staff.yml"
    endpoints.write_text(f'tracker_store:\n  type: SQL\n  dialect: "sqlite"\n  db: "{bot.tracker_db}"\n')
    with PageServer(endpoints, env={"FILMBOT_REGISTRY": str(bot.registry)}, rasa_url=bot.url,
                    log=bot.workdir / "web.log") as web:
        yield web


def _bot_bubbles(pg):
    return pg.locator(".fb-messages .fb-bot .fb-bubble")


def _ask(pg, text: str) -> str:
    """Send `text` in the widget; the text of the bot messages that answered it."""
    before = _bot_bubbles(pg).count()
    box = pg.get_by_label("Skriv din fråga")
    box.fill(text)
    box.press("Enter")
    expect(pg.locator(".fb-messages .fb-user .fb-bubble").last).to_have_text(text)
    expect(_bot_bubbles(pg)).not_to_have_count(before, timeout=ANSWER_TIMEOUT)
    expect(pg.locator(".fb-typing")).to_be_hidden(timeout=ANSWER_TIMEOUT)
    return "\n".join(_bot_bubbles(pg).all_inner_texts()[before:])


def _last_rateable(pg):
    return pg.locator(".fb-messages .fb-bot").filter(has=pg.locator(".fb-feedback")).last


def test_rated_in_the_widget_seen_on_the_staff_page_and_confirmed_facts_change_the_answer(browser, bot, server):
    visitor = browser.new_context(viewport={"width": 1024, "height": 860}, locale="sv-SE")
    chat = visitor.new_page()
    errors = []
    chat.on("pageerror", lambda exc: errors.append(str(exc)))
    staff = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="sv-SE")
    try:
        chat.goto(server.base + "/")
        expect(_bot_bubbles(chat).first).to_contain_text("Hej", timeout=ANSWER_TIMEOUT)
        chat.get_by_role("button", name="Jag förstår").click()

        first = _ask(chat, "Hur får jag stöd för en kortfilm i Dalarna?")
        assert "Film i Dalarna" in first and STALE in first, first
        n_bot = _bot_bubbles(chat).count()
        _last_rateable(chat).get_by_role("button", name="Bra svar").click()
        expect(_bot_bubbles(chat)).to_have_count(n_bot + 1, timeout=ANSWER_TIMEOUT)   # the bot's thanks
        expect(_last_rateable(chat).get_by_role("button", name="Bra svar")).to_have_attribute("aria-pressed", "true")

        second = _ask(chat, "vem håller på med filmpedagogik i jämtland")
        assert "Jämtland" in second, second
        rated = _last_rateable(chat)
        n_bot = _bot_bubbles(chat).count()
        rated.get_by_role("button", name="Dåligt svar").click()
        expect(_bot_bubbles(chat)).to_have_count(n_bot + 1, timeout=ANSWER_TIMEOUT)
        rated.get_by_label("Vad saknades?").fill(COMMENT)
        rated.get_by_label("Vad saknades?").press("Enter")
        expect(rated.locator(".fb-comment-done")).to_be_visible(timeout=ANSWER_TIMEOUT)
        expect(_bot_bubbles(chat)).to_have_count(n_bot + 2, timeout=ANSWER_TIMEOUT)

        _ask(chat, UNANSWERED)

        # Staff log in and find what the visitor did.
        page = staff.new_page()
        page.goto(server.base + "/staff")
        expect(page).to_have_url(server.base + "/staff/login")
        page.get_by_label("Inloggningsnyckel").fill(TOKEN)
        page.get_by_role("button", name="Logga in").click()
        expect(page).to_have_url(re.compile(r"/staff$"))
        expect(page.locator("body[data-loaded=report]")).to_have_count(1, timeout=ANSWER_TIMEOUT)

        report = page.evaluate("() => fetch('/staff/api/report').then(r => r.json())")
        assert report["feedback"]["up"] == 1 and report["feedback"]["down"] == 1, report["feedback"]
        assert report["totals"]["conversations"] == 1 and report["totals"]["messages"] >= 3, report["totals"]
        messages = page.eval_on_selector_all("#chart-messages rect[data-count]",
                                             "els => els.map(e => Number(e.dataset.count))")
        assert messages and sum(messages) == report["totals"]["messages"], messages
        expect(page.locator("#unanswered")).to_contain_text(UNANSWERED)

        # both ratings, per centre: 👍 for Film i Dalarna, 👎 for Filmpool Jämtland
        rows = page.eval_on_selector_all("#rates-centres tr", "trs => trs.map(t => Array.from(t.cells, c => c.textContent))")
        assert ["Film i Dalarna", "1", "0", "100 %"] in rows and ["Filmpool Jämtland", "0", "1", "0 %"] in rows, rows
        down = page.locator("#downs li.down")
        expect(down).to_have_count(1)
        expect(down.locator(".comment")).to_have_text(COMMENT)
        expect(down.locator(".question")).to_have_text("vem håller på med filmpedagogik i jämtland")
        assert page.evaluate("() => typeof window.__xss") == "undefined"
        down.get_by_role("link", name="Visa samtalet").click()
        expect(page.locator("body[data-loaded=conversation]")).to_have_count(1, timeout=ANSWER_TIMEOUT)
        expect(page.locator("#transcript li.user", has_text="kortfilm i Dalarna")).to_have_count(1)
        expect(page.locator("#transcript li.user", has_text=UNANSWERED)).to_have_count(1)
        expect(page.locator("#transcript .rated-down")).to_have_count(1)
        expect(page.locator("#transcript li.feedback .comment")).to_have_text(COMMENT)
        assert page.locator("main script").count() == 0
        assert page.evaluate("() => typeof window.__xss") == "undefined"
        page.screenshot(path=str(OUT / "e2e-conversation.png"), full_page=True)

        # Confirm Film i Dalarna's facts on the page: the next answer has no "kontrollera" note.
        page.goto(server.base + "/staff")
        expect(page.locator("body[data-loaded-upkeep]")).to_have_count(1, timeout=ANSWER_TIMEOUT)
        page.get_by_label("Ditt namn").fill("Test Personal")
        page.locator("#upkeep section[data-centre='film-i-dalarna'] button.confirm-centre").click()
        expect(page.locator("#upkeep-status")).to_contain_text("Bekräftade", timeout=ANSWER_TIMEOUT)
        assert "Test Personal" in bot.registry.read_text()
        again = _ask(chat, "och om jag vill göra en kortfilm i Dalarna igen, vilket stöd finns?")
        assert "Film i Dalarna" in again and STALE not in again, again
        assert "bekräftad" in again and "https://" in again, again   # the source stays, with the confirmation
        assert not errors, errors
    finally:
        visitor.close()
        staff.close()
