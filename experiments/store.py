"""The results store: an append-only JSON Lines file, one record per line.

JSON Lines because a record is the unit of truth and people read, grep, diff and share these
files; an evaluation is one line, written whole and flushed before the next one starts. That
gives the two promises the runner needs:

- **Nothing finished is lost.** A record is finished when its line ends with a newline. A run
  killed in the middle of a write leaves at most one torn last line; the next writer cuts it off
  (its evaluation is redone) and reading skips it, so every complete line survives any kill.
- **One writer.** Only the experiment's driver process writes, and it holds an exclusive lock
  on ``<store>.lock`` while it does, so two runs resumed at once cannot interleave or repeat
  evaluations. Readers (reports, validation, a second terminal) never need the lock.

Record types (the ``type`` field): ``session`` (one per invocation: configuration, versions,
host), ``eval`` (one evaluation: program, observation, feedback, agent, seed, timings, token
usage), ``unit`` (a finished unit: its best program and score), ``unit_error`` (a unit that
raised), ``wandb`` (a unit logged to Weights & Biases). See :mod:`experiments.records`.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

__all__ = [
    "ResultsStore",
    "StoreCorrupt",
    "StoreLocked",
    "encode_record",
    "iter_records",
    "read_records",
]


class StoreCorrupt(ValueError):
    """A line other than the last is not a JSON object: the file was edited or damaged."""


class StoreLocked(RuntimeError):
    """Another process is writing this store (an experiment is running on it)."""


def encode_record(record: Mapping[str, Any]) -> bytes:
    """One record as one line: sorted keys, ASCII, ending in a newline."""
    text = json.dumps(record, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    return text.encode("ascii") + b"\n"


def _complete_lines(handle: IO[bytes]) -> Iterator[tuple[int, bytes]]:
    """(offset, line) of every newline-terminated line; a torn last line is not yielded."""
    offset = 0
    for line in handle:
        if not line.endswith(b"\n"):
            return
        yield offset, line
        offset += len(line)


def _decode(line: bytes, path: Path, number: int) -> dict[str, Any]:
    try:
        record = json.loads(line)
    except ValueError as error:
        raise StoreCorrupt(f"{path}:{number}: not a JSON record ({error})") from None
    if not isinstance(record, dict):
        raise StoreCorrupt(f"{path}:{number}: a record must be a JSON object")
    return record


def iter_records(path: str | Path, type: str | None = None) -> Iterator[dict[str, Any]]:
    """The records of a store file, oldest first, optionally only those of one ``type``.

    A torn last line (a writer killed mid-line, or one still writing) is skipped.

    Raises:
        FileNotFoundError: no such file.
        StoreCorrupt: a complete line that is not a JSON object.
    """
    path = Path(path)
    with path.open("rb") as handle:
        for number, (_, line) in enumerate(_complete_lines(handle), start=1):
            if not line.strip():
                continue
            record = _decode(line, path, number)
            if type is None or record.get("type") == type:
                yield record


def read_records(path: str | Path, type: str | None = None) -> list[dict[str, Any]]:
    """:func:`iter_records` as a list."""
    return list(iter_records(path, type))


@dataclass
class _UnitIndex:
    """Where a unit's evaluations are in the file, by iteration (the records stay on disk)."""

    offsets: dict[int, tuple[int, int]]
    finished: bool = False


class ResultsStore:
    """The writer's view of a store: an index of what is finished, and appends.

    Use as a context manager (it takes the lock and repairs a torn tail on entry)::

        with ResultsStore(run_dir / "results.jsonl") as store:
            done = store.evaluations(unit_id)      # {iteration: record}
            store.append(record)

    Args:
        path: the JSON Lines file (created with its folder when missing).
        fsync_interval: seconds between ``fsync`` calls. Every line is flushed to the
            operating system at once (a killed process loses nothing); ``fsync`` guards against
            a machine crash and costs a disk round trip, so it is batched. ``0`` syncs every
            record.
    """

    def __init__(self, path: str | Path, *, fsync_interval: float = 1.0) -> None:
        self.path = Path(path)
        self.fsync_interval = fsync_interval
        self._handle: IO[bytes] | None = None
        self._lock: IO[bytes] | None = None
        self._units: dict[str, _UnitIndex] = {}
        self._ids: set[str] = set()
        self._logged: set[str] = set()
        self._size = 0
        self._last_sync = 0.0
        #: Bytes of a torn last line cut off when the store was opened (0 if none).
        self.repaired_bytes = 0

    # -- opening -------------------------------------------------------------------------------

    def __enter__(self) -> ResultsStore:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> None:
        """Take the lock, index the file, cut a torn tail, and open it for appending.

        Raises:
            StoreLocked: another process holds the lock.
            StoreCorrupt: a complete line is not a record.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock = (self.path.parent / (self.path.name + ".lock")).open("ab")
        try:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            lock.close()
            raise StoreLocked(
                f"{self.path} is being written by another process (an experiment is running "
                "on it); wait for it to finish or stop it first"
            ) from None
        self._lock = lock
        try:
            self._index()
            self._handle = self.path.open("ab")
        except BaseException:
            self.close()
            raise

    def _index(self) -> None:
        self._units.clear()
        self._ids.clear()
        self._logged.clear()
        if not self.path.exists():
            self.path.touch()
        size = self.path.stat().st_size
        end = 0
        with self.path.open("rb") as handle:
            for number, (offset, line) in enumerate(_complete_lines(handle), start=1):
                end = offset + len(line)
                if not line.strip():
                    continue
                self._add_to_index(_decode(line, self.path, number), offset, len(line))
        if end < size:  # a torn last line: its evaluation never finished
            with self.path.open("r+b") as handle:
                handle.truncate(end)
            self.repaired_bytes = size - end
        self._size = end

    def _add_to_index(self, record: Mapping[str, Any], offset: int, length: int) -> None:
        kind = record.get("type")
        unit = record.get("unit")
        if kind == "eval" and isinstance(unit, str):
            iteration = int(record.get("iteration", 0))
            index = self._units.setdefault(unit, _UnitIndex({}))
            index.offsets.setdefault(iteration, (offset, length))
            self._ids.add(str(record.get("id")))
        elif kind == "unit" and isinstance(unit, str):
            self._units.setdefault(unit, _UnitIndex({})).finished = True
        elif kind == "wandb" and isinstance(unit, str):
            self._logged.add(unit)

    def close(self) -> None:
        """Sync and close the file, then release the lock."""
        if self._handle is not None:
            try:
                self._handle.flush()
                os.fsync(self._handle.fileno())
            finally:
                self._handle.close()
                self._handle = None
        if self._lock is not None:
            try:
                fcntl.flock(self._lock.fileno(), fcntl.LOCK_UN)
            finally:
                self._lock.close()
                self._lock = None

    # -- reading -------------------------------------------------------------------------------

    def has(self, record_id: str) -> bool:
        """Whether an evaluation with this id is in the store."""
        return record_id in self._ids

    def count(self, unit_id: str) -> int:
        """Evaluations of ``unit_id`` in the store."""
        index = self._units.get(unit_id)
        return len(index.offsets) if index is not None else 0

    def unit_finished(self, unit_id: str) -> bool:
        """Whether the unit's closing ``unit`` record was written."""
        index = self._units.get(unit_id)
        return index is not None and index.finished

    def wandb_logged(self, unit_id: str) -> bool:
        return unit_id in self._logged

    def evaluations(self, unit_id: str) -> dict[int, dict[str, Any]]:
        """The stored evaluations of a unit by iteration, read back from the file."""
        index = self._units.get(unit_id)
        if index is None or not index.offsets:
            return {}
        out: dict[int, dict[str, Any]] = {}
        with self.path.open("rb") as handle:
            for iteration, (offset, length) in sorted(index.offsets.items()):
                handle.seek(offset)
                out[iteration] = _decode(handle.read(length), self.path, 0)
        return out

    def records(self, type: str | None = None) -> list[dict[str, Any]]:
        """Every complete record in the file (re-read from disk)."""
        if self._handle is not None:
            self._handle.flush()
        return read_records(self.path, type)

    # -- writing -------------------------------------------------------------------------------

    def append(self, record: Mapping[str, Any]) -> None:
        """Write one record as one line and flush it (see ``fsync_interval``).

        Raises:
            RuntimeError: the store is not open.
        """
        if self._handle is None:
            raise RuntimeError("open the store (use it as a context manager) before appending")
        data = encode_record(record)
        self._handle.write(data)
        self._handle.flush()
        now = time.monotonic()
        if self.fsync_interval <= 0 or now - self._last_sync >= self.fsync_interval:
            os.fsync(self._handle.fileno())
            self._last_sync = now
        self._add_to_index(record, self._size, len(data))
        self._size += len(data)
