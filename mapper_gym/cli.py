"""The ``mapper-gym`` command: a thin layer over the library.

Subcommands report problems the way compilers do (``file:line:col: error: message``) and exit
non-zero on error; they never print a Python traceback for bad input.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from mapper_gym.dsl.errors import Diagnostic, DSLError


def _read(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    return Path(path).read_bytes()


def _read_or_report(path: str) -> bytes | None:
    """The file's bytes, or None after reporting why it cannot be read."""
    try:
        return _read(path)
    except OSError as error:
        print(f"{path}: error: cannot read file: {error.strerror}", file=sys.stderr)
        return None


def _topology(machine: str, nodes: int | None):
    """The machine the program is checked and loaded against (a machine preset)."""
    from mapper_gym.machine import load_machine

    return load_machine(machine, nodes=nodes)


def _app_info(name: str | None):
    if name is None:
        return None
    from benchmarks import get_app

    return get_app(name).app_info()


def _print_diagnostics(diagnostics: Sequence[Diagnostic], filename: str) -> None:
    for diagnostic in diagnostics:
        print(diagnostic.render(filename), file=sys.stderr)


def cmd_check(args: argparse.Namespace) -> int:
    """Parse, check and load a program; print every finding."""
    from mapper_gym.dsl.interpreter import load
    from mapper_gym.dsl.pipeline import diagnose

    text = _read_or_report(args.file)
    if text is None:
        return 2
    try:
        topology = _topology(args.machine, args.nodes)
        app = _app_info(args.app)
    except (KeyError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    program, findings = diagnose(text, app, topology)
    _print_diagnostics(findings, args.file)
    errors = [d for d in findings if d.is_error]
    if program is None or errors:
        print(f"{len(errors)} error(s), {len(findings) - len(errors)} warning(s)", file=sys.stderr)
        return 1
    try:
        loaded = load(program, topology)
    except DSLError as error:
        _print_diagnostics([error.diagnostic], args.file)
        return 1
    for line in loaded.output:
        print(line)
    warnings = len(findings)
    print(
        f"{args.file}: ok ({len(program.statements)} statements, {warnings} warning(s))",
        file=sys.stderr,
    )
    return 0


def cmd_fmt(args: argparse.Namespace) -> int:
    """Print the canonical form of a program (dsl.md §12)."""
    from mapper_gym.dsl.parser import parse
    from mapper_gym.dsl.printer import format_program

    text = _read_or_report(args.file)
    if text is None:
        return 2
    try:
        program = parse(text)
    except DSLError as error:
        _print_diagnostics([error.diagnostic], args.file)
        return 1
    sys.stdout.write(format_program(program))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """Run a mapping program on an application with the simulator.

    Prints what the real program would print, then the throughput and the score normalized to
    the expert mapper. Errors are printed compiler-style; a failed run exits 1.
    """
    from benchmarks import get_app
    from mapper_gym.backends import build_problem, make_backend
    from mapper_gym.config import RunConfig

    text = _read_or_report(args.file)
    if text is None:
        return 2
    try:
        problem = build_problem(
            args.app, args.machine, nodes=args.nodes, problem=args.problem
        )
        backend = make_backend("sim", problem)
    except (KeyError, ValueError) as error:
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        print(f"error: {message}", file=sys.stderr)
        return 2
    config = RunConfig()
    result = backend.run(text, config)
    _print_diagnostics(result.warnings, args.file)
    if result.stdout:
        sys.stdout.write(result.stdout if result.stdout.endswith("\n") else result.stdout + "\n")
    sys.stdout.flush()  # keep the program's lines before the error when both share a pipe
    if not result.ok:
        if result.error is not None:
            _print_diagnostics([result.error], args.file)
        else:
            print(f"{args.file}: error: {result.raw_output()}", file=sys.stderr)
        print(f"{args.file}: {result.status.replace('_', ' ')}", file=sys.stderr)
        return 1
    print(f"throughput: {result.throughput:.6g} {result.unit}")
    expert = backend.run(get_app(problem.app_name).expert_mapper(problem.machine), config)
    where = f"{problem.machine.name}, {problem.machine.nodes} node(s), problem {problem.preset}"
    if expert.ok and expert.throughput > 0:
        print(
            f"normalized: {result.throughput / expert.throughput:.4f} "
            f"(expert mapper: {expert.throughput:.6g} {expert.unit} on {where})"
        )
    else:
        print(f"normalized: n/a (the expert mapper failed on {where}: {expert.raw_output()})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mapper-gym", description="Mapping-DSL tools and mapper environments for Legion."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    check = sub.add_parser("check", help="check a mapping program, compiler style")
    check.add_argument("file", help="DSL program file, or - for standard input")
    check.add_argument("--app", help="application whose task and region names to check against")
    check.add_argument("--machine", default="p100-node", help="machine preset (default p100-node)")
    check.add_argument("--nodes", type=int, default=None, help="override the number of nodes")
    check.set_defaults(handler=cmd_check)

    fmt = sub.add_parser("fmt", help="print the canonical form of a mapping program")
    fmt.add_argument("file", help="DSL program file, or - for standard input")
    fmt.set_defaults(handler=cmd_fmt)

    run = sub.add_parser(
        "run", help="run a mapping program on an application (simulator) and score it"
    )
    run.add_argument("app", help="application (Circuit, Stencil, Pennant, Cannon, SUMMA, "
                     "PUMMA, Johnson, Solomonik, COSMA)")
    run.add_argument("file", help="DSL program file, or - for standard input")
    run.add_argument("--machine", default="p100-node", help="machine preset (default p100-node)")
    run.add_argument("--nodes", type=int, default=None, help="override the number of nodes")
    run.add_argument("--problem", default=None,
                     help="problem preset (A, B, small; default: the research group's size "
                     "for the machine)")
    run.set_defaults(handler=cmd_run)

    # Commands whose implementation lives with their feature; imported here, not at module
    # import time of the features themselves, so each stays usable as a library.
    from experiments.cli import add_compare_command, add_report_command, add_validate_command
    from mapper_gym.legion.cli import add_legion_command
    from mapper_gym.tuning import add_tune_command

    add_tune_command(sub)
    add_compare_command(sub)
    add_report_command(sub)
    add_validate_command(sub)
    add_legion_command(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    raise SystemExit(main())
