"""Re-run recorded mappers and check their recorded scores.

The environment owns measurement: a results file is a claim, and a claim is only as good as
the program behind it. :func:`validate_records` re-runs, in a fresh environment with every
cache off, the best program of each unit (or every evaluation, ``every=True``) and compares the
measured reward, status and throughput with what the file says. It also checks that a unit's
closing record claims the best program and score its evaluations actually contain. Only units
whose every check passes are *valid*; a leaderboard built from validated results cannot be
topped by editing a JSON line.

The simulator is deterministic, so its default tolerance is tight (relative 1e-9). A real
backend measures: a re-run differs by run-to-run noise, and a normalized score is the ratio of
two such measurements (the program's and the expert's), so its default tolerance is loose
(:data:`MEASURED_TOLERANCE`): validation there catches made-up scores, not small drifts.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from experiments.config import AgentSpec, RunUnit, canonical_json, finite
from experiments.factory import make_unit_env
from experiments.records import observation_to_json

__all__ = [
    "DETERMINISTIC_TOLERANCE",
    "MEASURED_TOLERANCE",
    "ValidationResult",
    "default_tolerance",
    "leaderboard_rows",
    "validate_records",
    "validate_store",
]

Verdict = Literal["valid", "mismatch", "error"]


@dataclass(frozen=True)
class ValidationResult:
    """The check of one recorded evaluation (a unit's best, or any with ``every``)."""

    unit: str
    agent: str
    app: str
    seed: int
    budget: int
    iteration: int | None
    recorded: float
    measured: float | None
    recorded_status: str
    measured_status: str | None
    verdict: Verdict
    message: str = ""

    @property
    def valid(self) -> bool:
        return self.verdict == "valid"

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


#: Default tolerance of backends whose evaluations are deterministic.
DETERMINISTIC_TOLERANCE = 1e-9
#: Default tolerance of measuring backends (real Legion runs): relative.
MEASURED_TOLERANCE = 0.35
DETERMINISTIC_BACKENDS = frozenset({"sim"})


def default_tolerance(backend: str | None) -> float:
    """The tolerance a re-run of ``backend`` is held to unless one is given."""
    return (DETERMINISTIC_TOLERANCE if backend in DETERMINISTIC_BACKENDS
            else MEASURED_TOLERANCE)


def _close(a: float, b: float, tolerance: float) -> bool:
    return math.isclose(a, b, rel_tol=tolerance, abs_tol=tolerance)


def _problem_key(record: Mapping[str, Any]) -> str:
    """Records evaluated on the same problem share one validation environment."""
    return canonical_json({k: record.get(k) for k in (
        "app", "backend", "feedback_level", "machine", "problem")})


def _unit_for(record: Mapping[str, Any], budget: int,
              env_options: Mapping[str, Any], env_factory: str | None) -> RunUnit:
    """A unit with the record's problem, used only to make a validation environment."""
    return RunUnit(
        agent=AgentSpec("random"), app=str(record["app"]), seed=int(record["seed"]),
        budget=budget, backend=str(record.get("backend", "sim")),
        feedback=str(record.get("feedback_level", "raw")),
        machine=str(record.get("machine", "p100-node")), problem=record.get("problem"),
        env_options={**dict(env_options), "cache": False}, env_factory=env_factory,
    )


_SLIM_KEYS = ("unit", "iteration", "agent", "app", "seed", "budget", "backend",
              "feedback_level", "machine", "problem", "program", "reward", "status",
              "throughput")


def _slim(record: Mapping[str, Any]) -> dict[str, Any]:
    """The fields a check needs (records are streamed; observations and infos are dropped)."""
    return {key: record.get(key) for key in _SLIM_KEYS}


def _better(record: Mapping[str, Any], best: Mapping[str, Any] | None) -> bool:
    """Whether ``record`` beats ``best``: a higher successful reward, or the same reward at
    an earlier iteration (the unit's best is the first one with the highest reward)."""
    if record.get("status") != "ok":
        return False
    if best is None:
        return True
    key = (finite(record.get("reward")), -int(record["iteration"]))
    return key > (finite(best.get("reward")), -int(best["iteration"]))


def validate_records(
    records: Iterable[Mapping[str, Any]],
    *,
    every: bool = False,
    tolerance: float | None = None,
    env_options: Mapping[str, Any] | None = None,
    env_factory: str | None = None,
) -> list[ValidationResult]:
    """Check the records of a store (see the module docstring).

    Args:
        records: all records of a store; streamed once (``iter_records`` of a large store
            keeps memory small unless ``every``).
        every: re-run every evaluation, not only each unit's best.
        tolerance: relative and absolute tolerance on rewards and throughputs (default:
            :func:`default_tolerance` of each record's backend).
        env_options, env_factory: the grid's environment options (default: from the
            store's last session record).
    """
    session_options: dict[str, Any] = {}
    session_factory: str | None = None
    first: dict[str, dict[str, Any]] = {}
    best: dict[str, dict[str, Any] | None] = {}
    everything: list[dict[str, Any]] = []
    closing: dict[str, Mapping[str, Any]] = {}
    seen: set[tuple[str, int]] = set()
    for record in records:
        kind = record.get("type")
        if kind == "session":
            config = record.get("config") or {}
            session_options = dict(config.get("env_options") or {})
            session_factory = config.get("env_factory")
        elif kind == "unit":
            closing[str(record["unit"])] = {k: record.get(k) for k in (
                "best_score", "best_program", "best_iteration")}
        elif kind == "eval":
            unit_id = str(record["unit"])
            position = (unit_id, int(record["iteration"]))
            if position in seen:
                continue
            seen.add(position)
            slim = _slim(record)
            if unit_id not in first or int(record["iteration"]) < int(
                    first[unit_id]["iteration"]):
                first[unit_id] = slim
            if _better(record, best.get(unit_id)):
                best[unit_id] = slim
            best.setdefault(unit_id, None)
            if every:
                everything.append(slim)
    env_options = session_options if env_options is None else env_options
    env_factory = session_factory if env_factory is None else env_factory

    checks: list[tuple[Mapping[str, Any], str]] = []  # (record to re-run, unit id)
    results: list[ValidationResult] = []
    refuted: set[str] = set()
    for unit_id, head in first.items():
        top = best.get(unit_id)
        claim = closing.get(unit_id)
        if claim is not None:
            claimed_score = finite(claim.get("best_score"))
            actual = finite(top.get("reward")) if top is not None else 0.0
            actual_program = top.get("program") if top is not None else None
            if (not _close(claimed_score, actual, DETERMINISTIC_TOLERANCE)
                    or claim.get("best_program") != actual_program):
                refuted.add(unit_id)
                results.append(ValidationResult(
                    unit_id, str(head["agent"]), str(head["app"]), int(head["seed"]),
                    int(head["budget"]), claim.get("best_iteration"), claimed_score, actual,
                    "ok", "ok" if top is not None else None, "mismatch",
                    "the unit record claims a best program or score that its evaluations "
                    "do not contain"))
                continue
        if not every:
            if top is not None:
                checks.append((top, unit_id))
            else:
                results.append(ValidationResult(
                    unit_id, str(head["agent"]), str(head["app"]), int(head["seed"]),
                    int(head["budget"]), None, 0.0, 0.0, str(head.get("status")), None,
                    "valid", "no evaluation succeeded: score 0, nothing to re-run"))
    if every:
        checks = [(slim, str(slim["unit"])) for slim in everything
                  if str(slim["unit"]) not in refuted]

    groups: dict[str, list[tuple[Mapping[str, Any], str]]] = {}
    for record, unit_id in checks:
        groups.setdefault(_problem_key(record), []).append((record, unit_id))
    for members in groups.values():
        results.extend(_rerun(members, tolerance, env_options, env_factory))
    order = {unit_id: index for index, unit_id in enumerate(first)}
    return sorted(results, key=lambda r: (order.get(r.unit, 0), r.iteration or 0))


def _rerun(members: Sequence[tuple[Mapping[str, Any], str]], tolerance: float | None,
           env_options: Mapping[str, Any], env_factory: str | None) -> list[ValidationResult]:
    first = members[0][0]
    if tolerance is None:
        tolerance = default_tolerance(first.get("backend"))
    out: list[ValidationResult] = []

    def result(record: Mapping[str, Any], unit_id: str, measured: float | None,
               status: str | None, verdict: Verdict, message: str) -> ValidationResult:
        return ValidationResult(
            unit_id, str(record["agent"]), str(record["app"]), int(record["seed"]),
            int(record["budget"]), int(record["iteration"]), finite(record.get("reward")),
            measured, str(record.get("status")), status, verdict, message)

    try:
        env = make_unit_env(_unit_for(first, len(members), env_options, env_factory))
    except Exception as error:
        return [result(r, u, None, None, "error",
                       f"cannot make the environment: {type(error).__name__}: {error}")
                for r, u in members]
    try:
        env.reset(seed=int(first["seed"]))
        for record, unit_id in members:
            try:
                observation, reward, _, _, info = env.step(record["program"])
            except Exception as error:
                out.append(result(record, unit_id, None, None, "error",
                                  f"re-run raised {type(error).__name__}: {error}"))
                continue
            measured = finite(reward)
            status = str(info.get("status")) if isinstance(info, Mapping) else None
            throughput = finite(observation_to_json(observation).get("throughput"))
            problems = []
            if status != record.get("status"):
                problems.append(f"status {record.get('status')} recorded, {status} measured")
            if not _close(measured, finite(record.get("reward")), tolerance):
                problems.append(f"score {finite(record.get('reward')):.6g} recorded, "
                                f"{measured:.6g} measured")
            if not _close(throughput, finite(record.get("throughput")), tolerance):
                problems.append(f"throughput {finite(record.get('throughput')):.6g} "
                                f"recorded, {throughput:.6g} measured")
            out.append(result(record, unit_id, measured, status,
                              "mismatch" if problems else "valid", "; ".join(problems)))
    finally:
        close = getattr(env, "close", None)
        if callable(close):
            close()
    return out


def validate_store(path: str | Path, **options: Any) -> list[ValidationResult]:
    """:func:`validate_records` on the store at ``path`` (a file or a run folder)."""
    from experiments.store import iter_records

    path = Path(path)
    if path.is_dir():
        path = path / "results.jsonl"
    return validate_records(iter_records(path), **options)


def leaderboard_rows(records: Iterable[Mapping[str, Any]],
                     results: Sequence[ValidationResult]) -> list[dict[str, Any]]:
    """Per optimizer: average normalized throughput over benchmarks, units, and how many of
    them passed validation; best first. Only complete units count."""
    from experiments.report import averages, stat_rows, unit_results

    units = unit_results(records)
    rows = stat_rows(units)
    means = averages(rows)
    verdicts: dict[str, bool] = {}
    for result in results:
        verdicts[result.unit] = verdicts.get(result.unit, True) and result.valid
    board = []
    for series, (mean, apps) in means.items():
        members = [u for u in units if u.series == series]
        valid = sum(1 for u in members if verdicts.get(u.unit, False))
        board.append({"series": series, "label": series.label(), "average": mean,
                      "benchmarks": apps, "units": len(members), "valid_units": valid,
                      "validated": valid == len(members)})
    return sorted(board, key=lambda row: -row["average"])

