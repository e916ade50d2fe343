"""Re-run recorded mappers and check their recorded scores.

The environment owns measurement: a results file is a claim, and a claim is only as good as
the program behind it. :func:`validate_records` re-runs, in a fresh environment with every
cache off, the best program of each unit (or every evaluation, ``every=True``) and compares the
measured reward, status and throughput with what the file says. It also checks that a unit's
closing record claims the best program and score its evaluations actually contain. Only units
whose every check passes are *valid*; a leaderboard built from validated results cannot be
topped by editing a JSON line.

The simulator is deterministic, so the default tolerance is tight (relative 1e-9).
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

__all__ = ["ValidationResult", "leaderboard_rows", "validate_records", "validate_store"]

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


def _session_problem_options(records: Sequence[Mapping[str, Any]]
                             ) -> tuple[dict[str, Any], str | None]:
    """The grid's env options and factory, from the store's session records."""
    for record in reversed(records):
        if record.get("type") == "session":
            config = record.get("config") or {}
            return dict(config.get("env_options") or {}), config.get("env_factory")
    return {}, None


def _best_of(evals: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    best: Mapping[str, Any] | None = None
    for record in evals:
        if record.get("status") == "ok" and (
                best is None or finite(record.get("reward")) > finite(best.get("reward"))):
            best = record
    return best


def validate_records(
    records: Iterable[Mapping[str, Any]],
    *,
    every: bool = False,
    tolerance: float = 1e-9,
    env_options: Mapping[str, Any] | None = None,
    env_factory: str | None = None,
) -> list[ValidationResult]:
    """Check the records of a store (see the module docstring).

    Args:
        records: all records of a store.
        every: re-run every evaluation, not only each unit's best.
        tolerance: relative and absolute tolerance on rewards and throughputs.
        env_options, env_factory: the grid's environment options (default: from the
            store's session record).
    """
    records = list(records)
    session_options, session_factory = _session_problem_options(records)
    env_options = session_options if env_options is None else env_options
    env_factory = session_factory if env_factory is None else env_factory
    units: dict[str, dict[int, Mapping[str, Any]]] = {}
    closing: dict[str, Mapping[str, Any]] = {}
    for record in records:
        if record.get("type") == "eval":
            units.setdefault(str(record["unit"]), {}).setdefault(int(record["iteration"]),
                                                                 record)
        elif record.get("type") == "unit":
            closing[str(record["unit"])] = record

    checks: list[tuple[Mapping[str, Any], str]] = []  # (record to re-run, unit id)
    results: list[ValidationResult] = []
    for unit_id, iterations in units.items():
        evals = [iterations[i] for i in sorted(iterations)]
        best = _best_of(evals)
        claim = closing.get(unit_id)
        first = evals[0]
        if claim is not None:
            claimed_score = finite(claim.get("best_score"))
            actual = finite(best.get("reward")) if best is not None else 0.0
            claimed_program = claim.get("best_program")
            actual_program = best.get("program") if best is not None else None
            if not _close(claimed_score, actual, tolerance) or claimed_program != actual_program:
                results.append(ValidationResult(
                    unit_id, str(first["agent"]), str(first["app"]), int(first["seed"]),
                    int(first["budget"]), claim.get("best_iteration"), claimed_score, actual,
                    "ok", "ok" if best is not None else None, "mismatch",
                    "the unit record claims a best program or score that its evaluations "
                    "do not contain"))
                continue
        if every:
            checks.extend((record, unit_id) for record in evals)
        elif best is not None:
            checks.append((best, unit_id))
        else:
            results.append(ValidationResult(
                unit_id, str(first["agent"]), str(first["app"]), int(first["seed"]),
                int(first["budget"]), None, 0.0, 0.0, str(first.get("status")), None, "valid",
                "no evaluation succeeded: score 0, nothing to re-run"))

    groups: dict[str, list[tuple[Mapping[str, Any], str]]] = {}
    for record, unit_id in checks:
        groups.setdefault(_problem_key(record), []).append((record, unit_id))
    for members in groups.values():
        results.extend(_rerun(members, tolerance, env_options, env_factory))
    order = {unit_id: index for index, unit_id in enumerate(units)}
    return sorted(results, key=lambda r: (order.get(r.unit, 0), r.iteration or 0))


def _rerun(members: Sequence[tuple[Mapping[str, Any], str]], tolerance: float,
           env_options: Mapping[str, Any], env_factory: str | None) -> list[ValidationResult]:
    first = members[0][0]
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
    from experiments.store import read_records

    path = Path(path)
    if path.is_dir():
        path = path / "results.jsonl"
    return validate_records(read_records(path), **options)


def leaderboard_rows(records: Sequence[Mapping[str, Any]],
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

