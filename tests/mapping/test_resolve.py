"""``resolve``: every rule of dsl.md §6 on small synthetic applications, plus real apps."""

from __future__ import annotations

import pytest

from mapper_gym.appmodel import Privilege
from mapper_gym.config import RunConfig
from mapper_gym.dsl.context import SimpleTopology
from mapper_gym.dsl.errors import DSLError
from mapper_gym.dsl.pipeline import compile_program
from mapper_gym.dsl.policy import DEFAULT_LAYOUT, LayoutSpec
from mapper_gym.machine import load_machine
from mapper_gym.mapping import resolve
from tests.dsl.spec_programs import SECTION_6_EXAMPLE
from tests.mapping.synthetic import (
    first_launch,
    inner,
    launches_of,
    leaf,
    make_app,
    plan_for,
    procs,
    req,
)

RW, RO, NONE, RED = Privilege.RW, Privilege.RO, Privilege.NONE, Privilege.RED


def _position(text: str, needle: str) -> tuple[int, int]:
    """(line, column) of the first occurrence of ``needle`` in ``text`` (1-based)."""
    for number, line in enumerate(text.splitlines(), start=1):
        column = line.find(needle)
        if column >= 0:
            return number, column + 1
    raise AssertionError(needle)


# ---------------------------------------------------------------------------------------------
# §6.2 processor kinds
# ---------------------------------------------------------------------------------------------


def _kinds_app():
    return make_app(
        [leaf("both", ("CPU", "GPU"), req(RW, "a")),
         leaf("cpu_only", ("CPU",), req(RW, "a")),
         leaf("omp_cpu", ("CPU", "OMP"), req(RW, "a"))],
        lambda s: [s.index("both", (4,)), s.index("cpu_only", (4,)), s.index("omp_cpu", (2,))],
    )


def test_priority_list_intersects_variants_and_machine():
    app = _kinds_app()
    text = "Task * GPU,CPU;\nTask both CPU,GPU;\n"
    plan = plan_for(text, app)
    assert plan.task_kinds["both"] == "CPU"
    assert plan.task_kinds["cpu_only"] == "CPU"
    assert first_launch(plan, "both").kind_origin == (2, 1)
    assert first_launch(plan, "cpu_only").kind_origin == (1, 1)
    assert plan.task_kinds["top"] == "CPU"
    assert not plan.warnings


def test_no_list_uses_default_ranking():
    app = _kinds_app()
    plan = plan_for("x = 1;", app, load_machine("p100-node").with_legion_settings(omp=1))
    assert plan.task_kinds == {"top": "CPU", "both": "GPU", "cpu_only": "CPU", "omp_cpu": "OMP"}
    assert all(m.kind_origin == (0, 0) for m in plan.launches.values())


def test_list_without_a_fit_falls_back_with_a_warning():
    app = _kinds_app()
    text = "Task cpu_only GPU,OMP;\n"
    plan = plan_for(text, app)
    assert plan.task_kinds["cpu_only"] == "CPU"
    assert first_launch(plan, "cpu_only").kind_origin == (0, 0)
    (warning,) = plan.warnings
    assert warning.code == "W-KIND-DEFAULT" and (warning.line, warning.column) == (1, 1)
    assert "cpu_only" in warning.message and "default mapper chose CPU" in warning.message


def test_gpu_first_falls_back_to_cpu_without_gpus():
    app = _kinds_app()
    plan = plan_for("Task * GPU,CPU;", app, "local-cpu")
    assert plan.task_kinds["both"] == "CPU"
    assert set(procs(first_launch(plan, "both"))) == {"n0.CPU0", "n0.CPU1"}
    assert not plan.warnings


def test_task_without_runnable_variant_is_an_execution_error():
    app = make_app([leaf("gpu_only", ("GPU",), req(RW, "a"))],
                   lambda s: [s.index("gpu_only", (2,))])
    with pytest.raises(DSLError) as info:
        plan_for("Task * GPU;", app, "local-cpu")
    error = info.value
    assert (error.kind, error.code) == ("execute", "E-NO-VARIANT")
    assert error.message == ("No processor can run task gpu_only: it has variants for GPU, "
                             "but the machine's nodes have processors CPU")
    assert (error.line, error.column) == (1, 1)


# ---------------------------------------------------------------------------------------------
# §6.3 memories, §6.4 layouts, §6.6 collection (the §6 example program)
# ---------------------------------------------------------------------------------------------


def _section6_app():
    return make_app(
        [leaf("init_grid", ("CPU", "GPU"), req(RW, "grid")),
         leaf("halo", ("GPU", "CPU"), req(RO, "grid_ghost", "tiles", "grid"), req(RW, "grid")),
         leaf("stencil2d", ("GPU", "CPU"), req(RO, "a"), req(RO, "b"), req(RW, "c")),
         leaf("saxpy", ("GPU",), req(RO, "coeffs"), req(RW, "y"))],
        lambda s: [s.index("init_grid", (2, 2)), s.index("halo", (2, 2)),
                   s.index("stencil2d", (2, 2)), s.index("saxpy", (4,))],
    )


def _kinds_of(mapping, point: int = 0) -> list[str]:
    return [c.memory.kind if c.memory else "VIRTUAL" for c in mapping.points[point].instances]


def test_section_6_memory_lists():
    app = _section6_app()
    plan = plan_for(SECTION_6_EXAMPLE, app)
    halo = first_launch(plan, "halo")
    assert halo.kind == "GPU"
    # [ZCMEM, FBMEM] (level 1) + [FBMEM] (level 4): ZCMEM
    assert _kinds_of(halo) == ["ZCMEM", "FBMEM"]
    assert halo.points[0].instances[0].memory_origin == _position(SECTION_6_EXAMPLE,
                                                                  "Region halo")
    assert halo.points[0].instances[1].memory_origin == _position(SECTION_6_EXAMPLE,
                                                                  "Region * * GPU")
    stencil = first_launch(plan, "stencil2d")
    assert _kinds_of(stencil) == ["FBMEM", "FBMEM", "ZCMEM"]
    # each GPU gets its own framebuffer
    for pm in stencil.points:
        fb = pm.instances[0].memory
        assert fb.kind == "FBMEM" and fb.gpu == pm.processor.gpu and fb.node == pm.processor.node
    # init_grid is a CPU task (Task init_grid,report CPU): SOCKMEM does not exist, so SYSMEM
    assert _kinds_of(first_launch(plan, "init_grid")) == ["SYSMEM"]


def test_section_6_without_zero_copy_memory_and_with_socket_memory():
    app = _section6_app()
    machine = load_machine("p100-node").with_legion_settings(zsize=0, nsize=1024)
    plan = plan_for(SECTION_6_EXAMPLE, app, machine)
    assert _kinds_of(first_launch(plan, "halo")) == ["FBMEM", "FBMEM"]
    # stencil2d argument 2 on a GPU: [ZCMEM] + [FBMEM]; ZCMEM is absent
    assert _kinds_of(first_launch(plan, "stencil2d")) == ["FBMEM", "FBMEM", "FBMEM"]
    assert _kinds_of(first_launch(plan, "init_grid")) == ["SOCKMEM"]
    assert not plan.warnings


def test_section_6_layouts_and_collection():
    app = _section6_app()
    plan = plan_for(SECTION_6_EXAMPLE, app)
    c_order = LayoutSpec(c_order=True)
    halo = first_launch(plan, "halo").points[0].instances
    assert [c.layout for c in halo] == [c_order, c_order]
    assert halo[0].layout_origin == _position(SECTION_6_EXAMPLE, "Layout * * *")
    # CollectMemory halo grid_ghost: argument 0 (RO) only
    assert [c.collect for c in halo] == [True, False]
    saxpy = first_launch(plan, "saxpy").points[0].instances
    assert saxpy[0].memory.kind == "FBMEM"
    assert saxpy[0].layout == LayoutSpec(aos=True, align=("==", 64))
    assert saxpy[0].layout_origin == _position(SECTION_6_EXAMPLE, "Layout saxpy")
    assert saxpy[1].layout == c_order
    assert plan.instance_limits == {}  # reduce_step is not a task of this app


def test_collection_only_for_read_only_and_only_when_enabled():
    app = make_app([leaf("t", ("CPU",), req(RO, "a"), req(RW, "b"), req(RED, "c"))],
                   lambda s: [s.index("t", (2,))])
    text = "CollectMemory t *;"
    plan = plan_for(text, app)
    assert [c.collect for c in first_launch(plan, "t").points[0].instances] == [
        True, False, False]
    off = plan_for(text, app, config=RunConfig(collect=False))
    assert not any(c.collect for c in first_launch(off, "t").points[0].instances)
    assert [w.code for w in off.warnings] == ["W-COLLECT-OFF"]


def test_default_layout_when_no_layout_statement():
    app = make_app([leaf("t", ("GPU",), req(RW, "a"))], lambda s: [s.index("t", (4,))])
    plan = plan_for("Layout t a ZCMEM AOS;", app)
    choice = first_launch(plan, "t").points[0].instances[0]
    assert choice.memory.kind == "FBMEM"  # default memory of a GPU
    assert choice.layout == DEFAULT_LAYOUT and choice.layout_origin == (0, 0)
    zc = plan_for("Region t a GPU ZCMEM;\nLayout t a ZCMEM AOS;", app)
    choice = first_launch(zc, "t").points[0].instances[0]
    assert choice.memory.kind == "ZCMEM" and choice.layout == LayoutSpec(aos=True)
    assert choice.layout_origin == (2, 1)


def test_positional_names_and_unusable_list_warning():
    app = make_app([leaf("t", ("GPU", "CPU"), req(RW, "a"), req(RW, "b"))],
                   lambda s: [s.index("t", (4,))])
    plan = plan_for("Region t 1 GPU ZCMEM;\nRegion t a GPU SYSMEM,SOCKMEM;", app)
    point = first_launch(plan, "t").points[0]
    assert point.instances[1].memory.kind == "ZCMEM"
    assert point.instances[1].memory_origin == (1, 1)
    # nothing usable for argument 0: the default (the GPU's framebuffer), with one warning
    assert point.instances[0].memory.kind == "FBMEM" and point.instances[0].memory_origin == (0, 0)
    (warning,) = plan.warnings
    assert (warning.code, warning.line, warning.column) == ("W-MEMORY-DEFAULT", 2, 1)
    assert "SYSMEM,SOCKMEM" in warning.message and "argument 0 of t" in warning.message


# ---------------------------------------------------------------------------------------------
# inner tasks, privileges, VIRTUAL
# ---------------------------------------------------------------------------------------------


def test_inner_tasks_are_mapped_virtually_and_none_privileges_need_no_instance():
    app = make_app(
        [inner("driver", ("CPU",), req(RW, "a")),
         leaf("work", ("CPU",), req(NONE, "bounds"), req(RW, "a"))],
        lambda s: [s.index("driver", (2,), children=lambda p: [s.single("work")])],
    )
    plan = plan_for("Region * * * SYSMEM;\nRegion * bounds * VIRTUAL;", app)
    driver = first_launch(plan, "driver")
    assert all(c.virtual for pm in driver.points for c in pm.instances)
    work = first_launch(plan, "work").points[0].instances
    assert work[0].virtual and work[1].memory.kind == "SYSMEM"


def test_virtual_on_a_leaf_argument_with_privileges_is_an_execution_error():
    app = make_app([leaf("work", ("CPU",), req(RO, "a"), req(RW, "b"))],
                   lambda s: [s.index("work", (2,))])
    text = "Region * * * SYSMEM;\nRegion work b CPU VIRTUAL,SYSMEM;"
    with pytest.raises(DSLError) as info:
        plan_for(text, app)
    error = info.value
    assert (error.kind, error.code) == ("execute", "E-VIRTUAL")
    assert error.message == "VIRTUAL mapping of region argument 1 of leaf task work"
    assert (error.line, error.column) == (2, 1)
    assert error.feedback() == ("Execution Error: VIRTUAL mapping of region argument 1 of leaf "
                                "task work")


def test_virtual_after_a_usable_kind_is_never_reached():
    app = make_app([leaf("work", ("CPU",), req(RW, "b"))], lambda s: [s.index("work", (2,))])
    plan = plan_for("Region work b CPU SYSMEM,VIRTUAL;", app)
    assert first_launch(plan, "work").points[0].instances[0].memory.kind == "SYSMEM"


# ---------------------------------------------------------------------------------------------
# §6.7 index launches
# ---------------------------------------------------------------------------------------------


def test_index_function_places_points_and_records_its_statement():
    app = make_app([leaf("t", ("GPU",), req(RW, "a"))], lambda s: [s.index("t", (8,))])
    text = ("gpus = Machine(GPU);\n"
            "def rev(Task t) { i = t.ipoint[0]; return gpus[i / 4, 3 - i % 4]; }\n"
            "IndexTaskMap t rev;\n")
    plan = plan_for(text, app, "lassen", nodes=2)
    mapping = first_launch(plan, "t")
    assert procs(mapping) == [f"n{i // 4}.GPU{3 - i % 4}" for i in range(8)]
    assert mapping.map_origin == (3, 1)
    assert all(pm.processor_origin == (3, 1) for pm in mapping.points)
    assert [pm.shard_node for pm in mapping.points] == [i // 4 for i in range(8)]
    # instances follow the processor: its own framebuffer on its own node
    fb = mapping.points[5].instances[0].memory
    assert (fb.node, fb.gpu) == (1, mapping.points[5].processor.gpu)


def test_index_function_by_kind_key():
    app = make_app([leaf("a", ("GPU",), req(RW, "x")), leaf("b", ("CPU",), req(RW, "x"))],
                   lambda s: [s.index("a", (4,)), s.index("b", (4,))])
    text = ("gpus = Machine(GPU);\ndef last(Task t) { return gpus[0, 3]; }\n"
            "IndexTaskMap GPU last;\n")
    plan = plan_for(text, app)
    assert procs(first_launch(plan, "a")) == ["n0.GPU3"] * 4
    assert procs(first_launch(plan, "b")) == ["n0.CPU0"] * 4
    assert first_launch(plan, "b").map_origin == (0, 0)


def test_point_set_targets_on_one_node():
    app = make_app([leaf("t", ("GPU",), req(RW, "a"))], lambda s: [s.index("t", (2,))])
    text = ("gpus = Machine(GPU);\ndef row(Task t) { return gpus[t.ipoint[0], *]; }\n"
            "IndexTaskMap t row;\n")
    plan = plan_for(text, app, "lassen", nodes=2)
    point = first_launch(plan, "t").points[1]
    assert [p.uid for p in point.targets] == [f"n1.GPU{i}" for i in range(4)]
    assert point.processor.uid == "n1.GPU0"
    assert point.instances[0].memory.uid == "n1.FBMEM0"  # instances for the first target


def test_point_set_across_nodes_is_an_execution_error():
    app = make_app([leaf("t", ("GPU",), req(RW, "a"))], lambda s: [s.index("t", (2,))])
    text = ("gpus = Machine(GPU);\ndef col(Task t) { return gpus[*, 1]; }\n"
            "IndexTaskMap t col;\n")
    with pytest.raises(DSLError) as info:
        plan_for(text, app, "lassen", nodes=2)
    error = info.value
    assert (error.kind, error.code, error.line, error.column) == ("execute", "E-NODE-SET", 3, 1)
    assert error.message == ("IndexTaskMap must place each point on one node: col returned "
                             "processors on nodes 0, 1 for point (0,) of t")


def test_index_function_out_of_range_propagates_the_interpreter_error():
    app = make_app([leaf("t", ("GPU",), req(RW, "a"))], lambda s: [s.index("t", (8,))])
    text = ("gpus = Machine(GPU);\ndef bad(Task t) { return gpus[0, t.ipoint[0]]; }\n"
            "IndexTaskMap t bad;\n")
    with pytest.raises(DSLError) as info:
        plan_for(text, app)
    error = info.value
    assert (error.kind, error.code) == ("map", "E-BOUNDS")
    assert error.feedback() == "Execution Error: Slice processor index out of bound! 4 >= 4"
    assert error.diagnostic.context["point"] == [4]


def test_default_index_placement_on_one_node():
    app = make_app([leaf("t", ("GPU", "CPU"), req(RW, "a"))], lambda s: [s.index("t", (8,))])
    plan = plan_for("x = 0;", app)
    mapping = first_launch(plan, "t")
    assert procs(mapping) == [f"n0.GPU{i // 2}" for i in range(8)]
    assert mapping.map_origin == (0, 0)
    assert all(pm.processor_origin == (0, 0) for pm in mapping.points)


def test_default_index_placement_across_replicated_nodes():
    """Top-level task replicated by default on 3 nodes: cyclic shards, local blocks."""
    app = make_app([leaf("t", ("GPU",), req(RW, "a"))], lambda s: [s.index("t", (12,))])
    plan = plan_for("x = 0;", app, "lassen", nodes=3)
    assert plan.replicated == frozenset({"top"})
    assert procs(first_launch(plan, "t")) == [f"n{i % 3}.GPU{i // 3}" for i in range(12)]


def test_default_index_placement_without_replication_and_with_same_address_space():
    app = make_app([leaf("t", ("GPU",), req(RW, "a"))], lambda s: [s.index("t", (16,))])
    text = "ControlReplicate nothing_here;"  # a statement: exactly the listed tasks, none here
    plan = plan_for(text, app, "lassen", nodes=2)
    assert plan.replicated == frozenset()
    assert procs(first_launch(plan, "t")) == [f"n{i // 8}.GPU{i // 2 % 4}" for i in range(16)]
    local = make_app([leaf("t", ("GPU",), req(RW, "a"))], lambda s: [s.index("t", (16,))],
                     flags=("-dm:same_address_space",))
    plan = plan_for(text, local, "lassen", nodes=2)
    assert procs(first_launch(plan, "t")) == [f"n0.GPU{i // 4}" for i in range(16)]


# ---------------------------------------------------------------------------------------------
# §6.8 single launches, children of inner points
# ---------------------------------------------------------------------------------------------


def _section6_single_app():
    """driver (inner, GPU) over 12 points, each launching one reduce_step single task."""
    return make_app(
        [inner("driver", ("GPU",)), leaf("reduce_step", ("GPU", "CPU"), req(RW, "a")),
         leaf("report", ("CPU", "GPU"), req(RO, "a"))],
        lambda s: [s.index("driver", (12,), children=lambda p: [s.single("reduce_step")]),
                   s.single("report")],
    )


def test_single_task_map_beside_parent_on_three_nodes():
    app = _section6_single_app()
    plan = plan_for(SECTION_6_EXAMPLE, app, "lassen", nodes=3)
    driver = first_launch(plan, "driver")
    # default placement of the driver: shards i % 3, then GPU i // 3 of the node
    assert procs(driver) == [f"n{i % 3}.GPU{i // 3}" for i in range(12)]
    steps = launches_of(plan, "reduce_step")
    assert len(steps) == 12
    origin = _position(SECTION_6_EXAMPLE, "SingleTaskMap")
    for parent, step in zip(driver.points, steps, strict=True):
        here = parent.processor
        (pm,) = step.points
        assert (pm.processor.node, pm.processor.index) == (here.node, (here.index + 1) % 4)
        assert pm.processor_origin == origin and step.map_origin == origin
    # dsl.md §6.8: parent on node 1, GPU 3 (driver point 10) -> node 1, GPU 0
    assert driver.points[10].processor.uid == "n1.GPU3"
    assert steps[10].points[0].processor.uid == "n1.GPU0"
    # report: Task init_grid,report CPU -> first CPU of the launching (top-level) node
    report = first_launch(plan, "report")
    assert procs(report) == ["n0.CPU0"]
    assert report.points[0].processor_origin == _position(SECTION_6_EXAMPLE, "Task init_grid")


def test_single_default_is_first_processor_of_the_parents_node():
    app = _section6_single_app()
    plan = plan_for("Task * GPU;", app, "lassen", nodes=3)
    driver = first_launch(plan, "driver")
    for parent, step in zip(driver.points, launches_of(plan, "reduce_step"), strict=True):
        assert step.points[0].processor.uid == f"n{parent.processor.node}.GPU0"
        assert step.points[0].processor_origin == (1, 1)  # the Task statement chose it
    assert procs(first_launch(plan, "report")) == ["n0.GPU0"]


def test_single_task_map_leaving_the_node_is_e_node():
    app = _section6_single_app()
    text = ("Task * GPU;\ngpus = Machine(GPU);\n"
            "def away(Task t) { here = t.parent.processor(gpus); "
            "return gpus[(here[0] + 1) % gpus.size[0], 0]; }\n"
            "SingleTaskMap reduce_step away;\n")
    with pytest.raises(DSLError) as info:
        plan_for(text, app, "lassen", nodes=3)
    error = info.value
    assert (error.kind, error.code, error.line, error.column) == ("execute", "E-NODE", 4, 1)
    assert error.message == ("SingleTaskMap must stay on the task's node: reduce_step runs on "
                             "node 0, but away returned node 1")


def test_single_task_map_point_set_targets():
    app = _section6_single_app()
    text = ("Task * GPU;\ngpus = Machine(GPU);\n"
            "def anyhere(Task t) { return gpus[t.parent.processor(gpus)[0], *]; }\n"
            "SingleTaskMap reduce_step anyhere;\n")
    plan = plan_for(text, app, "lassen", nodes=2)
    for step in launches_of(plan, "reduce_step"):
        (pm,) = step.points
        assert len(pm.targets) == 4 and pm.processor == pm.targets[0]
        assert {p.node for p in pm.targets} == {pm.processor.node}


def test_single_task_sees_the_top_level_task_as_parent():
    app = make_app([leaf("s", ("GPU", "CPU"), req(RW, "a"))], lambda s: [s.single("s")])
    text = ("gpus = Machine(GPU);\ncpus = Machine(CPU);\n"
            "def here(Task t) { p = t.parent.processor(cpus); return gpus[p[0], 2]; }\n"
            "SingleTaskMap s here;\n")
    plan = plan_for(text, app)
    assert procs(first_launch(plan, "s")) == ["n0.GPU2"]
    bad = "def f(Task t) { return t.parent.parent.processor(Machine(GPU)); }\nSingleTaskMap s f;"
    with pytest.raises(DSLError) as info:
        plan_for(bad, app)
    assert (info.value.kind, info.value.code) == ("map", "E-TASK")


# ---------------------------------------------------------------------------------------------
# §6.5 instance limits, §6.9 replication
# ---------------------------------------------------------------------------------------------


def test_instance_limits_follow_backpressure_switch():
    app = make_app([leaf("a", ("CPU",), req(RW, "x")), leaf("b", ("CPU",), req(RW, "x"))],
                   lambda s: [s.index("a", (2,)), s.index("b", (2,))])
    text = "InstanceLimit a 2;\nInstanceLimit b 0;\nInstanceLimit unknown 3;"
    assert plan_for(text, app).instance_limits == {"a": 2}
    off = plan_for(text, app, config=RunConfig(backpressure=False))
    assert off.instance_limits == {}
    assert [(w.code, w.line) for w in off.warnings] == [("W-LIMIT-OFF", 1)]


def test_replication_defaults_and_explicit_lists():
    app = make_app([inner("driver", ("CPU",)), leaf("t", ("CPU",), req(RW, "a"))],
                   lambda s: [s.single("driver", children=[s.index("t", (4,))])])
    assert plan_for("x = 0;", app).replicated == frozenset()
    assert plan_for("x = 0;", app, "lassen", nodes=2).replicated == frozenset({"top"})
    plan = plan_for("ControlReplicate driver;", app, "lassen", nodes=2)
    assert plan.replicated == frozenset({"driver"})
    # t is launched by the replicated driver (node 0): cyclic over the two nodes' CPUs
    assert procs(first_launch(plan, "t")) == ["n0.CPU0", "n1.CPU0", "n0.CPU0", "n1.CPU0"]


def test_replicated_task_with_regions_is_e_replicate():
    app = make_app([leaf("t", ("CPU",), req(RW, "a"))], lambda s: [s.index("t", (2,))])
    with pytest.raises(DSLError) as info:
        plan_for("x = 0;\nControlReplicate top,t;", app)
    error = info.value
    assert (error.kind, error.code, error.line, error.column) == ("execute", "E-REPLICATE", 2, 1)
    assert error.message == "Control-replicated task t must not have region arguments"


# ---------------------------------------------------------------------------------------------
# plan-wide properties
# ---------------------------------------------------------------------------------------------


def test_program_loaded_for_another_machine_is_rejected():
    app = _kinds_app()
    other = SimpleTopology(nodes=2, processors={"CPU": 1, "GPU": 4})
    compiled = compile_program("x = 0;", other, app.app_info())
    with pytest.raises(ValueError, match="another machine"):
        resolve(compiled, app, load_machine("p100-node"))


def test_print_output_is_kept():
    app = make_app([leaf("t", ("GPU",), req(RW, "a"))], lambda s: [s.index("t", (2,))])
    text = ('print("loaded");\ngpus = Machine(GPU);\n'
            'def f(Task t) { print("map {}", t.ipoint[0]); return gpus[0, t.ipoint[0]]; }\n'
            "IndexTaskMap t f;\n")
    plan = plan_for(text, app)
    assert plan.dsl_output == ("loaded", "map 0", "map 1")


def test_launch_reached_through_two_parents_is_decided_once():
    """The same child Launch object under every point of an index launch (an IndexTaskMap
    places it the same way whatever the parent): one entry in the plan."""
    def steps(s):
        shared = s.index("t", (4,))
        return [s.index("driver", (2,), children=lambda p: [shared])]

    app = make_app([inner("driver", ("GPU",)), leaf("t", ("GPU",), req(RW, "a"))], steps)
    text = "gpus = Machine(GPU);\ndef f(Task t) { return gpus[0, t.ipoint[0]]; }\nIndexTaskMap t f;"
    plan = plan_for(text, app)
    assert len(launches_of(plan, "t")) == 1
    # default placement differs per parent node when launches stay on their node
    local = make_app([inner("driver", ("GPU",)), leaf("t", ("GPU",), req(RW, "a"))],
                     steps, flags=("-dm:same_address_space",))
    spread = ("gpus = Machine(GPU);\n"
              "def f(Task t) { return gpus[t.ipoint[0], 0]; }\nIndexTaskMap driver f;")
    with pytest.raises(ValueError, match="two parents"):
        plan_for(spread, local, "lassen", nodes=2)


def test_resolution_is_deterministic():
    app = _section6_app()
    first = plan_for(SECTION_6_EXAMPLE, app, "lassen", nodes=3)
    second = plan_for(SECTION_6_EXAMPLE, app, "lassen", nodes=3)
    assert first.summary() == second.summary()
    assert list(first.launches.values()) == list(second.launches.values())
    assert first.warnings == second.warnings


def test_parent_chain_through_nested_inner_tasks():
    """leaf_step's parent is mid (a single inner task), whose parent is a driver point."""
    app = make_app(
        [inner("driver", ("GPU",)), inner("mid", ("GPU",)),
         leaf("leaf_step", ("GPU",), req(RW, "a"))],
        lambda s: [s.index("driver", (8,), children=lambda p: [
            s.single("mid", children=[s.single("leaf_step")])])],
    )
    text = ("gpus = Machine(GPU);\n"
            "def spread(Task t) { i = t.ipoint[0]; return gpus[i / 4, i % 4]; }\n"
            "def grand(Task t) { g = t.parent.parent.processor(gpus); "
            "return gpus[g[0], 3 - g[1]]; }\n"
            "IndexTaskMap driver spread;\nSingleTaskMap leaf_step grand;\n")
    plan = plan_for(text, app, "lassen", nodes=2)
    mids = launches_of(plan, "mid")
    steps = launches_of(plan, "leaf_step")
    for i, (mid, step) in enumerate(zip(mids, steps, strict=True)):
        # mid: first GPU of its parent's node; leaf_step: mirrored grandparent GPU
        assert procs(mid) == [f"n{i // 4}.GPU0"]
        assert procs(step) == [f"n{i // 4}.GPU{3 - i % 4}"]


def test_one_node_replication_has_one_shard_per_processor_of_the_kind():
    app = make_app([leaf("t", ("GPU",), req(RW, "a"))], lambda s: [s.index("t", (4,))])
    two_cpus = load_machine("p100-node").with_legion_settings(cpu=2)
    plain = plan_for("x = 0;", app, two_cpus)
    assert plain.replicated == frozenset()
    assert procs(first_launch(plain, "t")) == ["n0.GPU0", "n0.GPU1", "n0.GPU2", "n0.GPU3"]
    replicated = plan_for("ControlReplicate top;", app, two_cpus)
    assert replicated.replicated == frozenset({"top"})
    # two CPU shards on node 0 slice their points {0, 2} and {1, 3} independently
    assert procs(first_launch(replicated, "t")) == ["n0.GPU0", "n0.GPU0", "n0.GPU1", "n0.GPU1"]
