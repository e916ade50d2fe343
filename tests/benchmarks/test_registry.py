"""Every registered application builds consistently for its presets and several machines."""

from __future__ import annotations

import json

import pytest

from benchmarks import APP_NAMES, get_app
from mapper_gym.appmodel import MachineShape, Timing, legion_settings

from .helpers import check_model


def test_registry_order_and_lookup():
    assert APP_NAMES == ("Circuit", "Stencil", "Pennant", "Cannon", "SUMMA", "PUMMA",
                         "Johnson", "Solomonik", "COSMA")
    assert get_app("cosma").name == "COSMA"
    with pytest.raises(KeyError):
        get_app("Nope")


@pytest.mark.parametrize("name", APP_NAMES)
@pytest.mark.parametrize("preset,nodes", [("small", 1), ("small", 2), ("small", 4),
                                          ("A", 1), ("B", 1), ("B", 2), ("B", 4)])
def test_every_app_builds(name, preset, nodes):
    app = get_app(name)
    assert preset in app.presets
    model = app.build(MachineShape(nodes), preset)
    check_model(model)
    assert model.name == name and model.preset == preset
    assert model.flops_per_iteration() > 0
    assert model.schedule.measured >= 1
    json.dumps(model.describe())  # JSON-ready for agents
    assert model.describe_text().startswith(f"Application {name}")
    settings = legion_settings(model.legion_flags)
    assert settings["gpu"] == 4


@pytest.mark.parametrize("name", APP_NAMES)
def test_output_lines_and_throughput(name):
    model = get_app(name).build(MachineShape(1), "A")
    timing = Timing(elapsed=2.0, init_time=0.5, iteration_times=(0.2012,) * 10)
    lines = model.stdout_lines(timing)
    assert lines and all(isinstance(x, str) and "\n" not in x for x in lines)
    fast = model.throughput(timing)
    slow = model.throughput(Timing(elapsed=4.0, init_time=0.5, iteration_times=(0.4012,) * 10))
    assert fast > slow > 0


@pytest.mark.parametrize("name", APP_NAMES)
def test_app_info_is_machine_independent(name):
    app = get_app(name)
    info = app.app_info()
    for nodes in (1, 2):
        other = app.build(MachineShape(nodes), "small").app_info()
        assert other.task_names() == info.task_names()
        assert [t.regions for t in other.tasks] == [t.regions for t in info.tasks]
