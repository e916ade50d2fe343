"""``RunResult``: the contract between backends and everything above them (architecture.md).

Both backends (the simulator and real Legion) return the same record, so the environment, the
feedback generator, the agents and the experiment runner never know which one ran.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from mapper_gym.dsl.errors import Diagnostic

Status = Literal["ok", "compile_error", "runtime_error", "timeout"]
STATUSES: tuple[str, ...] = ("ok", "compile_error", "runtime_error", "timeout")


def finite_or_zero(value: Any) -> float:
    """``value`` as a float, or 0.0 when it is missing, not a number, infinite or NaN.

    Scores and statistics cross process and JSON boundaries; whoever reads them (agents,
    feedback) must never be thrown off by a malformed value.
    """
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0
    return number if math.isfinite(number) else 0.0


@dataclass(frozen=True)
class RunStats:
    """What a run measured beyond its elapsed time; read by AutoGuide's performance feedback.

    Keys are stable, human-readable identifiers (processor and memory uids of the machine model,
    link ids, task names) so that feedback text can quote them.
    """

    #: Seconds each processor spent running task bodies in the measured window.
    processor_busy: Mapping[str, float] = field(default_factory=dict)
    #: Bytes moved over each link in the measured window.
    link_bytes: Mapping[str, float] = field(default_factory=dict)
    #: Highest bytes in use in each memory over the whole run.
    memory_peak: Mapping[str, float] = field(default_factory=dict)
    #: Capacity of each memory, so feedback can say how close to full it was.
    memory_capacity: Mapping[str, float] = field(default_factory=dict)
    #: Seconds of task-body time per task name in the measured window (summed over points).
    task_time: Mapping[str, float] = field(default_factory=dict)
    #: Bytes copied into instances per task name in the measured window.
    task_copy_bytes: Mapping[str, float] = field(default_factory=dict)
    #: Anything else a backend wants to report (counts of copies, instances, ...).
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RunResult:
    """The outcome of running one mapping program on one application and machine."""

    status: Status
    #: The application's own throughput, in ``unit``; 0.0 on failure.
    throughput: float
    unit: str
    #: Seconds of the application's measured window (its ``ELAPSED TIME``); None on failure.
    elapsed: float | None
    #: What the program printed on stdout (its own output lines).
    stdout: str
    #: The runtime's log (Legion-style), including error messages.
    stderr: str
    backend: str
    #: The error that stopped the run (None when ``status == "ok"``).
    error: Diagnostic | None = None
    #: Warnings of every phase (check findings, fallbacks the mapper took).
    warnings: tuple[Diagnostic, ...] = ()
    stats: RunStats | None = None
    #: A compact description of the mapping decisions (per task: kind, processors, memories).
    plan_summary: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}")

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def raw_output(self) -> str:
        """The one-line raw feedback of the paper: ``Compile Error:`` / ``Execution Error:`` /
        ``Performance Metric:``."""
        if self.error is not None:
            return self.error.feedback()
        if self.status == "timeout":
            return "Execution Error: the run did not finish within its time limit"
        if not self.ok:
            return "Execution Error: the run failed"
        return f"Performance Metric: {self.throughput:.6g} {self.unit}" + (
            f" (elapsed {self.elapsed:.6g} s)" if self.elapsed is not None else ""
        )


def failed_result(
    error: Diagnostic,
    *,
    backend: str,
    unit: str,
    stdout: str = "",
    stderr: str = "",
    warnings: tuple[Diagnostic, ...] = (),
    status: Status | None = None,
) -> RunResult:
    """A failed run: compile-time phases give ``compile_error``, the others ``runtime_error``."""
    if status is None:
        status = "compile_error" if error.kind in ("parse", "check", "load") else "runtime_error"
    log = stderr if stderr else error.raw_text()
    return RunResult(
        status=status,
        throughput=0.0,
        unit=unit,
        elapsed=None,
        stdout=stdout,
        stderr=log,
        backend=backend,
        error=error,
        warnings=warnings,
    )
