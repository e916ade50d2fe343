"""Speed of building application models (targets: under 0.5 s for the largest Preset B models
at 64 nodes, whose iteration holds about 5000 launches; under 10 ms for app_info on them).

Run with ``python -m pytest tests/perf/test_appmodel_build_speed.py --benchmark-enable``; in the
normal suite each benchmarked function runs once, as a smoke test.
"""

from __future__ import annotations

import pytest

from benchmarks import get_app
from mapper_gym.appmodel import MachineShape


@pytest.mark.parametrize("name", ["Cannon", "Solomonik", "Pennant", "Circuit"])
def test_build_preset_b_64_nodes(benchmark, name):
    app = get_app(name)
    model = benchmark(app.build, MachineShape(64), "B")
    assert model.flops_per_iteration() > 0


def test_app_info_of_a_large_model(benchmark):
    model = get_app("Cannon").build(MachineShape(64), "B")
    info = benchmark(model.app_info)
    assert info.task("task_4") is not None
