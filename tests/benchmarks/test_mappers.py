"""The shipped expert and default mappers: they parse, check cleanly against their
application, and the expert's index mapping places points the way apps.md describes."""

from __future__ import annotations

import pytest

from benchmarks import APP_NAMES, get_app
from mapper_gym.appmodel import AppModel, MachineShape
from mapper_gym.dsl.checker import check
from mapper_gym.dsl.context import SimpleTopology
from mapper_gym.dsl.interpreter import LoadedProgram, load
from mapper_gym.dsl.parser import parse
from mapper_gym.dsl.policy import build_policy
from mapper_gym.dsl.values import ProcessorRef, TaskRef

DISTAL = ("Cannon", "SUMMA", "PUMMA", "Johnson", "Solomonik", "COSMA")


def topology(app: str, nodes: int) -> SimpleTopology:
    if app in DISTAL:
        return SimpleTopology(nodes, {"GPU": 4, "CPU": 1, "OMP": 1},
                              frozenset({"SYSMEM", "SOCKMEM", "ZCMEM", "FBMEM"}))
    cpus = 4 if app == "Circuit" else 1
    return SimpleTopology(nodes, {"GPU": 4, "CPU": cpus},
                          frozenset({"SYSMEM", "ZCMEM", "FBMEM", "RDMEM"}))


@pytest.mark.parametrize("name", APP_NAMES)
@pytest.mark.parametrize("kind", ["expert", "default"])
def test_mapper_parses_and_checks_cleanly(name, kind):
    app = get_app(name)
    text = app.expert_mapper() if kind == "expert" else app.default_mapper()
    program = parse(text)
    findings = check(program, app=app.app_info(), topology=topology(name, 2))
    assert findings == [], [(d.code, d.message, d.line) for d in findings]


def _kind(policy, model: AppModel, task: str, topo: SimpleTopology) -> str:
    variants = model.task(task).variants
    for k in policy.task_priority(task) or ():
        if k in variants and topo.processors_per_node(k) > 0:
            return k
    raise AssertionError(f"no processor kind for {task}")


def _index_targets(model: AppModel, loaded: LoadedProgram, policy, topo, task: str):
    """{point: (node, proc)} for every index launch of ``task`` (first launch only)."""
    for launch, _ in model.walk(model.all_steps()):
        if launch.task == task and launch.is_index:
            kind = _kind(policy, model, task, topo)
            func = policy.index_map_function(task, kind)
            assert func is not None, task
            out = {}
            for pt in launch.points:
                ref = TaskRef(task, ipoint=pt.point, ispace=launch.domain, index_launch=True)
                out[pt.point] = loaded.call_entry(func, ref, kind=kind).coords
            return out
    raise AssertionError(f"{task} has no index launch")


def _expert(name: str, nodes: int, preset: str = "small"):
    app = get_app(name)
    model = app.build(MachineShape(nodes), preset)
    topo = topology(name, nodes)
    program = parse(app.expert_mapper())
    policy, _ = build_policy(program)
    return model, load(program, topo), policy, topo


@pytest.mark.parametrize("nodes", [1, 2, 4])
@pytest.mark.parametrize("name", APP_NAMES)
def test_expert_maps_every_index_launch(name, nodes):
    """Every point of every index launch the expert maps evaluates without error, on a
    processor of the task's kind, and the placement tasks spread over all GPUs."""
    model, loaded, policy, topo = _expert(name, nodes)
    seen: set[str] = set()
    for launch, _ in model.walk(model.all_steps()):
        if not launch.is_index or launch.task in seen:
            continue
        seen.add(launch.task)
        kind = _kind(policy, model, launch.task, topo)
        func = policy.index_map_function(launch.task, kind)
        if func is None:
            continue
        for pt in launch.points:
            ref = TaskRef(launch.task, ipoint=pt.point, ispace=launch.domain, index_launch=True)
            point = loaded.call_entry(func, ref, kind=kind)
            node, proc = point.coords
            assert 0 <= node < nodes and 0 <= proc < topo.processors_per_node(kind)


@pytest.mark.parametrize("name", ["Stencil", "Circuit"])
@pytest.mark.parametrize("nodes", [1, 3])
def test_linear_block(name, nodes):
    model, loaded, policy, topo = _expert(name, nodes)
    task = "stencil" if name == "Stencil" else "calculate_new_currents"
    targets = _index_targets(model, loaded, policy, topo, task)
    assert targets == {(i,): (i // 4, i % 4) for i in range(4 * nodes)}
    cpu_task = "check" if name == "Stencil" else "init_piece"
    cpus = topo.processors_per_node("CPU")
    targets = _index_targets(model, loaded, policy, topo, cpu_task)
    assert targets == {(i,): (i // 4, i % cpus) for i in range(4 * nodes)}


def test_pennant_linear_cyclic():
    model, loaded, policy, topo = _expert("Pennant", 3)
    targets = _index_targets(model, loaded, policy, topo, "calc_centers")
    assert targets == {(i,): (i % 3, i // 3) for i in range(12)}
    targets = _index_targets(model, loaded, policy, topo, "initialize_topology")
    assert targets == {(i,): (i % 3, 0) for i in range(12)}
    func = policy.single_map_function("calc_global_dt", "CPU")
    parent = TaskRef("toplevel", processor=ProcessorRef("CPU", 2, 0))
    ref = TaskRef("calc_global_dt", parent=parent, processor=ProcessorRef("CPU", 2, 0))
    assert loaded.call_entry(func, ref, kind="CPU").coords == (2, 0)


@pytest.mark.parametrize("name", ["Cannon", "SUMMA"])
def test_2d_placement_block_cyclic(name):
    model, loaded, policy, topo = _expert(name, 1, "A")
    targets = _index_targets(model, loaded, policy, topo, "task_1")
    assert targets == {(x, y): (0, x % 2 + 2 * (y % 2)) for x in range(2) for y in range(2)}
    model, loaded, policy, topo = _expert(name, 4, "A")  # gx = gy = 2
    targets = _index_targets(model, loaded, policy, topo, "task_2")
    for (x, y), (node, gpu) in targets.items():
        assert node == x // 2 + 2 * (y // 2)
        assert gpu == x % 2 + 2 * (y % 2)
    nodes = _index_targets(model, loaded, policy, topo, "task_7")
    assert sorted(n for n, _ in nodes.values()) == [0, 1, 2, 3]  # one point per node
    cublas = _index_targets(model, loaded, policy, topo, "init_cublas")
    assert cublas == {(i,): (i // 4, i % 4) for i in range(16)}
    func = policy.single_map_function("task_4", "GPU")
    parent = TaskRef("task_5", processor=ProcessorRef("GPU", 3, 2))
    ref = TaskRef("task_4", parent=parent, processor=ProcessorRef("GPU", 3, 0))
    assert loaded.call_entry(func, ref, kind="GPU").coords == (3, 2)


def test_johnson_and_cosma_blocks():
    model, loaded, policy, topo = _expert("Johnson", 1, "A")
    targets = _index_targets(model, loaded, policy, topo, "task_4")
    assert targets == {(i, j, k): (0, i + 2 * j)
                       for i in range(2) for j in range(2) for k in range(2)}
    placement = _index_targets(model, loaded, policy, topo, "task_2")  # (g, 1, g)
    assert placement == {(i, 0, k): (0, i + 2 * k) for i in range(2) for k in range(2)}
    model, loaded, policy, topo = _expert("COSMA", 1, "A")
    targets = _index_targets(model, loaded, policy, topo, "task_4")
    assert len(targets) == 4 and len(set(targets.values())) == 4


def test_solomonik_layers():
    model, loaded, policy, topo = _expert("Solomonik", 1, "A")
    targets = _index_targets(model, loaded, policy, topo, "task_5")
    assert targets == {(x, y, 0): (0, x % 2 + 2 * (y % 2)) for x in range(2) for y in range(2)}
    placement = _index_targets(model, loaded, policy, topo, "task_1")
    assert placement == {(x, y, 0): (0, x + 2 * y) for x in range(2) for y in range(2)}
    model, loaded, policy, topo = _expert("Solomonik", 2, "A")  # (r, c, r3) = (2, 2, 2)
    targets = _index_targets(model, loaded, policy, topo, "task_5")
    assert len(set(targets.values())) == 8  # one point per GPU


def test_expert_layout_is_c_order_for_matmuls():
    for name in DISTAL:
        policy, _ = build_policy(parse(get_app(name).expert_mapper()))
        spec = policy.resolved_layout("task_4", ["A", "0"], "FBMEM")
        assert spec.c_order and not spec.aos
