"""``resolve`` on the real application models with their expert and default mappers."""

from __future__ import annotations

import pytest

from benchmarks import APP_NAMES, get_app
from mapper_gym.appmodel import MachineShape
from mapper_gym.dsl.pipeline import compile_program
from mapper_gym.machine import load_machine
from mapper_gym.mapping import resolve
from mapper_gym.plan import MappingPlan


def _resolve(name: str, which: str, shape: MachineShape, preset: str, machine: str,
             text: str | None = None, app_flags: bool = True) -> MappingPlan:
    app = get_app(name)
    model = app.build(shape, preset=preset)
    mach = load_machine(machine, nodes=shape.nodes)
    if app_flags:
        mach = mach.with_legion_flags(model.legion_flags)
    if text is None:
        text = app.expert_mapper() if which == "expert" else app.default_mapper()
    return resolve(compile_program(text, mach, model.app_info()), model, mach)


def _check_consistent(plan: MappingPlan) -> None:
    """Every launch is mapped; processors have the launch's kind; instances are addressable
    from their processor; inner tasks and data-less requirements have no instance."""
    app, machine = plan.app, plan.machine
    walked = [launch for launch, _ in app.walk(app.all_steps())]
    assert set(plan.launches) == set(walked)
    for launch, mapping in plan.launches.items():
        assert mapping.kind == plan.task_kinds[launch.task]
        assert len(mapping.points) == len(launch.points)
        task = app.task(launch.task)
        assert mapping.kind in task.variants
        reqs = app.requirements_of(launch)
        for pm, pt in zip(mapping.points, launch.points, strict=True):
            assert pm.point is pt and pm.processor is pm.targets[0]
            assert all(p.kind == mapping.kind for p in pm.targets)
            assert len(pm.instances) == len(reqs)
            for req, choice in zip(reqs, pm.instances, strict=True):
                if task.inner or not req.privilege.has_data:
                    assert choice.virtual
                else:
                    assert machine.affinity(pm.processor, choice.memory) is not None


@pytest.mark.parametrize("which", ["expert", "default"])
@pytest.mark.parametrize("name", APP_NAMES)
def test_every_app_resolves_on_the_p100_node(name, which):
    plan = _resolve(name, which, MachineShape(nodes=1, gpus_per_node=4), "small", "p100-node")
    _check_consistent(plan)
    assert not [w for w in plan.warnings if w.code == "W-MEMORY-DEFAULT"]


@pytest.mark.parametrize("name", ["Circuit", "Stencil", "Pennant", "Cannon"])
def test_apps_resolve_on_a_small_cluster(name):
    plan = _resolve(name, "expert", MachineShape(nodes=2, gpus_per_node=4), "small", "lassen")
    _check_consistent(plan)
    assert plan.replicated == frozenset({plan.app.top_task})


def test_circuit_expert_on_the_p100_node():
    plan = _resolve("Circuit", "expert", MachineShape(nodes=1, gpus_per_node=4), "A",
                    "p100-node")
    currents = next(m for launch, m in plan.launches.items()
                    if launch.task == "calculate_new_currents")
    assert currents.kind == "GPU"
    reqs = plan.app.requirements_of(currents.launch)
    for i, pm in enumerate(currents.points):
        assert pm.processor.uid == f"n0.GPU{i}"
        for req, choice in zip(reqs, pm.instances, strict=True):
            if req.names[0] in ("rp_shared", "rp_ghost"):
                assert choice.memory.uid == "n0.ZCMEM0"
            else:
                assert choice.memory.uid == f"n0.FBMEM{i}"
    # CPU-only tasks stay on the CPU and in system memory
    assert plan.task_kinds["init_piece"] == "CPU"
    init = next(m for launch, m in plan.launches.items() if launch.task == "init_piece")
    assert {c.memory.kind for pm in init.points for c in pm.instances if c.memory} == {"SYSMEM"}


def test_circuit_without_gpus_falls_back_to_cpus():
    shape = MachineShape(nodes=1, gpus_per_node=0, cpus_per_node=2)
    text = "Task * GPU,CPU;\nRegion * * GPU FBMEM;\nRegion * * CPU SYSMEM;\n"
    # the application's memory sizes do not fit the small machine: keep the preset's
    plan = _resolve("Circuit", "", shape, "small", "local-cpu", text, app_flags=False)
    _check_consistent(plan)
    assert set(plan.task_kinds.values()) == {"CPU"}
    currents = next(m for launch, m in plan.launches.items()
                    if launch.task == "calculate_new_currents")
    assert [pm.processor.uid for pm in currents.points] == ["n0.CPU0", "n0.CPU1"]
    assert not plan.warnings


def test_cannon_expert_keeps_task_5_on_its_node_one_point_per_gpu():
    """task_5 is left to the default policy; its launch asks for the same address space."""
    plan = _resolve("Cannon", "expert", MachineShape(nodes=2, gpus_per_node=4), "small",
                    "lassen")
    quarters = [m for launch, m in plan.launches.items() if launch.task == "task_5"]
    assert quarters
    for mapping in quarters:
        parents_node = {pm.processor.node for pm in mapping.points}
        assert len(parents_node) == 1
        assert sorted(pm.processor.index for pm in mapping.points) == list(
            range(len(mapping.points)))
