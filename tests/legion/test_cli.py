"""``mapper-gym legion ...`` through ``add_legion_command`` (as the main CLI wires it)."""

from __future__ import annotations

import argparse
import json

from mapper_gym.legion.apps import REAL_APPS
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
    assert set(info["real_apps"]) == set(REAL_APPS) >= {"Stencil", "Circuit", "Cannon"}
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


def test_run_refuses_what_cannot_run(native, capsys, monkeypatch):
    from .test_backend import without_real_program

    assert main(["run", without_real_program(monkeypatch), "expert"]) == 2
    assert "no real Legion implementation" in capsys.readouterr().err
    assert main(["run", "Stencil", "expert", "--set", "tsteps"]) == 2
    assert main(["run", "Stencil", "/nonexistent/mapper.dsl"]) == 2


def test_a_failing_program_exits_1_with_the_error(native, tmp_path, capsys):
    program = tmp_path / "bad_layout.dsl"
    program.write_text("Task * CPU;\nLayout * * * AOS;\n")
    assert main(["run", "Stencil", str(program)]) == 1
    err = capsys.readouterr().err
    assert "Execution Error: Assertion failed: stride does not match expected value." in err


def test_compare_reports_real_and_simulated_rankings(native, tmp_path, capsys):
    slow = tmp_path / "one_cpu.dsl"
    slow.write_text("Task * CPU;\ncpus = Machine(CPU);\n"
                    "def first(Task t) { return cpus[0, 0]; }\nIndexTaskMap CPU first;\n")
    broken = tmp_path / "broken.dsl"
    broken.write_text("Task * CPU;\nLayout * * * AOS;\n")
    assert main(["compare", "Stencil", "--repeat", "1", "--program", f"one_cpu={slow}",
                 "--program", f"broken={broken}"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].startswith("Stencil on local-cpu (problem small:")
    rows = {line.split()[0]: line for line in lines[2:] if line and not line.startswith(" ")}
    assert set(rows) == {"expert", "default", "one_cpu", "broken"}
    assert "failed" in rows["broken"]
    assert "stride does not match expected value" in out


def test_compare_ranks():
    from mapper_gym.legion.compare import Comparison, format_comparison

    rows = [Comparison("a", (2.0, 3.0), None, 1.0, None), Comparison("b", (1.0,), None, 1.0, None),
            Comparison("c", (), "Execution Error: x", None, "Execution Error: x")]
    table = format_comparison("t", rows).splitlines()
    assert table[2].endswith("2/1") and table[3].endswith("1/1") and table[4].endswith("-/-")
