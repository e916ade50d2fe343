"""``MapperEnv``: one Legion mapping problem as a Gymnasium environment.

Made through Gymnasium (the ids are registered by ``import mapper_gym``)::

    import gymnasium as gym
    import mapper_gym  # noqa: F401  (registers Mapper-<App>-v0)

    env = gym.make("Mapper-Circuit-v0", machine="p100-node", feedback="raw")
    obs, info = env.reset(seed=0)
    print(info["app_text"])            # what the paper's agent is told about the application
    obs, reward, terminated, truncated, info = env.step(open("circuit.dsl").read())
    print(obs["feedback"], reward)

**Episode.** A fixed application at a fixed problem size on a fixed machine, and a budget of
``budget`` steps (10, the paper's). Each step evaluates one mapping program (the action). The
episode never terminates by itself; the step that spends the budget returns ``truncated=True``.
Stepping again before :meth:`~MapperEnv.reset` raises :class:`gymnasium.error.ResetNeeded`
(the budget is what makes optimizers comparable, so it is not silently extended).

**Action.** DSL text, ``spaces.Text(max_length=65536)`` over printable ASCII and the DSL's
whitespace (the language's own limit, dsl.md §11, is 65536 bytes). Any value is accepted by
:meth:`~MapperEnv.step` without raising: text outside the space (non-ASCII in comments, a
longer program, bytes, even a non-string) is evaluated or rejected by the DSL front end, and a
failure is an observation with the error text.

**Observation.** A dict:

==============  ===============================  ==============================================
key             space                            meaning
==============  ===============================  ==============================================
``throughput``  ``Box((), float64, >= 0)``        the application's throughput in its unit
                                                 (``info["unit"]``); 0 on failure
``normalized``  ``Box((), float64, >= 0)``        throughput / the expert mapper's throughput on
                                                 the same machine and problem (apps.md §0.8)
``status``      ``Discrete(4)``                   index into :data:`STATUS_NAMES`: ``ok``,
                                                 ``compile_error``, ``runtime_error``,
                                                 ``timeout`` (``info["status"]`` has the name)
``stdout``      ``Text``                          what the program printed
``stderr``      ``Text``                          the runtime's log, error messages included
``feedback``    ``Text``                          feedback text at the chosen level
==============  ===============================  ==============================================

``status`` is a ``Discrete`` index rather than text so that vector environments batch it as
an integer array; the names are fixed (:data:`STATUS_NAMES`, the order of
:data:`mapper_gym.result.STATUSES`). Text fields only contain printable ASCII and whitespace:
other characters (a non-ASCII string a program printed) are written as ``\\uXXXX`` escapes, and
texts longer than the space allows keep their head and tail around a
``[... N characters truncated ...]`` line.

The observation of :meth:`~MapperEnv.reset` stands for "nothing evaluated yet": zero
throughput, status ``ok`` (nothing failed) and empty texts. It carries nothing about the
expert mapper; the application and machine description the agent needs is in reset's
``info``.

**Reward.** ``normalized`` on success, 0 on any failure. The expert's throughput is computed
once per environment, through the same backend, the first time a run succeeds. If the expert
mapper itself fails on a machine (a custom machine file, say), ``normalized`` and the reward
are 0 and ``info["expert_error"]`` says why.

**Info.** ``reset`` gives the application metadata (``app``: tasks with their region
requirements, launch shapes, variants and layout demands; ``app_text``: the same as prompt
text), the machine (``machine``: nodes, processors and memories per node, and ``text``), the
problem preset, the throughput unit, the budget and the status names. ``step`` gives the status
name, the raw output line (``Compile Error: ...`` / ``Execution Error: ...`` /
``Performance Metric: ...``), the simulated elapsed time of the measured window (``elapsed``,
seconds; not the wall-clock time of the step, which would make steps non-deterministic), the
plan summary (``plan``), the simulator's statistics (``stats``, the RunStats fields as
dicts; ``{}`` when the run produced none), the warnings and the error as
:meth:`Diagnostic.to_dict` records (``error`` is ``{}`` after a successful run), the step
number and the remaining budget. Every value is plain JSON data, freshly built for each call,
and a key holds the same kind of value in every step, so vector environments can merge infos.

**Feedback.** ``feedback=`` names a level or is a function. ``"raw"`` is the paper's
``Execution`` level: :meth:`RunResult.raw_output`. ``"explain"`` and ``"suggest"`` are
AutoGuide's (paper.md); they are provided by the module ``mapper_gym.feedback``, which must
define ``feedback_function(level: str) -> FeedbackFunction``. Until that module exists,
asking for them raises :class:`FeedbackUnavailable` when the environment is made. A custom
``FeedbackFunction`` is any callable ``(result: RunResult, context: FeedbackContext) -> str``;
:class:`FeedbackContext` gives it the problem (application model and machine) and the
episode's earlier results. If a feedback function raises, the observation falls back to the raw
output and ``info["feedback_error"]`` records the exception.

**Determinism.** The simulator is deterministic and results are cached by canonical program
text, so the same program, configuration and problem give identical observations, rewards and
infos, whatever the seed. ``seed`` (at make time or in ``reset``) seeds ``np_random``, which
nothing in the evaluation uses; it is there for the Gymnasium contract and for agents.
"""

from __future__ import annotations

import dataclasses
import enum
import importlib
import math
import re
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from mapper_gym.backends import (
    Backend,
    EvaluationCache,
    Problem,
    build_problem,
    check_backend_name,
    default_machine,
    make_backend,
)
from mapper_gym.config import RunConfig
from mapper_gym.machine import Machine
from mapper_gym.result import STATUSES, RunResult

__all__ = [
    "ACTION_CHARSET",
    "FEEDBACK_LEVELS",
    "MAX_FEEDBACK_CHARS",
    "MAX_LOG_CHARS",
    "MAX_PROGRAM_CHARS",
    "STATUS_NAMES",
    "TEXT_CHARSET",
    "FeedbackContext",
    "FeedbackFunction",
    "FeedbackUnavailable",
    "MapperEnv",
    "feedback_function",
    "observation_text",
    "plain",
    "raw_feedback",
]

#: Names of the ``status`` observation's values, by index.
STATUS_NAMES: tuple[str, ...] = STATUSES
#: Printable ASCII plus the DSL's whitespace characters (dsl.md §2.1, BEL included).
TEXT_CHARSET: str = string.printable + "\a"
#: Characters of the action space (the DSL is ASCII outside comments and strings).
ACTION_CHARSET: str = TEXT_CHARSET
#: Longest program of the action space: the DSL's limit of 65536 bytes (dsl.md §11).
MAX_PROGRAM_CHARS = 65536
#: Longest ``stdout``/``stderr`` text in an observation.
MAX_LOG_CHARS = 262144
#: Longest ``feedback`` text in an observation.
MAX_FEEDBACK_CHARS = 65536
#: Feedback levels by name, poorest first (paper.md, AutoGuide ablation).
FEEDBACK_LEVELS: tuple[str, ...] = ("raw", "explain", "suggest")

_FLOAT_MAX = float(np.finfo(np.float64).max)


# ---------------------------------------------------------------------------------------------
# Feedback hook
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedbackContext:
    """What a feedback function may know besides the result it explains."""

    problem: Problem
    #: The level the environment was made with (``"custom"`` for a user function).
    level: str
    #: 1-based number of the step being explained, and the episode's budget.
    step: int
    budget: int
    #: Results of the earlier steps of this episode, oldest first.
    history: tuple[RunResult, ...] = ()


#: ``(result, context) -> text``: the feedback shown in the observation.
FeedbackFunction = Callable[[RunResult, FeedbackContext], str]


class FeedbackUnavailable(NotImplementedError):
    """A feedback level whose provider (AutoGuide, ``mapper_gym.feedback``) is not installed."""


def raw_feedback(result: RunResult, context: FeedbackContext) -> str:
    """The paper's ``Execution`` level: the raw output line, nothing added."""
    return result.raw_output()


def feedback_function(feedback: str | FeedbackFunction) -> tuple[str, FeedbackFunction]:
    """The level name and function for ``feedback`` (a level name or a function).

    Raises:
        ValueError: unknown level name.
        FeedbackUnavailable: ``explain``/``suggest`` without ``mapper_gym.feedback``.
    """
    if callable(feedback):
        return "custom", feedback
    if not isinstance(feedback, str) or feedback not in FEEDBACK_LEVELS:
        raise ValueError(
            f"unknown feedback level {feedback!r}; choose from {', '.join(FEEDBACK_LEVELS)} "
            "or pass a function (result, context) -> str"
        )
    if feedback == "raw":
        return feedback, raw_feedback
    try:
        autoguide = importlib.import_module("mapper_gym.feedback")
    except ModuleNotFoundError as error:
        if error.name != "mapper_gym.feedback":
            raise
        raise FeedbackUnavailable(
            f"feedback level {feedback!r} needs AutoGuide (mapper_gym.feedback), which is not "
            "available yet; use feedback='raw' or pass a feedback function"
        ) from None
    return feedback, autoguide.feedback_function(feedback)


# ---------------------------------------------------------------------------------------------
# Observation helpers
# ---------------------------------------------------------------------------------------------


#: One character outside TEXT_CHARSET (printable ASCII, space, \t \n \r \v \f and BEL).
_OUTSIDE_TEXT = re.compile(r"[^\x20-\x7e\t\n\r\x0b\x0c\x07]")


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def observation_text(text: str, limit: int) -> str:
    """``text`` made a member of the observation's Text spaces: characters outside
    :data:`TEXT_CHARSET` escaped, and at most ``limit`` characters (head and tail kept)."""
    if _OUTSIDE_TEXT.search(text):
        text = _OUTSIDE_TEXT.sub(lambda match: _escape(match.group()), text)
    if len(text) <= limit:
        return text
    if limit < 64:
        return text[:limit]
    keep = limit
    while True:  # the marker's length depends on the count it shows: settle both
        marker = f"\n[... {len(text) - keep} characters truncated ...]\n"
        settled = limit - len(marker)
        if settled == keep:
            break
        keep = settled
    head = keep // 2
    tail = keep - head
    return text[:head] + marker + (text[len(text) - tail:] if tail else "")


_PLAIN_LEAVES = frozenset({float, int, str, bool, type(None)})


def plain(value: Any) -> Any:
    """A fresh JSON-ready copy of ``value``: dataclasses and mappings become dicts with string
    keys, sequences lists, enums their value, numpy scalars Python numbers."""
    if type(value) in _PLAIN_LEAVES:  # most calls: the numbers of the statistics
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=repr) if isinstance(value, set | frozenset) else value
        return [plain(v) for v in items]
    if isinstance(value, enum.Enum):
        return plain(value.value)
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return repr(value)


def _finite(value: float) -> float:
    return value if math.isfinite(value) and value >= 0.0 else 0.0


# ---------------------------------------------------------------------------------------------
# The environment
# ---------------------------------------------------------------------------------------------


class MapperEnv(gym.Env[dict[str, Any], str]):
    """Find a fast mapper for one application on one machine, within a budget of evaluations.

    Args:
        app: application name (``"Circuit"``, ..., ``"COSMA"``; case-insensitive).
        backend: ``"sim"`` (the simulator) or ``"legion"`` (real Legion programs on this
            host; raises :class:`~mapper_gym.backends.BackendUnavailable` where it cannot run).
        machine: machine preset name (``"p100-node"``, ``"lassen"``, ``"local-cpu"``; ``None``:
            ``p100-node`` for the simulator, ``local-cpu`` for Legion) or a
            machine file path; a :class:`~mapper_gym.machine.Machine` works outside
            ``gym.make`` (Gymnasium deep-copies make's arguments, which a Machine does not
            support).
        nodes: physical node count (``None``: the machine's default).
        feedback: feedback level (:data:`FEEDBACK_LEVELS`) or a :data:`FeedbackFunction`.
        seed: seed of ``np_random`` used by the first ``reset`` that is given none.
        budget: steps per episode (the paper's 10).
        problem: problem preset (``"A"``, ``"B"``, ``"small"``); ``None`` is the research
            group's size for the machine (A on ``p100-node``, B on ``lassen``).
        config: the run's switches (:class:`~mapper_gym.config.RunConfig`).
        ranks_per_node: Legion processes per physical node; ``None`` is the group's layout.
        params: application parameter overrides (``{"tsteps": 5}``).
        cache: share the process-wide evaluation cache (``True``), use none (``False``), or
            use the given :class:`~mapper_gym.backends.EvaluationCache`.
        render_mode: ``None`` or ``"ansi"`` (``render()`` returns the last step as text).

    Raises (when made): ValueError for unknown names or bad values, KeyError for an unknown
    application, :class:`~mapper_gym.backends.BackendUnavailable`, :class:`FeedbackUnavailable`.
    """

    #: Gymnasium's class attribute; ``render_fps`` only silences its warning (text has no fps).
    metadata = {"render_modes": ["ansi"], "render_fps": 1}  # noqa: RUF012

    def __init__(
        self,
        app: str,
        backend: str = "sim",
        machine: str | Path | Machine | None = None,
        nodes: int | None = None,
        feedback: str | FeedbackFunction = "suggest",
        seed: int | None = None,
        budget: int = 10,
        problem: str | None = None,
        config: RunConfig | None = None,
        ranks_per_node: int | None = None,
        params: Mapping[str, int] | None = None,
        cache: EvaluationCache | bool = True,
        render_mode: str | None = None,
    ) -> None:
        check_backend_name(backend)
        self.feedback_level, self._feedback = feedback_function(feedback)
        if isinstance(budget, bool) or not isinstance(budget, int) or budget < 1:
            raise ValueError(f"budget must be a positive integer, got {budget!r}")
        config = RunConfig() if config is None else config
        if not isinstance(config, RunConfig):
            raise ValueError(f"config must be a RunConfig, got {type(config).__name__}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"unknown render_mode {render_mode!r}; choose from None, 'ansi'")
        if machine is None:
            machine = default_machine(backend)
        self.problem: Problem = build_problem(
            app, machine, nodes=nodes, problem=problem, ranks_per_node=ranks_per_node,
            **dict(params or {}),
        )
        self.backend: Backend = make_backend(backend, self.problem, cache=cache)
        self.budget = budget
        self.config = config
        self.render_mode = render_mode
        self._initial_seed = seed
        self._description = self.problem.describe()
        self._expert: RunResult | None = None
        self._steps: int | None = None
        self._history: list[RunResult] = []
        self._last: tuple[int, str, float, str, float, str] | None = None

        text = spaces.Text(max_length=MAX_LOG_CHARS, min_length=0, charset=TEXT_CHARSET)
        self.action_space = spaces.Text(
            max_length=MAX_PROGRAM_CHARS, min_length=0, charset=ACTION_CHARSET
        )
        self.observation_space = spaces.Dict({
            "throughput": spaces.Box(0.0, _FLOAT_MAX, shape=(), dtype=np.float64),
            "normalized": spaces.Box(0.0, _FLOAT_MAX, shape=(), dtype=np.float64),
            "status": spaces.Discrete(len(STATUS_NAMES)),
            "stdout": text,
            "stderr": text,
            "feedback": spaces.Text(
                max_length=MAX_FEEDBACK_CHARS, min_length=0, charset=TEXT_CHARSET
            ),
        })

    # -- the expert -----------------------------------------------------------------------------

    def expert_result(self) -> RunResult:
        """The expert mapper's run on this problem (evaluated once, then kept)."""
        if self._expert is None:
            from benchmarks import get_app

            text = get_app(self.problem.app_name).expert_mapper(self.problem.machine)
            self._expert = self.backend.run(text, self.config)
        return self._expert

    @property
    def expert_throughput(self) -> float:
        """The expert mapper's throughput (0.0 if it failed on this machine)."""
        expert = self.expert_result()
        return expert.throughput if expert.ok else 0.0

    def _normalized(self, result: RunResult) -> float:
        if not result.ok:
            return 0.0
        expert = self.expert_throughput
        return _finite(result.throughput / expert) if expert > 0.0 else 0.0

    # -- Gymnasium API --------------------------------------------------------------------------

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Start an episode: the budget is restored and nothing has been evaluated yet."""
        if seed is None and self._np_random is None:
            seed = self._initial_seed
        super().reset(seed=seed)
        self._steps = 0
        self._history = []
        observation = {
            "throughput": np.array(0.0, dtype=np.float64),
            "normalized": np.array(0.0, dtype=np.float64),
            "status": 0,
            "stdout": "",
            "stderr": "",
            "feedback": "",
        }
        info = plain(self._description)
        info.update({
            "budget": self.budget,
            "backend": self.backend.name,
            "feedback_level": self.feedback_level,
            "statuses": list(STATUS_NAMES),
        })
        self._last = None
        return observation, info

    def step(
        self, action: str
    ) -> tuple[dict[str, Any], float, bool, bool, dict[str, Any]]:
        """Evaluate one mapping program (any value is accepted; see the module docstring)."""
        if self._steps is None:
            raise gym.error.ResetNeeded("call reset() before step()")
        if self._steps >= self.budget:
            raise gym.error.ResetNeeded(
                f"the episode's budget of {self.budget} evaluations is spent; call reset()"
            )
        result = self.backend.run(action, self.config)
        self._steps += 1
        normalized = self._normalized(result)
        context = FeedbackContext(
            problem=self.problem,
            level=self.feedback_level,
            step=self._steps,
            budget=self.budget,
            history=tuple(self._history),
        )
        info: dict[str, Any] = {}
        try:
            feedback = self._feedback(result, context)
            if not isinstance(feedback, str):
                raise TypeError(f"feedback function returned {type(feedback).__name__}")
        except Exception as error:  # a broken feedback function must not end the episode
            feedback = result.raw_output()
            info["feedback_error"] = f"{type(error).__name__}: {error}"
        self._history.append(result)
        observation = {
            "throughput": np.array(_finite(result.throughput), dtype=np.float64),
            "normalized": np.array(normalized, dtype=np.float64),
            "status": STATUS_NAMES.index(result.status),
            "stdout": observation_text(result.stdout, MAX_LOG_CHARS),
            "stderr": observation_text(result.stderr, MAX_LOG_CHARS),
            "feedback": observation_text(feedback, MAX_FEEDBACK_CHARS),
        }
        reward = normalized if result.ok else 0.0
        truncated = self._steps >= self.budget
        info.update(self._step_info(result, normalized))
        # what render() shows, kept apart from the observation and info the caller may mutate
        self._last = (info["step"], info["status"], info["throughput"], info["unit"],
                      normalized, observation["feedback"])
        return observation, float(reward), False, truncated, info

    def _step_info(self, result: RunResult, normalized: float) -> dict[str, Any]:
        info: dict[str, Any] = {
            "step": self._steps,
            "budget_left": self.budget - (self._steps or 0),
            "status": result.status,
            "throughput": _finite(result.throughput),
            "normalized": normalized,
            "unit": result.unit,
            "elapsed": result.elapsed,
            "raw_output": result.raw_output(),
            "backend": result.backend,
            "plan": plain(result.plan_summary),
            # Empty dicts rather than None for absent records: vector environments merge infos
            # key by key and cannot merge a dict in one sub-environment with None in another.
            "stats": plain(result.stats) if result.stats is not None else {},
            "warnings": [plain(d.to_dict()) for d in result.warnings],
            "error": plain(result.error.to_dict()) if result.error is not None else {},
        }
        if result.ok and not self.expert_result().ok:
            info["expert_error"] = self.expert_result().raw_output()
        return info

    def render(self) -> str | None:
        """``"ansi"``: the last step as text (status, throughput, feedback); else None."""
        if self.render_mode != "ansi":
            return None
        if self._last is None:
            steps = "not reset" if self._steps is None else "no program evaluated yet"
            return f"{self.problem.app_name} on {self.problem.machine.name}: {steps}\n"
        step, status, throughput, unit, normalized, feedback = self._last
        return (
            f"{self.problem.app_name} on {self.problem.machine.name}, step {step}/"
            f"{self.budget}: {status}, {throughput:.6g} {unit}, "
            f"normalized {normalized:.4f}\n{feedback}\n"
        )
