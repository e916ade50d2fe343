"""``LegionBackend``: run a mapping program on the real application under real Legion.

One run follows the same straight path as the simulator up to the plan, then leaves Python::

    text ─parse─▶ Program ─check, load─▶ Compiled ─resolve─▶ MappingPlan ─lower─▶ plan file
         ─▶ mapper-gym-legion <app> -mapgym:plan FILE (subprocess, limits) ─▶ RunResult

Every failure becomes a result, never an exception in the caller: DSL errors exactly as in the
simulator backend; a crash, an assertion, a hang past the time limit, a memory overrun or a
missing output line of the real program is a failed observation carrying the real log
(:func:`mapper_gym.legion.output.diagnose`).

What runs here: the machine must be one this host can instantiate with Realm flags alone (one
node, CPU processors, system memory: the ``local-cpu`` preset). The run's Legion flags come from
that machine's ``[legion]`` block, so the processors and memories the plan names are exactly
the ones Legion creates.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from collections.abc import Hashable, Sequence
from pathlib import Path

from mapper_gym.appmodel import Timing
from mapper_gym.backends.base import BackendUnavailable
from mapper_gym.backends.cache import EvaluationCache
from mapper_gym.backends.planned import PlanBackend, select_cache, unique_diagnostics
from mapper_gym.backends.problem import Problem
from mapper_gym.config import RunConfig
from mapper_gym.dsl.errors import Diagnostic
from mapper_gym.legion.apps import RealApp, real_app
from mapper_gym.legion.build import BuildError, LegionBuild, build
from mapper_gym.legion.lower import lower_plan
from mapper_gym.legion.output import busy_times, diagnose, parse_timing
from mapper_gym.legion.process import run_limited
from mapper_gym.legion.wheel import WheelUnavailable
from mapper_gym.machine import Machine
from mapper_gym.plan import MappingPlan
from mapper_gym.result import RunResult, RunStats, failed_result

__all__ = ["DEFAULT_TIME_LIMIT", "LegionBackend", "runtime_flags", "utility_processors"]

#: Wall-clock seconds one run may take unless the caller says otherwise.
DEFAULT_TIME_LIMIT = 300.0
#: Resident memory allowed beyond the machine's system memory (Legion's own data, threads).
MEMORY_HEADROOM = 2 * 2**30
#: Processor kinds a CPU-only host cannot create with Realm flags alone.
_UNAVAILABLE_KINDS = ("GPU", "OMP", "IO", "PY", "PROC")


def runtime_flags(machine: Machine) -> list[str]:
    """The Legion/Realm flags that create exactly ``machine``'s processors and memories here.

    Raises:
        BackendUnavailable: the machine needs hardware or runtime features this host's Legion
            build does not have (GPUs, OpenMP, several nodes, NUMA memories).
    """
    problems = []
    if machine.nodes != 1:
        problems.append(f"{machine.nodes} nodes (the wheel's Legion has no network layer)")
    for kind in _UNAVAILABLE_KINDS:
        if machine.processors_per_node(kind):
            problems.append(f"{kind} processors")
    settings = machine.legion
    if settings.nsize:
        problems.append("socket memories (-ll:nsize; the wheel's Realm has no NUMA support)")
    if problems:
        raise BackendUnavailable(
            f"machine {machine.name} cannot run on this host's Legion: it has "
            + ", ".join(problems) + "; use the local-cpu machine for backend='legion'")
    flags = ["-ll:cpu", str(settings.cpu), "-ll:util", str(utility_processors(settings.cpu,
                                                                            settings.util)),
             "-ll:bgwork", str(settings.bgwork), "-ll:csize", str(settings.csize),
             "-ll:gpu", "0"]
    if settings.rsize:
        flags += ["-ll:rsize", str(settings.rsize)]
    # Realm logs to stdout by default: keep stdout for the program's own lines. CPU-only runs
    # report the missing GPU at error level; keep the log level for real problems.
    return [*flags, "-logfile", "stderr", "-level", "gpu=5,threads=5"]


def utility_processors(cpus: int, wanted: int, host_cores: int | None = None) -> int:
    """Utility processors for a real run: the machine's count when the host has a core for
    each of them besides the CPU processors, else 0.

    Measured on the 2-core development host with ``-ll:cpu 2 -ll:util 1``: Realm cannot give
    the utility thread a core of its own, and the runtime analysis it runs is then starved for
    0.2-0.4 s at a random point of every run, which swamps the measured window of the small
    problems. With ``-ll:util 0`` the CPU processors run the runtime's meta-work themselves and
    the stalls disappear. Utility processors are invisible to mapping programs.
    """
    cores = host_cores if host_cores is not None else (os.cpu_count() or 1)
    return wanted if cpus + wanted <= cores else 0


class LegionBackend(PlanBackend):
    """Evaluates mapping programs on one problem by running the real Legion program.

    Args:
        problem: the application and the machine to run on (see :func:`runtime_flags`).
        cache: ``True`` for the process-wide evaluation cache, ``False`` for none, or a cache.
        time_limit: wall-clock seconds per run.
        memory_limit: resident bytes per run (default: the machine's system memory plus 2 GiB).
        native: an existing build (default: build on first use, cached across processes).
        progress: where the first build shows its progress (see :func:`build`).
        log_decisions: have the mapper log its decisions (needed by conformance checks).
        extra_flags: more command-line flags for the program (e.g. Legion profiling).

    Raises:
        BackendUnavailable: the application has no real implementation, the machine cannot
            be run here, or the Legion runtime (the legate wheel) is not installed.
        BuildError: the native build failed.
    """

    name = "legion"

    def __init__(
        self,
        problem: Problem,
        *,
        cache: EvaluationCache | bool = True,
        time_limit: float = DEFAULT_TIME_LIMIT,
        memory_limit: int | None = None,
        native: LegionBuild | None = None,
        progress: object = True,
        log_decisions: bool = True,
        extra_flags: Sequence[str] = (),
    ) -> None:
        app = real_app(problem.app_name)
        if app is None:
            from mapper_gym.legion.apps import REAL_APPS

            raise BackendUnavailable(
                f"{problem.app_name} has no real Legion implementation yet (implemented: "
                f"{', '.join(REAL_APPS)}); use backend='sim'")
        self.problem = problem
        self.app: RealApp = app
        self.flags = runtime_flags(problem.machine)
        self.time_limit = float(time_limit)
        self.memory_limit = (memory_limit if memory_limit is not None
                             else problem.machine.legion.csize * 2**20 + MEMORY_HEADROOM)
        self.log_decisions = log_decisions
        self.extra_flags = tuple(extra_flags)
        if native is None:
            try:
                native = build(progress=progress)  # type: ignore[arg-type]
            except WheelUnavailable as missing:
                raise BackendUnavailable(str(missing)) from None
        self.native = native
        self.cache: EvaluationCache | None = select_cache(cache)

    def __repr__(self) -> str:
        p = self.problem
        return f"LegionBackend({p.app_name}, problem {p.preset}, {p.machine.describe()})"

    def cache_key(self, program_text: str | bytes, config: RunConfig) -> Hashable:
        """Exact program text, as the simulator's (positions in diagnostics depend on it)."""
        return (self.name, self.native.key, *self.problem.key, config.key(),
                self.time_limit, self.extra_flags, program_text)

    def command(self, plan_file: Path, config: RunConfig) -> list[str]:
        """The program's command line for one run."""
        # Physical memoization of traced loops as the research group ran the application.
        memoize = "-dm:memoize" in self.problem.model.legion_flags
        args = [str(self.native.executable), self.app.program, "-mapgym:plan", str(plan_file),
                "-mapgym:log", "1" if self.log_decisions else "0",
                "-mapgym:memoize", "1" if memoize else "0",
                *self.app.arguments(self.problem.model.params)]
        if not config.layout_checks:
            args += ["-layout_checks", "0"]
        return [*args, *self.flags, *self.extra_flags]

    # -- running ------------------------------------------------------------------------------

    def execute(self, plan: MappingPlan, config: RunConfig | None = None,
                warnings: Sequence[Diagnostic] = ()) -> RunResult:
        """Run the real program under an already resolved ``plan`` (the rest of a run is
        :meth:`PlanBackend.run`)."""
        config = RunConfig() if config is None else config
        extra_warnings = []
        if plan.replicated:
            extra_warnings.append(Diagnostic(
                kind="execute", code="W-LEGION-NO-REPLICATION", severity="warning",
                message="the real Legion backend does not control-replicate "
                        f"{', '.join(sorted(plan.replicated))}: one shard runs it, and every "
                        "point still runs on the processor the replicated placement gives it",
            ))
        warn = unique_diagnostics((*warnings, *extra_warnings))
        with tempfile.TemporaryDirectory(prefix="mapper-gym-legion-") as tmp:
            plan_file = Path(tmp) / "mapping.plan"
            plan_file.write_text(lower_plan(plan))
            command = self.command(plan_file, config)
            outcome = run_limited(command, time_limit=self.time_limit,
                                  memory_limit=self.memory_limit,
                                  address_space=self.memory_limit + 8 * 2**30, cwd=tmp)
        extra = {
            "wall_seconds": outcome.wall_seconds,
            "peak_rss_bytes": outcome.peak_rss_bytes,
            "returncode": outcome.returncode,
            "command": " ".join(command[1:]),
            "build": self.native.key,
        }
        failure = diagnose(outcome, time_limit=self.time_limit, memory_limit=self.memory_limit,
                           plan=plan)
        if failure is not None:
            status, error = failure
            result = failed_result(error, backend=self.name, unit=self.problem.unit,
                                   stdout=outcome.stdout, stderr=outcome.stderr,
                                   warnings=warn, status=status)  # type: ignore[arg-type]
            return dataclasses.replace(result, stats=RunStats(extra=extra),
                                       plan_summary=plan.summary())
        elapsed, init = parse_timing(outcome.stdout, outcome.stderr)
        assert elapsed is not None  # diagnose() made sure
        timing = Timing(elapsed=elapsed, init_time=init or 0.0)
        extra["init_time"] = timing.init_time
        inner = [t.name for t in self.problem.model.tasks if t.inner]
        per_proc, per_task = busy_times(outcome.stderr, skip=inner)
        machine = self.problem.machine
        processors = {p.uid: per_proc.get(f"n{p.node}.{p.kind}{p.index}", 0.0)
                      for p in machine.processors_of("CPU")}
        capacity = {m.uid: float(m.capacity) for node in range(machine.nodes)
                    for m in machine.memories_on(node)}
        return RunResult(
            status="ok",
            throughput=self.problem.model.throughput(timing),
            unit=self.problem.unit,
            elapsed=elapsed,
            stdout=outcome.stdout,
            stderr=outcome.stderr,
            backend=self.name,
            warnings=warn,
            stats=RunStats(processor_busy=processors, task_time=per_task,
                           memory_capacity=capacity, extra=extra),
            plan_summary=plan.summary(),
        )


__all__ += ["BuildError"]
