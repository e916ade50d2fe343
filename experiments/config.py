"""What an experiment is: a grid of run units, and how it is executed.

An experiment is the grid ``agents × benchmarks × seeds × budgets × backends × feedback levels
× machines``. Each cell is a :class:`RunUnit`: one agent, seeded, optimizing one application on
one machine for a budget of evaluations. A unit is the smallest thing that runs on its own
(an agent's trajectory is sequential), so it is the unit of parallelism, resumption and W&B
logging.

Two records keep *what* apart from *how*:

- :class:`ExperimentConfig` fixes the results. Everything in it that shapes a unit goes into
  the unit's identity (:meth:`RunUnit.unit_id`), so a unit that was already finished is
  recognised in a results store whatever the experiment's name or the order of the grid.
- :class:`RunOptions` says how to execute (serial, a process pool, Ray; W&B; the cache). It
  never changes a record's content, so the same store can be resumed with other options.

Both load from a TOML file (``[run]`` holds the options)::

    name = "paper"
    apps = ["all"]
    seeds = "0-4"
    budgets = [10]
    feedback = ["suggest"]

    [[agents]]
    name = "random"

    [[agents]]
    name = "opentuner"
    budgets = [10, 1000]

    [[agents]]
    name = "llm"
    label = "llm-gpt-4o"
    options = { model = "gpt-4o-2024-08-06" }

    [run]
    executor = "process"
    wandb = "offline"
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "APPS",
    "BACKENDS",
    "EXECUTORS",
    "FEEDBACK_LEVELS",
    "UNIT_FORMAT",
    "WANDB_MODES",
    "AgentSpec",
    "ConfigError",
    "ExperimentConfig",
    "RunOptions",
    "RunUnit",
    "canonical_json",
    "load_config",
    "parse_agent",
    "parse_apps",
    "parse_ints",
]

#: The nine applications in the paper's order.
APPS: tuple[str, ...] = (
    "Circuit", "Stencil", "Pennant", "Cannon", "SUMMA", "PUMMA", "Johnson", "Solomonik", "COSMA",
)
BACKENDS: tuple[str, ...] = ("sim", "legion")
FEEDBACK_LEVELS: tuple[str, ...] = ("raw", "explain", "suggest")
EXECUTORS: tuple[str, ...] = ("serial", "process", "ray")
WANDB_MODES: tuple[str, ...] = ("offline", "online", "disabled")

#: Version of the unit identity and record layout. Bumping it makes every earlier record a
#: different unit, which is what a change of record semantics needs.
UNIT_FORMAT = 1

#: Longest budget accepted (the paper's second OpenTuner study used 1000).
MAX_BUDGET = 1_000_000


class ConfigError(ValueError):
    """A configuration that cannot describe an experiment (bad name, value or file)."""


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces: the same value always gives the same text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                      allow_nan=False)


def _json_value(value: Any, where: str) -> Any:
    """``value`` if it is plain JSON data (what agent options may hold), else ConfigError."""
    try:
        return json.loads(canonical_json(value))
    except (TypeError, ValueError) as error:
        raise ConfigError(f"{where}: not JSON data ({error})") from None


# ---------------------------------------------------------------------------------------------
# Agents
# ---------------------------------------------------------------------------------------------

#: Agents known by name (``mapper_gym.tuning.AGENT_NAMES``); anything else must be an import
#: path ``package.module:attribute`` naming an agent class or factory.
KNOWN_AGENTS: tuple[str, ...] = ("llm", "opentuner", "random", "expert", "default", "coordinate")
_IMPORT_PATH = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")


@dataclass(frozen=True)
class AgentSpec:
    """One optimizer of the grid.

    Args:
        name: a known agent (``random``, ``opentuner``, ``llm``, ``coordinate``, ``expert``,
            ``default``) or an import path ``package.module:Name`` of a class or function
            called as ``Name(seed=..., **options)`` that returns an
            :class:`~mapper_gym.agent.Agent`.
        options: constructor options (JSON data). For ``llm`` they are
            :class:`agents.LLMConfig` fields (``model``, ``base_url``, ``mode``, ...).
        label: the name shown in tables, plots and W&B (default: ``name``, plus the options
            when there are any).
        budgets, seeds: replace the grid's budgets or seeds for this agent (a constant agent
            needs one evaluation and one seed; OpenTuner ran for 10 and 1000).
    """

    name: str
    options: Mapping[str, Any] = field(default_factory=dict)
    label: str = ""
    budgets: tuple[int, ...] | None = None
    seeds: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not (
            self.name in KNOWN_AGENTS or _IMPORT_PATH.match(self.name)
        ):
            raise ConfigError(
                f"unknown agent {self.name!r}: choose from {', '.join(KNOWN_AGENTS)} or give "
                "an import path package.module:Name"
            )
        if not isinstance(self.options, Mapping):
            raise ConfigError(f"agent {self.name}: options must be a table of key = value")
        options = _json_value(dict(self.options), f"agent {self.name} options")
        object.__setattr__(self, "options", options)
        if not self.label:
            object.__setattr__(self, "label", self._default_label())
        if self.budgets is not None:
            object.__setattr__(self, "budgets", _budgets(self.budgets, f"agent {self.label}"))
        if self.seeds is not None:
            object.__setattr__(self, "seeds", _seeds(self.seeds, f"agent {self.label}"))

    def _default_label(self) -> str:
        if not self.options:
            return self.name
        inside = ",".join(f"{k}={canonical_json(v).strip(chr(34))}"
                          for k, v in sorted(self.options.items()))
        return f"{self.name}[{inside}]"

    def identity(self) -> dict[str, Any]:
        """What makes this agent's results what they are (the label is only a name)."""
        return {"name": self.name, "options": self.options}

    def __hash__(self) -> int:
        return hash((canonical_json(self.identity()), self.label, self.budgets, self.seeds))

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "label": self.label,
                                "options": dict(self.options)}
        if self.budgets is not None:
            data["budgets"] = list(self.budgets)
        if self.seeds is not None:
            data["seeds"] = list(self.seeds)
        return data

    @staticmethod
    def from_dict(data: Mapping[str, Any] | str) -> AgentSpec:
        if isinstance(data, str):
            return parse_agent(data)
        if not isinstance(data, Mapping) or "name" not in data:
            raise ConfigError(f"an agent needs a name, got {data!r}")
        unknown = set(data) - {"name", "options", "label", "budgets", "seeds"}
        if unknown:
            raise ConfigError(f"agent {data['name']}: unknown keys {', '.join(sorted(unknown))}")
        return AgentSpec(
            name=data["name"],
            options=data.get("options") or {},
            label=data.get("label") or "",
            budgets=_budgets(data["budgets"], data["name"]) if "budgets" in data else None,
            seeds=_seeds(data["seeds"], data["name"]) if "seeds" in data else None,
        )


def _option_value(text: str) -> Any:
    """``key=value`` values: JSON when they parse as JSON (numbers, true, lists), else text."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def parse_agent(text: str) -> AgentSpec:
    """An agent from the command line: ``NAME`` or ``NAME:key=value:key=value``, with an
    optional ``@label`` at the end (``llm:model=gpt-4o-mini@llm-mini``).

    An import path keeps its own colon: ``mypkg.agents:Greedy:depth=3``.
    """
    label = ""
    if "@" in text:
        text, label = text.rsplit("@", 1)
    parts = text.split(":")
    if (parts[0] not in KNOWN_AGENTS and len(parts) >= 2 and "=" not in parts[1]
            and _IMPORT_PATH.match(f"{parts[0]}:{parts[1]}")):
        name, rest = f"{parts[0]}:{parts[1]}", parts[2:]
    else:
        name, rest = parts[0], parts[1:]
    options: dict[str, Any] = {}
    for item in rest:
        if "=" not in item:
            raise ConfigError(f"agent option {item!r} is not key=value (in {text!r})")
        key, value = item.split("=", 1)
        options[key.strip()] = _option_value(value.strip())
    return AgentSpec(name=name.strip(), options=options, label=label.strip())


# ---------------------------------------------------------------------------------------------
# Value parsing shared by files and flags
# ---------------------------------------------------------------------------------------------


def parse_ints(value: Any, what: str) -> tuple[int, ...]:
    """Integers from a list, an int, or text like ``"0-4"``, ``"0,2,5-7"``."""
    if isinstance(value, bool):
        raise ConfigError(f"{what}: expected integers, got {value!r}")
    if isinstance(value, int):
        return (value,)
    items: list[Any]
    if isinstance(value, str):
        items = [p.strip() for p in value.split(",") if p.strip()]
    elif isinstance(value, Sequence):
        items = list(value)
    else:
        raise ConfigError(f"{what}: expected integers, got {value!r}")
    out: list[int] = []
    for item in items:
        if isinstance(item, bool):
            raise ConfigError(f"{what}: expected integers, got {item!r}")
        if isinstance(item, int):
            out.append(item)
            continue
        match = re.fullmatch(r"\s*(-?\d+)\s*(?:-\s*(-?\d+)\s*)?", str(item))
        if not match:
            raise ConfigError(f"{what}: {item!r} is not an integer or a range a-b")
        low = int(match.group(1))
        high = int(match.group(2)) if match.group(2) is not None else low
        if high < low:
            raise ConfigError(f"{what}: empty range {item!r}")
        out.extend(range(low, high + 1))
    if not out:
        raise ConfigError(f"{what}: no values")
    return tuple(dict.fromkeys(out))


def _budgets(value: Any, what: str) -> tuple[int, ...]:
    budgets = parse_ints(value, f"{what} budgets")
    for budget in budgets:
        if not 1 <= budget <= MAX_BUDGET:
            raise ConfigError(f"{what}: budget {budget} is not between 1 and {MAX_BUDGET}")
    return budgets


def _seeds(value: Any, what: str) -> tuple[int, ...]:
    seeds = parse_ints(value, f"{what} seeds")
    for seed in seeds:
        if seed < 0:
            raise ConfigError(f"{what}: seed {seed} is negative")
    return seeds


def _names(value: Any, what: str) -> tuple[str, ...]:
    if isinstance(value, str):
        items = [p.strip() for p in value.split(",") if p.strip()]
    elif isinstance(value, Sequence):
        items = [str(v).strip() for v in value]
    else:
        raise ConfigError(f"{what}: expected a list of names, got {value!r}")
    if not items:
        raise ConfigError(f"{what}: no values")
    return tuple(dict.fromkeys(items))


def parse_apps(value: Any) -> tuple[str, ...]:
    """Application names (case-insensitive, ``all`` for the nine) in the paper's order when
    ``all``, else in the given order."""
    names = _names(value, "apps")
    out: list[str] = []
    for name in names:
        if name.lower() == "all":
            out.extend(APPS)
            continue
        match = [app for app in APPS if app.lower() == name.lower()]
        if not match:
            raise ConfigError(f"unknown application {name!r}; choose from {', '.join(APPS)}")
        out.append(match[0])
    return tuple(dict.fromkeys(out))


def _choices(value: Any, allowed: Sequence[str], what: str) -> tuple[str, ...]:
    names = _names(value, what)
    for name in names:
        if name not in allowed:
            raise ConfigError(f"unknown {what} {name!r}; choose from {', '.join(allowed)}")
    return names


# ---------------------------------------------------------------------------------------------
# Units
# ---------------------------------------------------------------------------------------------


def _file_digest(path: str) -> str | None:
    """SHA-256 of a machine file, so that editing it makes new units; None for presets."""
    candidate = Path(path)
    if candidate.suffix.lower() in (".toml", ".json") and candidate.is_file():
        return hashlib.sha256(candidate.read_bytes()).hexdigest()[:16]
    return None


@dataclass(frozen=True)
class RunUnit:
    """One cell of the grid: ``agent`` with ``seed`` optimizing ``app`` for ``budget``
    evaluations with ``backend``, feedback level ``feedback`` on ``machine``.

    ``env_options`` are extra keyword arguments of the environment (``nodes``, ``params``);
    ``env_factory`` an import path replacing ``gym.make`` (tests and custom problems).
    """

    agent: AgentSpec
    app: str
    seed: int
    budget: int
    backend: str = "sim"
    feedback: str = "suggest"
    machine: str = "p100-node"
    problem: str | None = None
    env_options: Mapping[str, Any] = field(default_factory=dict)
    env_factory: str | None = None

    def __hash__(self) -> int:
        return hash(self.unit_id)

    def identity(self) -> dict[str, Any]:
        """Everything that determines this unit's records, as JSON data."""
        data: dict[str, Any] = {
            "format": UNIT_FORMAT,
            "agent": self.agent.identity(),
            "app": self.app,
            "seed": self.seed,
            "budget": self.budget,
            "backend": self.backend,
            "feedback": self.feedback,
            "machine": self.machine,
            "problem": self.problem,
        }
        digest = _file_digest(self.machine)
        if digest is not None:
            data["machine_sha"] = digest
        if self.env_options:
            data["env_options"] = dict(self.env_options)
        if self.env_factory:
            data["env_factory"] = self.env_factory
        return data

    @property
    def unit_id(self) -> str:
        """A stable id: the first 16 hex digits of SHA-256 of :meth:`identity`."""
        cached = self.__dict__.get("_unit_id")
        if cached is None:
            digest = hashlib.sha256(canonical_json(self.identity()).encode()).hexdigest()
            cached = digest[:16]
            object.__setattr__(self, "_unit_id", cached)
        return cached

    def eval_id(self, iteration: int) -> str:
        """The id of this unit's evaluation number ``iteration`` (1-based)."""
        return f"{self.unit_id}-{iteration:07d}"

    @property
    def title(self) -> str:
        """``agent/app/seed`` (the W&B run name)."""
        return f"{self.agent.label}/{self.app}/s{self.seed}"

    def describe(self) -> dict[str, Any]:
        """The fields every record of this unit repeats (flat, for filtering and tables)."""
        return {
            "unit": self.unit_id,
            "agent": self.agent.label,
            "agent_name": self.agent.name,
            "agent_options": dict(self.agent.options),
            "app": self.app,
            "seed": self.seed,
            "budget": self.budget,
            "backend": self.backend,
            "feedback_level": self.feedback,
            "machine": self.machine,
            "problem": self.problem,
        }

    def to_dict(self) -> dict[str, Any]:
        """Everything needed to rebuild the unit in another process or machine."""
        return {
            "agent": self.agent.to_dict(),
            "app": self.app,
            "seed": self.seed,
            "budget": self.budget,
            "backend": self.backend,
            "feedback": self.feedback,
            "machine": self.machine,
            "problem": self.problem,
            "env_options": dict(self.env_options),
            "env_factory": self.env_factory,
        }

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> RunUnit:
        return RunUnit(
            agent=AgentSpec.from_dict(data["agent"]),
            app=data["app"],
            seed=int(data["seed"]),
            budget=int(data["budget"]),
            backend=data.get("backend", "sim"),
            feedback=data.get("feedback", "suggest"),
            machine=data.get("machine", "p100-node"),
            problem=data.get("problem"),
            env_options=dict(data.get("env_options") or {}),
            env_factory=data.get("env_factory"),
        )


# ---------------------------------------------------------------------------------------------
# Experiments
# ---------------------------------------------------------------------------------------------

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


@dataclass(frozen=True)
class ExperimentConfig:
    """The grid of an experiment (see the module docstring)."""

    name: str
    agents: tuple[AgentSpec, ...]
    apps: tuple[str, ...] = APPS
    seeds: tuple[int, ...] = (0,)
    budgets: tuple[int, ...] = (10,)
    backends: tuple[str, ...] = ("sim",)
    feedback: tuple[str, ...] = ("suggest",)
    machines: tuple[str, ...] = ("p100-node",)
    problem: str | None = None
    env_options: Mapping[str, Any] = field(default_factory=dict)
    env_factory: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            raise ConfigError(
                f"experiment name {self.name!r}: use letters, digits, '.', '_' and '-' "
                "(it names the folder runs/<name>/)"
            )
        agents = tuple(a if isinstance(a, AgentSpec) else AgentSpec.from_dict(a)
                       for a in self.agents)
        if not agents:
            raise ConfigError("an experiment needs at least one agent")
        labels = [a.label for a in agents]
        duplicates = sorted({label for label in labels if labels.count(label) > 1})
        if duplicates:
            raise ConfigError(f"agent labels must differ: {', '.join(duplicates)} repeated; "
                              "give each a label")
        object.__setattr__(self, "agents", agents)
        object.__setattr__(self, "apps", parse_apps(self.apps))
        object.__setattr__(self, "seeds", _seeds(self.seeds, "experiment"))
        object.__setattr__(self, "budgets", _budgets(self.budgets, "experiment"))
        object.__setattr__(self, "backends", _choices(self.backends, BACKENDS, "backend"))
        object.__setattr__(self, "feedback",
                           _choices(self.feedback, FEEDBACK_LEVELS, "feedback level"))
        object.__setattr__(self, "machines", _names(self.machines, "machines"))
        object.__setattr__(self, "env_options",
                           _json_value(dict(self.env_options), "env_options"))

    def units(self) -> list[RunUnit]:
        """Every unit of the grid, in a fixed order (agent, budget, app, seed, backend,
        feedback, machine) and without repeats."""
        out: dict[str, RunUnit] = {}
        for agent in self.agents:
            for budget in agent.budgets or self.budgets:
                for app in self.apps:
                    for seed in agent.seeds or self.seeds:
                        for backend in self.backends:
                            for level in self.feedback:
                                for machine in self.machines:
                                    unit = RunUnit(
                                        agent=agent, app=app, seed=seed, budget=budget,
                                        backend=backend, feedback=level, machine=machine,
                                        problem=self.problem, env_options=self.env_options,
                                        env_factory=self.env_factory,
                                    )
                                    out.setdefault(unit.unit_id, unit)
        return list(out.values())

    def evaluations(self) -> int:
        """How many evaluations the whole grid takes."""
        return sum(unit.budget for unit in self.units())

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "agents": [a.to_dict() for a in self.agents],
            "apps": list(self.apps),
            "seeds": list(self.seeds),
            "budgets": list(self.budgets),
            "backends": list(self.backends),
            "feedback": list(self.feedback),
            "machines": list(self.machines),
            "problem": self.problem,
            "env_options": dict(self.env_options),
            "env_factory": self.env_factory,
        }

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> ExperimentConfig:
        """Build from a file's table (singular keys ``backend``, ``machine`` accepted)."""
        data = dict(data)
        aliases = {"backend": "backends", "machine": "machines", "seed": "seeds",
                   "budget": "budgets", "app": "apps", "agent": "agents"}
        for alias, key in aliases.items():
            if alias in data:
                if key in data:
                    raise ConfigError(f"give either {alias} or {key}, not both")
                data[key] = data.pop(alias)
        known = {"name", "agents", "apps", "seeds", "budgets", "backends", "feedback",
                 "machines", "problem", "env_options", "env_factory"}
        unknown = set(data) - known
        if unknown:
            raise ConfigError(f"unknown experiment keys: {', '.join(sorted(unknown))}")
        if "name" not in data:
            raise ConfigError("an experiment needs a name")
        agents = data.get("agents", [])
        if isinstance(agents, str | Mapping):
            agents = [agents]
        kwargs: dict[str, Any] = {
            "name": data["name"],
            "agents": tuple(AgentSpec.from_dict(a) for a in agents),
        }
        for key in ("apps", "seeds", "budgets", "backends", "feedback", "machines"):
            if key in data:
                kwargs[key] = data[key]
        for key in ("problem", "env_factory"):
            if data.get(key) is not None:
                kwargs[key] = str(data[key])
        if data.get("env_options"):
            kwargs["env_options"] = data["env_options"]
        return ExperimentConfig(**kwargs)

    def with_overrides(self, **changes: Any) -> ExperimentConfig:
        """A copy with some fields replaced (``None`` values are ignored)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


# ---------------------------------------------------------------------------------------------
# Execution options
# ---------------------------------------------------------------------------------------------

Executor = Literal["serial", "process", "ray"]
WandbMode = Literal["offline", "online", "disabled"]


def available_cores() -> int:
    """Cores this process may use (the affinity mask, not the machine's total)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class RunOptions:
    """How to execute an experiment; never part of a record's content.

    Args:
        executor: ``serial`` (this process), ``process`` (a pool sized to the cores) or
            ``ray`` (a Ray cluster: a local one, or the one at ``ray_address``).
        workers: parallel units (``None``: the available cores; for Ray, the cluster's).
        ray_address: ``host:port`` of a running Ray cluster, or ``auto``.
        runs_dir: where ``<name>/`` folders are made.
        cache: the persistent evaluation cache file; ``"default"`` is
            ``<runs_dir>/evaluation-cache.sqlite``, ``None`` disables it.
        wandb: W&B mode; ``offline`` writes runs under ``<runs_dir>/<name>/wandb``.
        wandb_project, wandb_entity: where online runs go.
        progress: print one line per finished unit on standard error.
    """

    executor: Executor = "process"
    workers: int | None = None
    ray_address: str | None = None
    runs_dir: Path = Path("runs")
    cache: str | None = "default"
    wandb: WandbMode = "offline"
    wandb_project: str = "mapper-gym"
    wandb_entity: str | None = None
    progress: bool = True

    def __post_init__(self) -> None:
        if self.executor not in EXECUTORS:
            raise ConfigError(f"unknown executor {self.executor!r}; choose from "
                              f"{', '.join(EXECUTORS)}")
        if self.workers is not None and (isinstance(self.workers, bool)
                                         or not isinstance(self.workers, int)
                                         or self.workers < 1):
            raise ConfigError(f"workers must be a positive integer, got {self.workers!r}")
        if self.wandb not in WANDB_MODES:
            raise ConfigError(f"unknown W&B mode {self.wandb!r}; choose from "
                              f"{', '.join(WANDB_MODES)}")
        object.__setattr__(self, "runs_dir", Path(self.runs_dir))

    @property
    def worker_count(self) -> int:
        """Workers of a local pool: ``workers`` or the available cores."""
        return self.workers if self.workers is not None else available_cores()

    def run_dir(self, name: str) -> Path:
        return self.runs_dir / name

    def cache_path(self) -> Path | None:
        if self.cache is None or self.cache.lower() in ("none", "off", ""):
            return None
        if self.cache == "default":
            return self.runs_dir / "evaluation-cache.sqlite"
        return Path(self.cache)

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> RunOptions:
        known = {"executor", "workers", "ray_address", "runs_dir", "cache", "wandb",
                 "wandb_project", "wandb_entity", "progress"}
        unknown = set(data) - known
        if unknown:
            raise ConfigError(f"unknown [run] keys: {', '.join(sorted(unknown))}")
        kwargs = dict(data)
        if "runs_dir" in kwargs:
            kwargs["runs_dir"] = Path(kwargs["runs_dir"])
        if kwargs.get("cache") is False:
            kwargs["cache"] = None
        return RunOptions(**kwargs)

    def with_overrides(self, **changes: Any) -> RunOptions:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def load_config(path: str | Path) -> tuple[ExperimentConfig, RunOptions]:
    """Read an experiment file (TOML, or JSON for ``.json``): the grid and its ``[run]``
    options."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror}") from None
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(raw)
        else:
            data = tomllib.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: {error}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a table at the top level")
    run = data.pop("run", {})
    if not isinstance(run, Mapping):
        raise ConfigError(f"{path}: [run] must be a table")
    try:
        return ExperimentConfig.from_dict(data), RunOptions.from_dict(run)
    except ConfigError as error:
        raise ConfigError(f"{path}: {error}") from None
    except TypeError as error:
        raise ConfigError(f"{path}: {error}") from None


def finite(value: Any) -> float:
    """``value`` as a finite float, 0.0 for anything else (scores of failed or odd runs)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0
    return number if math.isfinite(number) else 0.0


def unique(items: Iterable[Any]) -> list[Any]:
    return list(dict.fromkeys(items))
