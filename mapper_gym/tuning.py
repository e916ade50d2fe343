"""The tuning loop: an agent against an environment for a number of evaluations.

::

    from mapper_gym.tuning import tune

    result = tune("Circuit", "opentuner", iters=100, seed=0)
    print(result.best_score)
    print(result.best_program)

or from the shell::

    mapper-gym tune Circuit --agent opentuner --iters 100 --seed 0 > best.dsl

The loop is the only place where agents and environments meet: the environment measures, the
agent proposes and observes. A progress bar on standard error shows the best normalized
throughput so far.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from mapper_gym.agent import Agent, StepRecord

__all__ = [
    "AGENT_NAMES",
    "TuneResult",
    "TuneStep",
    "add_tune_command",
    "make_agent",
    "make_env",
    "tune",
]

#: Agents the CLI and :func:`make_agent` know by name.
AGENT_NAMES: tuple[str, ...] = ("llm", "opentuner", "random", "expert", "default", "coordinate")


def make_agent(name: str, seed: int | None = 0, **options: Any) -> Agent:
    """An agent by name (:data:`AGENT_NAMES`), seeded; ``options`` go to its constructor
    (to :class:`agents.LLMConfig` for ``"llm"``).

    Raises:
        ValueError: unknown name.
        ImportError: the agent's optional dependency is missing (OpenTuner; the LLM agent).
    """
    if name == "llm":
        from agents import LLMAgent, LLMConfig

        return LLMAgent(LLMConfig(seed=seed, **options))
    if name == "opentuner":
        from baselines.opentuner_agent import OpenTunerAgent

        return OpenTunerAgent(seed=seed, **options)
    if name == "random":
        from baselines.random_search import RandomSearchAgent

        return RandomSearchAgent(seed=seed, **options)
    if name == "coordinate":
        from baselines.coordinate_descent import CoordinateDescentAgent

        return CoordinateDescentAgent(seed=seed, **options)
    if name == "expert":
        from baselines.constant import ExpertAgent

        return ExpertAgent(seed=seed, **options)
    if name == "default":
        from baselines.constant import DefaultAgent

        return DefaultAgent(seed=seed, **options)
    raise ValueError(f"unknown agent {name!r}; choose from {', '.join(AGENT_NAMES)}")


def make_env(app: str, **kwargs: Any) -> Any:
    """``gym.make`` for an application name or id (``"Circuit"`` or ``"Mapper-Circuit-v0"``).

    Without an explicit ``feedback`` the richest available level is used (``"suggest"``,
    falling back to ``"raw"`` when AutoGuide is not installed).
    """
    import gymnasium as gym

    import mapper_gym  # noqa: F401  (registers the environments)
    from mapper_gym.envs import FeedbackUnavailable
    from mapper_gym.registration import env_id

    ident = app if app.startswith("Mapper-") else env_id(app)
    if "feedback" in kwargs:
        return gym.make(ident, **kwargs)
    try:
        return gym.make(ident, feedback="suggest", **kwargs)
    except FeedbackUnavailable:
        return gym.make(ident, feedback="raw", **kwargs)


# ---------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TuneStep:
    """One evaluation of a tuning run (``iteration`` counts from 1)."""

    iteration: int
    reward: float
    status: str
    best_reward: float
    raw_output: str
    action: str = field(repr=False)


@dataclass
class TuneResult:
    """What a tuning run found. ``best_program`` is None when no evaluation succeeded."""

    env_id: str
    agent: str
    seed: int | None
    iters: int
    best_program: str | None
    best_score: float
    history: list[TuneStep]

    @property
    def best_iteration(self) -> int | None:
        """The iteration that found ``best_program`` (1-based)."""
        for step in self.history:
            if step.status == "ok" and step.action == self.best_program:
                return step.iteration
        return None

    @property
    def failure_rate(self) -> float:
        """Fraction of evaluations that failed (compile errors, run-time errors, timeouts)."""
        if not self.history:
            return 0.0
        return sum(s.status != "ok" for s in self.history) / len(self.history)

    def best_after(self, iterations: int) -> float:
        """Best normalized throughput within the first ``iterations`` evaluations."""
        best = 0.0
        for step in self.history[:iterations]:
            best = max(best, step.reward)
        return best

    def to_dict(self, programs: bool = False) -> dict[str, Any]:
        """JSON-ready form; ``programs`` includes every evaluated program."""
        steps = []
        for s in self.history:
            entry = asdict(s)
            if not programs:
                del entry["action"]
            steps.append(entry)
        return {
            "env_id": self.env_id, "agent": self.agent, "seed": self.seed, "iters": self.iters,
            "best_score": self.best_score, "best_iteration": self.best_iteration,
            "failure_rate": self.failure_rate, "best_program": self.best_program,
            "history": steps,
        }


# ---------------------------------------------------------------------------------------------
# The loop
# ---------------------------------------------------------------------------------------------


def _progress_bar(total: int, description: str, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc=description, disable=not enabled, file=sys.stderr,
                unit="eval", dynamic_ncols=True, leave=True)


def _env_name(env: Any) -> str:
    spec = getattr(env, "spec", None)
    if spec is not None and getattr(spec, "id", None):
        return str(spec.id)
    problem = getattr(getattr(env, "unwrapped", env), "problem", None)
    return f"Mapper-{problem.app_name}-v0" if problem is not None else type(env).__name__


def tune(
    env: str | Any,
    agent: str | Agent,
    iters: int = 10,
    seed: int | None = 0,
    progress: bool = True,
    env_kwargs: Mapping[str, Any] | None = None,
    agent_options: Mapping[str, Any] | None = None,
    callback: Callable[[TuneStep], None] | None = None,
) -> TuneResult:
    """Let ``agent`` propose ``iters`` programs to ``env`` and return the best.

    Args:
        env: an environment, or an application name / environment id to make one with a
            budget of ``iters`` (``env_kwargs`` are passed to :func:`make_env`).
        agent: an :class:`~mapper_gym.agent.Agent`, or a name of :data:`AGENT_NAMES` (made
            with ``seed`` and ``agent_options``).
        iters: number of evaluations. When a given environment's budget is smaller, the loop
            starts new episodes (``env.reset()``) and the agent carries on: the budget
            belongs to the agent's run, not to one episode.
        seed: seeds the environment's first reset and an agent made by name.
        progress: show a progress bar with the best score so far (standard error).
        callback: called with every :class:`TuneStep` as it completes.
    """
    if isinstance(iters, bool) or not isinstance(iters, int) or iters < 1:
        raise ValueError(f"iters must be a positive integer, got {iters!r}")
    owned = isinstance(env, str)
    if owned:
        kwargs = {"budget": iters, **dict(env_kwargs or {})}
        env = make_env(env, **kwargs)
    if isinstance(agent, str):
        agent_name = agent
        agent = make_agent(agent, seed=seed, **dict(agent_options or {}))
    else:
        agent_name = getattr(agent, "name", type(agent).__name__)
    name = _env_name(env)
    history: list[TuneStep] = []
    best_program: str | None = None
    best_score = 0.0
    try:
        _, info = env.reset(seed=seed)
        agent.reset(info)
        with _progress_bar(iters, f"{agent_name} {name}", progress) as bar:
            bar.set_postfix(best="-")
            episode_over = False
            for iteration in range(1, iters + 1):
                if episode_over:
                    env.reset()
                action = agent.propose()
                observation, reward, terminated, truncated, step_info = env.step(action)
                agent.observe(action, observation, reward, step_info)
                episode_over = bool(terminated or truncated)
                record = StepRecord.from_step(action, observation, reward, step_info)
                if record.ok and (best_program is None or record.reward > best_score):
                    best_program, best_score = record.action, record.reward
                step = TuneStep(iteration, record.reward, record.status, best_score,
                                record.raw_output, record.action)
                history.append(step)
                if callback is not None:
                    callback(step)
                bar.set_postfix(best=f"{best_score:.3f}", last=record.status)
                bar.update(1)
    finally:
        if owned:
            env.close()
    return TuneResult(name, agent_name, seed, iters, best_program, best_score, history)


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------


def add_tune_command(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``mapper-gym tune`` on an ``add_subparsers()`` object."""
    parser = subparsers.add_parser(
        "tune", help="search for a fast mapper with an agent and print the best one",
        description="Run an agent against an application's environment for N evaluations, "
                    "showing the best normalized throughput so far, and print the best "
                    "mapper found on standard output.")
    parser.add_argument("app", help="application (Circuit, Stencil, Pennant, Cannon, SUMMA, "
                                    "PUMMA, Johnson, Solomonik, COSMA)")
    parser.add_argument("--agent", choices=AGENT_NAMES, default="random",
                        help="the optimizer (default: random)")
    parser.add_argument("--iters", type=int, default=10,
                        help="number of evaluations (default 10, the paper's budget)")
    parser.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    parser.add_argument("--machine", default="p100-node", help="machine preset or file")
    parser.add_argument("--nodes", type=int, default=None, help="number of physical nodes")
    parser.add_argument("--problem", default=None, help="problem preset (A, B, small)")
    parser.add_argument("--backend", default="sim", help="evaluation backend (default sim)")
    parser.add_argument("--feedback", default=None,
                        help="feedback level: raw, explain, suggest (default: the richest "
                             "available)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.add_argument("--history", metavar="FILE",
                        help="write the run (every step, programs included) as JSON")
    parser.set_defaults(handler=cmd_tune)
    return parser


def cmd_tune(args: argparse.Namespace) -> int:
    """``mapper-gym tune``: exit 0 with the best program on stdout, 1 if nothing succeeded,
    2 for bad arguments or a missing optional dependency."""
    if args.iters < 1:
        print("error: --iters must be at least 1", file=sys.stderr)
        return 2
    env_kwargs: dict[str, Any] = {"machine": args.machine, "backend": args.backend}
    for key in ("nodes", "problem", "feedback"):
        if getattr(args, key) is not None:
            env_kwargs[key] = getattr(args, key)
    try:
        agent = make_agent(args.agent, seed=args.seed)
        result = tune(args.app, agent, iters=args.iters, seed=args.seed,
                      progress=not args.no_progress, env_kwargs=env_kwargs)
    except ImportError as error:
        print(f"error: agent {args.agent!r} is not available: {error}", file=sys.stderr)
        return 2
    except (KeyError, ValueError) as error:
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        print(f"error: {message}", file=sys.stderr)
        return 2
    if args.history:
        with open(args.history, "w", encoding="utf-8") as handle:
            json.dump(result.to_dict(programs=True), handle, indent=1)
    summary = (f"{result.env_id}: agent {args.agent}, seed {args.seed}, {args.iters} "
               f"evaluations, {result.failure_rate:.0%} failed")
    if result.best_program is None:
        print(f"{summary}; no mapper ran successfully", file=sys.stderr)
        return 1
    print(f"{summary}; best normalized throughput {result.best_score:.4f} "
          f"(iteration {result.best_iteration}): {result.best_score:.2f}x the expert "
          f"mapper's throughput", file=sys.stderr)
    sys.stdout.write(result.best_program if result.best_program.endswith("\n")
                     else result.best_program + "\n")
    return 0
