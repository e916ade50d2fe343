"""The ``check`` and ``fmt`` subcommands: compiler-style output and exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest

from mapper_gym.cli import main
from mapper_gym.dsl import parse

EXAMPLE = Path(__file__).resolve().parents[1] / "mapper_gym" / "examples" / "stencil_gpu.dsl"


def write(tmp_path: Path, text: str | bytes) -> str:
    path = tmp_path / "mapper.dsl"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return str(path)


def test_check_accepts_the_shipped_example(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(EXAMPLE), "--app", "Stencil"]) == 0
    assert "ok" in capsys.readouterr().err


def test_check_reports_syntax_error_compiler_style(tmp_path, capsys) -> None:
    path = write(tmp_path, "def f(Task t):\n    return 1;\n")
    assert main(["check", path]) == 1
    err = capsys.readouterr().err
    assert f"{path}:1:14: error: Syntax error, unexpected :, expecting {{" in err
    assert "hint:" in err


def test_check_reports_every_checker_finding_sorted(tmp_path, capsys) -> None:
    path = write(tmp_path, "x = mgpu[0, 0];\nIndexTaskMap stencil g;\n")
    assert main(["check", path, "--app", "Stencil"]) == 1
    lines = [ln for ln in capsys.readouterr().err.splitlines() if ": error: " in ln]
    assert lines[0].startswith(f"{path}:1:5: error: mgpu not found")
    assert lines[1].startswith(f"{path}:2:1: error: IndexTaskMap's function undefined")


def test_check_warns_about_unknown_task_names(tmp_path, capsys) -> None:
    path = write(tmp_path, "Task no_such_task GPU;\n")
    assert main(["check", path, "--app", "Circuit"]) == 0
    assert "W-UNKNOWN-NAME" in capsys.readouterr().err


def test_check_reports_load_errors_against_the_machine(tmp_path, capsys) -> None:
    # p100-node has one node: indexing node 1 fails while the top level is loaded.
    path = write(tmp_path, "g = Machine(GPU);\nx = g[1, 0];\n")
    assert main(["check", path]) == 1
    err = capsys.readouterr().err
    assert "Sharding node index out of bound!" in err
    assert main(["check", path, "--machine", "lassen", "--nodes", "2"]) == 0


def test_check_prints_program_output(tmp_path, capsys) -> None:
    path = write(tmp_path, 'g = Machine(GPU);\nprint("{}", g.size);\n')
    assert main(["check", path]) == 0
    assert capsys.readouterr().out.strip() == "(1, 4)"


def test_check_handles_undecodable_bytes_and_missing_files(tmp_path, capsys) -> None:
    path = write(tmp_path, b"Task * GPU;\n\xff\xfe")
    assert main(["check", path]) == 1
    assert "Input is not valid UTF-8" in capsys.readouterr().err
    assert main(["check", str(tmp_path / "missing.dsl")]) == 2


def test_check_rejects_unknown_app_and_machine(tmp_path, capsys) -> None:
    path = write(tmp_path, "Task * GPU;\n")
    assert main(["check", path, "--app", "NoSuchApp"]) == 2
    assert main(["check", path, "--machine", "no-such-preset"]) == 2


def test_fmt_prints_the_canonical_form(tmp_path, capsys) -> None:
    path = write(tmp_path, "x=( a+b )*-(c)  ;  y = (p ? q : r) ? 1 : (2) ;")
    assert main(["fmt", path]) == 0
    assert capsys.readouterr().out == "x = (a + b) * -c;\ny = (p ? q : r) ? 1 : 2;\n"


def test_fmt_output_is_a_fixed_point(tmp_path, capsys) -> None:
    assert main(["fmt", str(EXAMPLE)]) == 0
    once = capsys.readouterr().out
    assert parse(once) == parse(EXAMPLE.read_text())
    assert main(["fmt", write(tmp_path, once)]) == 0
    assert capsys.readouterr().out == once


def test_fmt_fails_on_bad_programs(tmp_path, capsys) -> None:
    assert main(["fmt", write(tmp_path, "")]) == 1
    assert "Syntax error, unexpected end of file" in capsys.readouterr().err
