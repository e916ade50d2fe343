"""Run one program in a subprocess under a wall-clock limit and a memory limit.

The child gets its own session (process group), so a timeout or a memory overrun kills it and
anything it started, all at once (the group is killed while the child is still unreaped, so
its id cannot have been reused). Limits:

* **time**: wall-clock seconds from start; on expiry the group gets SIGKILL.
* **memory**: resident set size, polled every few milliseconds from ``/proc``; above the limit
  the group gets SIGKILL. A generous address-space cap (``RLIMIT_AS``) set in the child before
  ``exec`` stops a runaway allocation between two polls; it must leave room for the virtual
  reservations Realm makes (``address_space`` bytes).

Output goes to temporary files (no pipe can fill up and block the child) and is read back
capped, keeping the head and the tail of very long logs.
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ProcessOutcome", "run_limited"]

#: Bytes of each output stream kept (half from the start, half from the end).
OUTPUT_CAP = 4 * 1024 * 1024
POLL_SECONDS = 0.01


@dataclass(frozen=True)
class ProcessOutcome:
    """What happened to one child process."""

    command: tuple[str, ...]
    #: Exit status; negative: killed by that signal (as :mod:`subprocess` reports it).
    returncode: int
    stdout: str
    stderr: str
    wall_seconds: float
    timed_out: bool
    memory_exceeded: bool
    #: Highest resident set size seen while polling.
    peak_rss_bytes: int

    @property
    def killed_by(self) -> str | None:
        """The signal's name when the process died from a signal."""
        if self.returncode >= 0:
            return None
        try:
            return signal.Signals(-self.returncode).name
        except ValueError:
            return f"signal {-self.returncode}"


def _rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _read_capped(path: Path) -> str:
    size = path.stat().st_size
    with open(path, "rb") as handle:
        if size <= OUTPUT_CAP:
            data = handle.read()
        else:
            head = handle.read(OUTPUT_CAP // 2)
            handle.seek(size - OUTPUT_CAP // 2)
            tail = handle.read()
            data = head + f"\n[... {size - OUTPUT_CAP} bytes of output cut ...]\n".encode() + tail
    return data.decode("utf-8", errors="replace")


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def run_limited(
    command: Sequence[str],
    *,
    time_limit: float,
    memory_limit: int | None = None,
    address_space: int | None = None,
    env: Mapping[str, str] | None = None,
    cwd: str | Path | None = None,
) -> ProcessOutcome:
    """Run ``command`` to completion or until a limit is hit; never raises for the child's
    behaviour (a missing executable raises :class:`OSError`).

    Args:
        time_limit: wall-clock seconds.
        memory_limit: resident bytes (None: no limit).
        address_space: ``RLIMIT_AS`` bytes for the child (None: unchanged).
        env: the child's environment (None: inherit).
        cwd: the child's working directory.
    """
    if time_limit <= 0:
        raise ValueError("time_limit must be positive")

    def limit_child() -> None:  # runs in the child between fork and exec
        if address_space is not None:
            resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))

    with tempfile.TemporaryDirectory(prefix="mapper-gym-run-") as tmp:
        out_path, err_path = Path(tmp) / "stdout", Path(tmp) / "stderr"
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            started = time.monotonic()
            child = subprocess.Popen(
                list(command), stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                env=dict(env) if env is not None else None, cwd=cwd,
                start_new_session=True, preexec_fn=limit_child,
            )
            timed_out = memory_exceeded = False
            peak = 0
            try:
                while child.poll() is None:
                    rss = _rss_bytes(child.pid)
                    peak = max(peak, rss)
                    if memory_limit is not None and rss > memory_limit:
                        memory_exceeded = True
                        _kill_group(child.pid)
                    elif time.monotonic() - started > time_limit:
                        timed_out = True
                        _kill_group(child.pid)
                    if timed_out or memory_exceeded:
                        child.wait()
                        break
                    time.sleep(POLL_SECONDS)
            finally:
                if child.poll() is None:  # interrupted (KeyboardInterrupt): leave nothing behind
                    _kill_group(child.pid)
                    child.wait()
            wall = time.monotonic() - started
        return ProcessOutcome(
            command=tuple(command),
            returncode=child.returncode,
            stdout=_read_capped(out_path),
            stderr=_read_capped(err_path),
            wall_seconds=wall,
            timed_out=timed_out,
            memory_exceeded=memory_exceeded,
            peak_rss_bytes=peak,
        )
