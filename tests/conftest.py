import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture(scope="session")
def stack():
    """One real action server + Rasa server (bot.tools.stack, the default configuration) for the whole test
    session: every module that needs the bot end to end uses it. A module that needs other server options
    (e.g. --enable-api, --cors, Slack credentials) starts its own bot.tools.stack.BotStack with them."""
    from bot.tools.stack import BotStack

    with BotStack() as s:
        yield s


@pytest.fixture(scope="session")
def agent():
    """The trained model (var/test-model) loaded in-process, as `rasa run` loads it (no action server)."""
    from rasa.core.agent import Agent
    from bot.tools.stack import default_model

    return Agent.load(str(default_model()))


@pytest.fixture(scope="module")
def browser():
    """Debian's headless Chromium (FILMBOT_CHROMIUM) through Playwright, one per test module."""
    import playwright.sync_api as sync_api

    chromium = os.environ.get("FILMBOT_CHROMIUM", "/usr/bin/chromium")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--disable-quic"])
        yield b
        b.close()
