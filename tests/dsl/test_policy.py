"""Policy tables: first statement wins (dsl.md §6.10) and the lookup orders of §6.2–§6.8."""

from __future__ import annotations

import pytest

from mapper_gym.dsl import ast
from mapper_gym.dsl.parser import parse
from mapper_gym.dsl.policy import (
    DEFAULT_LAYOUT,
    LayoutSpec,
    Policy,
    build_policy,
    resolve_layout,
)


def at(line: int) -> dict[str, int]:
    return {"line": line, "column": 1}


def words(*items: str | tuple[str, str, int]) -> tuple[ast.LayoutConstraint, ...]:
    out = []
    for item in items:
        if isinstance(item, tuple):
            out.append(ast.LayoutConstraint("Align", item[1], item[2]))
        else:
            out.append(ast.LayoutConstraint(item))
    return tuple(out)


def stencil_policy() -> Policy:
    """The policy statements of the dsl.md §6 example, one per line."""
    statements: list[ast.Statement] = [
        ast.TaskStmt(("*",), ("GPU", "CPU"), **at(1)),
        ast.TaskStmt(("init_grid", "report"), ("CPU",), **at(2)),
        ast.RegionStmt("*", "*", "CPU", ("SOCKMEM", "SYSMEM"), **at(3)),
        ast.RegionStmt("*", "*", "GPU", ("FBMEM",), **at(4)),
        ast.RegionStmt("halo", "grid_ghost", "GPU", ("ZCMEM", "FBMEM"), **at(5)),
        ast.RegionStmt("stencil2d", 2, "GPU", ("ZCMEM",), **at(6)),
        ast.LayoutStmt("*", "*", "*", words("C_order"), **at(7)),
        ast.LayoutStmt("saxpy", "coeffs", "FBMEM", words("AOS", ("Align", "==", 64)), **at(8)),
        ast.InstanceLimitStmt("reduce_step", 2, **at(9)),
        ast.CollectMemoryStmt("halo", "grid_ghost", **at(10)),
        ast.IndexTaskMapStmt(("halo", "stencil2d"), "tiles", **at(11)),
        ast.IndexTaskMapStmt(("CPU",), "first_cpu", **at(12)),
        ast.SingleTaskMapStmt(("reduce_step",), "beside_parent", **at(13)),
    ]
    policy, findings = build_policy(ast.Program(tuple(statements)))
    assert findings == []
    return policy


# -- §6.2 Task ------------------------------------------------------------------------------


def test_task_priority_specific_then_star_then_none() -> None:
    policy = stencil_policy()
    assert policy.task_priority("init_grid") == ("CPU",)
    assert policy.task_priority("report") == ("CPU",)
    assert policy.task_priority("halo") == ("GPU", "CPU")
    assert policy.task_priority_traced("report") == (("CPU",), (2, 1))
    assert policy.task_priority_traced("halo") == (("GPU", "CPU"), (1, 1))
    empty, _ = build_policy(ast.Program((ast.TaskStmt(("a",), ("GPU",)),)))
    assert empty.task_priority("b") is None


# -- §6.3 Region ----------------------------------------------------------------------------


def test_region_halo_on_gpu_concatenates_level_one_then_level_four() -> None:
    policy = stencil_policy()
    # halo's argument 0 is named grid_ghost: (halo, grid_ghost) then (*, *).
    assert policy.memory_candidates("halo", ["grid_ghost", "0"], "GPU") == (
        "ZCMEM", "FBMEM", "FBMEM",
    )
    traced = policy.memory_candidates_traced("halo", ["grid_ghost", "0"], "GPU")
    assert [origin for _, origin in traced] == [(5, 1), (5, 1), (4, 1)]


def test_region_halo_on_cpu_takes_only_the_star_entry() -> None:
    policy = stencil_policy()
    # (halo, grid_ghost) has no CPU list and no * list: nothing from level one.
    assert policy.memory_candidates("halo", ["grid_ghost", "0"], "CPU") == ("SOCKMEM", "SYSMEM")


def test_region_index_key_matches_the_argument_position() -> None:
    policy = stencil_policy()
    assert policy.memory_candidates("stencil2d", ["grid", "2"], "GPU") == ("ZCMEM", "FBMEM")
    assert policy.memory_candidates("stencil2d", ["grid", "2"], "CPU") == ("SOCKMEM", "SYSMEM")
    # Argument 1 of stencil2d is not matched by the INT key 2.
    assert policy.memory_candidates("stencil2d", ["grid", "1"], "GPU") == ("FBMEM",)
    # Another task's argument 2 is not matched either.
    assert policy.memory_candidates("halo", ["x", "2"], "GPU") == ("FBMEM",)


def test_region_four_levels_in_order_and_star_proc_fallback() -> None:
    statements = (
        ast.RegionStmt("*", "*", "*", ("SYSMEM",), **at(1)),
        ast.RegionStmt("*", "b", "*", ("RDMEM",), **at(2)),
        ast.RegionStmt("t", "*", "GPU", ("ZCMEM",), **at(3)),
        ast.RegionStmt("t", "*", "*", ("SOCKMEM",), **at(4)),
        ast.RegionStmt("t", "a", "GPU", ("FBMEM",), **at(5)),
        ast.RegionStmt("t", 1, "*", ("VIRTUAL",), **at(6)),
        ast.RegionStmt("*", "a", "CPU", ("SYSMEM",), **at(7)),
    )
    policy, findings = build_policy(ast.Program(statements))
    assert findings == []
    # Candidates: a, b, then the position "1".
    names = ["a", "b", "1"]
    assert policy.memory_candidates("t", names, "GPU") == (
        "FBMEM",      # (t, a) GPU
        "VIRTUAL",    # (t, 1) *  (no GPU list there)
        "ZCMEM",      # (t, *) GPU before (t, *) *
        "RDMEM",      # (*, b) *
        "SYSMEM",     # (*, *) *
    )
    assert policy.memory_candidates("t", names, "CPU") == (
        "VIRTUAL", "SOCKMEM", "SYSMEM", "RDMEM", "SYSMEM",
    )
    assert policy.memory_candidates("u", ["a", "0"], "OMP") == ("SYSMEM",)


def test_region_repeated_candidate_names_do_not_repeat_entries() -> None:
    statements = (ast.RegionStmt("t", "a", "GPU", ("FBMEM",), **at(1)),)
    policy, _ = build_policy(ast.Program(statements))
    assert policy.memory_candidates("t", ["a", "a", "0"], "GPU") == ("FBMEM",)


# -- §6.4 Layout ----------------------------------------------------------------------------


def test_layout_first_hit_and_memory_before_star() -> None:
    policy = stencil_policy()
    hit = policy.layout_for("saxpy", ["coeffs", "1"], "FBMEM")
    assert hit == words("AOS", ("Align", "==", 64))
    assert policy.layout_traced("saxpy", ["coeffs", "1"], "FBMEM") == (hit, (8, 1))
    # Same argument in ZCMEM: (saxpy, coeffs) has no ZCMEM and no * entry -> (*, *, *).
    assert policy.layout_for("saxpy", ["coeffs", "1"], "ZCMEM") == words("C_order")
    assert policy.resolved_layout("saxpy", ["coeffs", "1"], "FBMEM") == LayoutSpec(
        aos=True, c_order=False, align=("==", 64)
    )
    assert policy.resolved_layout("halo", ["grid_ghost", "0"], "FBMEM") == LayoutSpec(
        c_order=True
    )


def test_layout_levels_are_not_concatenated_and_specific_wins_over_file_order() -> None:
    statements = (
        ast.LayoutStmt("*", "*", "FBMEM", words("AOS"), **at(1)),
        ast.LayoutStmt("t", "*", "*", words("C_order"), **at(2)),
        ast.LayoutStmt("t", 0, "*", words("Exact"), **at(3)),
        ast.LayoutStmt("t", 0, "FBMEM", words("Compact"), **at(4)),
    )
    policy, _ = build_policy(ast.Program(statements))
    assert policy.layout_for("t", ["r", "0"], "FBMEM") == words("Compact")
    assert policy.layout_for("t", ["r", "0"], "SYSMEM") == words("Exact")
    assert policy.layout_for("t", ["r", "1"], "FBMEM") == words("C_order")
    assert policy.layout_for("u", ["r", "0"], "FBMEM") == words("AOS")
    assert policy.layout_for("u", ["r", "0"], "SYSMEM") is None
    assert policy.resolved_layout("u", ["r", "0"], "SYSMEM") == DEFAULT_LAYOUT


def test_empty_layout_statement_is_a_hit_with_default_words() -> None:
    statements = (
        ast.LayoutStmt("t", "*", "*", (), **at(1)),
        ast.LayoutStmt("*", "*", "*", words("AOS"), **at(2)),
    )
    policy, _ = build_policy(ast.Program(statements))
    assert policy.layout_for("t", ["0"], "SYSMEM") == ()
    assert policy.resolved_layout("t", ["0"], "SYSMEM") == DEFAULT_LAYOUT


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        ((), LayoutSpec()),
        (("AOS", "SOA"), LayoutSpec(aos=False)),
        (("SOA", "AOS"), LayoutSpec(aos=True)),
        (("C_order", "F_order"), LayoutSpec(c_order=False)),
        (("F_order", "C_order"), LayoutSpec(c_order=True)),
        ((("Align", ">=", 16), "No_Align"), LayoutSpec(align=())),
        (("No_Align", ("Align", ">=", 16)), LayoutSpec(align=(">=", 16))),
        ((("Align", "==", 16), ("Align", "==", 128)), LayoutSpec(align=("==", 128))),
        (("Exact",), LayoutSpec(exact=True)),  # Exact without Compact still applies (§10 #11)
        (("Compact", "Exact", "AOS", "C_order"),
         LayoutSpec(aos=True, c_order=True, compact=True, exact=True)),
    ],
)
def test_resolve_layout_left_to_right(items: tuple, expected: LayoutSpec) -> None:
    assert resolve_layout(words(*items)) == expected


def test_resolve_layout_default_and_words() -> None:
    assert resolve_layout(None) == DEFAULT_LAYOUT == LayoutSpec(
        aos=False, c_order=False, align=(), compact=False, exact=False
    )
    assert resolve_layout(words("AOS", ("Align", "==", 64), "Exact")).words() == (
        "AOS", "F_order", "Align==64", "Exact",
    )


# -- §6.5–§6.9 ------------------------------------------------------------------------------


def test_collects_matches_the_four_pairs() -> None:
    policy = stencil_policy()
    assert policy.collects("halo", ["grid_ghost", "0"])
    assert not policy.collects("halo", ["grid", "1"])
    assert not policy.collects("stencil2d", ["grid_ghost", "0"])
    statements = (
        ast.CollectMemoryStmt("*", 1, **at(1)),
        ast.CollectMemoryStmt("t", "*", **at(2)),
        ast.CollectMemoryStmt("t", "*", **at(3)),  # duplicate: harmless, no warning
    )
    policy, findings = build_policy(ast.Program(statements))
    assert findings == []
    assert policy.collects("u", ["r", "1"])
    assert not policy.collects("u", ["r", "0"])
    assert policy.collects("t", ["r", "0"])
    assert policy.origins[("CollectMemory", "t", "*")] == (2, 1)
    everything, _ = build_policy(ast.Program((ast.CollectMemoryStmt("*", "*"),)))
    assert everything.collects("anything", ["x", "3"])


def test_instance_limits_zero_is_stored_but_unlimited() -> None:
    statements = (
        ast.InstanceLimitStmt("a", 0, **at(1)),
        ast.InstanceLimitStmt("a", 3, **at(2)),
        ast.InstanceLimitStmt("b", 4, legacy_kind="GPU", **at(3)),
    )
    policy, findings = build_policy(ast.Program(statements))
    assert dict(policy.instance_limits) == {"a": 0, "b": 4}
    assert policy.instance_limit("a") is None
    assert policy.instance_limit("b") == 4
    assert policy.instance_limit("c") is None
    assert [(d.code, d.line) for d in findings] == [
        ("W-LIMIT-ZERO", 1), ("W-DUP-KEY", 2), ("W-LEGACY-LIMIT", 3),
    ]
    assert all(d.severity == "warning" and d.kind == "check" for d in findings)


def test_map_function_lookup_task_then_kind_and_star_is_inert() -> None:
    policy = stencil_policy()
    assert policy.index_map_function("halo", "GPU") == "tiles"
    assert policy.index_map_function("stencil2d", "CPU") == "tiles"
    assert policy.index_map_function("saxpy", "CPU") == "first_cpu"
    assert policy.index_map_function("saxpy", "GPU") is None
    assert policy.single_map_function("reduce_step", "GPU") == "beside_parent"
    # The two tables are separate.
    assert policy.single_map_function("halo", "GPU") is None
    assert policy.index_map_function("reduce_step", "GPU") is None
    assert policy.map_origin("IndexTaskMap", "saxpy", "CPU") == (12, 1)
    assert policy.map_origin("IndexTaskMap", "saxpy", "GPU") == (0, 0)

    statements = (
        ast.IndexTaskMapStmt(("*",), "f", **at(1)),
        ast.SingleTaskMapStmt(("*",), "g", **at(2)),
        ast.SingleTaskMapStmt(("OMP",), "h", **at(3)),
    )
    policy, findings = build_policy(ast.Program(statements))
    assert policy.index_maps["*"] == "f"  # stored, as the original did
    assert policy.index_map_function("x", "GPU") is None
    assert policy.single_map_function("x", "GPU") is None
    assert policy.single_map_function("x", "OMP") == "h"
    # A kind that has no key (IO) never reaches a kind entry.
    assert policy.single_map_function("x", "IO") is None
    assert [(d.code, d.line) for d in findings] == [("W-STAR-INERT", 1), ("W-STAR-INERT", 2)]


def test_replicate_none_without_statement_and_exact_set_with() -> None:
    assert stencil_policy().replicate is None
    assert stencil_policy().replicates("top") is None
    statements = (
        ast.ControlReplicateStmt(("top", "main"), **at(1)),
        ast.ControlReplicateStmt(("top",), **at(2)),  # a set: no warning
    )
    policy, findings = build_policy(ast.Program(statements))
    assert findings == []
    assert policy.replicate == frozenset({"top", "main"})
    assert policy.replicates("main") is True
    assert policy.replicates("halo") is False


# -- §6.10 first statement wins -----------------------------------------------------------


def test_first_statement_wins_for_every_keyed_table() -> None:
    statements = (
        ast.TaskStmt(("a", "b"), ("GPU",), **at(1)),
        ast.TaskStmt(("b", "c"), ("CPU",), **at(2)),
        ast.RegionStmt("a", "r", "GPU", ("FBMEM",), **at(3)),
        ast.RegionStmt("a", "r", "GPU", ("ZCMEM",), **at(4)),
        ast.RegionStmt("a", "r", "*", ("ZCMEM",), **at(5)),  # other key: kept
        ast.LayoutStmt("a", 0, "FBMEM", words("AOS"), **at(6)),
        ast.LayoutStmt("a", 0, "FBMEM", words("SOA"), **at(7)),
        ast.IndexTaskMapStmt(("halo",), "tiles", **at(8)),
        ast.IndexTaskMapStmt(("halo",), "other", **at(9)),
        ast.SingleTaskMapStmt(("halo",), "other", **at(10)),  # separate table: kept
    )
    policy, findings = build_policy(ast.Program(statements))
    assert dict(policy.task_kinds) == {"a": ("GPU",), "b": ("GPU",), "c": ("CPU",)}
    assert dict(policy.regions[("a", "r")]) == {"GPU": ("FBMEM",), "*": ("ZCMEM",)}
    assert dict(policy.layouts[("a", 0)]) == {"FBMEM": words("AOS")}
    assert policy.index_map_function("halo", "GPU") == "tiles"
    assert policy.single_map_function("halo", "GPU") == "other"
    dups = [d for d in findings if d.code == "W-DUP-KEY"]
    assert [(d.line, d.column) for d in dups] == [(2, 1), (4, 1), (7, 1), (9, 1)]
    assert "Task b" in dups[0].message and "line 1" in dups[0].message
    assert "Region a r GPU" in dups[1].message and "line 3" in dups[1].message
    assert "Layout a 0 FBMEM" in dups[2].message and "line 6" in dups[2].message
    assert "IndexTaskMap halo" in dups[3].message and "line 8" in dups[3].message
    assert all(d.severity == "warning" for d in findings)
    assert policy.origins[("Task", "c")] == (2, 1)


def test_policy_tables_are_read_only() -> None:
    policy = stencil_policy()
    with pytest.raises(TypeError):
        policy.task_kinds["x"] = ("GPU",)  # type: ignore[index]
    with pytest.raises(TypeError):
        policy.regions[("*", "*")]["OMP"] = ("SYSMEM",)  # type: ignore[index]


# -- the same tables from program text ------------------------------------------------------

STENCIL_TEXT = """\
Task * GPU,CPU;
Task init_grid,report CPU;
Region * * CPU SOCKMEM,SYSMEM;
Region * * GPU FBMEM;
Region halo grid_ghost GPU ZCMEM,FBMEM;
Region stencil2d 2 GPU ZCMEM;
Layout * * * C_order;
Layout saxpy coeffs FBMEM AOS Align==64;
InstanceLimit reduce_step 2;
CollectMemory halo grid_ghost;
IndexTaskMap halo,stencil2d tiles;
IndexTaskMap CPU first_cpu;
SingleTaskMap reduce_step beside_parent;
"""


def test_parsed_stencil_policy_equals_the_hand_built_one() -> None:
    policy, findings = build_policy(parse(STENCIL_TEXT))
    assert findings == []
    assert policy == stencil_policy()


def test_parsed_program_section_6_3_examples() -> None:
    policy, _ = build_policy(parse(STENCIL_TEXT))
    assert policy.memory_candidates("halo", ["grid_ghost", "0"], "GPU") == (
        "ZCMEM", "FBMEM", "FBMEM",
    )
    assert policy.memory_candidates("stencil2d", ["2"], "GPU")[0] == "ZCMEM"
    assert policy.memory_candidates("stencil2d", ["2"], "CPU") == ("SOCKMEM", "SYSMEM")


def test_parsed_first_wins_example_of_section_6_10() -> None:
    policy, findings = build_policy(parse("IndexTaskMap halo tiles;\nIndexTaskMap halo other;\n"))
    assert policy.index_map_function("halo", "GPU") == "tiles"
    assert [(d.code, d.line, d.column) for d in findings] == [("W-DUP-KEY", 2, 1)]
    assert "line 1" in findings[0].message


def test_parsed_legacy_limit_and_no_align() -> None:
    text = "InstanceLimit t * 3;\nLayout t 0 * AOS Align==64 No_Align C_order;\n"
    policy, findings = build_policy(parse(text))
    assert policy.instance_limit("t") == 3
    assert [d.code for d in findings] == ["W-LEGACY-LIMIT"]
    assert policy.resolved_layout("t", ["r", "0"], "FBMEM") == LayoutSpec(aos=True, c_order=True)
