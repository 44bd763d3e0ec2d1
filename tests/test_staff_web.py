"""The staff page /staff in real headless Chromium (Playwright, Debian's /usr/bin/chromium) against the page
server (`python -m bot web`) reading a SQLite tracker store seeded through Rasa's SQLTrackerStore
(tests/report_seed.py). No Rasa server is needed: the staff page reads the store itself.
Screenshots go to test-output/staff/."""
from __future__ import annotations

import json
import os
import re
import shutil
import urllib.parse
from pathlib import Path

import pytest

from report_seed import DOWN_COMMENT, PERIOD, UNANSWERED_XSS, XSS_COMMENT, XSS_QUESTION, endpoints_sqlite, seed_sqlite
from staff_server import TOKEN, PageServer
from bot.tools.stack import ROOT

CHROMIUM = os.environ.get("FILMBOT_CHROMIUM", "/usr/bin/chromium")
OUT = ROOT / "test-output" / "staff"
TIMEOUT = 20_000

import playwright.sync_api as sync_api  # noqa: E402

expect = sync_api.expect
assert Path(CHROMIUM).exists(), f"no Chromium at {CHROMIUM}: run `make setup-system`"
OUT.mkdir(parents=True, exist_ok=True)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp("staff")
    db = d / "tracker.db"
    seed_sqlite(db)
    endpoints = d / "endpoints.yml"
    endpoints_sqlite(endpoints, db)
    registry = d / "registry.yaml"
    shutil.copy(ROOT / "registry" / "registry.yaml", registry)   # confirmations are written here, not in the repo
    return {"dir": d, "endpoints": endpoints, "registry": registry}


@pytest.fixture(scope="module")
def server(data):
    with PageServer(data["endpoints"], env={"FILMBOT_REGISTRY": str(data["registry"])},
                    log=data["dir"] / "web.log") as web:
        yield web


@pytest.fixture
def context(browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="sv-SE")
    ctx.errors = []
    ctx.on("weberror", lambda err: ctx.errors.append(str(err.error)))
    yield ctx
    ctx.close()


def login(ctx, server, token=TOKEN):
    page = ctx.new_page()
    page.goto(server.base + "/staff")
    expect(page).to_have_url(server.base + "/staff/login")
    page.get_by_label("Inloggningsnyckel").fill(token)
    page.get_by_role("button", name="Logga in").click()
    return page


def test_closed_without_token(data, browser):
    with PageServer(data["endpoints"], token=None) as closed:
        for path in ("/staff", "/staff/login", "/staff/api/report", "/staff/assets/staff.js", "/staff/conversation"):
            assert closed.request("GET", path)[0] == 404, path
        assert closed.request("POST", "/staff/login", b"token=" + TOKEN.encode(),
                              {"Content-Type": "application/x-www-form-urlencoded", "Origin": closed.base})[0] == 404
        assert closed.request("GET", "/")[0] == 200   # the chat page is served as before
        ctx = browser.new_context()
        page = ctx.new_page()
        assert page.goto(closed.base + "/staff").status == 404
        ctx.close()
    # a token too short to be safe keeps it closed as well
    with PageServer(data["endpoints"], token="short") as weak:
        assert weak.request("GET", "/staff")[0] == 404


def test_login_required(server, context):
    status, body = server.get_json("/staff/api/report")
    assert status == 401 and body == {"error": "inte inloggad"}
    assert server.get_json("/staff/api/conversation?sender=web-bo")[0] == 401
    status, hdrs, _ = server.request("GET", "/staff")
    assert status == 303 and hdrs["location"] == "/staff/login"
    status, hdrs, _ = server.request("GET", "/staff/assets/staff.js")
    assert status == 303
    assert server.get_json("/staff/api/report", "filmbot_staff=made-up-session")[0] == 401

    page = login(context, server, token="not-the-token-at-all")
    expect(page.get_by_role("alert")).to_have_text("Fel inloggningsnyckel. Försök igen.")
    expect(page.get_by_label("Inloggningsnyckel")).to_be_visible()
    assert not [c for c in context.cookies() if c["name"] == "filmbot_staff"]
    status, _, _ = server.request("POST", "/staff/login", b"token=wrong",
                                  {"Content-Type": "application/x-www-form-urlencoded", "Origin": server.base})
    assert status == 401
    # a login posted from another site is refused before the token is even looked at
    status, _, _ = server.request("POST", "/staff/login", urllib.parse.urlencode({"token": TOKEN}).encode(),
                                  {"Content-Type": "application/x-www-form-urlencoded", "Origin": "https://evil.example"})
    assert status == 403

    page.get_by_label("Inloggningsnyckel").fill(TOKEN)
    page.get_by_role("button", name="Logga in").click()
    expect(page).to_have_url(re.compile(re.escape(server.base) + r"/staff$"))
    cookie = next(c for c in context.cookies() if c["name"] == "filmbot_staff")
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict" and cookie["path"] == "/staff"
    assert len(cookie["value"]) >= 40
    assert "filmbot_staff" not in page.evaluate("() => document.cookie")

    page.get_by_role("button", name="Logga ut").click()
    expect(page).to_have_url(server.base + "/staff/login")
    assert server.get_json("/staff/api/report", f"filmbot_staff={cookie['value']}")[0] == 401


def test_report_page(server, context):
    page = login(context, server)
    expect(page).to_have_url(re.compile(r"/staff$"))
    page.goto(f"{server.base}/staff?since={PERIOD[0]}&until={PERIOD[1]}")
    expect(page.locator("body[data-loaded=report]")).to_have_count(1, timeout=TIMEOUT)
    expect(page.locator("#status")).to_have_text("Visar 2026-11-02 – 2026-11-03.")

    def counts(selector):
        return page.eval_on_selector_all(selector, "els => els.map(e => [e.dataset.day || e.dataset.key, "
                                                   "e.dataset.channel || '', Number(e.dataset.count)])")

    conv = counts("#chart-conversations rect[data-count]")
    assert sorted(conv) == sorted([["2026-11-02", "socketio", 2], ["2026-11-03", "rest", 1],
                                   ["2026-11-03", "slack", 1], ["2026-11-03", "socketio", 2]])
    msgs = counts("#chart-messages rect[data-count]")
    assert sum(c for _, _, c in msgs) == 11
    assert sorted(counts("#chart-counties rect[data-count]")) == [["12", "", 1], ["20", "", 2], ["24", "", 1]]
    assert {k: c for k, _, c in counts("#chart-centres rect[data-count]")}["film-i-dalarna"] == 2
    expect(page.locator("#summary")).to_contain_text("Samtal6")
    expect(page.locator("#topics")).to_contain_text("kortfilm3")

    group = page.locator("#unanswered li.group", has_text="Vad kostar en biobiljett?")
    expect(group).to_have_attribute("data-count", "2")
    expect(group).to_contain_text("utanför ämnet 2")
    expect(group.locator(".similar")).to_have_text("vad kostar en bio-biljett")
    expect(page.locator("#unanswered li.group", has_text="blorp fnissel qwerty")).to_contain_text("nej till alla förslag")
    expect(page.locator("#rates-topics tr", has_text="kortfilm")).to_contain_text("1233 %")

    downs = page.locator("#downs li.down")
    expect(downs).to_have_count(3)
    bo = downs.filter(has_text=DOWN_COMMENT)
    expect(bo.locator(".question")).to_have_text("Finns det stöd för dokumentär i Västerbotten?")
    page.screenshot(path=str(OUT / "report.png"), full_page=True)
    bo.get_by_role("link", name="Visa samtalet").click()
    expect(page).to_have_url(re.compile(r"/staff/conversation\?sender=web-bo#a-b2b2b2b2b2b2$"))
    expect(page.locator("body[data-loaded=conversation]")).to_have_count(1, timeout=TIMEOUT)
    rated = page.locator("#a-b2b2b2b2b2b2")
    expect(rated).to_have_class(re.compile(r"\brated-down\b"))
    expect(rated).to_have_class(re.compile(r"\bhighlight\b"))
    expect(rated.locator(".feedback-mark")).to_have_text(f"Betyg: 👎 – {DOWN_COMMENT}")
    expect(page.locator("#transcript li.user").first).to_have_text(re.compile("Finns det stöd för dokumentär"))
    expect(page.locator("#transcript li.feedback")).to_have_count(2)
    expect(page.locator("#transcript li.bot").last).to_contain_text("obesvarad: utanför ämnet")
    page.screenshot(path=str(OUT / "conversation.png"), full_page=True)
    assert not context.errors, context.errors


def test_visitor_html_is_inert(server, context):
    page = login(context, server)
    page.goto(f"{server.base}/staff?since={PERIOD[0]}&until={PERIOD[1]}")
    expect(page.locator("body[data-loaded=report]")).to_have_count(1, timeout=TIMEOUT)
    down = page.locator("#downs li.down", has_text="Fel län")
    expect(down.locator(".question")).to_have_text(XSS_QUESTION)
    expect(down.locator(".comment")).to_have_text(XSS_COMMENT)
    expect(page.locator("#unanswered .visitor-text", has_text="vad är klockan nu")).to_have_text(UNANSWERED_XSS)
    assert page.locator("main img, main script").count() == 0
    assert page.evaluate("() => typeof window.__xss") == "undefined"

    down.get_by_role("link", name="Visa samtalet").click()
    expect(page.locator("body[data-loaded=conversation]")).to_have_count(1, timeout=TIMEOUT)
    expect(page.locator("#transcript li.user .visitor-text").first).to_have_text(XSS_QUESTION)
    expect(page.locator("#transcript li.feedback .comment")).to_have_text(XSS_COMMENT)
    assert page.locator("main img, main script").count() == 0
    assert page.evaluate("() => typeof window.__xss") == "undefined"


def test_posts_only_from_this_origin(server, data):
    registry_before = data["registry"].read_text()
    cookie = server.login()
    body = json.dumps({"centre": "film-i-dalarna", "by": "Mallory"}).encode()
    for headers in ({"Origin": "https://evil.example"}, {"Referer": "https://evil.example/x"}, {}):
        status, _, resp = server.request("POST", "/staff/api/confirm", body,
                                         {"Cookie": cookie, "Content-Type": "application/json", **headers})
        assert status == 403, (headers, resp)
    status, _, _ = server.request("POST", "/staff/api/confirm", b"centre=film-i-dalarna&by=x",
                                  {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded",
                                   "Origin": server.base})
    assert status == 415
    status, _, _ = server.request("POST", "/staff/api/confirm", body,
                                  {"Content-Type": "application/json", "Origin": server.base})
    assert status == 401
    assert data["registry"].read_text() == registry_before


def test_registry_upkeep(server, context, data):
    page = login(context, server)
    page.goto(f"{server.base}/staff?since={PERIOD[0]}&until={PERIOD[1]}")
    from bot.tools import upkeep

    expect(page.locator("body[data-loaded-upkeep]")).to_have_count(1, timeout=TIMEOUT)
    before = upkeep.stale(data["registry"])
    fact = next(f for f in before if f.get("confirmable", True) and f["source"])
    item = page.locator(f"#upkeep section[data-centre='{fact['centre']}'] li.fact"
                        f"[data-kind='{fact['kind']}'][data-key='{fact['key']}']")
    expect(item.get_by_role("link")).to_have_attribute("href", fact["source"])
    item.get_by_role("button", name="Bekräfta").click()
    expect(page.locator("#upkeep-status")).to_contain_text("Skriv ditt namn först")
    page.get_by_label("Ditt namn").fill("Test Personal")
    item.get_by_role("button", name="Bekräfta").click()
    expect(page.locator("#upkeep-status")).to_have_text("Bekräftade 1 uppgift.", timeout=TIMEOUT)
    expect(item).to_have_count(0, timeout=TIMEOUT)
    assert "Test Personal" in data["registry"].read_text()
    after = upkeep.stale(data["registry"])
    assert len(after) == len(before) - 1
    assert not [f for f in after if (f["centre"], f["kind"], f["key"]) == (fact["centre"], fact["kind"], fact["key"])]
    # an unknown centre is refused with the module's own message, and nothing is written
    text = data["registry"].read_text()
    status, _, resp = server.request("POST", "/staff/api/confirm",
                                     json.dumps({"centre": "no-such-centre", "by": "Test"}).encode(),
                                     {"Cookie": server.login(), "Content-Type": "application/json",
                                      "Origin": server.base})
    assert status == 400 and json.loads(resp)["error"], resp
    assert data["registry"].read_text() == text
