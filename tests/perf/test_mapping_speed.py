"""Speed of mapping resolution (targets, medians on the 2-core dev machine: a few ms on the P100
node for every application, expert or default mapper — Pennant, the largest, under 15 ms; under
0.5 s for Preset B on 64 Lassen nodes, where ~9,500 points each call an entry function).

Each round resolves a freshly compiled program, so the interpreter's entry cache starts empty
(as in an environment step). Run with
``python -m pytest tests/perf/test_mapping_speed.py --benchmark-enable``; in the normal suite
each benchmarked function runs once, as a smoke test.
"""

from __future__ import annotations

import pytest

from benchmarks import get_app
from mapper_gym.appmodel import MachineShape
from mapper_gym.dsl.pipeline import compile_program
from mapper_gym.machine import load_machine
from mapper_gym.mapping import resolve


def _setup(name: str, which: str, nodes: int, preset: str, machine: str):
    app = get_app(name)
    model = app.build(MachineShape(nodes), preset)
    mach = load_machine(machine, nodes=nodes).with_legion_flags(model.legion_flags)
    text = app.expert_mapper() if which == "expert" else app.default_mapper()
    info = model.app_info()

    def fresh():
        return (compile_program(text, mach, info), model, mach), {}

    return fresh


@pytest.mark.parametrize("which", ["expert", "default"])
@pytest.mark.parametrize("name", ["Circuit", "Pennant", "Cannon"])
def test_resolve_on_the_p100_node(benchmark, name, which):
    fresh = _setup(name, which, 1, "A", "p100-node")
    plan = benchmark.pedantic(resolve, setup=fresh, rounds=20)
    assert plan.launches


@pytest.mark.parametrize("name", ["Pennant", "SUMMA"])
def test_resolve_preset_b_on_64_nodes(benchmark, name):
    fresh = _setup(name, "expert", 64, "B", "lassen")
    plan = benchmark.pedantic(resolve, setup=fresh, rounds=3)
    assert len(plan.replicated) == 1
