"""A persistent evaluation cache: identical evaluations are served from disk, across runs.

An evaluation is fully determined by the backend, the problem (application, problem preset,
parameter overrides, the configured machine's fingerprint), the run configuration, the feedback
level and the exact program text: architecture.md's cache key plus the feedback level, because
the cached value is what the environment returned, the observation with its feedback text, and
with the exact text rather than the canonical one, because that observation reports errors and
warnings at the lines and columns of the text that was evaluated. The backends already keep an LRU
cache of results inside a process; this one outlives the process and is shared by every worker
on the machine (and by every experiment under the same ``runs/`` folder), which is what a
1000-iteration OpenTuner run after a 10-iteration one, or a resumed sweep, needs.

The value is the environment's step output as JSON (observation, reward, info). The runner
rewrites the position fields of the info (``step``, ``budget_left``) to the unit's iteration,
so a served record is identical to a computed one.

SQLite in WAL mode, because many processes read and write it at once; every process opens its
own connection. A cache that cannot be opened (read-only folder, a Ray worker on another host)
is reported once and turned off: caching is an optimisation, never a reason to fail a run.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from experiments.config import canonical_json

__all__ = ["EvaluationStore", "evaluation_key"]

logger = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS evaluations (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    created REAL NOT NULL
)
"""


def evaluation_key(identity: Mapping[str, Any] | tuple | list, program: Any) -> str:
    """SHA-256 of the problem identity and the exact program (text, or a marked ``repr`` of a
    non-text action)."""
    text = program if isinstance(program, str) else f"raw-{type(program).__name__}:{program!r}"
    payload = canonical_json({"identity": _jsonable(identity), "program": text})
    return hashlib.sha256(payload.encode()).hexdigest()


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return repr(value)


class EvaluationStore:
    """The cache file. Thread-safe; open one per process.

    Args:
        path: the SQLite file (its folder is created).
        timeout: seconds to wait for another process's write lock.
    """

    def __init__(self, path: str | Path, *, timeout: float = 60.0) -> None:
        self.path = Path(path)
        self.timeout = timeout
        self.hits = 0
        self.misses = 0
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None
        self._disabled = False

    def _connect(self) -> sqlite3.Connection | None:
        if self._disabled:
            return None
        if self._connection is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                connection = sqlite3.connect(self.path, timeout=self.timeout,
                                             check_same_thread=False, isolation_level=None)
                connection.execute("PRAGMA journal_mode=WAL")
                connection.execute("PRAGMA synchronous=NORMAL")
                connection.execute(_SCHEMA)
            except (OSError, sqlite3.Error) as error:
                logger.warning("evaluation cache %s unavailable (%s); running without it",
                               self.path, error)
                self._disabled = True
                return None
            self._connection = connection
        return self._connection

    def get(self, key: str) -> dict[str, Any] | None:
        """The cached step output for ``key``, or None."""
        with self._lock:
            connection = self._connect()
            if connection is None:
                return None
            try:
                row = connection.execute(
                    "SELECT value FROM evaluations WHERE key = ?", (key,)).fetchone()
            except sqlite3.Error as error:
                logger.warning("evaluation cache read failed (%s)", error)
                row = None
            if row is None:
                self.misses += 1
                return None
            try:
                value = json.loads(row[0])
            except ValueError:
                self.misses += 1
                return None
            self.hits += 1
            return value

    def put(self, key: str, value: Mapping[str, Any]) -> None:
        """Store a step output (the first one stored for a key wins)."""
        text = json.dumps(value, sort_keys=True, separators=(",", ":"))
        with self._lock:
            connection = self._connect()
            if connection is None:
                return
            try:
                connection.execute(
                    "INSERT OR IGNORE INTO evaluations (key, value, created) VALUES (?, ?, ?)",
                    (key, text, time.time()))
            except sqlite3.Error as error:
                logger.warning("evaluation cache write failed (%s)", error)

    def __len__(self) -> int:
        with self._lock:
            connection = self._connect()
            if connection is None:
                return 0
            return int(connection.execute("SELECT COUNT(*) FROM evaluations").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def __enter__(self) -> EvaluationStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
