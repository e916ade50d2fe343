"""Fixtures of the experiment tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.experiments.fakes import LOG_VARIABLE
from tests.experiments.helpers import EvaluationLog


@pytest.fixture
def evaluation_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> EvaluationLog:
    path = tmp_path / "evaluations.log"
    monkeypatch.setenv(LOG_VARIABLE, str(path))
    return EvaluationLog(path)
