"""The agent protocol (architecture.md) and what agents share.

Every optimizer that proposes mappers, the LLM agent and the baselines alike, is an
:class:`Agent`::

    agent.reset(info)                 # info: the environment's reset info (app and machine)
    action = agent.propose()          # DSL text
    obs, reward, terminated, truncated, step_info = env.step(action)
    agent.observe(action, obs, reward, step_info)

An agent never steps the environment itself: the environment, not the agent, owns measurement,
so a run's score cannot be faked by the agent (the tuning loop in :mod:`mapper_gym.tuning`
drives both). ``observe`` must accept any outcome (compile errors, run-time failures, a missing
key, an action it did not propose) without raising.

:class:`AgentInfo` reads the environment's reset info into typed fields (and builds the
decision space of :mod:`mapper_gym.space`); :class:`StepRecord` is one observed step;
:class:`BaseAgent` keeps the episode's history, the best program so far and a seeded random
generator, so concrete agents only write :meth:`BaseAgent.propose` and, if they learn,
:meth:`BaseAgent.on_observe`.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from mapper_gym.dsl.context import DEFAULT_AFFINITY, AppInfo, TaskInfo
from mapper_gym.result import STATUSES, finite_or_zero
from mapper_gym.space import KIND_RANKING, MEMORY_RANKING, DecisionSpace, MachineView

__all__ = [
    "Agent",
    "AgentInfo",
    "BaseAgent",
    "StepRecord",
]


@runtime_checkable
class Agent(Protocol):
    """What the tuning loop and the experiment runner drive (architecture.md)."""

    def reset(self, info: Mapping[str, Any]) -> None:
        """Start an episode on the application and machine described by ``info`` (the
        environment's reset info). Also restarts the agent's random generator from its seed."""
        ...

    def propose(self) -> str:
        """The next mapping program to evaluate (DSL text)."""
        ...

    def observe(
        self,
        action: str,
        observation: Mapping[str, Any],
        reward: float,
        info: Mapping[str, Any],
    ) -> None:
        """The outcome of evaluating ``action``. Must never raise for a failed evaluation."""
        ...


# ---------------------------------------------------------------------------------------------
# Reading the environment's reset info
# ---------------------------------------------------------------------------------------------


def _machine_view(machine: Mapping[str, Any]) -> MachineView:
    """The machine of a reset info: processor counts and the memory kinds each processor kind
    can use (the default affinities of dsl.md §6.1 restricted to the memories present)."""
    if "usable" in machine and "processors" in machine:
        return MachineView.from_dict(machine)
    processors = {
        str(k): int(v) for k, v in dict(machine.get("processors_per_node", {})).items()
        if int(v) > 0
    }
    present = set(dict(machine.get("memories_per_node", {})))
    usable = {
        kind: tuple(m for m in MEMORY_RANKING
                    if m in present and m in DEFAULT_AFFINITY.get(kind, frozenset()))
        for kind in processors
    }
    ordered = {k: processors[k] for k in KIND_RANKING if k in processors}
    ordered.update({k: n for k, n in processors.items() if k not in ordered})
    return MachineView(int(machine.get("nodes", 1)), ordered, usable)


@dataclass(frozen=True, eq=False)
class AgentInfo:
    """The environment's reset info, typed.

    ``description`` is the application description (:meth:`AppModel.describe`: tasks, region
    requirements, launch shapes, variants, layout demands); ``machine`` the machine as a
    :class:`MachineView`. ``raw`` keeps the whole info dict for anything else.
    """

    app: str
    description: Mapping[str, Any]
    app_text: str
    machine: MachineView
    machine_text: str
    budget: int | None
    unit: str
    raw: Mapping[str, Any] = field(repr=False)

    @staticmethod
    def from_reset_info(info: Mapping[str, Any]) -> AgentInfo:
        """Parse a ``MapperEnv.reset`` info dict.

        Raises:
            ValueError: the info has no application description.
        """
        if isinstance(info, AgentInfo):
            return info
        description = info.get("app")
        if not isinstance(description, Mapping) or "tasks" not in description:
            raise ValueError("reset info has no application description (key 'app')")
        machine = info.get("machine") or {}
        budget = info.get("budget")
        return AgentInfo(
            app=str(description.get("name", "")),
            description=description,
            app_text=str(info.get("app_text", "")),
            machine=_machine_view(machine),
            machine_text=str(machine.get("text", "")) if isinstance(machine, Mapping) else "",
            budget=int(budget) if isinstance(budget, int) else None,
            unit=str(info.get("unit", "")),
            raw=info,
        )

    def space(self, **options: Any) -> DecisionSpace:
        """The decision space of this application on this machine.

        The reset info does not say which task launches which; for the nine benchmark
        applications it is read from the application's model so that single launches get
        parent-relative placements too.
        """
        key = tuple(sorted(options.items()))
        cache = self.__dict__.setdefault("_spaces", {})
        if key not in cache:
            cache[key] = DecisionSpace.from_description(
                self.description, self.machine, parents=_benchmark_parents(self.app), **options
            )
        return cache[key]

    def app_info(self) -> AppInfo:
        """Task and region names for the DSL checker."""
        tasks = []
        for t in self.description["tasks"]:
            launches = t.get("launches", [])
            tasks.append(TaskInfo(
                name=t["name"],
                regions=tuple(tuple(r.get("names", ())) for r in t.get("requirements", [])),
                index_launch=any(isinstance(s, list | tuple) for s in launches),
                single_launch="single" in launches,
                variants=tuple(t.get("variants", ())),
                inner=bool(t.get("inner", False)),
            ))
        return AppInfo(self.app, tuple(tasks))


def _benchmark_parents(app: str) -> dict[str, tuple[str, ...]] | None:
    """Which tasks launch each task, for a benchmark application (None for others)."""
    from benchmarks import APP_NAMES, get_app
    from mapper_gym.appmodel import MachineShape
    from mapper_gym.space import parents_of

    if app not in APP_NAMES:
        return None
    return parents_of(get_app(app).build(MachineShape(nodes=1), preset="small"))


# ---------------------------------------------------------------------------------------------
# One observed step
# ---------------------------------------------------------------------------------------------


def _status_of(observation: Mapping[str, Any], info: Mapping[str, Any]) -> str:
    status = info.get("status") if isinstance(info, Mapping) else None
    if isinstance(status, str) and status in STATUSES:
        return status
    raw = observation.get("status") if isinstance(observation, Mapping) else None
    try:
        index = int(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "runtime_error"
    return STATUSES[index] if 0 <= index < len(STATUSES) else "runtime_error"



@dataclass(frozen=True)
class StepRecord:
    """One evaluated program as the agent saw it. ``reward`` is 0 for failures and for
    non-finite or missing values."""

    action: str
    reward: float
    status: str
    feedback: str = ""
    raw_output: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @staticmethod
    def from_step(
        action: Any, observation: Mapping[str, Any], reward: Any, info: Mapping[str, Any]
    ) -> StepRecord:
        """Build a record from whatever the environment returned, tolerating missing keys."""
        observation = observation if isinstance(observation, Mapping) else {}
        info = info if isinstance(info, Mapping) else {}
        status = _status_of(observation, info)
        value = finite_or_zero(reward)
        return StepRecord(
            action=action if isinstance(action, str) else str(action),
            reward=max(value, 0.0) if status == "ok" else 0.0,
            status=status,
            feedback=str(observation.get("feedback", "") or ""),
            raw_output=str(info.get("raw_output", "") or ""),
        )


# ---------------------------------------------------------------------------------------------
# Base class
# ---------------------------------------------------------------------------------------------


class BaseAgent:
    """History, best-so-far and a seeded generator; subclasses implement :meth:`propose`.

    ``seed`` fixes everything random the agent does: :meth:`reset` restarts ``self.rng`` from
    it, so the same seed, application and observations give the same proposals.
    """

    #: Name used by the CLI and in logs.
    name = "base"

    def __init__(self, seed: int | None = 0) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.info: AgentInfo | None = None
        self.history: list[StepRecord] = []
        self.best: StepRecord | None = None

    # -- protocol --------------------------------------------------------------------------------

    def reset(self, info: Mapping[str, Any]) -> None:
        self.info = AgentInfo.from_reset_info(info)
        self.rng = random.Random(self.seed)
        self.history = []
        self.best = None
        self.on_reset(self.info)

    def propose(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def observe(
        self,
        action: str,
        observation: Mapping[str, Any],
        reward: float,
        info: Mapping[str, Any],
    ) -> None:
        record = StepRecord.from_step(action, observation, reward, info)
        self.history.append(record)
        if record.ok and (self.best is None or record.reward > self.best.reward):
            self.best = record
        self.on_observe(record)

    # -- hooks -----------------------------------------------------------------------------------

    def on_reset(self, info: AgentInfo) -> None:
        """Called at the end of :meth:`reset`."""

    def on_observe(self, record: StepRecord) -> None:
        """Called at the end of :meth:`observe` with the parsed step."""

    # -- helpers ---------------------------------------------------------------------------------

    def require_info(self) -> AgentInfo:
        """The reset info; a clear error when :meth:`reset` was not called."""
        if self.info is None:
            raise RuntimeError(f"{type(self).__name__}: call reset(info) before propose()")
        return self.info

    @property
    def best_reward(self) -> float:
        return self.best.reward if self.best is not None else 0.0

    def __repr__(self) -> str:
        return f"{type(self).__name__}(seed={self.seed})"
