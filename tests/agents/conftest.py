"""Fixtures of the agent tests: a scripted chat server and a sentinel API key.

Nothing here reaches the network beyond 127.0.0.1, and no real key is needed: the key is a
sentinel string the tests later search for in everything the agent recorded.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.agents.server import ScriptedServer

SENTINEL_KEY = "sk-test-SENTINEL-7f3a9c1e5b2d4086"


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    srv = ScriptedServer().start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def api_key(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("OPENAI_API_KEY", SENTINEL_KEY)
    for name in ("OPENAI_BASE_URL", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID"):
        monkeypatch.delenv(name, raising=False)
    return SENTINEL_KEY


class SleepRecorder:
    """Stands in for ``time.sleep``: records the requested waits and returns at once."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()
