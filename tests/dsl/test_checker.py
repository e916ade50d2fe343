"""The check phase (dsl.md §9.3): every code triggered and not triggered, positions, order."""

from __future__ import annotations

import textwrap

import pytest

from mapper_gym.dsl import ast
from mapper_gym.dsl.checker import check
from mapper_gym.dsl.context import AppInfo, SimpleTopology, TaskInfo
from mapper_gym.dsl.errors import Diagnostic
from mapper_gym.dsl.parser import parse
from tests.dsl.spec_programs import SECTION_6_EXAMPLE


def run(text: str, app: AppInfo | None = None, topology=None) -> list[Diagnostic]:
    return check(parse(textwrap.dedent(text).lstrip("\n")), app, topology)


def found(diags: list[Diagnostic]) -> list[tuple[str, int, int]]:
    return [(d.code, d.line, d.column) for d in diags]


def only(diags: list[Diagnostic], code: str) -> list[Diagnostic]:
    return [d for d in diags if d.code == code]


STENCIL = SECTION_6_EXAMPLE  # the §6 example of dsl.md

STENCIL_APP = AppInfo(
    name="stencil",
    tasks=(
        TaskInfo("top", inner=True, variants=("CPU",)),
        TaskInfo("init_grid", regions=(("grid",),), variants=("CPU",)),
        TaskInfo("report", regions=(("grid",),), variants=("CPU",)),
        TaskInfo("halo", regions=(("grid_ghost", "ghosts", "grid"),), index_launch=True,
                 single_launch=False, variants=("CPU", "GPU")),
        TaskInfo("stencil2d", regions=(("grid",), ("grid_ghost",), ("weights",)),
                 index_launch=True, single_launch=False, variants=("CPU", "GPU")),
        TaskInfo("saxpy", regions=(("x",), ("coeffs",)), index_launch=True,
                 single_launch=False, variants=("CPU", "GPU")),
        TaskInfo("reduce_step", regions=(("grid",),), variants=("CPU", "GPU")),
    ),
)
GPU_MACHINE = SimpleTopology(nodes=3, processors={"CPU": 8, "GPU": 4},
                             memories=frozenset({"SYSMEM", "SOCKMEM", "ZCMEM", "FBMEM"}))


# -- a clean program --------------------------------------------------------------------------


def test_stencil_example_is_clean_with_and_without_context() -> None:
    assert run(STENCIL) == []
    assert run(STENCIL, STENCIL_APP, GPU_MACHINE) == []


# -- E-GLOBAL-DUP -----------------------------------------------------------------------------


def test_global_dup_second_assignment_and_assignment_over_def() -> None:
    diags = run("""
        x = 1;
        x = 2;
        def f(Task t) { return t; }
        f = 3;
    """)
    assert found(diags) == [("E-GLOBAL-DUP", 2, 1), ("E-GLOBAL-DUP", 4, 1)]
    assert diags[0].message == "AssignNode multiple x cause conflicts in global_symbol!"
    assert diags[1].message == "AssignNode multiple f cause conflicts in global_symbol!"
    assert all(d.kind == "check" and d.severity == "error" for d in diags)


def test_global_dup_not_for_locals_shadowing_globals() -> None:
    assert run("""
        x = 1;
        def f(Task t) { x = 2; x = x + 1; return x; }
        y = f(0);
    """) == []


# -- E-MAP-UNDEF / E-MAP-NOTFUNC / E-MAP-SIG --------------------------------------------------


def test_map_function_undefined_or_defined_too_late() -> None:
    diags = run("""
        IndexTaskMap halo tiles;
        SingleTaskMap top tiles;
        def tiles(Task t) { return Machine(GPU)[0, 0]; }
        SingleTaskMap other nowhere;
    """)
    assert found(diags) == [("E-MAP-UNDEF", 1, 1), ("E-MAP-UNDEF", 2, 1), ("E-MAP-UNDEF", 4, 1)]
    assert diags[0].message == "IndexTaskMap's function undefined"
    assert diags[1].message == "SingleTaskMap's function undefined"
    assert diags[0].hint is not None and "line 3" in diags[0].hint
    assert diags[2].hint is None


def test_map_function_bound_to_a_value() -> None:
    diags = run("""
        f = Machine(GPU);
        IndexTaskMap halo f;
        SingleTaskMap top f;
    """)
    assert found(diags) == [("E-MAP-NOTFUNC", 2, 1), ("E-MAP-NOTFUNC", 3, 1)]
    assert diags[0].message == "IndexTaskMap's mapping function is undefined"
    assert diags[1].message == "SingleTaskMap's mapping function is undefined"


@pytest.mark.parametrize("params", ["int t", "Task a, Task b", "", "IPoint t"])
def test_map_function_signature(params: str) -> None:
    diags = run(f"""
        def f({params}) {{ return Machine(GPU)[0, 0]; }}
        IndexTaskMap halo f;
        SingleTaskMap top f;
    """)
    assert found(diags) == [("E-MAP-SIG", 2, 1), ("E-MAP-SIG", 3, 1)]
    assert diags[0].message == "Entry mapping function's definition must be like func(Task t)"
    assert diags[1].message == "Entry mapping function's must be like func(Task t)"


def test_map_function_signature_ok_with_any_parameter_name() -> None:
    assert run("""
        def f(Task task) { return Machine(GPU)[0, 0]; }
        IndexTaskMap halo f;
        SingleTaskMap GPU f;
    """) == []


# -- E-NAME: scoping rules of §5.2 ------------------------------------------------------------


def test_name_top_level_must_be_bound_earlier() -> None:
    diags = run("""
        a = b + 1;
        b = 2;
        c = b + 1;
    """)
    assert found(diags) == [("E-NAME", 1, 5)]
    assert diags[0].message == "b not found"
    assert diags[0].hint is not None and "line 2" in diags[0].hint


def test_name_top_level_self_reference() -> None:
    assert found(run("x = x;")) == [("E-NAME", 1, 5)]


def test_name_top_level_call_of_function_defined_later() -> None:
    diags = run("""
        y = f(1);
        def f(int a) { return a; }
    """)
    assert found(diags) == [("E-NAME", 1, 5)]
    assert diags[0].message == "f not found"


def test_name_in_body_global_defined_later_is_fine() -> None:
    assert run("""
        def f(Task t) { return gpus[0, helper(1)]; }
        def helper(int i) { return i - 1; }
        gpus = Machine(GPU);
        IndexTaskMap halo f;
    """) == []


def test_name_in_body_local_used_before_assignment() -> None:
    diags = run("""
        def f(Task t) {
            y = x + 1;
            x = 2;
            return y;
        }
        IndexTaskMap halo f;
    """)
    assert found(diags) == [("E-NAME", 2, 9)]
    assert diags[0].message == "x not found"
    assert diags[0].severity == "error"


def test_name_mgpu_not_found_matches_the_autoguide_substring() -> None:
    diags = run("""
        def f(Task t) {
            return mgpu[t.ipoint[0], 0];
        }
        IndexTaskMap halo f;
    """)
    assert found(diags) == [("E-NAME", 2, 12)]
    assert diags[0].feedback() == "Compile Error: mgpu not found"


def test_name_callers_locals_are_invisible() -> None:
    diags = run("""
        def g(Task t) { return y; }
        def f(Task t) { y = 1; return g(t); }
        IndexTaskMap halo f;
    """)
    assert found(diags) == [("E-NAME", 1, 24)]


def test_name_comprehension_variable_scope() -> None:
    diags = run("""
        s = (1, 2, 3);
        d = tuple(v * 2 for v in s);
        e = v;
        def f(Task t) {
            r = tuple(tuple(i + j for j in s) for i in t.ispace);
            return i;
        }
        IndexTaskMap halo f;
    """)
    assert found(diags) == [("E-NAME", 3, 5), ("E-NAME", 6, 12)]


def test_name_comprehension_range_is_outside_the_variable_scope() -> None:
    diags = run("d = tuple(v for v in v);")
    assert found(diags) == [("E-NAME", 1, 22)]


def test_name_parameters_are_visible() -> None:
    assert run("""
        def f(int a, IPoint p) { return a + p[0]; }
        x = f(1, (2, 3));
    """) == []


# -- E-NOTFUNC / E-FUNCVALUE / E-ARGC ---------------------------------------------------------


def test_calling_a_value() -> None:
    diags = run("""
        x = 1;
        y = x(2);
        def g(int a) { return a; }
        def f(Task t) { g = 1; return g(t); }
        IndexTaskMap halo f;
    """)
    assert found(diags) == [("E-NOTFUNC", 2, 5), ("E-NOTFUNC", 4, 31)]
    assert diags[0].message == "x is not a function"
    assert diags[1].message == "g is not a function"


def test_function_used_as_a_value() -> None:
    diags = run("""
        def g(int a) { return a; }
        y = g;
        z = (g, 1);
        def f(Task t) { w = g + 1; return g; }
        IndexTaskMap halo f;
    """)
    assert found(diags) == [
        ("E-FUNCVALUE", 2, 5), ("E-FUNCVALUE", 3, 6), ("E-FUNCVALUE", 4, 21),
        ("E-FUNCVALUE", 4, 35),
    ]
    assert {d.message for d in diags} == {"Cannot Assign FuncDefType"}


def test_function_name_shadowed_by_parameter_or_comprehension_is_a_value() -> None:
    assert run("""
        def g(int a) { return a; }
        def f(int g) { return g + 1; }
        def h(Task t) { return tuple(g for g in t.ispace); }
        x = f(1);
        IndexTaskMap halo h;
    """) == []


def test_argument_count() -> None:
    diags = run("""
        def g(int a, int b) { return a + b; }
        p = (1, 2);
        x = g(1);
        y = g(1, 2, 3);
        z = g(*p);
        w = g(1, *p);
        v = g(1, 2);
    """)
    assert found(diags) == [("E-ARGC", 3, 5), ("E-ARGC", 4, 5)]
    assert diags[0].message == "argument number mismatch!"


def test_zero_parameter_function() -> None:
    assert found(run("""
        def k() { return 3; }
        a = k();
        b = k(1);
    """)) == [("E-ARGC", 3, 5)]


# -- E-METHOD-ARGC ----------------------------------------------------------------------------


def test_method_arity() -> None:
    diags = run("""
        m = Machine(GPU);
        a = m.split(0);
        b = m.slice(0, 1);
        c = m.reverse(0, 1);
        d = m.balance_split(0, 2, 3);
        e = m.merge(0, 1).swap(0);
        p = (0, 1);
        f = m.merge(*p);
        g = m.slice(1, *p);
        h = m.split(1, 2).auto_split(0, (2, 2)).greedy_split(0, (4, 1));
    """)
    assert found(diags) == [
        ("E-METHOD-ARGC", 2, 5), ("E-METHOD-ARGC", 3, 5), ("E-METHOD-ARGC", 4, 5),
        ("E-METHOD-ARGC", 5, 5), ("E-METHOD-ARGC", 6, 5),
    ]
    assert [d.message for d in diags] == [
        "split() takes 2 arguments, got 1",
        "slice() takes 3 arguments, got 2",
        "reverse() takes 1 arguments, got 2",
        "balance_split() takes 2 arguments, got 3",
        "swap() takes 2 arguments, got 1",
    ]


def test_processor_method_arity_in_a_body() -> None:
    diags = run("""
        g = Machine(GPU);
        def f(Task t) { return g[*t.parent.processor(g, g)]; }
        def ok(Task t) { return g[*t.parent.processor(g)]; }
        SingleTaskMap top f;
        SingleTaskMap reduce ok;
    """)
    assert found(diags) == [("E-METHOD-ARGC", 2, 27)]
    assert diags[0].message == "processor() takes 1 arguments, got 2"


# -- E-NORETURN / W-DEAD-CODE -----------------------------------------------------------------


def test_function_without_return() -> None:
    diags = run("""
        def f(Task t) {
            x = 1;
            print("{}", x);
        }
        IndexTaskMap halo f;
    """)
    assert found(diags) == [("E-NORETURN", 1, 1)]
    assert diags[0].message == "Error: function without return"


def test_dead_code_after_return_is_a_warning_and_not_analysed() -> None:
    diags = run("""
        def f(Task t) {
            return Machine(GPU)[0, 0];
            x = undefined_name;
            return x;
        }
        IndexTaskMap halo f;
    """)
    assert found(diags) == [("W-DEAD-CODE", 3, 5)]
    assert diags[0].severity == "warning"


# -- print ------------------------------------------------------------------------------------


def test_print_argument_counts() -> None:
    diags = run("""
        print("{} and {}", 1);
        print("{}", 1, 2);
        print("plain");
        print("{} {}", 1, 2);
        print("{{}}", 1);
        def f(Task t) { print("{}"); return Machine(GPU)[0, 0]; }
        IndexTaskMap halo f;
    """)
    assert found(diags) == [
        ("E-PRINT-ARGS", 1, 1), ("W-PRINT-EXTRA", 2, 1), ("E-PRINT-ARGS", 6, 17),
    ]
    assert diags[0].message == "Not enough arguments for print()"
    assert diags[1].severity == "warning"


def test_print_arguments_are_checked_for_names() -> None:
    assert found(run('print("{}", nope);')) == [("E-NAME", 1, 13)]


# -- E-ALIGN ----------------------------------------------------------------------------------


def test_align_values() -> None:
    diags = run("""
        Layout * * * Align==48;
        Layout a * * SOA Align>=0;
        Layout b * * Align<2097152 C_order;
        Layout c * * Align==1 Align<=1048576 Align!=64;
    """)
    assert found(diags) == [("E-ALIGN", 1, 14), ("E-ALIGN", 2, 18), ("E-ALIGN", 3, 14)]
    assert diags[0].message == "Align value must be a power of two between 1 and 1048576"


# -- W-DUP-DEF --------------------------------------------------------------------------------


def test_duplicate_def_is_ignored_with_a_warning() -> None:
    diags = run("""
        def f(Task t) { return Machine(GPU)[0, 0]; }
        def f(int a) { return a; }
        x = 1;
        def x(int a) { return a; }
        IndexTaskMap halo f;
    """)
    assert found(diags) == [("W-DUP-DEF", 2, 1), ("W-DUP-DEF", 4, 1)]
    assert "line 1" in diags[0].message
    # The first def is the one used: no E-MAP-SIG for the (int a) duplicate.


def test_duplicate_def_body_findings_are_demoted() -> None:
    diags = run("""
        def f(Task t) { return Machine(GPU)[0, 0]; }
        def f(Task t) { return nope; }
        IndexTaskMap halo f;
    """)
    assert found(diags) == [("W-DUP-DEF", 2, 1), ("W-UNREACHABLE", 2, 24)]


# -- reachability: W-UNREACHABLE --------------------------------------------------------------


def test_unused_function_findings_are_warnings_that_keep_the_original_message() -> None:
    diags = run("""
        def unused(Task t) {
            y = mgpu[0, 0];
            x = helper(1, 2);
        }
        def helper(int a) { return a; }
    """)
    assert found(diags) == [
        ("W-UNREACHABLE", 1, 1), ("W-UNREACHABLE", 2, 9), ("W-UNREACHABLE", 3, 9),
    ]
    assert all(d.severity == "warning" for d in diags)
    assert diags[1].message.startswith("mgpu not found")
    assert "E-NAME" in diags[1].message and "unused" in diags[1].message
    assert diags[0].message.startswith("Error: function without return")
    assert diags[2].message.startswith("argument number mismatch!")
    assert diags[1].context == {"demoted": "E-NAME"}


@pytest.mark.parametrize(
    "use",
    [
        "IndexTaskMap halo entry;",
        "SingleTaskMap top entry;",
        "x = entry(0);",
        'print("{}", entry(0));',
    ],
)
def test_reachable_through_map_statement_top_level_call_and_transitive_calls(use: str) -> None:
    diags = run(f"""
        def leaf(int i) {{ return nope + i; }}
        def middle(int i) {{ return leaf(i); }}
        def entry(Task t) {{ return Machine(GPU)[0, middle(0)]; }}
        {use}
    """)
    assert found(diags) == [("E-NAME", 1, 26)]
    assert diags[0].severity == "error"


def test_call_from_unreachable_function_does_not_make_reachable() -> None:
    diags = run("""
        def leaf(int i) { return nope + i; }
        def unused(Task t) { return leaf(0); }
    """)
    assert found(diags) == [("W-UNREACHABLE", 1, 26)]


def test_mutual_recursion_reachability() -> None:
    diags = run("""
        def even(int n) { return n == 0 ? True : odd(n - 1); }
        def odd(int n) { return n == 0 ? False : even(n - 1, 1); }
        x = even(4);
    """)
    assert found(diags) == [("E-ARGC", 2, 42)]
    diags = run("""
        def even(int n) { return n == 0 ? True : odd(n - 1); }
        def odd(int n) { return n == 0 ? False : even(n - 1, 1); }
    """)
    assert found(diags) == [("W-UNREACHABLE", 2, 42)]


def test_map_statement_naming_a_later_def_makes_it_reachable() -> None:
    diags = run("""
        IndexTaskMap halo f;
        def f(Task t) { return nope; }
    """)
    assert found(diags) == [("E-MAP-UNDEF", 1, 1), ("E-NAME", 2, 24)]


def test_top_level_findings_are_never_demoted() -> None:
    diags = run("""
        def f(int a) { return a; }
        x = f(1, 2);
    """)
    assert found(diags) == [("E-ARGC", 2, 5)]
    assert diags[0].severity == "error"


# -- policy warnings are part of the check --------------------------------------------------


def test_policy_warnings_are_reported_by_check() -> None:
    diags = run("""
        def f(Task t) { return Machine(GPU)[0, 0]; }
        IndexTaskMap halo f;
        IndexTaskMap halo f;
        SingleTaskMap * f;
        InstanceLimit halo GPU 0;
    """)
    assert found(diags) == [
        ("W-DUP-KEY", 3, 1), ("W-STAR-INERT", 4, 1), ("W-LEGACY-LIMIT", 5, 1),
        ("W-LIMIT-ZERO", 5, 1),
    ]
    assert "line 2" in diags[0].message


# -- sorting ----------------------------------------------------------------------------------


def test_findings_sorted_by_position_across_kinds() -> None:
    diags = run("""
        def f(Task t) { return nope; }
        a = zz;
        IndexTaskMap halo f;
        Layout * * * Align==3;
        a = 2;
        def f(int q) { return q; }
    """)
    assert found(diags) == [
        ("E-NAME", 1, 24), ("E-NAME", 2, 5), ("E-ALIGN", 4, 14), ("E-GLOBAL-DUP", 5, 1),
        ("W-DUP-DEF", 6, 1),
    ]
    positions = [(d.line, d.column) for d in diags]
    assert positions == sorted(positions)


# -- application and machine warnings ---------------------------------------------------------


def test_unknown_task_and_region_names_with_app() -> None:
    diags = run("""
        Task hallo GPU;
        Region halo ghost GPU FBMEM;
        Layout hallo * * AOS;
        InstanceLimit nosuch 2;
        CollectMemory * nosuch;
        ControlReplicate top,mian;
        def f(Task t) { return Machine(GPU)[0, 0]; }
        IndexTaskMap halo,nosuch f;
        IndexTaskMap GPU f;
    """, STENCIL_APP)
    assert found(diags) == [
        ("W-UNKNOWN-NAME", 1, 1), ("W-UNKNOWN-NAME", 2, 1), ("W-UNKNOWN-NAME", 3, 1),
        ("W-UNKNOWN-NAME", 4, 1), ("W-UNKNOWN-NAME", 5, 1), ("W-UNKNOWN-NAME", 6, 1),
        ("W-UNKNOWN-NAME", 8, 1),
    ]
    assert "hallo" in diags[0].message
    assert "ghost" in diags[1].message
    assert "mian" in diags[5].message
    assert "nosuch" in diags[6].message  # GPU is a kind key, not a task name


def test_no_unknown_name_warnings_without_app() -> None:
    assert run("Task hallo GPU;\nRegion x y GPU FBMEM;") == []


def test_statements_that_never_take_effect_with_app() -> None:
    diags = run("""
        def f(Task t) { return Machine(GPU)[0, 0]; }
        IndexTaskMap reduce_step f;
        SingleTaskMap halo f;
        Region halo 1 GPU FBMEM;
        Region halo weights GPU FBMEM;
        Region * 3 * SYSMEM;
        Task init_grid GPU,CPU;
        Region report * GPU ZCMEM;
        Layout * * VIRTUAL AOS;
    """, STENCIL_APP)
    assert found(diags) == [
        ("W-NO-EFFECT", 2, 1), ("W-NO-EFFECT", 3, 1), ("W-NO-EFFECT", 4, 1),
        ("W-NO-EFFECT", 5, 1), ("W-NO-EFFECT", 6, 1), ("W-NO-EFFECT", 7, 1),
        ("W-NO-EFFECT", 8, 1), ("W-NO-EFFECT", 9, 1),
    ]
    assert all(d.severity == "warning" for d in diags)
    assert "never index-launched" in diags[0].message
    assert "never single-launched" in diags[1].message
    assert "index 1" in diags[2].message
    assert "weights" in diags[3].message
    assert "GPU variant" in diags[5].message


def test_effect_warnings_negative_cases_with_app() -> None:
    assert run("""
        def f(Task t) { return Machine(GPU)[0, 0]; }
        IndexTaskMap halo,stencil2d f;
        IndexTaskMap GPU f;
        SingleTaskMap reduce_step f;
        SingleTaskMap CPU f;
        Region stencil2d 2 GPU ZCMEM;
        Region * 2 * SYSMEM;
        Region stencil2d weights GPU FBMEM;
        Region halo grid GPU FBMEM;
        Layout saxpy coeffs * AOS;
        CollectMemory * grid_ghost;
        Task top CPU;
    """, STENCIL_APP) == []


def test_machine_warnings_with_topology() -> None:
    cpu_only = SimpleTopology(nodes=2, processors={"CPU": 4},
                              memories=frozenset({"SYSMEM", "SOCKMEM"}))
    diags = run("""
        Task * GPU,CPU;
        Region * * GPU FBMEM;
        Region * * CPU FBMEM,SYSMEM,ZCMEM,VIRTUAL;
        Region * * * FBMEM,SOCKMEM;
        Layout * * FBMEM AOS;
        Layout * * SOCKMEM AOS;
        def f(Task t) { return Machine(CPU)[0, 0]; }
        IndexTaskMap OMP f;
        IndexTaskMap CPU f;
    """, topology=cpu_only)
    assert found(diags) == [
        ("W-NO-PROC-KIND", 1, 1),
        ("W-NO-PROC-KIND", 2, 1),
        ("W-MEM-UNUSABLE", 3, 1), ("W-MEM-UNUSABLE", 3, 1),
        ("W-MEM-UNUSABLE", 4, 1),
        ("W-MEM-UNUSABLE", 5, 1),
        ("W-NO-PROC-KIND", 8, 1),
    ]
    assert "no GPU processors" in diags[0].message
    assert "CPU processors cannot use FBMEM" in diags[2].message
    assert "ZCMEM" in diags[3].message
    assert "OMP" in diags[6].message


def test_machine_warnings_negative_on_gpu_machine() -> None:
    assert run("""
        Task * GPU,CPU;
        Region * * GPU ZCMEM,FBMEM;
        Region * * CPU SOCKMEM,SYSMEM,ZCMEM;
        Region * * * FBMEM;
        Layout * * FBMEM AOS;
        def f(Task t) { return Machine(GPU)[0, 0]; }
        IndexTaskMap GPU f;
        SingleTaskMap CPU f;
    """, topology=GPU_MACHINE) == []


# -- hand-built ASTs: limits, positions without a parser, internal errors -------------------


def deep_sum(depth: int) -> ast.Expr:
    expr: ast.Expr = ast.IntLit(1, line=1, column=1)
    for _ in range(depth - 1):
        expr = ast.Neg(expr, line=1, column=1)
    return expr


def test_expression_depth_limit_counts_ast_height() -> None:
    ok = ast.Program((ast.Assign("x", deep_sum(64), line=1, column=1),))
    assert check(ok) == []
    bad = ast.Program((ast.Assign("x", deep_sum(65), line=1, column=1),))
    diags = check(bad)
    assert found(diags) == [("E-LIMIT", 1, 1)]
    assert diags[0].message == "Resource limit exceeded: expression depth (limit 64)"


def test_very_deep_hand_built_expression_does_not_recurse_without_bound() -> None:
    diags = check(ast.Program((ast.Assign("x", deep_sum(5000), line=1, column=1),)))
    assert [d.code for d in diags] == ["E-LIMIT"]


def test_structural_count_limits() -> None:
    params = tuple(ast.Param("int", f"p{i}", line=1, column=7 + 6 * i) for i in range(17))
    body = tuple(ast.Assign(f"v{i}", ast.IntLit(i), line=2 + i, column=5) for i in range(200))
    body += (ast.Return(ast.IntLit(0), line=202, column=5),)
    func = ast.FuncDef("f", params, body, line=1, column=1)
    tasks = tuple(f"t{i}" for i in range(257))
    program = ast.Program((func, ast.TaskStmt(tasks, ("CPU",), line=300, column=1)))
    diags = check(program)
    assert found(diags) == [
        ("E-LIMIT", 1, 103), ("E-LIMIT", 202, 5), ("E-LIMIT", 300, 1),
    ]
    assert [d.message for d in diags] == [
        "Resource limit exceeded: parameters (limit 16)",
        "Resource limit exceeded: statements in a function body (limit 200)",
        "Resource limit exceeded: names in one list (limit 256)",
    ]


def test_top_level_and_def_count_limits() -> None:
    defs = tuple(
        ast.FuncDef(f"f{i}", (), (ast.Return(ast.IntLit(0), line=i + 1, column=12),),
                    line=i + 1, column=1)
        for i in range(201)
    )
    assigns = tuple(
        ast.Assign(f"x{i}", ast.IntLit(0), line=300 + i, column=1) for i in range(800)
    )
    diags = check(ast.Program(defs + assigns))
    assert found(diags) == [("E-LIMIT", 201, 1), ("E-LIMIT", 1099, 1)]
    assert diags[0].message == "Resource limit exceeded: function definitions (limit 200)"
    assert diags[1].message == "Resource limit exceeded: top-level statements (limit 1000)"


def test_hand_built_positions_fall_back_to_the_statement() -> None:
    # Nodes built without positions (line 0) are reported at the enclosing statement.
    program = ast.Program((
        ast.Assign("y", ast.Binary("+", ast.Name("nope"), ast.IntLit(1)), line=4, column=1),
    ))
    assert found(check(program)) == [("E-NAME", 4, 1)]


def test_internal_failure_becomes_a_structured_finding() -> None:
    program = ast.Program((
        ast.Assign("x", ast.IntLit(1), line=1, column=1),
        ast.Assign("y", "not a node", line=2, column=1),  # type: ignore[arg-type]
    ))
    diags = check(program)
    assert found(diags) == [("E-INTERNAL", 2, 1)]
    assert diags[0].message == "Internal error"


def test_every_finding_has_kind_check() -> None:
    diags = run("""
        def f(int a) { return nope; }
        IndexTaskMap halo f;
        IndexTaskMap halo f;
        Layout * * * Align==3;
        print("{}");
        Task hallo GPU;
    """, STENCIL_APP, GPU_MACHINE)
    assert len(diags) >= 5
    assert {d.kind for d in diags} == {"check"}
