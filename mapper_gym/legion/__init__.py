"""The real backend: the DSL mapper and the applications running on a real Legion runtime.

Quick tour::

    from mapper_gym.legion import LegionBackend, legion_problem

    problem = legion_problem("Stencil")            # local-cpu machine, problem "small"
    backend = LegionBackend(problem)               # builds the native code once (cached)
    result = backend.run(open("mapper.dsl").read())
    print(result.raw_output(), result.elapsed)

Pieces (one job each): :mod:`.wheel` finds or installs the Legion runtime (the ``legate``
wheel, ``--no-deps``), :mod:`.build` compiles the stand-in CUDA driver, the C++ DSL mapper and
the applications into a cache folder, :mod:`.lower` writes a MappingPlan in the mapper's file
format, :mod:`.process` runs a program under limits, :mod:`.output` reads its timing, the
mapper's logged decisions and its failures, :mod:`.backend` puts them together. Importing this
package is cheap and works where the wheel is missing; only building or running needs it.
"""

from __future__ import annotations

from mapper_gym.legion.apps import REAL_APPS, RealApp, real_app
from mapper_gym.legion.backend import DEFAULT_TIME_LIMIT, LegionBackend, runtime_flags
from mapper_gym.legion.build import BuildError, LegionBuild, build, cache_root
from mapper_gym.legion.cli import add_legion_command
from mapper_gym.legion.lower import launch_groups, lower_plan
from mapper_gym.legion.output import LoggedInstance, LoggedMapping, parse_mappings, parse_timing
from mapper_gym.legion.problem import LOCAL_MACHINE, legion_problem
from mapper_gym.legion.wheel import (
    LEGATE_REQUIREMENT,
    WheelUnavailable,
    find_runtime,
    install,
    platform_problem,
)

__all__ = [
    "DEFAULT_TIME_LIMIT",
    "LEGATE_REQUIREMENT",
    "LOCAL_MACHINE",
    "REAL_APPS",
    "BuildError",
    "LegionBackend",
    "LegionBuild",
    "LoggedInstance",
    "LoggedMapping",
    "RealApp",
    "WheelUnavailable",
    "add_legion_command",
    "build",
    "cache_root",
    "find_runtime",
    "install",
    "launch_groups",
    "legion_problem",
    "lower_plan",
    "parse_mappings",
    "parse_timing",
    "platform_problem",
    "real_app",
    "runtime_flags",
]
