"""Conformance suite for agents: the contract any agent must meet, ours and anyone's.

As in Optuna's ``optuna.testing``, the suite ships with the package so that a third-party
agent is held to the same contract as the built-in ones. Two ways to use it:

A function that runs every check and raises :class:`AgentConformanceError` listing all
failures::

    from mapper_gym.testing import check_agent
    report = check_agent(lambda seed: MyAgent(seed=seed), env_ids=["Circuit"], iters=10)

Or a pytest base class: subclass it in a test module and define ``make_agent``; pytest then
collects one test per check::

    from mapper_gym.testing import AgentConformance

    class TestMyAgent(AgentConformance):
        env_ids = ("Circuit", "Stencil")
        def make_agent(self, seed):
            return MyAgent(seed=seed)

The contract (each item is one check):

* **protocol**: ``reset``, ``propose`` and ``observe`` exist and are callable;
* **episode**: on every environment, ``iters`` steps run without an exception, every proposal
  is a ``str`` no longer than the DSL's 65536-byte limit, ``observe`` returns None, and the
  agent does not modify the info, observation or step-info it is given;
* **determinism** (skippable for agents that call remote services): two agents made with the
  same seed propose the same sequence on the same environment, and so does one agent after
  ``reset``;
* **failure tolerance**: ``observe`` accepts failed and malformed outcomes (compile and run-time
  errors, timeouts, missing keys, non-finite or missing rewards, an action the agent did not
  propose) and ``propose`` still returns text afterwards;
* **switching applications**: after an episode on one application, ``reset`` with another's
  info works and proposals follow;
* **syntax** (optional, for agents that claim it): every proposal parses, and checks against
  the application without errors.
"""

from __future__ import annotations

import copy
import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mapper_gym.agent import Agent, StepRecord

__all__ = [
    "ALL_APPS",
    "AgentConformance",
    "AgentConformanceError",
    "ConformanceReport",
    "EpisodeReport",
    "check_agent",
    "check_determinism",
    "check_episode",
    "check_failure_tolerance",
    "check_protocol",
    "check_switching_apps",
    "failure_outcomes",
]

#: The nine applications, in the paper's order.
ALL_APPS: tuple[str, ...] = (
    "Circuit", "Stencil", "Pennant", "Cannon", "SUMMA", "PUMMA", "Johnson", "Solomonik", "COSMA",
)

#: Longest program an agent may propose (dsl.md §11).
MAX_PROGRAM_BYTES = 65536

AgentFactory = Callable[[int], Agent]


class AgentConformanceError(AssertionError):
    """An agent broke the contract; ``failures`` lists every broken item."""

    def __init__(self, failures: Sequence[str]) -> None:
        self.failures = list(failures)
        super().__init__("agent does not conform:\n  - " + "\n  - ".join(self.failures))


@dataclass
class EpisodeReport:
    """What one checked episode did."""

    env_id: str
    seed: int
    rewards: list[float]
    statuses: Counter = field(default_factory=Counter)

    @property
    def best(self) -> float:
        return max(self.rewards, default=0.0)


@dataclass
class ConformanceReport:
    """Everything :func:`check_agent` ran; ``failures`` is empty for a conforming agent."""

    episodes: list[EpisodeReport] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# Environments
# ---------------------------------------------------------------------------------------------


def _make_env(app: str, iters: int, env_kwargs: Mapping[str, Any] | None) -> Any:
    from mapper_gym.tuning import make_env

    kwargs = {"budget": iters, "feedback": "raw", **dict(env_kwargs or {})}
    return make_env(app, **kwargs)


def _reset_info(app: str, env_kwargs: Mapping[str, Any] | None = None) -> dict[str, Any]:
    env = _make_env(app, 1, env_kwargs)
    try:
        _, info = env.reset(seed=0)
    finally:
        env.close()
    return info


def _frozen(value: Any) -> Any:
    """A deep copy to compare against after the agent had the value."""
    try:
        return copy.deepcopy(value)
    except Exception:  # an unpicklable value: compare its repr
        return repr(value)


def _same(before: Any, after: Any) -> bool:
    if isinstance(before, str) and not isinstance(after, str):
        return before == repr(after)
    try:
        import numpy as np

        if isinstance(before, Mapping) and isinstance(after, Mapping):
            return before.keys() == after.keys() and all(
                _same(before[k], after[k]) for k in before)
        if isinstance(before, np.ndarray) or isinstance(after, np.ndarray):
            return bool(np.array_equal(before, after))
    except ImportError:  # pragma: no cover - numpy comes with gymnasium
        pass
    return before == after


# ---------------------------------------------------------------------------------------------
# Individual checks (each returns a list of failure messages)
# ---------------------------------------------------------------------------------------------


def check_protocol(agent: Any) -> list[str]:
    """The three methods of the protocol exist and are callable."""
    failures = []
    for method in ("reset", "propose", "observe"):
        if not callable(getattr(agent, method, None)):
            failures.append(f"protocol: {type(agent).__name__} has no callable {method}()")
    return failures


def _syntax_failures(text: str, app_info: Any, where: str) -> list[str]:
    from mapper_gym.dsl.pipeline import diagnose

    program, findings = diagnose(text, app_info)
    errors = [d for d in findings if d.is_error]
    if program is None or errors:
        first = errors[0] if errors else findings[0]
        return [f"{where}: proposal does not compile: {first.code} {first.message} "
                f"(line {first.line})"]
    return []


def check_episode(
    make_agent: AgentFactory,
    app: str,
    iters: int = 10,
    seed: int = 0,
    env_kwargs: Mapping[str, Any] | None = None,
    proposals_compile: bool = False,
) -> tuple[list[str], EpisodeReport, list[str]]:
    """Run one episode and check every step; returns (failures, report, proposals)."""
    failures: list[str] = []
    proposals: list[str] = []
    report = EpisodeReport(app, seed, [])
    where = f"episode {app} seed {seed}"
    env = _make_env(app, iters, env_kwargs)
    try:
        agent = make_agent(seed)
        failures += check_protocol(agent)
        if failures:
            return failures, report, proposals
        _, info = env.reset(seed=seed)
        kept = _frozen(info)
        try:
            agent.reset(info)
        except Exception as error:
            return [f"{where}: reset raised {type(error).__name__}: {error}"], report, proposals
        if not _same(kept, info):
            failures.append(f"{where}: reset() modified the info dict it was given")
        app_info = None
        if proposals_compile:
            from mapper_gym.agent import AgentInfo

            app_info = AgentInfo.from_reset_info(info).app_info()
        for step in range(1, iters + 1):
            try:
                action = agent.propose()
            except Exception as error:
                failures.append(f"{where} step {step}: propose raised "
                                f"{type(error).__name__}: {error}")
                break
            if not isinstance(action, str):
                failures.append(f"{where} step {step}: propose returned "
                                f"{type(action).__name__}, not str")
                break
            if len(action.encode("utf-8", "replace")) > MAX_PROGRAM_BYTES:
                failures.append(f"{where} step {step}: proposal longer than "
                                f"{MAX_PROGRAM_BYTES} bytes")
            if proposals_compile:
                failures += _syntax_failures(action, app_info, f"{where} step {step}")
            proposals.append(action)
            observation, reward, _, _, step_info = env.step(action)
            kept_obs, kept_info = _frozen(observation), _frozen(step_info)
            try:
                returned = agent.observe(action, observation, reward, step_info)
            except Exception as error:
                failures.append(f"{where} step {step}: observe raised "
                                f"{type(error).__name__}: {error}")
                break
            if returned is not None:
                failures.append(f"{where} step {step}: observe returned {returned!r}")
            if not (_same(kept_obs, observation) and _same(kept_info, step_info)):
                failures.append(f"{where} step {step}: observe() modified its arguments")
            record = StepRecord.from_step(action, observation, reward, step_info)
            report.rewards.append(record.reward)
            report.statuses[record.status] += 1
    finally:
        env.close()
    return failures, report, proposals


def check_determinism(
    make_agent: AgentFactory,
    app: str,
    iters: int = 10,
    seed: int = 0,
    env_kwargs: Mapping[str, Any] | None = None,
    first_run: Sequence[str] | None = None,
) -> list[str]:
    """Same seed, same proposals: for a second agent, and for the first one after reset."""
    failures = []
    runs = []
    env = _make_env(app, iters, env_kwargs)
    try:
        agents = [make_agent(seed)]
        if first_run is None:
            agents.append(make_agent(seed))
        for agent in agents:
            for _ in range(2 if agent is agents[-1] else 1):  # the last one twice: reset
                _, info = env.reset(seed=seed)
                agent.reset(info)
                run = []
                for _step in range(iters):
                    action = agent.propose()
                    run.append(action)
                    observation, reward, _, _, step_info = env.step(action)
                    agent.observe(action, observation, reward, step_info)
                runs.append(run)
    finally:
        env.close()
    if first_run is not None:
        runs.insert(0, list(first_run))
    labels = ["a first agent", "a second agent with the same seed",
              "the second agent after reset()"]
    for label, run in zip(labels[1:], runs[1:], strict=True):
        if run != runs[0]:
            step = next((i for i, (a, b) in enumerate(zip(runs[0], run, strict=False)) if a != b),
                        min(len(run), len(runs[0])))
            failures.append(f"determinism {app} seed {seed}: {label} proposed something else "
                            f"than {labels[0]} at step {step + 1}")
    return failures


def failure_outcomes(action: str) -> list[tuple[str, Any, Any, Any]]:
    """Malformed and failed outcomes an agent must accept: (label, observation, reward, info)."""
    nan = math.nan
    return [
        ("compile error", {"status": 1, "feedback": "Compile Error: Syntax error, unexpected :"},
         0.0, {"status": "compile_error", "raw_output": "Compile Error: Syntax error"}),
        ("run-time error", {"status": 2, "feedback": "Execution Error: DGEMM parameter number "
                                                     "8 had an illegal value"},
         0.0, {"status": "runtime_error", "error": {"kind": "execute"}}),
        ("timeout", {"status": 3, "feedback": ""}, 0.0, {"status": "timeout"}),
        ("empty observation and info", {}, 0.0, {}),
        ("NaN reward", {"status": 0}, nan, {"status": "ok"}),
        ("infinite reward", {"status": 0}, math.inf, {"status": "ok"}),
        ("missing reward", {"status": 0}, None, {"status": "ok"}),
        ("unknown status", {"status": 99, "feedback": None}, 0.0, {"status": "exploded"}),
        ("non-dict observation", None, 0.0, None),
    ]


def check_failure_tolerance(make_agent: AgentFactory, info: Mapping[str, Any],
                            seed: int = 0) -> list[str]:
    """``observe`` accepts every outcome of :func:`failure_outcomes`, for the agent's own
    proposal and for a foreign action, and ``propose`` keeps returning text."""
    failures = []
    agent = make_agent(seed)
    agent.reset(copy.deepcopy(dict(info)))  # an exception here is reported by check_agent
    for label, observation, reward, step_info in failure_outcomes(""):
        for foreign in (False, True):
            try:
                action = agent.propose()
            except Exception as error:
                failures.append(f"failure tolerance: propose raised after '{label}': "
                                f"{type(error).__name__}: {error}")
                return failures
            if not isinstance(action, str):
                failures.append(f"failure tolerance: propose returned "
                                f"{type(action).__name__} after '{label}'")
                return failures
            shown = "Task * CPU;\n" if foreign else action
            try:
                agent.observe(shown, observation, reward, step_info)
            except Exception as error:
                who = "a foreign action" if foreign else "its own proposal"
                failures.append(f"failure tolerance: observe raised for '{label}' on {who}: "
                                f"{type(error).__name__}: {error}")
    return failures


def check_switching_apps(make_agent: AgentFactory, first: str, second: str, iters: int = 2,
                         env_kwargs: Mapping[str, Any] | None = None,
                         proposals_compile: bool = False) -> list[str]:
    """One agent: an episode on ``first``, then ``reset`` with ``second``'s info."""
    failures = []
    agent = make_agent(0)
    for app in (first, second):
        env = _make_env(app, iters, env_kwargs)
        try:
            _, info = env.reset(seed=0)
            try:
                agent.reset(info)
                app_info = None
                if proposals_compile:
                    from mapper_gym.agent import AgentInfo

                    app_info = AgentInfo.from_reset_info(info).app_info()
                for _ in range(iters):
                    action = agent.propose()
                    if proposals_compile:
                        failures += _syntax_failures(action, app_info, f"after switching to {app}")
                    observation, reward, _, _, step_info = env.step(action)
                    agent.observe(action, observation, reward, step_info)
            except Exception as error:
                failures.append(f"switching apps: {type(error).__name__} on {app} after "
                                f"{first}: {error}")
                break
        finally:
            env.close()
    return failures


# ---------------------------------------------------------------------------------------------
# Everything at once
# ---------------------------------------------------------------------------------------------


def _guarded(label: str, check: Callable[..., list[str]], *args: Any, **kwargs: Any,
             ) -> list[str]:
    """Run one check; an exception from the agent is a failure of that check."""
    try:
        return check(*args, **kwargs)
    except Exception as error:
        return [f"{label}: the agent raised {type(error).__name__}: {error}"]


def check_agent(
    make_agent: AgentFactory,
    env_ids: Sequence[str] = ALL_APPS,
    iters: int = 10,
    seeds: Sequence[int] = (0,),
    env_kwargs: Mapping[str, Any] | None = None,
    deterministic: bool = True,
    proposals_compile: bool = False,
    raise_on_failure: bool = True,
) -> ConformanceReport:
    """Run the whole contract; raise :class:`AgentConformanceError` listing every failure.

    Args:
        make_agent: ``seed -> agent``; called once per episode.
        env_ids: applications (or environment ids) to run episodes on.
        iters: steps per episode.
        seeds: seeds of the episodes (every seed on every environment).
        env_kwargs: extra arguments for ``gym.make`` (default feedback ``"raw"``).
        deterministic: check that a seed fixes the proposals (on the first environment).
        proposals_compile: check that every proposal parses and checks without errors.
        raise_on_failure: False returns the report with its failures instead.
    """
    report = ConformanceReport()
    report.failures += check_protocol(make_agent(seeds[0]))
    report.checks.append("protocol")
    if report.failures:  # nothing else can run
        if raise_on_failure:
            raise AgentConformanceError(report.failures)
        return report
    first_runs: dict[tuple[str, int], list[str]] = {}
    for app in env_ids:
        for seed in seeds:
            failures, episode, proposals = check_episode(
                make_agent, app, iters, seed, env_kwargs, proposals_compile)
            report.failures += failures
            report.episodes.append(episode)
            first_runs[(app, seed)] = proposals
    report.checks.append("episode")
    if deterministic and env_ids:
        app, seed = env_ids[0], seeds[0]
        report.failures += _guarded("determinism", check_determinism, make_agent, app, iters,
                                    seed, env_kwargs, first_runs.get((app, seed)))
        report.checks.append("determinism")
    if env_ids:
        report.failures += _guarded("failure tolerance", check_failure_tolerance, make_agent,
                                    _reset_info(env_ids[0], env_kwargs))
        report.checks.append("failure tolerance")
        second = env_ids[1] if len(env_ids) > 1 else env_ids[0]
        report.failures += _guarded("switching apps", check_switching_apps, make_agent,
                                    env_ids[0], second, env_kwargs=env_kwargs,
                                    proposals_compile=proposals_compile)
        report.checks.append("switching apps")
    if report.failures and raise_on_failure:
        raise AgentConformanceError(report.failures)
    return report


class AgentConformance:
    """pytest base class: subclass as ``Test...`` and define :meth:`make_agent`.

    Class attributes configure the run: ``env_ids``, ``iters``, ``seed``, ``env_kwargs``,
    ``deterministic`` and ``proposals_compile`` (see :func:`check_agent`).
    """

    env_ids: Sequence[str] = ALL_APPS
    iters: int = 10
    seed: int = 0
    env_kwargs: Mapping[str, Any] | None = None
    deterministic: bool = True
    proposals_compile: bool = False

    def make_agent(self, seed: int) -> Agent:  # pragma: no cover - defined by subclasses
        raise NotImplementedError

    @staticmethod
    def _assert(failures: list[str]) -> None:
        if failures:
            raise AgentConformanceError(failures)

    def test_protocol(self) -> None:
        self._assert(check_protocol(self.make_agent(self.seed)))

    def test_episodes(self) -> None:
        failures: list[str] = []
        for app in self.env_ids:
            found, _, _ = check_episode(self.make_agent, app, self.iters, self.seed,
                                        self.env_kwargs, self.proposals_compile)
            failures += found
        self._assert(failures)

    def test_determinism(self) -> None:
        if not self.deterministic:
            import pytest

            pytest.skip("the agent is declared non-deterministic")
        self._assert(check_determinism(self.make_agent, self.env_ids[0], self.iters,
                                       self.seed, self.env_kwargs))

    def test_failure_tolerance(self) -> None:
        self._assert(check_failure_tolerance(self.make_agent,
                                             _reset_info(self.env_ids[0], self.env_kwargs),
                                             self.seed))

    def test_switching_apps(self) -> None:
        second = self.env_ids[1] if len(self.env_ids) > 1 else self.env_ids[0]
        self._assert(check_switching_apps(self.make_agent, self.env_ids[0], second,
                                          env_kwargs=self.env_kwargs,
                                          proposals_compile=self.proposals_compile))
