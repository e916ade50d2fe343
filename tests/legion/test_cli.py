"""``mapper-gym legion ...`` through ``add_legion_command`` (as the main CLI wires it)."""

from __future__ import annotations

import argparse
import json

from mapper_gym.legion.cli import add_legion_command, main


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="mapper-gym")
    sub = parser.add_subparsers(dest="command", required=True)
    add_legion_command(sub)
    return parser.parse_args(argv)


def test_commands_parse_with_handlers():
    for argv in (["legion", "install"], ["legion", "build", "--force"], ["legion", "info"],
                 ["legion", "run", "Stencil", "expert", "--set", "tsteps=2"]):
        assert callable(_parse(argv).handler)


def test_info_reports_runtime_builds_and_apps(native, capsys):
    assert main(["info"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["legate"]["version"] == "26.6.1"
    assert set(info["real_apps"]) == {"Stencil", "Circuit"}
    assert any(b["key"] == native.key for b in info["builds"])


def test_build_prints_the_cached_executable(native, capsys):
    assert main(["build"]) == 0
    assert capsys.readouterr().out.strip() == str(native.executable)


def test_run_prints_the_program_output_and_the_median(native, capsys):
    assert main(["run", "Stencil", "default", "--repeat", "2", "--set", "tsteps=2"]) == 0
    out = capsys.readouterr().out
    assert "check completed successfully" in out
    assert out.count("elapsed") == 3  # two runs and the median line
    assert "median elapsed over 2 runs" in out


def test_run_refuses_what_cannot_run(native, capsys):
    assert main(["run", "Pennant", "expert"]) == 2
    assert "no real Legion implementation" in capsys.readouterr().err
    assert main(["run", "Stencil", "expert", "--set", "tsteps"]) == 2
    assert main(["run", "Stencil", "/nonexistent/mapper.dsl"]) == 2


def test_a_failing_program_exits_1_with_the_error(native, tmp_path, capsys):
    program = tmp_path / "bad_layout.dsl"
    program.write_text("Task * CPU;\nLayout * * * AOS;\n")
    assert main(["run", "Stencil", str(program)]) == 1
    err = capsys.readouterr().err
    assert "Execution Error: Assertion failed: stride does not match expected value." in err
