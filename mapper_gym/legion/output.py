"""Read what a real Legion run printed: its timing, the mapper's decisions, and why it failed.

* **Timing.** The programs print the original lines (``ELAPSED TIME = {7.3} s``; the group parsed
  ``^ELAPSED TIME = +([0-9.]+) s$``) and, on stderr, one ``MAPGYM timing`` line with the same
  window at nanosecond resolution. The precise line is preferred; the rounded one is the fallback.
* **Decisions.** The DSL mapper logs every point task it maps as a ``MAPGYM map`` line (see
  ``native/dsl_mapper.cc``): processor, targets, and per region requirement the memory, the
  instance's real dimension ordering, alignment and whether it is collected.
* **Profiles.** Realm's timeline of every task body (``MAPGYM ran``) and the measured window
  give the per-processor and per-task busy times of :class:`~mapper_gym.result.RunStats`.
* **Failures.** A crash, an assertion, a hang, an out-of-memory abort or missing output becomes a
  :class:`~mapper_gym.dsl.errors.Diagnostic` (phase ``execute``) carrying the real log line; the
  rules are checked in order, most specific first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from mapper_gym.dsl.errors import Diagnostic
from mapper_gym.legion.process import ProcessOutcome
from mapper_gym.plan import DEFAULT_ORIGIN, MappingPlan, Origin

__all__ = [
    "LoggedInstance",
    "LoggedMapping",
    "TaskRun",
    "busy_times",
    "diagnose",
    "measured_window",
    "parse_mappings",
    "parse_runs",
    "parse_timing",
]

_TIMING = re.compile(r"^MAPGYM timing init=(\S+) elapsed=(\S+)(?: window=(-?\d+),(-?\d+))?\s*$",
                     re.M)
_RAN = re.compile(r"^MAPGYM ran task=(?P<task>\S+) point=(?P<point>\S+) proc=(?P<proc>\S+) "
                  r"start=(?P<start>-?\d+) end=(?P<end>-?\d+)\s*$", re.M)
_ELAPSED = re.compile(r"^ELAPSED TIME = +([0-9.]+) s\s*$", re.M)
_INIT = re.compile(r"^INIT TIME = +([0-9.]+) s\s*$", re.M)
_MAP = re.compile(
    r"^MAPGYM map t=(?P<t>\S+) task=(?P<task>\S+) group=(?P<group>\d+) point=(?P<point>\S+) "
    r"proc=(?P<proc>\S+) targets=(?P<targets>\S+) reqs=(?P<reqs>\S*)\s*$", re.M)
#: Realm/Legion log lines: ``[node - thread] time {level}{category}: message``.
_LOG_LINE = re.compile(r"\{(?P<level>\d)\}\{(?P<category>[\w.-]+)\}: (?P<message>.*)$", re.M)
#: Error-level lines every CPU-only run prints (no GPU here is not an error).
_BENIGN = (
    "not able to discover the CUDA resources",
    "cuInit(0) returned",
    "cannot be satisfied",
)

STRIDE_MESSAGE = "Assertion failed: stride does not match expected value."
BLAS_MESSAGE = "DGEMM parameter number 8 had an illegal value"
#: What the BLAS prints for any rejected argument: 8 (lda) when every operand is in Fortran
#: order, as under the default mapper; 10 (ldb) or 13 (ldc) when only B or only A is.
_BLAS_REJECTED = re.compile(r"DGEMM parameter number +\d+ had an illegal value")


@dataclass(frozen=True)
class LoggedInstance:
    """The instance Legion used for one region requirement (as the mapper logged it)."""

    memory_kind: str
    node: int
    index: int
    #: Dimension order, fastest first: ``XYF`` is SOA Fortran order, ``FYX`` AOS C order.
    ordering: str
    #: ``-`` or an alignment constraint such as ``==64``.
    alignment: str
    #: ``affine``, ``compact`` or ``red`` (a reduction instance).
    special: str
    collected: bool

    @property
    def soa(self) -> bool:
        """Fields vary slowest (the field dimension is last)."""
        return self.ordering.endswith("F")

    @property
    def c_order(self) -> bool:
        """The last index dimension varies fastest (only meaningful with two or more)."""
        dims = self.ordering.replace("F", "")
        return dims == "".join(sorted(dims, reverse=True)) and len(dims) > 1

    @property
    def memory(self) -> tuple[str, int, int]:
        return (self.memory_kind, self.node, self.index)


@dataclass(frozen=True)
class LoggedMapping:
    """One ``MAPGYM map`` line: the decisions Legion applied to one point task."""

    seconds: float
    task: str
    group: int
    #: Coordinates of the point, or None for a single task.
    point: tuple[int, ...] | None
    processor: tuple[str, int, int]
    targets: tuple[tuple[str, int, int], ...]
    #: Per requirement: a :class:`LoggedInstance`, ``"NONE"`` (no instance) or ``"VIRTUAL"``.
    requirements: tuple[LoggedInstance | str, ...]


def _proc(text: str) -> tuple[str, int, int]:
    kind, node, index = text.split(":")
    return kind, int(node), int(index)


def _instance(text: str) -> LoggedInstance | str:
    if text in ("NONE", "VIRTUAL"):
        return text
    kind, node, index, ordering, alignment, special, collect = text.split(":")
    return LoggedInstance(kind, int(node), int(index), ordering, alignment, special,
                          collect == "collect")


def parse_mappings(log: str) -> list[LoggedMapping]:
    """Every ``MAPGYM map`` line of a run's stderr, in order."""
    out = []
    for m in _MAP.finditer(log):
        point = None if m["point"] == "-" else tuple(int(c) for c in m["point"].split(","))
        out.append(LoggedMapping(
            seconds=float(m["t"]),
            task=m["task"],
            group=int(m["group"]),
            point=point,
            processor=_proc(m["proc"]),
            targets=tuple(_proc(p) for p in m["targets"].split(";")),
            requirements=tuple(_instance(r) for r in m["reqs"].split("|")) if m["reqs"] else (),
        ))
    return out


def parse_timing(stdout: str, stderr: str) -> tuple[float | None, float | None]:
    """(elapsed, init) seconds of the measured windows; None where the run did not say."""
    precise = _TIMING.findall(stderr)
    if precise:
        init, elapsed = precise[-1][:2]
        try:
            return float(elapsed), float(init)
        except ValueError:
            pass
    elapsed_m, init_m = _ELAPSED.findall(stdout), _INIT.findall(stdout)
    return (float(elapsed_m[-1]) if elapsed_m else None, float(init_m[-1]) if init_m else None)


@dataclass(frozen=True)
class TaskRun:
    """One task body as Realm's profiler saw it (``MAPGYM ran``), times in Realm clock ns."""

    task: str
    point: tuple[int, ...] | None
    processor: tuple[str, int, int]
    start: int
    end: int


def parse_runs(log: str) -> list[TaskRun]:
    """Every ``MAPGYM ran`` line of a run's stderr."""
    return [TaskRun(m["task"],
                    None if m["point"] == "-" else tuple(int(c) for c in m["point"].split(",")),
                    _proc(m["proc"]), int(m["start"]), int(m["end"]))
            for m in _RAN.finditer(log)]


def measured_window(stderr: str) -> tuple[int, int] | None:
    """The measured window on Realm's clock (ns), when the program reported it."""
    found = _TIMING.findall(stderr)
    if found and found[-1][2]:
        return int(found[-1][2]), int(found[-1][3])
    return None


def busy_times(stderr: str, skip: Iterable[str] = ()) -> tuple[dict[str, float],
                                                                 dict[str, float]]:
    """Seconds of task bodies inside the measured window, per processor (``n0.CPU1``) and per
    task name. Without a reported window, the whole run counts. ``skip`` names tasks not to
    count: an inner task's timeline spans the waits of its body, not work."""
    window = measured_window(stderr)
    lo, hi = window if window is not None else (-(2**63), 2**63 - 1)
    skipped = set(skip)
    per_proc: dict[str, float] = {}
    per_task: dict[str, float] = {}
    for run in parse_runs(stderr):
        if run.task in skipped:
            continue
        overlap = min(run.end, hi) - max(run.start, lo)
        if overlap <= 0:
            continue
        kind, node, index = run.processor
        uid = f"n{node}.{kind}{index}"
        per_proc[uid] = per_proc.get(uid, 0.0) + overlap * 1e-9
        per_task[run.task] = per_task.get(run.task, 0.0) + overlap * 1e-9
    return per_proc, per_task


def _line_at(text: str, position: int) -> str:
    """The whole line of ``text`` that holds ``position``."""
    start = text.rfind("\n", 0, position) + 1
    end = text.find("\n", position)
    return text[start:end if end >= 0 else len(text)].strip()


def _first_line(text: str, needle: str) -> str | None:
    for line in text.splitlines():
        if needle in line:
            return line.strip()
    return None


def _legion_error(stderr: str) -> str | None:
    for m in _LOG_LINE.finditer(stderr):
        if int(m["level"]) >= 5 and not any(b in m["message"] for b in _BENIGN):
            return m["message"].strip()
    return None


def _layout_origin(plan: MappingPlan | None, code: str) -> tuple[Origin, dict]:
    """The Layout statement behind a layout failure: the first planned instance that breaks a
    layout rule of the application with this ``code``."""
    if plan is None:
        return DEFAULT_ORIGIN, {}
    app = plan.app
    for launch, mapping in plan.launches.items():
        task = app.task(launch.task)
        for rule in task.layout_rules:
            if rule.effect != "error" or rule.code != code or rule.variant != mapping.kind:
                continue
            reqs = app.requirements_of(launch)
            for pm in mapping.points:
                for i in rule.requirements:
                    choice = pm.instances[i]
                    if choice.memory is None:
                        continue
                    dims = app.region(reqs[i].region).dims
                    order = "C" if choice.layout.c_order else "F"
                    if rule.violated_by(order, not choice.layout.aos, dims):
                        return choice.layout_origin, {"task": launch.task, "region": i}
    return DEFAULT_ORIGIN, {}


def _diagnostic(code: str, message: str, raw: str | None = None, origin: Origin = DEFAULT_ORIGIN,
                hint: str | None = None, context: dict | None = None) -> Diagnostic:
    return Diagnostic(kind="execute", code=code, message=message, line=origin[0],
                      column=origin[1], hint=hint, context=context or {}, raw=raw)


def diagnose(
    outcome: ProcessOutcome,
    *,
    time_limit: float,
    memory_limit: int | None,
    plan: MappingPlan | None = None,
) -> tuple[str, Diagnostic] | None:
    """``(status, diagnostic)`` for a failed run, None for a successful one.

    A run succeeded when it exited normally with status 0 and printed its measured window.
    """
    err, out = outcome.stderr, outcome.stdout
    if outcome.timed_out:
        return "timeout", _diagnostic(
            "E-TIMEOUT", f"the run did not finish within its time limit of {time_limit:g} s",
            hint="the mapping makes the program far slower than usual, or it hangs")
    if outcome.memory_exceeded:
        limit = f"{memory_limit / 2**20:.0f} MiB" if memory_limit else "its limit"
        return "runtime_error", _diagnostic(
            "E-OOM", f"the run used more than {limit} of memory and was stopped",
            context={"peak_rss_bytes": outcome.peak_rss_bytes})
    line = _first_line(err, STRIDE_MESSAGE) or _first_line(err, "strides do not match")
    if line is not None:
        origin, context = _layout_origin(plan, "E-LAYOUT-STRIDE")
        return "runtime_error", _diagnostic("E-LAYOUT-STRIDE", STRIDE_MESSAGE, raw=line,
                                            origin=origin, context=context)
    found = _BLAS_REJECTED.search(err) or _BLAS_REJECTED.search(out)
    if found is not None:
        line = _line_at(err if found.string is err else out, found.start())
        origin, context = _layout_origin(plan, "E-LAYOUT-BLAS")
        return "runtime_error", _diagnostic("E-LAYOUT-BLAS", " ".join(found.group(0).split()),
                                            raw=line, origin=origin, context=context)
    line = _first_line(err, "failed allocation of size")
    if line is not None:
        # The DefaultMapper's report, with its doubled spaces collapsed ("region  requirement")
        message = " ".join(line.split("}: ", 1)[-1].split())
        return "runtime_error", _diagnostic("E-OOM", message, raw=line)
    line = _first_line(err, "MAPGYM error:")
    if line is not None:
        return "runtime_error", _diagnostic(
            "E-INTERNAL", "Internal error", raw=line,
            hint="the Legion backend and the machine model disagree; this is a bug in "
                 "mapper-gym, not in the mapping program")
    message = _legion_error(err)
    if message is not None and outcome.returncode != 0:
        return "runtime_error", _diagnostic("E-LEGION", message, raw=message)
    line = _first_line(err, "Assertion failed") or _first_line(err, "Assertion `")
    if line is not None:
        return "runtime_error", _diagnostic("E-ASSERTION", line, raw=line)
    if outcome.returncode != 0:
        why = (f"was killed by {outcome.killed_by}" if outcome.killed_by
               else f"exited with status {outcome.returncode}")
        tail = "\n".join(err.strip().splitlines()[-5:])
        return "runtime_error", _diagnostic("E-CRASH", f"the program {why}", raw=tail or None)
    elapsed, _ = parse_timing(out, err)
    if elapsed is None:
        return "runtime_error", _diagnostic(
            "E-NO-OUTPUT", "the program finished without printing its ELAPSED TIME line")
    if elapsed <= 0:
        return "runtime_error", _diagnostic(
            "E-NO-OUTPUT", f"the program reported an elapsed time of {elapsed} s")
    return None
