"""The tuning loop and `mapper-gym tune` on the real environments (simulator)."""

from __future__ import annotations

import argparse
import json

import pytest

from benchmarks import get_app
from mapper_gym.tuning import (
    AGENT_NAMES,
    TuneStep,
    add_tune_command,
    make_agent,
    make_env,
    tune,
)


def test_history_and_best():
    steps: list[TuneStep] = []
    result = tune("Stencil", "random", iters=6, seed=0, progress=False, callback=steps.append,
                  env_kwargs={"feedback": "raw"})
    assert result.history == steps
    assert [s.iteration for s in steps] == list(range(1, 7))
    rewards = [s.reward for s in steps]
    assert result.best_score == max(rewards)
    assert [s.best_reward for s in steps] == [max(rewards[: i + 1]) for i in range(6)]
    assert result.failure_rate == sum(s.status != "ok" for s in steps) / 6
    assert result.best_after(1) == rewards[0]
    if result.best_program is not None:
        best = steps[result.best_iteration - 1]
        assert best.action == result.best_program and best.reward == result.best_score
    assert json.loads(json.dumps(result.to_dict()))["iters"] == 6
    assert "action" not in result.to_dict()["history"][0]


def test_seeded_runs_repeat():
    a = tune("Cannon", "random", iters=4, seed=3, progress=False)
    b = tune("Cannon", "random", iters=4, seed=3, progress=False)
    assert [s.action for s in a.history] == [s.action for s in b.history]
    assert [s.reward for s in a.history] == [s.reward for s in b.history]


def test_expert_scores_one():
    result = tune("Circuit", "expert", iters=2, seed=0, progress=False)
    assert result.best_score == pytest.approx(1.0)
    assert result.best_program == get_app("Circuit").expert_mapper()
    assert result.failure_rate == 0.0 and result.best_iteration == 1


def test_budget_smaller_than_iterations_starts_new_episodes():
    env = make_env("Stencil", budget=3, feedback="raw")
    agent = make_agent("random", seed=1)
    result = tune(env, agent, iters=7, seed=1, progress=False)
    assert len(result.history) == 7 and len(agent.history) == 7
    assert len({s.action for s in result.history}) == 7  # the agent was never reset
    env.close()


def test_progress_bar_shows_the_best_score(capsys):
    tune("Stencil", "expert", iters=2, seed=0, progress=True)
    err = capsys.readouterr().err
    assert "best=1.000" in err and "2/2" in err


def test_bad_arguments():
    with pytest.raises(ValueError):
        tune("Stencil", "random", iters=0)
    with pytest.raises(ValueError, match="unknown agent"):
        make_agent("simulated-annealing")
    with pytest.raises(KeyError):
        make_env("Quicksort")
    assert set(AGENT_NAMES) == {"llm", "opentuner", "random", "expert", "default", "coordinate"}


@pytest.mark.parametrize("name", [n for n in AGENT_NAMES if n != "llm"])
def test_every_named_agent_can_be_made(name):
    agent = make_agent(name, seed=0)
    assert callable(agent.propose) and agent.name == name


def _run_cli(argv):
    parser = argparse.ArgumentParser(prog="mapper-gym")
    add_tune_command(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.handler(args)


def test_cli_prints_the_best_mapper(capsys, tmp_path):
    history = tmp_path / "run.json"
    code = _run_cli(["tune", "Stencil", "--agent", "expert", "--iters", "2", "--no-progress",
                     "--history", str(history)])
    out, err = capsys.readouterr()
    assert code == 0
    assert out == get_app("Stencil").expert_mapper()
    assert "best normalized throughput 1.0000" in err
    data = json.loads(history.read_text())
    assert data["best_score"] == pytest.approx(1.0) and len(data["history"]) == 2
    assert data["history"][0]["action"] == out


def test_cli_search_agent(capsys):
    code = _run_cli(["tune", "Circuit", "--agent", "coordinate", "--iters", "3", "--seed", "2",
                     "--no-progress", "--feedback", "raw"])
    out, err = capsys.readouterr()
    assert code in (0, 1)
    assert "3 evaluations" in err
    if code == 0:
        assert out.startswith("# task\nTask ")


def test_cli_errors(capsys):
    assert _run_cli(["tune", "Quicksort", "--no-progress"]) == 2
    assert "unknown application" in capsys.readouterr().err
    assert _run_cli(["tune", "Stencil", "--iters", "0"]) == 2
    with pytest.raises(SystemExit):
        _run_cli(["tune", "Stencil", "--agent", "hill-climbing"])
