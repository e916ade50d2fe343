"""The records of a results store, built in one place so every writer agrees on them.

An ``eval`` record is one evaluation::

    {"type": "eval", "id": "<unit>-0000003", "unit": "<unit id>", "iteration": 3,
     "agent": "opentuner", "agent_name": "opentuner", "agent_options": {}, "app": "Circuit",
     "seed": 0, "budget": 10, "backend": "sim", "feedback_level": "suggest",
     "machine": "p100-node", "problem": null,
     "program": "<DSL text>", "status": "ok", "reward": 0.93, "normalized": 0.93,
     "throughput": 123.4, "throughput_unit": "GFLOPS", "best_so_far": 0.97,
     "raw_output": "Performance Metric: ...",
     "observation": {"throughput": ..., "normalized": ..., "status": 0, "stdout": ...,
                     "stderr": ..., "feedback": "<AutoGuide text>"},
     "info": {...},
     "usage": null | {"requests": 1, "prompt_tokens": ..., "completion_tokens": ..., ...},
     "llm_calls": [...],
     "timing": {"propose_s": ..., "evaluate_s": ..., "observe_s": ..., "started": ...},
     "cached": false, "session": "<id>", "experiment": "<name>", "host": ..., "pid": ...}

``observation`` and ``info`` are exactly what the agent was given (the environment's output
made JSON), so a resumed unit replays them into a fresh agent. ``llm_calls`` are the LLM
requests made while proposing this program (replies and usage), which a replay serves instead of
calling the API again.

Fields that depend on when, where and how a record was produced rather than on what was
evaluated are *volatile* (:data:`VOLATILE_KEYS`); :func:`content` drops them, and two runs of
the same unit must agree on everything else.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from experiments.config import RunUnit, finite

__all__ = [
    "VOLATILE_KEYS",
    "content",
    "eval_record",
    "info_to_json",
    "observation_from_json",
    "observation_to_json",
    "positioned_info",
    "unit_record",
]

#: Keys whose values record circumstances (timing, process, session, cache use), not results.
VOLATILE_KEYS: frozenset[str] = frozenset(
    {"timing", "cached", "session", "experiment", "host", "pid", "written_at", "wall_s"}
)
#: Keys inside an LLM call record that measure the call rather than describe it.
_VOLATILE_CALL_KEYS = frozenset({"latency_s", "attempts"})


def _plain(value: Any) -> Any:
    """JSON data from what environments return (numpy scalars and arrays, tuples)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return repr(value)


def observation_to_json(observation: Mapping[str, Any]) -> dict[str, Any]:
    """An observation as JSON data (0-d arrays become numbers)."""
    if not isinstance(observation, Mapping):
        return {"value": _plain(observation)}
    return {str(k): _plain(v) for k, v in observation.items()}


#: Observation keys the environment returns as 0-d float64 arrays.
_ARRAY_KEYS = ("throughput", "normalized")


def observation_from_json(data: Mapping[str, Any]) -> dict[str, Any]:
    """The observation as the environment returned it (numbers as 0-d float64 arrays), so an
    agent gets the same values and types live, from the cache and in a replay."""
    out = dict(data)
    for key in _ARRAY_KEYS:
        if key in out and isinstance(out[key], int | float) and not isinstance(out[key], bool):
            out[key] = np.array(float(out[key]), dtype=np.float64)
    return out


#: Info keys that say where in an episode a step was; the runner sets them per iteration.
_POSITION_KEYS = ("step", "budget_left")


def info_to_json(info: Mapping[str, Any]) -> dict[str, Any]:
    """A step info as JSON data, without its position fields (what the cache keeps)."""
    out = _plain(info) if isinstance(info, Mapping) else {}
    for key in _POSITION_KEYS:
        out.pop(key, None)
    return out


def positioned_info(info: Mapping[str, Any], iteration: int, budget: int) -> dict[str, Any]:
    """A step info as JSON with its position fields set to the unit's iteration.

    The environment counts its own steps; a resumed unit or a cache hit skips the environment,
    so the runner owns the position and every record says the same for the same iteration.
    """
    out = _plain(info) if isinstance(info, Mapping) else {}
    out["step"] = iteration
    out["budget_left"] = budget - iteration
    return out


def _status_name(observation: Mapping[str, Any], info: Mapping[str, Any]) -> str:
    status = info.get("status")
    if isinstance(status, str):
        return status
    raw = observation.get("status")
    names = info.get("statuses") or ("ok", "compile_error", "runtime_error", "timeout")
    if isinstance(raw, int) and 0 <= raw < len(names):
        return str(names[raw])
    return str(raw) if raw is not None else "unknown"


def usage_of(calls: Sequence[Mapping[str, Any]], price: tuple[float, float] | None
             ) -> dict[str, Any] | None:
    """Token usage summed over LLM calls (None when the step made none)."""
    if not calls:
        return None
    prompt = sum(int(c.get("prompt_tokens", 0)) for c in calls)
    completion = sum(int(c.get("completion_tokens", 0)) for c in calls)
    cost = None
    if price is not None:
        cost = (prompt * price[0] + completion * price[1]) / 1_000_000
    return {
        "requests": len(calls),
        "failed_requests": sum(1 for c in calls if not c.get("ok", False)),
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "cost_usd": cost,
        "latency_s": sum(finite(c.get("latency_s")) for c in calls),
        "estimated": any(bool(c.get("usage_estimated")) for c in calls),
    }


def _where() -> dict[str, Any]:
    return {"host": platform.node(), "pid": os.getpid()}


def eval_record(
    unit: RunUnit,
    iteration: int,
    program: Any,
    observation: Mapping[str, Any],
    reward: float,
    info: Mapping[str, Any],
    *,
    best_so_far: float,
    llm_calls: Sequence[Mapping[str, Any]] = (),
    usage: Mapping[str, Any] | None = None,
    timing: Mapping[str, float] | None = None,
    cached: bool = False,
    session: str = "",
    experiment: str = "",
) -> dict[str, Any]:
    """One evaluation (see the module docstring); ``observation``/``info`` already JSON."""
    status = _status_name(observation, info)
    return {
        "type": "eval",
        "id": unit.eval_id(iteration),
        **unit.describe(),
        "iteration": iteration,
        "program": program if isinstance(program, str) else repr(program),
        "status": status,
        "reward": finite(reward),
        "normalized": finite(info.get("normalized", observation.get("normalized"))),
        "throughput": finite(info.get("throughput", observation.get("throughput"))),
        "throughput_unit": info.get("unit"),
        "best_so_far": finite(best_so_far),
        "raw_output": info.get("raw_output", ""),
        "observation": dict(observation),
        "info": dict(info),
        "llm_calls": [dict(c) for c in llm_calls],
        "usage": dict(usage) if usage is not None else None,
        "timing": dict(timing or {}),
        "cached": cached,
        "session": session,
        "experiment": experiment,
        **_where(),
    }


def unit_record(
    unit: RunUnit,
    evaluations: Iterable[Mapping[str, Any]],
    *,
    session: str = "",
    experiment: str = "",
    wall_s: float | None = None,
    replayed: int = 0,
) -> dict[str, Any]:
    """The closing record of a finished unit: its best program and score.

    The best evaluation is the first one with the highest reward among successful runs
    (``best_program`` is None and the score 0 when none succeeded).
    """
    evals = sorted(evaluations, key=lambda r: int(r["iteration"]))
    best: Mapping[str, Any] | None = None
    for record in evals:
        if record.get("status") == "ok" and (best is None or
                                             finite(record["reward"]) > finite(best["reward"])):
            best = record
    usage = [r["usage"] for r in evals if r.get("usage")]
    costs = [u.get("cost_usd") for u in usage]
    return {
        "type": "unit",
        **unit.describe(),
        "evaluations": len(evals),
        "failures": sum(1 for r in evals if r.get("status") != "ok"),
        "best_score": finite(best["reward"]) if best is not None else 0.0,
        "best_iteration": int(best["iteration"]) if best is not None else None,
        "best_program": best["program"] if best is not None else None,
        "trajectory": [finite(r.get("best_so_far")) for r in evals],
        "usage": {
            "requests": sum(int(u.get("requests", 0)) for u in usage),
            "prompt_tokens": sum(int(u.get("prompt_tokens", 0)) for u in usage),
            "completion_tokens": sum(int(u.get("completion_tokens", 0)) for u in usage),
            "total_tokens": sum(int(u.get("total_tokens", 0)) for u in usage),
            "cost_usd": (None if any(c is None for c in costs)
                         else sum(float(c) for c in costs)),
        } if usage else None,
        "cached_evaluations": sum(1 for r in evals if r.get("cached")),
        "replayed": replayed,
        "wall_s": wall_s,
        "session": session,
        "experiment": experiment,
        "written_at": time.time(),
        **_where(),
    }


def content(record: Mapping[str, Any]) -> dict[str, Any]:
    """``record`` without its volatile fields: what two runs of the same unit agree on."""
    out: dict[str, Any] = {}
    for key, value in record.items():
        if key in VOLATILE_KEYS:
            continue
        if key == "llm_calls" and isinstance(value, list):
            value = [{k: v for k, v in call.items() if k not in _VOLATILE_CALL_KEYS}
                     for call in value]
        elif key == "usage" and isinstance(value, Mapping):
            value = {k: v for k, v in value.items() if k != "latency_s"}
        out[key] = value
    return out

