"""``mapper-gym run``: the program's output, throughput and score; compiler-style errors."""

from __future__ import annotations

import re

import pytest

from benchmarks import get_app
from mapper_gym.cli import main


@pytest.fixture
def program(tmp_path):
    def write(text: str | bytes, name: str = "mapper.dsl") -> str:
        path = tmp_path / name
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text)
        return str(path)

    return write


def test_run_expert_prints_output_throughput_and_score(program, capsys):
    path = program(get_app("Stencil").expert_mapper())
    assert main(["run", "Stencil", path, "--problem", "small"]) == 0
    out = capsys.readouterr().out.splitlines()
    throughput = [line for line in out if line.startswith("throughput: ")]
    normalized = [line for line in out if line.startswith("normalized: ")]
    assert len(throughput) == 1 and throughput[0].endswith("points*steps/s")
    assert len(normalized) == 1 and normalized[0].startswith("normalized: 1.0000 (expert mapper:")
    assert "p100-node" in normalized[0] and "problem small" in normalized[0]
    # the program's own lines come first
    assert out.index(throughput[0]) > 0


def test_run_default_mapper_scores_against_the_expert(program, capsys):
    path = program(get_app("Circuit").default_mapper())
    assert main(["run", "circuit", path, "--problem", "small"]) == 0
    out = capsys.readouterr().out
    match = re.search(r"normalized: (\d+\.\d+)", out)
    assert match and float(match.group(1)) > 0


def test_run_reports_syntax_errors_compiler_style(program, capsys):
    path = program("Task * GPU;\ndef f(Task t):\n    return t;\n")
    assert main(["run", "Stencil", path, "--problem", "small"]) == 1
    captured = capsys.readouterr()
    assert f"{path}:2:14: error: Syntax error, unexpected :, expecting {{ [E-SYNTAX]" in (
        captured.err)
    assert "compile error" in captured.err
    assert "throughput" not in captured.out


def test_run_reports_runtime_errors(program, capsys):
    path = program(
        "gpus = Machine(GPU);\ndef f(Task t) { return gpus[0, 9]; }\nIndexTaskMap stencil f;\n"
    )
    assert main(["run", "Stencil", path, "--problem", "small"]) == 1
    err = capsys.readouterr().err
    assert "Slice processor index out of bound!" in err
    assert "runtime error" in err


def test_run_usage_errors(program, capsys, tmp_path):
    path = program("Task * GPU;")
    assert main(["run", "NoSuchApp", path]) == 2
    assert "unknown application" in capsys.readouterr().err
    assert main(["run", "Stencil", str(tmp_path / "missing.dsl")]) == 2
    assert "cannot read file" in capsys.readouterr().err
    assert main(["run", "Stencil", path, "--nodes", "2"]) == 2  # p100-node has one node
    assert "error:" in capsys.readouterr().err
    assert main(["run", "Stencil", path, "--problem", "Q"]) == 2


def test_run_reads_bytes_that_are_not_utf8(program, capsys):
    path = program(b"Task * GPU;\n\xff\n")
    assert main(["run", "Stencil", path, "--problem", "small"]) == 1
    assert "Input is not valid UTF-8" in capsys.readouterr().err


def test_check_and_fmt_are_still_there(program, capsys):
    path = program("Task  *   GPU;")
    assert main(["fmt", path]) == 0
    assert capsys.readouterr().out == "Task * GPU;\n"
    assert main(["check", path]) == 0
