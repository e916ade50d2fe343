"""Grids, agent specs, unit identities and configuration files."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from experiments.config import (
    APPS,
    AgentSpec,
    ConfigError,
    ExperimentConfig,
    RunOptions,
    RunUnit,
    load_config,
    parse_agent,
    parse_apps,
    parse_ints,
)
from tests.experiments.helpers import REPO_ROOT


def test_integer_lists_and_ranges():
    assert parse_ints("0-4", "seeds") == (0, 1, 2, 3, 4)
    assert parse_ints("0,2,5-7", "seeds") == (0, 2, 5, 6, 7)
    assert parse_ints([10, "1000"], "budgets") == (10, 1000)
    assert parse_ints(3, "seeds") == (3,)
    assert parse_ints("1,1,2", "seeds") == (1, 2)
    for bad in ("4-2", "x", "", [True], "1.5"):
        with pytest.raises(ConfigError):
            parse_ints(bad, "seeds")


def test_application_names():
    assert parse_apps("all") == APPS
    assert parse_apps("cosma,circuit") == ("COSMA", "Circuit")
    with pytest.raises(ConfigError, match="unknown application"):
        parse_apps("Laplace")


def test_agent_specs_from_the_command_line():
    assert parse_agent("random") == AgentSpec("random")
    spec = parse_agent("llm:model=gpt-4o-mini:temperature=0.2:history_window=3@mini")
    assert spec.name == "llm" and spec.label == "mini"
    assert spec.options == {"model": "gpt-4o-mini", "temperature": 0.2, "history_window": 3}
    custom = parse_agent("mypkg.agents:Greedy:depth=3")
    assert custom.name == "mypkg.agents:Greedy" and custom.options == {"depth": 3}
    assert AgentSpec("coordinate", {"align": True}).label == "coordinate[align=true]"
    with pytest.raises(ConfigError, match="unknown agent"):
        parse_agent("simulated-annealing")
    with pytest.raises(ConfigError, match="key=value"):
        parse_agent("llm:model")


def test_the_grid_has_one_unit_per_cell_and_agent_overrides():
    config = ExperimentConfig(
        name="grid", apps=("Circuit", "Stencil"), seeds=(0, 1, 2), budgets=(10,),
        feedback=("raw", "suggest"),
        agents=(AgentSpec("random"), AgentSpec("opentuner", budgets=(10, 1000)),
                AgentSpec("expert", budgets=(1,), seeds=(0,))))
    units = config.units()
    assert len(units) == (2 * 3 * 2) + (2 * 2 * 3 * 2) + (2 * 1 * 2)
    assert len({u.unit_id for u in units}) == len(units)
    assert config.evaluations() == 12 * 10 + 12 * 10 + 12 * 1000 + 4 * 1
    assert {u.budget for u in units if u.agent.name == "opentuner"} == {10, 1000}
    assert {u.seed for u in units if u.agent.name == "expert"} == {0}


def test_unit_ids_depend_on_what_determines_results_only():
    base = RunUnit(AgentSpec("random"), "Circuit", 0, 10)
    assert RunUnit(AgentSpec("random", label="rs"), "Circuit", 0, 10).unit_id == base.unit_id
    for changed in (RunUnit(AgentSpec("random"), "Circuit", 1, 10),
                    RunUnit(AgentSpec("random"), "Circuit", 0, 11),
                    RunUnit(AgentSpec("random"), "Stencil", 0, 10),
                    RunUnit(AgentSpec("random", {"align": True}), "Circuit", 0, 10),
                    RunUnit(AgentSpec("random"), "Circuit", 0, 10, feedback="raw"),
                    RunUnit(AgentSpec("random"), "Circuit", 0, 10, machine="lassen")):
        assert changed.unit_id != base.unit_id
    assert base.eval_id(3) == f"{base.unit_id}-0000003"


def test_unit_ids_are_stable_across_processes():
    code = ("from experiments.config import AgentSpec, RunUnit; "
            "print(RunUnit(AgentSpec('opentuner'), 'COSMA', 4, 1000).unit_id)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=REPO_ROOT, check=True, env={"PYTHONHASHSEED": "123",
                                                         "PATH": "/usr/bin:/bin"})
    assert out.stdout.strip() == RunUnit(AgentSpec("opentuner"), "COSMA", 4, 1000).unit_id


def test_a_toml_file_with_run_options(tmp_path):
    path = tmp_path / "exp.toml"
    path.write_text("""
name = "paper"
apps = "all"
seeds = "0-4"
budget = 10
feedback = ["suggest", "raw"]

[[agents]]
name = "opentuner"
budgets = [10, 1000]

[[agents]]
name = "llm"
label = "llm-gpt-4o"
options = { model = "gpt-4o-2024-08-06", history_window = 4 }

[run]
executor = "ray"
ray_address = "10.0.0.1:6379"
wandb = "disabled"
workers = 8
""")
    config, options = load_config(path)
    assert config.apps == APPS and config.seeds == (0, 1, 2, 3, 4) and config.budgets == (10,)
    assert [a.label for a in config.agents] == ["opentuner", "llm-gpt-4o"]
    assert config.agents[1].options == {"model": "gpt-4o-2024-08-06", "history_window": 4}
    assert options == RunOptions(executor="ray", ray_address="10.0.0.1:6379",
                                 wandb="disabled", workers=8)
    again = ExperimentConfig.from_dict(json.loads(json.dumps(config.to_dict())))
    assert [u.unit_id for u in again.units()] == [u.unit_id for u in config.units()]


@pytest.mark.parametrize("text, message", [
    ("name = 'x'\n", "at least one agent"),
    ("name = 'a b'\nagents = ['random']\n", "experiment name"),
    ("name = 'x'\nagents = ['random']\nseeds = '-1'\n", "seed -1 is negative"),
    ("name = 'x'\nagents = ['random']\ncolour = 1\n", "unknown experiment keys"),
    ("name = 'x'\nagents = ['random']\nfeedback = ['loud']\n", "unknown feedback level"),
    ("name = 'x'\nagents = ['random', 'random']\n", "labels must differ"),
    ("name = 'x'\nagents = ['random']\n[run]\nexecutor = 'slurm'\n", "unknown executor"),
    ("name = 'x'\nagents = ['random']\nbudgets = [0]\n", "budget 0"),
    ("name = = 'x'\n", "exp.toml"),
])
def test_bad_files_are_config_errors(tmp_path, text, message):
    path = tmp_path / "exp.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_config(path)


def test_options_defaults():
    options = RunOptions()
    assert options.executor == "process" and options.wandb == "offline"
    assert options.worker_count >= 1
    assert str(options.cache_path()) == "runs/evaluation-cache.sqlite"
    assert RunOptions(cache="none").cache_path() is None
