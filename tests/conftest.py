import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture(scope="session")
def stack():
    """One real action server + Rasa server for the whole test session."""
    from stack import BotStack

    with BotStack() as s:
        yield s
