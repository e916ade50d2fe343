"""The decision space: parameters per group, rendering, and that every configuration is a
program that parses, checks without findings, loads, and whose placement functions map every
launch point of the application onto a processor of the right kind."""

from __future__ import annotations

import json
import random

import pytest

from benchmarks import APP_NAMES
from mapper_gym.agent import AgentInfo
from mapper_gym.backends import build_problem
from mapper_gym.dsl.parser import parse
from mapper_gym.dsl.pipeline import compile_program, diagnose
from mapper_gym.dsl.printer import format_program
from mapper_gym.dsl.values import ProcessorRef, TaskRef
from mapper_gym.space import (
    GROUPS,
    INDEX_STRATEGIES,
    LAYOUTS,
    SINGLE_STRATEGIES,
    DecisionSpace,
    MachineView,
    SpaceError,
    parents_of,
    random_program,
)

SAMPLES = 25


@pytest.fixture(scope="module", params=APP_NAMES)
def problem(request):
    return build_problem(request.param)


@pytest.fixture(scope="module")
def space(problem):
    return DecisionSpace.from_model(problem.model, problem.machine)


def _clean(text: str, problem) -> None:
    """No finding at all from parse and check, and the program loads on the machine."""
    program, findings = diagnose(text, problem.app_info(), problem.machine)
    assert program is not None
    assert findings == [], [(d.code, d.message, d.line) for d in findings]
    compile_program(text, problem.machine, problem.app_info())


def _forced(space: DecisionSpace, config: dict, group: str, strategy: str) -> dict:
    out = dict(config)
    for p in space.group(group):
        if strategy in p.choices:
            out[p.name] = strategy
    return out


def _kinds(space, config):
    return {t: space.kind_of(config, t) for t in space.tasks}


def _map_every_point(space, config, problem):
    """Evaluate the rendered program's entry functions for every launch point of the app, as
    the resolver would, and check each result is a processor of the task's kind."""
    text = space.render(config)
    compiled = compile_program(text, problem.machine, problem.app_info())
    policy, loaded = compiled.policy, compiled.loaded
    kinds = _kinds(space, config)
    machine = problem.machine
    model = problem.model
    parents = parents_of(model)
    checked = 0
    for launch, _ in model.walk(model.all_steps()):
        task = launch.task
        if task not in kinds:
            continue
        kind = kinds[task]
        if launch.is_index:
            func = policy.index_map_function(task, kind)
            if func is None:
                continue
            for pt in launch.points:
                ref = TaskRef(task, ipoint=pt.point, ispace=launch.domain, index_launch=True)
                point = loaded.call_entry(func, ref, kind=kind)
                node, proc = point.coords
                assert point.kind == kind
                assert 0 <= node < machine.nodes
                assert 0 <= proc < machine.processors_per_node(kind)
                checked += 1
        else:
            func = policy.single_map_function(task, kind)
            if func is None:
                continue
            (parent,) = parents[task]
            parent_kind = kinds[parent]
            for node in range(machine.nodes):
                for index in range(machine.processors_per_node(parent_kind)):
                    up = TaskRef(parent, processor=ProcessorRef(parent_kind, node, index))
                    ref = TaskRef(task, parent=up, processor=ProcessorRef(kind, node, 0))
                    point = loaded.call_entry(func, ref, kind=kind)
                    assert point.kind == kind
                    assert point.coords[0] == node  # a single task stays on its node
                    assert 0 <= point.coords[1] < machine.processors_per_node(kind)
                    checked += 1
    return checked


# ---------------------------------------------------------------------------------------------
# Structure
# ---------------------------------------------------------------------------------------------


def test_groups_cover_the_application(space, problem):
    model = problem.model
    launched = {launch.task for launch, _ in model.walk(model.all_steps())} | {model.top_task}
    kinds = set(MachineView.from_topology(problem.machine).kinds())
    expected_tasks = {t.name for t in model.tasks
                      if t.name in launched and kinds & set(t.variants)}
    assert set(space.tasks) == expected_tasks
    for p in space.group("task"):
        task = model.task(p.task)
        firsts = [c.split(",")[0] for c in p.choices]
        assert sorted(firsts) == sorted(k for k in task.variants if k in kinds)
        assert len(set(firsts)) == len(firsts)
    for p in space.group("region"):
        assert p.kind in model.task(p.task).variants
        assert all(problem.machine.can_use(p.kind, m) for m in p.choices)
        assert not model.task(p.task).inner
    for p in space.group("layout"):
        assert p.choices == LAYOUTS
    index_tasks = {p.task for p in space.group("index_task_map")}
    single_tasks = {p.task for p in space.group("single_task_map")}
    info = {t.name: t for t in problem.app_info().tasks}
    assert index_tasks == {t for t in expected_tasks if info[t].index_launch}
    assert single_tasks == {t for t in expected_tasks if info[t].single_launch}
    for p in space.group("index_task_map"):
        assert p.choices == INDEX_STRATEGIES
    for p in space.group("single_task_map"):
        assert p.choices == SINGLE_STRATEGIES  # every single launch has one known parent


def test_parameters_in_group_order(space):
    order = [GROUPS.index(p.group) for p in space.parameters]
    assert order == sorted(order)
    assert space.log10_size() > 10
    assert all(p.tunable for p in space.tunable())


def test_region_parameters_only_for_data_arguments():
    space = DecisionSpace.for_app("Cannon")
    # task_4 is the DGEMM leaf: three data arguments, GPU only.
    assert [p.name for p in space.group("region") if p.task == "task_4"] == [
        "region/task_4/0/GPU", "region/task_4/1/GPU", "region/task_4/2/GPU"]
    assert space["region/task_4/0/GPU"].choices == ("FBMEM", "ZCMEM")
    # inner tasks (task_5, task_6, task_7) map virtually: no region or layout decision.
    inner = {"task_5", "task_6", "task_7", "top_level"}
    assert not {p.task for p in space.group("region")} & inner
    assert not {p.task for p in space.group("layout")} & inner
    # init_cublas has no region argument at all.
    assert "layout/init_cublas/0" not in space


def test_region_names_are_unique_within_a_task():
    space = DecisionSpace.for_app("Circuit")
    # calculate_new_currents passes rp_wires twice (RO and RW fields): named by index.
    assert space.region_ref("calculate_new_currents", 3) == "3"
    assert space.region_ref("calculate_new_currents", 4) == "4"
    assert space.region_ref("calculate_new_currents", 0) == "rp_private"
    for task in space.tasks:
        refs = [space.region_ref(task, p.arg) for p in space.group("layout") if p.task == task]
        assert len(refs) == len(set(refs))


# ---------------------------------------------------------------------------------------------
# Every configuration is a clean program
# ---------------------------------------------------------------------------------------------


def test_baseline_and_samples_compile_without_findings(space, problem):
    _clean(space.render(space.baseline()), problem)
    rng = random.Random(7)
    for _ in range(SAMPLES):
        _clean(space.render(space.sample(rng)), problem)


@pytest.mark.parametrize("strategy", INDEX_STRATEGIES[1:])
def test_index_strategies_map_every_point(space, problem, strategy):
    rng = random.Random(strategy)
    for _ in range(3):  # different processor kinds per task
        config = _forced(space, space.sample(rng), "index_task_map", strategy)
        _clean(space.render(config), problem)
        assert _map_every_point(space, config, problem) > 0


@pytest.mark.parametrize("strategy", SINGLE_STRATEGIES[1:])
def test_single_strategies_stay_on_the_node(space, problem, strategy):
    if not space.group("single_task_map"):
        pytest.skip(f"{space.app_name} has no single launches")
    rng = random.Random(strategy)
    for _ in range(3):
        config = _forced(space, space.sample(rng), "single_task_map", strategy)
        _clean(space.render(config), problem)
        assert _map_every_point(space, config, problem) > 0


@pytest.mark.parametrize("app,machine,nodes", [
    ("Circuit", "lassen", 3), ("Stencil", "lassen", 2), ("COSMA", "lassen", 2),
    ("Solomonik", "lassen", 2), ("Pennant", "lassen", 3), ("Cannon", "p100-node", 1),
])
def test_placements_on_multi_node_machines(app, machine, nodes):
    problem = build_problem(app, machine, nodes=nodes)
    space = DecisionSpace.from_model(problem.model, problem.machine)
    rng = random.Random(app)
    for strategy in INDEX_STRATEGIES[1:]:
        config = _forced(space, space.sample(rng), "index_task_map", strategy)
        config = _forced(space, config, "single_task_map", rng.choice(SINGLE_STRATEGIES[1:]))
        _clean(space.render(config), problem)
        assert _map_every_point(space, config, problem) > 0


# ---------------------------------------------------------------------------------------------
# What the placements mean
# ---------------------------------------------------------------------------------------------


def _targets(app, nodes, task, strategy, machine="lassen", **params):
    problem = build_problem(app, machine, nodes=nodes, **params)
    space = DecisionSpace.from_model(problem.model, problem.machine)
    config = space.baseline()
    config[f"index_task_map/{task}"] = strategy
    compiled = compile_program(space.render(config), problem.machine, problem.app_info())
    kind = space.kind_of(config, task)
    func = compiled.policy.index_map_function(task, kind)
    for launch, _ in problem.model.walk(problem.model.all_steps()):
        if launch.task == task and launch.is_index:
            return {pt.point: compiled.loaded.call_entry(
                func, TaskRef(task, ipoint=pt.point, ispace=launch.domain, index_launch=True),
                kind=kind).coords for pt in launch.points}
    raise AssertionError(task)


def test_linear_block_and_cyclic_on_two_nodes():
    # Stencil on 2 Lassen nodes: 8 tiles, 4 GPUs per node.
    assert _targets("Stencil", 2, "stencil", "linear_block") == {
        (i,): (i // 4, i % 4) for i in range(8)}
    assert _targets("Stencil", 2, "stencil", "linear_cyclic") == {
        (i,): (i // 4, i % 4) for i in range(8)}
    assert _targets("Stencil", 2, "stencil", "node_cyclic") == {
        (i,): (i % 2, i // 2) for i in range(8)}


def test_auto_split_gives_one_point_per_gpu_and_blocks():
    targets = _targets("Johnson", 1, "task_4", "auto_split_block", machine="p100-node")
    assert len(targets) == 8 and len(set(targets.values())) == 4
    # 4 x 2 tiles on 4 GPUs: auto_split factors the GPUs as (4, 1) ...
    block = _targets("Stencil", 1, "stencil", "auto_split_block", machine="p100-node",
                     ntx=4, nty=2)
    cyclic = _targets("Stencil", 1, "stencil", "auto_split_cyclic", machine="p100-node",
                      ntx=4, nty=2)
    # ... a block gives GPU g tiles 2g and 2g+1, cyclic gives it tiles g and g+4.
    assert block == {(i,): (0, i // 2) for i in range(8)}
    assert cyclic == {(i,): (0, i % 4) for i in range(8)}
    hier = _targets("Cannon", 1, "task_1", "node_block_proc_cyclic", machine="p100-node")
    assert sorted(hier.values()) == [(0, 0), (0, 1), (0, 2), (0, 3)]


# ---------------------------------------------------------------------------------------------
# Configurations
# ---------------------------------------------------------------------------------------------


def test_canonical_configs_and_programs_correspond(space):
    rng = random.Random(3)
    seen: dict[str, dict] = {}
    for _ in range(60):
        config = space.canonical(space.sample(rng))
        assert space.canonical(config) == config
        text = space.render(config)
        if text in seen:
            assert seen[text] == config
        seen[text] = config
    # inactive parameters never change the program
    config = space.sample(rng)
    for p in space.parameters:
        if not space.is_active(p, config):
            for choice in p.choices:
                other = dict(config, **{p.name: choice})
                assert space.render(other) == space.render(config)


def test_active_region_parameters_follow_the_task_kind():
    space = DecisionSpace.for_app("Stencil")
    config = space.baseline()
    assert space.kind_of(config, "stencil") == "GPU"
    assert space.is_active("region/stencil/0/GPU", config)
    assert not space.is_active("region/stencil/0/CPU", config)
    config["task/stencil"] = "CPU,GPU"
    assert space.is_active("region/stencil/0/CPU", config)
    assert "Region stencil private CPU " in space.render(config)


def test_sampling_is_seeded(space):
    assert space.sample(5) == space.sample(random.Random(5))
    assert space.sample(5) != space.sample(6)


def test_render_has_the_groups_in_order_and_is_canonical_text(space):
    config = space.sample(11)
    for p in space.group("instance_limit"):
        config[p.name] = "2"
    text = space.render(config)
    positions = [text.index(f"# {g}\n") for g in GROUPS if space.render_group(config, g)]
    assert positions == sorted(positions)
    assert text.startswith("# task\nTask ")
    assert "InstanceLimit " in text
    program = parse(text)
    assert format_program(parse(format_program(program))) == format_program(program)
    assert "#" not in space.render(config, comments=False)


def test_validate_rejects_bad_configs(space):
    config = space.baseline()
    name = space.parameters[0].name
    with pytest.raises(SpaceError, match="not one of"):
        space.render({**config, name: "TPU"})
    with pytest.raises(SpaceError, match="not set"):
        space.render({k: v for k, v in config.items() if k != name})
    with pytest.raises(SpaceError, match="unknown parameters"):
        space.validate({**config, "task/nonexistent": "GPU"})
    with pytest.raises(SpaceError):
        space["no/such/parameter"]
    with pytest.raises(SpaceError):
        space.render_group(config, "placement")
    assert space.complete({name: space[name].choices[-1]})[name] == space[name].choices[-1]


def test_neighbours_change_one_parameter(space):
    config = space.baseline()
    p = space.tunable()[0]
    around = space.neighbours(config, p.name)
    assert len(around) == len(p.choices) - 1
    for other in around:
        assert [k for k in config if config[k] != other[k]] == [p.name]


def test_enumerate_refuses_huge_spaces(space):
    with pytest.raises(SpaceError):
        next(space.enumerate(limit=1000))


def test_align_option_doubles_layouts():
    space = DecisionSpace.for_app("Circuit", align=True)
    p = space.group("layout")[0]
    assert len(p.choices) == 2 * len(LAYOUTS)
    config = space.baseline()
    config[p.name] = p.choices[-1]
    assert "Align==128" in space.render(config)
    problem = build_problem("Circuit")
    _clean(space.render(config), problem)


def test_describe_is_json(space):
    data = json.loads(json.dumps(space.describe()))
    assert set(data["groups"]) == set(GROUPS)
    assert data["machine"]["nodes"] >= 1


def test_space_from_reset_info_equals_space_from_problem(problem):
    """Agents build the space from the environment's reset info; it must be the same space
    the problem (application model and configured machine) gives."""
    info = AgentInfo.from_reset_info(problem.describe())
    from_info = info.space()
    direct = DecisionSpace.from_model(problem.model, problem.machine)
    assert [(p.name, p.choices) for p in from_info.parameters] == [
        (p.name, p.choices) for p in direct.parameters]
    config = direct.sample(1)
    assert from_info.render(config) == direct.render(config)


def test_unnameable_tasks_are_left_out():
    from mapper_gym.space import TaskSpec

    specs = [
        TaskSpec("good", ("CPU",), False, True, False, False, (("r",),), (0,)),
        TaskSpec("has.dot", ("CPU",), False, True, False, False, (), ()),
        TaskSpec("Machine", ("CPU",), False, True, False, False, (), ()),
        TaskSpec("gpu_only", ("GPU",), False, True, False, False, (), ()),
    ]
    space = DecisionSpace("toy", specs, MachineView(2, {"CPU": 2}, {"CPU": ("SYSMEM",)}))
    assert space.tasks == ("good",)
    text = space.render(space.baseline())
    assert "has.dot" not in text and "gpu_only" not in text


def test_random_program_from_reset_info():
    info = build_problem("Stencil").describe()
    text = random_program(info, random.Random(4))
    assert text == random_program(info, 4)
    _clean(text, build_problem("Stencil"))
