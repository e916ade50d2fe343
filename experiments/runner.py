"""The comparison runner: every unit of an experiment's grid, resumable, cached, in parallel.

::

    from experiments import AgentSpec, ExperimentConfig, RunOptions, run_experiment

    config = ExperimentConfig(name="demo", agents=(AgentSpec("random"), AgentSpec("opentuner")),
                              seeds=(0, 1, 2), budgets=(10,))
    summary = run_experiment(config, RunOptions(executor="process"))
    print(summary.store)          # runs/demo/results.jsonl

or ``mapper-gym compare --agents random,opentuner --seeds 0-2 --name demo``.

**One unit** (:func:`execute_unit`) is the tuning loop of :mod:`mapper_gym.tuning` with three
additions: each evaluation becomes a record sent to the driver as soon as it exists; a unit
that already has records is *replayed* (the agent proposes again, the recorded observation is
given back, nothing is evaluated) up to where it stopped; and a program already evaluated on the
same problem is served from the persistent evaluation cache (:mod:`experiments.cache`). The agent
always receives the JSON form of the step (the same values and types live, from the cache and
in a replay), so its trajectory does not depend on which of the three produced a step.

**The driver** (:func:`run_experiment`) is the only writer of the results store. It skips
finished units, hands partial ones their records for replay, runs the rest on an executor
(:mod:`experiments.parallel`), appends every record it receives, closes each unit with a
``unit`` record and logs it to W&B.
"""

from __future__ import annotations

import copy
import json
import os
import platform
import subprocess
import sys
import time
import traceback
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from experiments.cache import EvaluationStore, evaluation_key
from experiments.config import ExperimentConfig, RunOptions, RunUnit, finite
from experiments.factory import (
    ReplayMismatch,
    evaluation_identity,
    make_unit_agent,
    make_unit_env,
    preflight,
)
from experiments.records import (
    eval_record,
    info_to_json,
    observation_from_json,
    observation_to_json,
    positioned_info,
    unit_record,
    usage_of,
)
from experiments.store import ResultsStore, iter_records

__all__ = [
    "ExperimentSummary",
    "Message",
    "UnitTask",
    "execute_unit",
    "run_experiment",
    "run_unit_task",
]

#: What a unit sends to the driver: ``("eval", record)``, ``("unit", record)`` when it
#: finishes, ``("error", unit_id, text)`` when it raised.
Message = tuple


@dataclass(frozen=True)
class UnitTask:
    """Everything a worker needs to run (or resume) one unit; plain data, picklable."""

    unit: dict[str, Any]
    #: Recorded evaluations of the unit, iterations 1..k (replayed before running on).
    done: tuple[dict[str, Any], ...] = ()
    cache_path: str | None = None
    session: str = ""
    experiment: str = ""
    #: The driver's pid: a worker whose driver died stops instead of computing for nobody.
    parent_pid: int | None = None

    @property
    def unit_id(self) -> str:
        return RunUnit.from_dict(self.unit).unit_id


class DriverGone(RuntimeError):
    """The driver process died; the worker stops."""


_stop_check: Callable[[], bool] | None = None


def set_stop_check(check: Callable[[], bool] | None) -> None:
    """Install a worker-wide "should I stop?" test, asked before every evaluation (the
    process pool's stop event)."""
    global _stop_check
    _stop_check = check


def _check_driver(parent_pid: int | None) -> None:
    if parent_pid is not None and os.getppid() != parent_pid:
        raise DriverGone(f"driver process {parent_pid} is gone")
    if _stop_check is not None and _stop_check():
        raise DriverGone("the driver asked the workers to stop")


def execute_unit(task: UnitTask, emit: Callable[[Message], None]) -> dict[str, Any]:
    """Run one unit to its budget, emitting an ``("eval", record)`` per new evaluation, and
    return its ``unit`` record (the caller emits it).

    Raises:
        ReplayMismatch: the agent did not propose its recorded programs again.
        anything the agent or environment raises.
    """
    started = time.perf_counter()
    unit = RunUnit.from_dict(task.unit)
    done = sorted(task.done, key=lambda r: int(r["iteration"]))
    if [int(r["iteration"]) for r in done] != list(range(1, len(done) + 1)):
        raise ValueError(f"unit {unit.unit_id}: recorded iterations are not 1..{len(done)}")
    if len(done) > unit.budget:
        raise ValueError(f"unit {unit.unit_id}: more records than its budget")
    env = make_unit_env(unit)
    cache = EvaluationStore(task.cache_path) if task.cache_path else None
    agent, tape, price = make_unit_agent(unit)
    if tape is not None:
        tape.load([call for record in done for call in record.get("llm_calls") or ()])
    history: list[dict[str, Any]] = []
    try:
        _, reset_info = env.reset(seed=unit.seed)
        agent.reset(reset_info)
        identity = evaluation_identity(env) if cache is not None else None
        best = 0.0
        for iteration in range(1, unit.budget + 1):
            _check_driver(task.parent_pid)
            replaying = iteration <= len(done)
            if tape is not None:
                if not replaying and tape.replaying:
                    raise ReplayMismatch(
                        f"unit {unit.title} ({unit.unit_id}): the LLM agent made fewer requests "
                        "while replaying than it made the first time; it cannot resume")
                tape.allow_live(not replaying)
            began = time.time()
            clock = time.perf_counter()
            action = agent.propose()
            proposed = time.perf_counter()
            if replaying:
                record = done[iteration - 1]
                if action != record["program"]:
                    raise ReplayMismatch(
                        f"unit {unit.title} ({unit.unit_id}): iteration {iteration} proposed a "
                        "different program than the recorded one; the agent is not "
                        "deterministic given its seed and observations, so it cannot resume"
                    )
                agent.observe(action, observation_from_json(record["observation"]),
                              finite(record["reward"]), record["info"])
                best = max(best, finite(record["reward"]) if record["status"] == "ok" else 0.0)
                history.append(record)
                continue
            calls = tape.drain() if tape is not None else []
            key = evaluation_key(identity, action) if identity is not None else None
            served = cache.get(key) if cache is not None and key is not None else None
            if served is not None:
                observation, reward, info = served["observation"], served["reward"], \
                    served["info"]
            else:
                raw_observation, reward, _, _, raw_info = env.step(action)
                observation = observation_to_json(raw_observation)
                info = info_to_json(raw_info)
                if cache is not None and key is not None:
                    cache.put(key, {"observation": observation, "reward": finite(reward),
                                    "info": info})
            evaluated = time.perf_counter()
            info = positioned_info(info, iteration, unit.budget)
            reward = finite(reward)
            # the agent gets its own copy: nothing it does to it can change the record
            agent.observe(action, observation_from_json(observation), reward,
                          copy.deepcopy(info))
            observed = time.perf_counter()
            ok = info.get("status") == "ok"
            best = max(best, reward if ok else 0.0)
            record = eval_record(
                unit, iteration, action, observation, reward, info, best_so_far=best,
                llm_calls=calls, usage=usage_of(calls, price),
                timing={"started": began, "propose_s": proposed - clock,
                        "evaluate_s": evaluated - proposed, "observe_s": observed - evaluated},
                cached=served is not None, session=task.session, experiment=task.experiment,
            )
            emit(("eval", record))
            history.append(record)
    finally:
        close = getattr(env, "close", None)
        if callable(close):
            close()
        if cache is not None:
            cache.close()
    return unit_record(unit, history, session=task.session, experiment=task.experiment,
                       wall_s=time.perf_counter() - started, replayed=len(done))


def run_unit_task(task: UnitTask, emit: Callable[[Message], None]) -> None:
    """:func:`execute_unit` that never raises: the outcome is the last message emitted
    (``("unit", record)`` or ``("error", unit_id, text)``). Executors call this."""
    try:
        record = execute_unit(task, emit)
    except DriverGone:
        return
    except KeyboardInterrupt:
        raise
    except BaseException as error:  # a unit's failure is reported, the others go on
        text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        emit(("error", task.unit_id, f"{type(error).__name__}: {error}", text))
        return
    emit(("unit", record))


# ---------------------------------------------------------------------------------------------
# The driver
# ---------------------------------------------------------------------------------------------


@dataclass
class ExperimentSummary:
    """What one invocation of :func:`run_experiment` did."""

    name: str
    store: Path
    run_dir: Path
    session: str
    units_total: int = 0
    #: Units already finished before this invocation.
    units_skipped: int = 0
    units_finished: int = 0
    units_failed: int = 0
    #: Units resumed from recorded evaluations.
    units_resumed: int = 0
    evaluations_written: int = 0
    evaluations_cached: int = 0
    elapsed_s: float = 0.0
    errors: list[tuple[str, str]] = field(default_factory=list)
    executor: str = "serial"
    workers: int = 1

    @property
    def ok(self) -> bool:
        return self.units_failed == 0

    @property
    def evaluations_per_minute(self) -> float:
        return 60.0 * self.evaluations_written / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def describe(self) -> str:
        line = (f"{self.name}: {self.units_finished} unit(s) finished, "
                f"{self.units_skipped} already done, {self.units_failed} failed "
                f"({self.units_resumed} resumed); {self.evaluations_written} evaluations "
                f"({self.evaluations_cached} from the cache) in {self.elapsed_s:.1f} s with "
                f"{self.executor} x{self.workers}; results in {self.store}")
        return line


def _git_commit() -> str | None:
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True,
                             text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def _versions() -> dict[str, Any]:
    from importlib import metadata

    versions: dict[str, Any] = {"python": platform.python_version()}
    for package in ("mapper-gym", "gymnasium", "numpy", "opentuner", "openai", "ray", "wandb"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    try:
        import mapper_gym

        versions["mapper_gym"] = getattr(mapper_gym, "__version__", None)
    except ImportError:  # pragma: no cover - the runner needs the package
        pass
    versions["git_commit"] = _git_commit()
    return versions


def _options_dict(options: RunOptions) -> dict[str, Any]:
    return {
        "executor": options.executor, "workers": options.workers,
        "ray_address": options.ray_address, "runs_dir": str(options.runs_dir),
        "cache": options.cache, "wandb": options.wandb, "wandb_project": options.wandb_project,
        "wandb_entity": options.wandb_entity,
    }


class _Progress:
    def __init__(self, total: int, stream: TextIO | None) -> None:
        self.total = total
        self.count = 0
        self.stream = stream

    def line(self, text: str) -> None:
        if self.stream is not None:
            print(text, file=self.stream, flush=True)

    def unit(self, record: Mapping[str, Any]) -> None:
        self.count += 1
        self.line(
            f"[{self.count}/{self.total}] {record['agent']}/{record['app']}/s{record['seed']} "
            f"budget {record['budget']}: best {record['best_score']:.4f} "
            f"({record['failures']} failed, {record['cached_evaluations']} cached"
            + (f", {record['replayed']} replayed" if record.get("replayed") else "")
            + (f", {record['wall_s']:.1f} s)" if record.get("wall_s") is not None else ")")
        )


def run_experiment(
    config: ExperimentConfig,
    options: RunOptions | None = None,
    *,
    executor: Any | None = None,
    progress: TextIO | None = None,
    wandb_module: Any | None = None,
) -> ExperimentSummary:
    """Run (or resume) every unit of ``config`` into ``<runs_dir>/<name>/results.jsonl``.

    Finished units are skipped; units with some evaluations are replayed to where they
    stopped and run on. Each finished unit gets a ``unit`` record and, unless W&B is
    ``disabled``, a W&B run. A unit that raises gets a ``unit_error`` record and the others go
    on; run again to retry it.

    Args:
        config: the grid.
        options: how to execute (:class:`RunOptions`).
        executor: an executor object to use instead of the one ``options`` names.
        progress: where to print one line per unit (default: standard error when
            ``options.progress``).
        wandb_module: the ``wandb`` module to log with (tests pass a recorder).

    Raises:
        ConfigError: an agent or backend of the grid cannot run here (checked first).
        StoreLocked: another process is running this experiment.
    """
    from experiments.parallel import make_executor
    from experiments.wandb_log import WandbLogger

    options = options or RunOptions()
    stream = progress if progress is not None else (sys.stderr if options.progress else None)
    run_dir = options.run_dir(config.name)
    run_dir.mkdir(parents=True, exist_ok=True)
    store_path = run_dir / "results.jsonl"
    session = uuid.uuid4().hex[:12]
    started = time.perf_counter()
    summary = ExperimentSummary(name=config.name, store=store_path, run_dir=run_dir,
                                session=session)
    cache_path = options.cache_path()
    units = config.units()
    preflight(units)
    summary.units_total = len(units)
    by_id = {unit.unit_id: unit for unit in units}

    with ResultsStore(store_path) as store:
        if store.repaired_bytes:
            print(f"{store_path}: cut off a torn last record ({store.repaired_bytes} bytes) "
                  "left by an interrupted run; its evaluation is redone", file=sys.stderr)
        store.append({
            "type": "session", "session": session, "experiment": config.name,
            "config": config.to_dict(), "options": _options_dict(options),
            "units": len(units), "evaluations": config.evaluations(),
            "versions": _versions(), "host": platform.node(), "pid": os.getpid(),
            "argv": list(sys.argv), "written_at": time.time(),
        })
        (run_dir / "config.json").write_text(
            json.dumps({"experiment": config.to_dict(),
                                      "run": _options_dict(options)}, indent=2) + "\n")
        logger = WandbLogger(config, options, run_dir, wandb_module=wandb_module)
        tasks: list[UnitTask] = []
        for unit in units:
            if store.unit_finished(unit.unit_id):
                summary.units_skipped += 1
                continue
            done = store.evaluations(unit.unit_id)
            if len(done) >= unit.budget:  # killed between its last evaluation and closing
                evals = [done[i] for i in sorted(done)][: unit.budget]
                record = unit_record(unit, evals, session=session, experiment=config.name,
                                     replayed=len(evals))
                store.append(record)
                summary.units_finished += 1
                continue
            if done:
                summary.units_resumed += 1
            tasks.append(UnitTask(
                unit=unit.to_dict(), done=tuple(done[i] for i in sorted(done)),
                cache_path=str(cache_path) if cache_path is not None else None,
                session=session, experiment=config.name,
            ))
        # Longest units first: the pool's last minutes are not spent on one long unit.
        tasks.sort(key=lambda t: -(int(t.unit["budget"]) - len(t.done)))
        progress_lines = _Progress(len(tasks), stream)
        if executor is None:
            executor = make_executor(options, len(tasks))
        summary.executor = getattr(executor, "name", type(executor).__name__)
        summary.workers = int(getattr(executor, "workers", 1))
        if tasks:
            progress_lines.line(
                f"{config.name}: {len(tasks)} unit(s) to run "
                f"({summary.units_skipped} already finished, {summary.units_resumed} to resume)"
                f" with {summary.executor} x{summary.workers}"
            )

        def handle(message: Message) -> None:
            kind = message[0]
            if kind == "eval":
                record = message[1]
                if store.has(record["id"]):  # never write an evaluation twice
                    return
                store.append(record)
                summary.evaluations_written += 1
                summary.evaluations_cached += bool(record.get("cached"))
            elif kind == "unit":
                record = message[1]
                store.append(record)
                summary.units_finished += 1
                progress_lines.unit(record)
                unit = by_id.get(record["unit"])
                if unit is not None and logger.enabled:
                    _log_unit(store, logger, unit, record, session)
            elif kind == "error":
                _, unit_id, short, text = message
                store.append({"type": "unit_error", "unit": unit_id, "error": short,
                              "traceback": text, "session": session,
                              "experiment": config.name, "written_at": time.time()})
                summary.units_failed += 1
                summary.errors.append((unit_id, short))
                unit = by_id.get(unit_id)
                progress_lines.line(f"unit {unit.title if unit else unit_id} failed: {short}")

        try:
            if tasks:
                executor.run(tasks, handle)
        finally:
            summary.elapsed_s = time.perf_counter() - started
        if logger.enabled:  # units finished by an earlier, interrupted invocation
            missing = [u for u in units if store.unit_finished(u.unit_id)
                       and not store.wandb_logged(u.unit_id)]
            if missing:
                wanted = {u.unit_id for u in missing}
                closing = {r["unit"]: r for r in iter_records(store_path, "unit")
                           if r["unit"] in wanted}
                for unit in missing:
                    _log_unit(store, logger, unit, closing[unit.unit_id], session)
    progress_lines.line(summary.describe())
    return summary


def _log_unit(store: ResultsStore, logger: Any, unit: RunUnit, record: Mapping[str, Any],
              session: str) -> None:
    evals = store.evaluations(unit.unit_id)
    try:
        run_id = logger.log_unit(unit, record, [evals[i] for i in sorted(evals)])
    except Exception as error:  # logging must never lose results
        print(f"W&B logging of {unit.title} failed: {type(error).__name__}: {error}",
              file=sys.stderr)
        return
    store.append({"type": "wandb", "unit": unit.unit_id, "run_id": run_id,
                  "mode": logger.mode, "session": session, "written_at": time.time()})


def pending_units(store_path: str | Path, units: Sequence[RunUnit]) -> list[RunUnit]:
    """Units of ``units`` without a closing record in the store at ``store_path``."""
    from experiments.store import iter_records

    path = Path(store_path)
    if not path.exists():
        return list(units)
    finished = {r["unit"] for r in iter_records(path, "unit")}
    return [u for u in units if u.unit_id not in finished]
