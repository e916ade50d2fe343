"""``mapper-gym legion ...`` (also ``python -m mapper_gym.legion ...``): install, build, inspect
and run the real Legion backend from a shell.

* ``install``: ``pip install --no-deps legate==26.6.1 scipy-openblas32`` (the Legion runtime,
  legion.md, and the BLAS of the DISTAL applications).
* ``build [--force] [--jobs N]``: build the native code into the cache, with a progress display.
* ``info``: what is installed and built, and which applications run for real.
* ``run APP PROGRAM``: run a mapping program (a file, ``expert`` or ``default``) on the real
  application; ``--repeat N`` reports every run and the median, since timings on a shared host
  are noisy (legion.md).
* ``compare APP``: real times of the expert and default mappers (and ``--program NAME=FILE``
  ones) beside the simulator's times and both rankings (:mod:`mapper_gym.legion.compare`).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from typing import Any

__all__ = ["add_legion_command", "main"]


def _cmd_install(args: argparse.Namespace) -> int:
    from mapper_gym.legion.wheel import install

    return install(quiet=args.quiet)


def _cmd_build(args: argparse.Namespace) -> int:
    from mapper_gym.legion.build import BuildError, build
    from mapper_gym.legion.wheel import WheelUnavailable

    try:
        done = build(force=args.force, jobs=args.jobs, progress=sys.stderr)
    except WheelUnavailable as missing:
        print(f"error: {missing}", file=sys.stderr)
        return 2
    except BuildError as failed:
        print(f"error: {failed}", file=sys.stderr)
        return 1
    print(done.executable)
    return 0


def _cmd_info(args: argparse.Namespace) -> int:
    from mapper_gym.legion.apps import REAL_APPS
    from mapper_gym.legion.build import cache_root
    from mapper_gym.legion.wheel import WheelUnavailable, find_runtime

    info: dict[str, Any] = {"cache": str(cache_root() / "legion"),
                            "real_apps": {name: app.notes for name, app in REAL_APPS.items()}}
    try:
        runtime = find_runtime()
        info["legate"] = {"version": runtime.version, "path": str(runtime.package_dir)}
    except WheelUnavailable as missing:
        info["legate"] = {"unavailable": str(missing)}
    builds = []
    root = cache_root() / "legion"
    if root.is_dir():
        for marker in sorted(root.glob("*/build.json")):
            builds.append(json.loads(marker.read_text()))
    info["builds"] = builds
    print(json.dumps(info, indent=2))
    return 0


def _program_text(app: str, which: str, machine=None) -> str:
    from benchmarks import get_app

    if which == "expert":
        return get_app(app).expert_mapper(machine)
    if which == "default":
        return get_app(app).default_mapper(machine)
    with open(which, encoding="utf-8") as handle:
        return handle.read()


def _overrides(items: list[str] | None) -> dict[str, int] | None:
    """``--set NAME=INTEGER`` items as application parameters; None (reported) if malformed."""
    overrides = {}
    for item in items or ():
        name, _, value = item.partition("=")
        try:
            overrides[name] = int(value)
        except ValueError:
            print(f"error: --set expects NAME=INTEGER, got {item!r}", file=sys.stderr)
            return None
    return overrides


def _cmd_run(args: argparse.Namespace) -> int:
    from mapper_gym.backends.base import BackendUnavailable
    from mapper_gym.config import RunConfig
    from mapper_gym.legion.backend import LegionBackend
    from mapper_gym.legion.build import BuildError
    from mapper_gym.legion.problem import legion_problem

    overrides = _overrides(args.set)
    if overrides is None:
        return 2
    try:
        problem = legion_problem(args.app, args.machine, problem=args.problem, **overrides)
        text = _program_text(args.app, args.program, problem.machine)
        backend = LegionBackend(problem, cache=False, time_limit=args.time_limit,
                                progress=sys.stderr)
    except OSError as error:
        print(f"error: cannot read {args.program}: {error.strerror}", file=sys.stderr)
        return 2
    except (KeyError, ValueError, BackendUnavailable, BuildError) as error:
        print(f"error: {error.args[0] if error.args else error}", file=sys.stderr)
        return 2
    times = []
    for attempt in range(args.repeat):
        result = backend.run(text, RunConfig())
        if args.verbose or attempt == 0:
            sys.stdout.write(result.stdout)
        if args.log:
            sys.stderr.write(result.stderr)
        if not result.ok:
            print(result.raw_output(), file=sys.stderr)
            if result.error is not None and result.error.raw:
                print(result.error.raw, file=sys.stderr)
            return 1
        times.append(result.elapsed)
        print(f"run {attempt + 1}: elapsed {result.elapsed:.6f} s, throughput "
              f"{result.throughput:.6g} {result.unit}")
    if len(times) > 1:
        print(f"median elapsed over {len(times)} runs: {statistics.median(times):.6f} s")
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from benchmarks import get_app
    from mapper_gym.backends.base import BackendUnavailable
    from mapper_gym.legion.build import BuildError
    from mapper_gym.legion.compare import compare_mappers, format_comparison
    from mapper_gym.legion.problem import legion_problem

    overrides = _overrides(args.set)
    if overrides is None:
        return 2
    try:  # the expert and default programs of the build that runs on the machine
        machine = legion_problem(args.app, args.machine, problem=args.problem,
                                 **overrides).machine
        programs = {"expert": get_app(args.app).expert_mapper(machine),
                    "default": get_app(args.app).default_mapper(machine)}
    except (KeyError, ValueError) as error:
        print(f"error: {error.args[0] if error.args else error}", file=sys.stderr)
        return 2
    for item in args.program or ():
        name, _, path = item.partition("=")
        try:
            with open(path, encoding="utf-8") as handle:
                programs[name] = handle.read()
        except OSError as error:
            print(f"error: cannot read {path}: {error.strerror}", file=sys.stderr)
            return 2
    try:
        problem = legion_problem(args.app, args.machine, problem=args.problem, **overrides)
        rows = compare_mappers(problem, programs, repeat=args.repeat,
                               time_limit=args.time_limit)
    except (KeyError, ValueError, BackendUnavailable, BuildError) as error:
        print(f"error: {error.args[0] if error.args else error}", file=sys.stderr)
        return 2
    params = " ".join(f"{k}={v}" for k, v in problem.model.params.items())
    print(format_comparison(
        f"{problem.app_name} on {problem.machine.name} (problem {problem.preset}: {params}), "
        f"elapsed seconds, {args.repeat} real run(s) each", rows))
    return 0


def add_legion_command(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``legion`` (with install, build, info and run) to a CLI's subcommands.

    Every subcommand sets ``handler`` (a function of the parsed arguments returning an exit
    code), as the other ``mapper-gym`` commands do.
    """
    legion = subparsers.add_parser("legion", help="the real Legion backend: install, build, run")
    sub = legion.add_subparsers(dest="legion_command", required=True)

    install = sub.add_parser("install", help="install the Legion runtime (legate wheel, no deps)")
    install.add_argument("--quiet", action="store_true", help="less pip output")
    install.set_defaults(handler=_cmd_install)

    build = sub.add_parser("build", help="build the DSL mapper and the applications (cached)")
    build.add_argument("--force", action="store_true", help="rebuild even if cached")
    build.add_argument("--jobs", type=int, default=None, help="parallel compile jobs")
    build.set_defaults(handler=_cmd_build)

    info = sub.add_parser("info", help="show the runtime, the builds and the real applications")
    info.set_defaults(handler=_cmd_info)

    run = sub.add_parser("run", help="run a mapping program on a real application")
    run.add_argument("app", help="application with a real implementation (Stencil, Circuit)")
    run.add_argument("program", help="DSL file, or 'expert' / 'default' for the app's mappers")
    run.add_argument("--machine", default="local-cpu", help="machine preset (default local-cpu)")
    run.add_argument("--problem", default=None, help="problem preset (default: small here)")
    run.add_argument("--set", action="append", metavar="NAME=VALUE",
                     help="override an application parameter (repeatable)")
    run.add_argument("--repeat", type=int, default=1, help="runs to make (median reported)")
    run.add_argument("--time-limit", type=float, default=300.0, help="seconds per run")
    run.add_argument("--log", action="store_true", help="print the runtime's log (stderr)")
    run.add_argument("--verbose", action="store_true", help="print the output of every run")
    run.set_defaults(handler=_cmd_run)

    compare = sub.add_parser("compare", help="real times of the expert, default (and other) "
                             "mappers, and the simulator's ranking of them")
    compare.add_argument("app", help="application with a real implementation")
    compare.add_argument("--program", action="append", metavar="NAME=FILE",
                         help="another DSL program to compare (repeatable)")
    compare.add_argument("--machine", default="local-cpu", help="machine preset")
    compare.add_argument("--problem", default=None, help="problem preset (default: small here)")
    compare.add_argument("--set", action="append", metavar="NAME=VALUE",
                         help="override an application parameter (repeatable)")
    compare.add_argument("--repeat", type=int, default=5, help="real runs per program")
    compare.add_argument("--time-limit", type=float, default=300.0, help="seconds per run")
    compare.set_defaults(handler=_cmd_compare)
    return legion


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mapper_gym.legion",
                                     description="The real Legion backend of mapper-gym.")
    sub = parser.add_subparsers(dest="command", required=True)
    add_legion_command(sub)
    args = parser.parse_args(["legion", *(sys.argv[1:] if argv is None else argv)])
    return int(args.handler(args))
