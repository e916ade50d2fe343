"""AutoGuide (mapper_gym.feedback): rule coverage, the paper's cases, levels, performance text."""

from __future__ import annotations

import pickle
import re
import tomllib
from pathlib import Path
from types import SimpleNamespace

import pytest

from mapper_gym import feedback as fb
from mapper_gym.dsl.context import SimpleTopology
from mapper_gym.dsl.errors import Diagnostic, DSLError
from mapper_gym.dsl.interpreter import TaskRef
from mapper_gym.dsl.parser import parse
from mapper_gym.dsl.pipeline import compile_program
from mapper_gym.result import RunResult, RunStats, failed_result

ROOT = Path(__file__).resolve().parents[1]
TOPOLOGY = SimpleTopology(nodes=1, processors={"GPU": 4, "CPU": 2})

#: Codes the specs name that the code base may not produce yet (simulator and back ends).
SPEC_CODES = (
    "E-SYNTAX", "E-LEX-CHAR", "E-LEX-STRING", "E-LEX-INT", "E-LEX-UTF8",
    "E-GLOBAL-DUP", "E-MAP-UNDEF", "E-MAP-NOTFUNC", "E-MAP-SIG", "E-NAME", "E-NOTFUNC",
    "E-FUNCVALUE", "E-ARGC", "E-METHOD-ARGC", "E-NORETURN", "E-PRINT-ARGS", "E-ALIGN", "E-LIMIT",
    "E-TYPE", "E-ARGTYPE", "E-ZERODIV", "E-OVERFLOW", "E-INDEX", "E-ATTR", "E-COMP", "E-TASK",
    "E-RETURN", "E-KIND", "E-MSPACE", "E-BOUNDS", "E-INTERNAL",
    "E-LAYOUT-STRIDE", "E-LAYOUT-BLAS", "E-NODE", "E-VIRTUAL", "E-REPLICATE", "E-OOM",
    "E-TIMEOUT",
    "W-DUP-KEY", "W-DUP-DEF", "W-STAR-INERT", "W-LEGACY-LIMIT", "W-LIMIT-ZERO", "W-DEAD-CODE",
    "W-PRINT-EXTRA", "W-UNREACHABLE", "W-UNKNOWN-NAME", "W-NO-EFFECT", "W-NO-PROC-KIND",
    "W-MEM-UNUSABLE",
)

_CODE_LITERAL = re.compile(r"""["']([EW]-[A-Z0-9]+(?:-[A-Z0-9]+)*)["']""")


def codes_in_source() -> set[str]:
    """Every ``"E-..."``/``"W-..."`` string literal of the library and the applications."""
    found: set[str] = set()
    for package in ("mapper_gym", "benchmarks", "agents", "baselines", "experiments"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if path.name == "feedback.py" and path.parent.name == "mapper_gym":
                continue
            found.update(_CODE_LITERAL.findall(path.read_text(encoding="utf-8")))
    return found


def failed(diagnostic: Diagnostic, **kwargs) -> RunResult:
    return failed_result(diagnostic, backend="sim", unit="GFLOPS", **kwargs)


def diag(code: str, message: str, kind: str = "execute", **kwargs) -> Diagnostic:
    return Diagnostic(kind=kind, code=code, message=message, **kwargs)


def compile_error(text: str) -> Diagnostic:
    with pytest.raises(DSLError) as info:
        compile_program(text, TOPOLOGY)
    return info.value.diagnostic


def map_error(text: str, func: str, task: TaskRef, kind: str = "GPU") -> Diagnostic:
    compiled = compile_program(text, TOPOLOGY)
    with pytest.raises(DSLError) as info:
        compiled.loaded.call_entry(func, task, kind=kind)
    return info.value.diagnostic


def index_point(name: str, point: tuple[int, ...], space: tuple[int, ...]) -> TaskRef:
    return TaskRef(name, ipoint=point, ispace=space, index_launch=True)


# -- the table ---------------------------------------------------------------------------------


def test_shipped_table_is_valid_and_ends_with_a_catch_all():
    table = fb.load_rules()
    assert table.rules[-1].is_catch_all
    assert sum(rule.is_catch_all and rule.severity == "error" for rule in table.rules) == 1
    assert len({rule.id for rule in table.rules}) == len(table.rules)
    assert set(table.findings) == set(fb.FINDING_IDS)


def test_pyproject_ships_the_rule_file():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "feedback_rules.toml" in data["tool"]["setuptools"]["package-data"]["mapper_gym"]


@pytest.mark.parametrize("code", sorted(codes_in_source() | set(SPEC_CODES)))
def test_every_code_has_its_own_rule(code):
    """A new error or warning code anywhere in the code base fails here until a rule covers it
    (a catch-all answer does not count: the rule must name the code)."""
    severity = "warning" if code.startswith("W-") else "error"
    diagnostic = diag(code, "an unforeseen wording 7d1f", severity=severity, line=3, column=5,
                      hint="a hint from the tool")
    advice, _ = fb.advise(diagnostic)
    rule = fb.load_rules().rule(advice.rule_id)
    assert code in rule.codes, f"{code} is only caught by {rule.id}"
    assert advice.explanation and advice.suggestion
    assert "{" not in advice.explanation.replace("{ ", "").replace("{}", "")
    if severity == "error":
        text = fb.feedback(failed(diagnostic), "suggest")
        assert "Suggestion: " in text and "Hint: a hint from the tool" in text


def test_codes_are_found_in_the_source_tree():
    """The scan above must see the codes of every phase, or it proves nothing."""
    found = codes_in_source()
    for code in ("E-SYNTAX", "E-NAME", "E-BOUNDS", "E-LAYOUT-BLAS", "E-VIRTUAL", "W-DUP-KEY"):
        assert code in found


@pytest.mark.parametrize(
    ("code", "message", "rule_id"),
    [
        ("E-SYNTAX", "Syntax error, unexpected :, expecting {", "syntax-def-colon"),
        ("E-SYNTAX", "Syntax error, unexpected T_Identifier, expecting ;",
         "syntax-legacy-map-statement"),
        ("E-SYNTAX", "Syntax error, unexpected T_Identifier", "syntax-untyped-parameter"),
        ("E-SYNTAX", "Syntax error, unexpected GPU", "syntax-kind-misplaced"),
        ("E-SYNTAX", "Syntax error, unexpected T_IntConstant, expecting T_Identifier or *",
         "syntax-int-where-name"),
        ("E-SYNTAX", "Syntax error, unexpected Layout, expecting ; or ,",
         "syntax-missing-semicolon"),
        ("E-SYNTAX", "Syntax error, unexpected ;, expecting (", "syntax-method-not-called"),
        ("E-SYNTAX", "Syntax error, unexpected !", "syntax-bang"),
        ("E-SYNTAX", "Syntax error, unexpected end of file", "syntax-end-of-file"),
        ("E-SYNTAX", "Syntax error, unexpected ), expecting T_Identifier", "syntax"),
        ("E-GLOBAL-DUP", "AssignNode multiple g cause conflicts in global_symbol!", "global-dup"),
        ("E-MAP-UNDEF", "IndexTaskMap's function undefined", "map-undef-index"),
        ("E-MAP-UNDEF", "SingleTaskMap's function undefined", "map-undef-single"),
        ("E-MAP-NOTFUNC", "IndexTaskMap's mapping function is undefined", "map-notfunc-index"),
        ("E-MAP-NOTFUNC", "SingleTaskMap's mapping function is undefined",
         "map-notfunc-single"),
        ("E-MAP-SIG", "Entry mapping function's definition must be like func(Task t)",
         "map-signature-index"),
        ("E-MAP-SIG", "Entry mapping function's must be like func(Task t)", "map-signature"),
        ("E-NAME", "mgpu not found", "name-not-found"),
        ("E-LIMIT", "Resource limit exceeded: evaluation steps (limit 100000)", "limit-steps"),
        ("E-LIMIT", "Resource limit exceeded: call depth (limit 16)", "limit-call-depth"),
        ("E-LIMIT", "Resource limit exceeded: points in a point-set (limit 4096)",
         "limit-point-set"),
        ("E-LIMIT", "Resource limit exceeded: program text bytes (limit 65536)", "limit"),
        ("E-TYPE", "type mismatch!!\nIntValType\nTupleIntType", "type-mismatch"),
        ("E-TYPE", "Unsupported binary operator for Integer", "type-logic-on-int"),
        ("E-TYPE", "Unsupported binary operator for Boolean variable", "type-arith-on-bool"),
        ("E-TYPE", "Dimension mismatch in TupleIntNode's binary operation",
         "type-tuple-operator"),
        ("E-TYPE", "Unsupported operator type in BinaryExprNode", "type-operator-on-object"),
        ("E-TYPE", "Negating node must be applied to Int/TupleExpr/TupleInt", "type-negate"),
        ("E-TYPE", "Condition of ?: must be a bool", "type-condition"),
        ("E-ARGTYPE", "argument type mismatch: parameter m of pick expects MSpaceType",
         "argument-type"),
        ("E-INDEX", "Index out of bound for TupleIntNode", "index-tuple-bound"),
        ("E-INDEX", "Machine index has 1 coordinates, but the machine space has 2 dimensions",
         "index-machine-arity"),
        ("E-INDEX", "Please use tuple-indexing only for a machine model", "index-tuple-multi"),
        ("E-INDEX", "Left/Right side of SliceExprNode must be NULL or integer", "index-slice"),
        ("E-ATTR", "TaskNode only support ipoint/ispace/parent in ObjectInvokeNode", "attr-task"),
        ("E-TASK", "Warning: currently SingleTask does not support get_point(), failure",
         "task-point-in-single"),
        ("E-TASK", "Warning: IndexTask or current task does not support get_parent(), "
         "returning NULL", "task-parent-in-index"),
        ("E-TASK", "Warning: index launch task does not support getting node index or "
         "processor index for now", "task-processor-in-index"),
        ("E-KIND", "halo is actually mapped to GPU, but machine model is for CPU",
         "kind-mismatch"),
        ("E-MSPACE", "6 must be divisible by 4", "mspace-divisible"),
        ("E-MSPACE", "Merge's arguments have exceeded the allowed dimensions: 1",
         "mspace-dimension"),
        ("E-MSPACE", "Slice out of bound: 4", "mspace-slice"),
        ("E-BOUNDS", "Slice processor index out of bound!\n4 >= 4", "bounds-slice-processor"),
        ("E-BOUNDS", "Sharding node index out of bound!\n5 >= 3", "bounds-sharding-node"),
        ("E-BOUNDS", "2 >= 2 in legion2mspace: index out of bound!", "bounds-processor-slice"),
        ("E-LAYOUT-STRIDE", "Assertion failed: stride does not match expected value.",
         "layout-stride"),
        ("E-LAYOUT-BLAS", "DGEMM parameter number 8 had an illegal value", "layout-blas"),
        ("E-NODE", "SingleTaskMap must stay on the task's node: calc runs on node 1, but near "
         "returned node 0", "single-task-node"),
        ("E-VIRTUAL", "VIRTUAL mapping of region argument 2 of leaf task halo", "virtual-leaf"),
        ("E-REPLICATE", "Control-replicated task halo must not have region arguments",
         "replicate-regions"),
        ("E-OOM", "failed allocation of size 1048576 bytes for region requirement 0 of task "
         "task_4 in memory n0.ZCMEM0", "out-of-memory-zerocopy"),
        ("E-OOM", "failed allocation of size 1048576 bytes for region requirement 0 of task "
         "task_4 in memory n0.FBMEM1", "out-of-memory-framebuffer"),
        ("E-OOM", "failed allocation of size 1048576 bytes for region requirement 0 of task "
         "init in memory n0.SYSMEM0", "out-of-memory"),
    ],
)
def test_spec_messages_reach_their_specific_rule(code, message, rule_id):
    advice, _ = fb.advise(diag(code, message))
    assert advice.rule_id == rule_id


def test_placeholders_come_from_the_message_and_the_context():
    d = diag("E-VIRTUAL", "VIRTUAL mapping of region argument 2 of leaf task halo",
             line=9, column=1)
    advice, _ = fb.advise(d)
    assert "Region argument 2 of halo" in advice.explanation
    assert "`Region halo 2 * FBMEM,SYSMEM;`" in advice.suggestion
    d = diag("E-ZERODIV", "Division by zero", kind="map", line=4, column=20,
             context={"task": "halo", "point": [5, 3], "stack": [["tiles", 4, 20]]})
    advice, _ = fb.advise(d)
    assert "`t.ipoint[0] % m.size[0]` (line 4, column 20; in tiles; task halo; point (5, 3))." \
        in advice.suggestion


def test_missing_values_fall_back_to_generic_words():
    advice, _ = fb.advise(diag("E-ZERODIV", "Division by zero", kind="load"))
    assert advice.suggestion.endswith("`t.ipoint[0] % m.size[0]`.")
    advice, _ = fb.advise(diag("E-RETURN", "Must return TupleIntType or SetTupleIntType after "
                               "invoking mapping function", kind="map"))
    assert "The mapping function for the task returned" in advice.explanation
    assert "{" not in advice.suggestion + advice.explanation


# -- the paper's nine cases (paper.md, AutoGuide table) -----------------------------------------


def test_paper_syntax_error_colon():
    d = compile_error("def f(Task t):\n    return 0;\n")
    text = fb.feedback(failed(d))
    assert text.startswith("Compile Error: Syntax error, unexpected :, expecting {")
    assert "braces" in text and "not a colon" in text


def test_paper_index_task_map_function_undefined():
    d = compile_error("IndexTaskMap stencil f;\ndef f(Task t) { return Machine(GPU)[0, 0]; }\n")
    assert d.message == "IndexTaskMap's function undefined"
    analysis = fb.analyze(failed(d))
    assert analysis.groups == ("index_task_map",)
    assert "above the `IndexTaskMap` statement" in analysis.advice[0].suggestion


def test_paper_machine_variable_not_found():
    d = compile_error("def f(Task t) { return mgpu[0, 0]; }\nIndexTaskMap stencil f;\n")
    assert d.message == "mgpu not found"
    text = fb.feedback(failed(d))
    assert "`mgpu = Machine(GPU);`" in text and "before its first use" in text


def test_paper_stride_does_not_match():
    d = diag("E-LAYOUT-STRIDE", "Assertion failed: stride does not match expected value.")
    analysis = fb.analyze(failed(d))
    assert analysis.groups == ("layout",)
    assert "layout" in analysis.advice[0].explanation
    assert "processor kind" in analysis.advice[0].suggestion


def test_paper_dgemm_parameter_8():
    d = diag("E-LAYOUT-BLAS", "DGEMM parameter number 8 had an illegal value")
    analysis = fb.analyze(failed(d))
    assert analysis.groups == ("layout",)
    assert "C_order" in analysis.advice[0].suggestion


def test_paper_slice_processor_index_out_of_bound():
    text = "m = Machine(GPU);\ndef f(Task t) {\n    return m[0, t.ipoint[0]];\n}\n"
    d = map_error(text, "f", index_point("stencil", (4,), (8,)))
    assert d.message == "Slice processor index out of bound!\n4 >= 4"
    analysis = fb.analyze(failed(d))
    assert analysis.raw == "Execution Error: Slice processor index out of bound! 4 >= 4"
    assert analysis.groups == ("index_task_map",)
    assert "outside the processors" in analysis.advice[0].explanation
    assert "modulo" in analysis.advice[0].suggestion
    assert "(line 3, column 12; in f; task stencil; point (4))" in analysis.advice[0].suggestion


def test_paper_event_exists_assertion_in_a_raw_log():
    """The original mapper's failure is recognised from its log alone (no diagnostic)."""
    result = RunResult(
        status="runtime_error", throughput=0.0, unit="GFLOPS", elapsed=None, stdout="",
        stderr="[0 - 7f3a] 1.2 {4}{runtime}: mapper call\n"
        "legion_mapper.cc:88: Assertion 'event.exists()' failed.\nAborted (core dumped)",
        backend="legion",
    )
    explain = fb.feedback(result, "explain")
    assert "Log: legion_mapper.cc:88: Assertion 'event.exists()' failed." in explain
    analysis = fb.analyze(result)
    assert analysis.groups == ("instance_limit",)
    assert "Avoid InstanceLimit" in analysis.advice[0].suggestion


def _ok(unit: str, plan: dict | None = None, stats: RunStats | None = None) -> RunResult:
    return RunResult(status="ok", throughput=12.5, unit=unit, elapsed=2.0, stdout="",
                     stderr="", backend="sim", stats=stats, plan_summary=plan or {})


STENCIL_APP = {
    "name": "Stencil",
    "tasks": [
        {"name": "stencil", "variants": ["CPU", "GPU"], "launches": [[2, 2]],
         "requirements": [{}, {}]},
        {"name": "increment", "variants": ["CPU", "GPU"], "launches": [[2, 2]]},
        {"name": "report", "variants": ["CPU"], "launches": ["single"]},
    ],
}


def test_paper_execution_time_means_move_tasks_to_gpus():
    plan = {"tasks": {
        "stencil": {"kind": "CPU", "processors": ["n0.CPU0"], "memories": {"0": "SYSMEM"}},
        "increment": {"kind": "GPU", "processors": ["n0.GPU0"], "memories": {}},
        "report": {"kind": "CPU", "processors": ["n0.CPU0"], "memories": {}},
    }}
    stats = RunStats(processor_busy={"n0.CPU0": 1.5, "n0.GPU0": 0.2},
                     task_time={"stencil": 1.4, "increment": 0.2, "report": 0.1})
    analysis = fb.analyze(_ok("points*steps/s", plan, stats), app_info=STENCIL_APP)
    first = analysis.advice[0]
    assert first.groups == ("task",)
    assert "Move more tasks to GPUs" in first.suggestion
    assert "`Task stencil GPU,CPU;`" in first.suggestion  # report has no GPU variant
    # Without any description the paper's rule still applies.
    plain = fb.analyze(_ok("points*steps/s"))
    assert [a.rule_id for a in plain.advice] == ["paper-execution-time"]
    assert "Move more tasks to GPUs" in plain.advice[0].suggestion


def test_paper_gflops_means_try_other_mapping_functions():
    analysis = fb.analyze(_ok("GFLOP/s per node"))
    assert [a.rule_id for a in analysis.advice] == ["paper-throughput"]
    assert "IndexTaskMap / SingleTaskMap" in analysis.advice[0].suggestion
    assert analysis.raw == "Performance Metric: 12.5 GFLOP/s per node (elapsed 2 s)"


# -- levels ----------------------------------------------------------------------------------


def _sample_results() -> list[RunResult]:
    warning = diag("W-DUP-KEY", "Task x is already set by the statement at line 1; this "
                   "setting is ignored (the first statement wins)", kind="check",
                   severity="warning", line=2, column=1, hint="delete one of the two statements")
    return [
        failed(compile_error("def f(Task t):\n    return 0;\n")),
        failed(diag("E-NODE", "SingleTaskMap must stay on the task's node: calc runs on node 1,"
                    " but near returned node 0", line=7, column=1), warnings=(warning,)),
        RunResult(status="timeout", throughput=0.0, unit="GFLOPS", elapsed=None, stdout="",
                  stderr="", backend="sim"),
        _ok("GFLOPS", stats=RunStats(task_time={"a": 1.0})),
        RunResult(status="ok", throughput=1.0, unit="GFLOPS", elapsed=1.0, stdout="",
                  stderr="", backend="sim", warnings=(warning,)),
    ]


@pytest.mark.parametrize("index", range(5))
def test_levels_are_nested(index):
    result = _sample_results()[index]
    raw = fb.feedback(result, "raw")
    explain = fb.feedback(result, "explain")
    suggest = fb.feedback(result, "suggest")
    assert raw == result.raw_output()
    assert explain.startswith(raw + "\n") and len(explain) > len(raw) + 1
    assert suggest.startswith(explain + "\n") and len(suggest) > len(explain) + 1
    assert "Suggestion" not in explain


def test_hint_only_at_suggest_level():
    d = compile_error("def f(Task t):\n    return 0;\n")
    assert d.hint
    assert d.hint not in fb.feedback(failed(d), "explain")
    assert f"Hint: {d.hint}" in fb.feedback(failed(d), "suggest")


def test_unknown_level_is_rejected():
    result = _sample_results()[0]
    with pytest.raises(ValueError, match="unknown feedback level"):
        fb.feedback(result, "verbose")
    with pytest.raises(ValueError):
        fb.feedback_function("all")


def test_warnings_and_other_errors_are_listed_and_capped():
    unused = [
        diag("W-NO-EFFECT", f"task t{i} is never index-launched; IndexTaskMap never applies "
             "to it", kind="check", severity="warning", line=10 + i, column=1)
        for i in range(7)
    ]
    warnings = (*unused, diag("E-NAME", "gpus not found", kind="check", line=3, column=9))
    result = failed(diag("E-NAME", "mgpu not found", kind="check", line=2, column=5),
                    warnings=warnings)
    text = fb.feedback(result, "suggest")
    assert "Other errors:\n- line 3: gpus not found [E-NAME]" in text
    assert text.count("[W-NO-EFFECT]") == 5 and "- ... and 2 more" in text
    assert "Fixes for the other findings:" in text
    assert "- line 3: Define gpus before its first use" in text


def test_map_function_group_follows_the_context():
    index = diag("E-ZERODIV", "Division by zero", kind="map", context={"task": "a", "point": [1]})
    single = diag("E-ZERODIV", "Division by zero", kind="map", context={"task": "a",
                                                                         "point": None})
    static = diag("E-NORETURN", "Error: function without return", kind="check")
    assert fb.advise(index)[0].groups == ("index_task_map",)
    assert fb.advise(single)[0].groups == ("single_task_map",)
    assert fb.advise(static)[0].groups == ("index_task_map", "single_task_map")
    assert fb.advise(diag("E-SYNTAX", "Syntax error, unexpected !", kind="parse"))[0].groups == ()


def test_log_only_failures_and_the_fallback():
    oom = RunResult(status="runtime_error", throughput=0.0, unit="GFLOPS", elapsed=None,
                    stdout="", backend="legion",
                    stderr="failed allocation of size 4096 bytes for region requirement 2 of "
                    "task task_4 in memory n1.FBMEM3")
    advice, line = fb.advise(None, oom)
    assert advice.rule_id == "out-of-memory-framebuffer" and "task_4" in advice.explanation
    assert line and line.startswith("failed allocation")
    unknown = RunResult(status="runtime_error", throughput=0.0, unit="GFLOPS", elapsed=None,
                        stdout="", stderr="segmentation fault", backend="legion")
    assert fb.analyze(unknown).advice[0].rule_id == "unknown-error"
    assert fb.advise(diag("E-SOMETHING-NEW", "surprise"))[0].rule_id == "unknown-error"


# -- layout demands from the application description -------------------------------------------


def _describe(app: str) -> dict:
    from benchmarks import get_app
    from mapper_gym.appmodel import MachineShape

    return get_app(app).build(MachineShape(nodes=1, gpus_per_node=4), preset="small").describe()


def test_layout_advice_uses_the_application_description():
    summa = _describe("SUMMA")
    d = diag("E-LAYOUT-BLAS", "DGEMM parameter number 8 had an illegal value")
    advice, _ = fb.advise(d, app_info=summa)
    assert "task_4's GPU variant needs C_order" in advice.explanation
    assert "`Layout task_4 * * C_order;`" in advice.suggestion
    stencil = _describe("Stencil")
    d = diag("E-LAYOUT-STRIDE", "Assertion failed: stride does not match expected value.",
             context={"task": "increment"})
    advice, _ = fb.advise(d, app_info={"app": stencil})  # the environment's problem form
    assert "increment's CPU variant needs SOA F_order" in advice.explanation
    assert "`Layout increment 0 * SOA F_order;`" in advice.suggestion
    assert "stencil" not in advice.suggestion.replace("increment", "")


# -- performance ---------------------------------------------------------------------------------


def _busy_stats(order: int = 1) -> RunStats:
    def ordered(d: dict) -> dict:
        return dict(list(d.items())[::order])

    return RunStats(
        processor_busy=ordered({"n0.GPU0": 1.8, "n0.GPU1": 1.7, "n0.GPU2": 0.2, "n0.GPU3": 0.0,
                                "n0.CPU0": 0.4, "n0.UTIL0": 0.3}),
        link_bytes=ordered({"h0.gpu0>gpu1.peer": 3 * 2**30, "h0.gpu0.up": 2**29,
                            "h0.gpu0.down": 2**28, "h0.s0.dram": 2**34, "h0.nic0.tx": 2**20,
                            "h0.nic0.rx": 2**20}),
        memory_peak=ordered({"n0.ZCMEM0": 62 * 2**20, "n0.FBMEM0": 2**30}),
        memory_capacity=ordered({"n0.ZCMEM0": 64 * 2**20, "n0.FBMEM0": 16 * 2**30}),
        task_time=ordered({"stencil": 3.0, "increment": 0.8, "init": 0.1, "report": 0.1}),
        task_copy_bytes=ordered({"stencil": 2**31, "increment": 2**20, "report": 0}),
        extra=ordered({"copies": 12, "instances": 40, "label": "x", "nested": {"a": 1}}),
    )


def _busy_plan(order: int = 1) -> dict:
    tasks = {
        "stencil": {"kind": "GPU", "processors": ["n0.GPU0", "n0.GPU1"],
                    "memories": {"0": "ZCMEM", "1": "FBMEM", "10": "ZCMEM"}},
        "increment": {"kind": "CPU", "processors": ["n0.CPU0"], "memories": {"0": "SYSMEM"}},
        "init": {"kind": "CPU", "processors": ["n0.CPU0"], "memories": {}},
    }
    return {"tasks": dict(list(tasks.items())[::order]), "instance_limits": {"stencil": 2},
            "replicated": []}


def test_performance_explanation_reads_the_statistics():
    result = _ok("points*steps/s", _busy_plan(), _busy_stats())
    text = fb.feedback(result, "explain", app_info=STENCIL_APP)
    expected = [
        "- Time by task (share of all task time): stencil 75% (3 s), increment 20% (0.8 s), "
        "init 3% (0.1 s), 1 other task(s) 3%.",
        "- CPU processors: 1 of 1 ran tasks; busy 20% of the elapsed time.",
        "- GPU processors: 3 of 4 ran tasks; busy 0% to 90% of the elapsed time (mean 46%).",
        "- Data moved: 3.0 GiB between GPUs (peer links), 512.0 MiB GPU to host (PCIe), "
        "256.0 MiB host to GPU (PCIe), 1.0 MiB over the network.",
        "- Other statistics: copies=12, instances=40, label=x.",
        "- Tasks running on CPUs although they have GPU variants: increment (20% of task time).",
        "- GPU processors are unevenly used: n0.GPU0 90%, n0.GPU1 85%, n0.GPU2 10%, n0.GPU3 0% "
        "busy (of the elapsed time).",
        "- Memories close to capacity: n0.ZCMEM0 97% (62.0 MiB of 64.0 MiB).",
        "- GPU tasks with arguments in zero-copy memory (host memory reached over PCIe, slower "
        "for a GPU than its framebuffer): stencil (75% of task time): arguments 0, 10.",
    ]
    for line in expected:
        assert line in text


def test_performance_suggestions_are_ranked_and_capped():
    result = _ok("points*steps/s", _busy_plan(), _busy_stats())
    analysis = fb.analyze(result, app_info=STENCIL_APP)
    assert [a.rule_id for a in analysis.advice] == [
        "cpu-task-has-gpu-variant", "processor-imbalance", "memory-near-full",
        "zero-copy-on-gpu",
    ]
    assert analysis.groups == ("task", "index_task_map", "region")
    text = fb.feedback(result, "suggest", app_info=STENCIL_APP)
    assert "1. Move more tasks to GPUs; these run on CPUs but have GPU variants: increment." in text
    assert "for example stencil runs on 2 of 4. [change: index_task_map]" in text
    assert "`Region stencil 0 GPU FBMEM,ZCMEM;`" in text
    assert "5." not in text  # max_suggestions = 4
    # Findings past the cap are still explained.
    assert "InstanceLimit restricts in-flight tasks: stencil at most 2 in flight." in text
    assert "Tasks whose instances needed the most copied data: stencil 2.0 GiB, increment " \
           "1.0 MiB." in text


def test_performance_text_is_deterministic():
    forward = _ok("points*steps/s", _busy_plan(1), _busy_stats(1))
    backward = _ok("points*steps/s", _busy_plan(-1), _busy_stats(-1))
    texts = {fb.feedback(r, "suggest", app_info=STENCIL_APP) for r in (forward, backward)}
    assert len(texts) == 1


def test_balanced_run_without_description_gets_the_paper_advice_only():
    stats = RunStats(processor_busy={f"n0.GPU{i}": 1.0 for i in range(4)},
                     task_time={"task_4": 4.0})
    plan = {"tasks": {"task_4": {"kind": "GPU", "processors": [f"n0.GPU{i}" for i in range(4)],
                                 "memories": {"0": "FBMEM"}}}}
    analysis = fb.analyze(_ok("GFLOP/s per node", plan, stats))
    assert [a.rule_id for a in analysis.advice] == ["paper-throughput"]
    assert "GPU processors: 4 of 4 ran tasks; busy 50% to 50%" in analysis.render("explain")


def test_everything_on_gpus_switches_the_time_advice_to_mapping_functions():
    app = {"tasks": [{"name": "a", "variants": ["CPU", "GPU"], "launches": [[4]]}]}
    plan = {"tasks": {"a": {"kind": "GPU", "processors": ["n0.GPU0"], "memories": {}}}}
    analysis = fb.analyze(_ok("zone-cycles/s", plan), app_info=app)
    assert [a.rule_id for a in analysis.advice] == ["paper-throughput"]


def test_no_statistics_is_said_plainly():
    text = fb.feedback(_ok("GFLOPS"), "explain")
    assert "- No statistics were reported for this run." in text


# -- the host hook -----------------------------------------------------------------------------


class _Model:
    def __init__(self) -> None:
        self.calls = 0

    def describe(self) -> dict:
        self.calls += 1
        return STENCIL_APP


def test_feedback_function_reads_the_application_from_the_context():
    model = _Model()
    context = SimpleNamespace(problem=SimpleNamespace(model=model, key=("Stencil", "A")))
    hook = fb.feedback_function("suggest")
    plan = _busy_plan()
    result = _ok("points*steps/s", plan, _busy_stats())
    text = hook(result, context)
    assert text == fb.feedback(result, "suggest", app_info=STENCIL_APP)
    hook(result, context)
    assert model.calls == 1  # described once per problem
    assert hook(result) == fb.feedback(result, "suggest")
    assert pickle.loads(pickle.dumps(hook)) == hook


def test_environment_hook_accepts_autoguide():
    envs = pytest.importorskip("mapper_gym.envs")
    level, function = envs.feedback_function("explain")
    assert level == "explain"
    result = _sample_results()[0]
    assert function(result, None) == fb.feedback(result, "explain")


# -- rule files ----------------------------------------------------------------------------------


def _table(rules: str) -> dict:
    findings = "\n".join(
        f'[[finding]]\nid = "{f}"\ngroup = "task"\nsuggestion = "s"\n' for f in fb.FINDING_IDS
    )
    return tomllib.loads(rules + "\n" + findings)


CATCH_ALL = '[[rule]]\nid = "z"\ngroup = "program"\nmatch = {}\nexplanation = "e"\n' \
            'suggestion = "s"\n'


@pytest.mark.parametrize(
    ("rules", "problem"),
    [
        ('[[rule]]\nid = "a"\ngroup = "task"\nmatch = { code = "E-X" }\nexplanation = "{nope}"\n'
         'suggestion = "s"\n' + CATCH_ALL, "unknown placeholders"),
        ('[[rule]]\nid = "a"\ngroup = "memory"\nmatch = { code = "E-X" }\nexplanation = "e"\n'
         'suggestion = "s"\n' + CATCH_ALL, "group"),
        ('[[rule]]\nid = "a"\ngroup = "task"\nmatch = { code = "E-X", text = "x" }\n'
         'explanation = "e"\nsuggestion = "s"\n' + CATCH_ALL, "unknown match keys"),
        ('[[rule]]\nid = "a"\ngroup = "task"\nmatch = { code = "E-X" }\nexplanation = "e"\n'
         'suggestion = "s"\n', "catch-all"),
        (CATCH_ALL + CATCH_ALL, "duplicate"),
        ('[[rule]]\nid = "a"\ngroup = "task"\nmatch = { regex = "(" }\nexplanation = "e"\n'
         'suggestion = "s"\n' + CATCH_ALL, "bad regex"),
    ],
)
def test_bad_rule_files_are_rejected(rules, problem):
    with pytest.raises(ValueError, match=problem):
        fb.parse_rules(_table(rules))


def test_regex_groups_are_placeholders_in_custom_tables(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text(
        '[[rule]]\nid = "a"\ngroup = "region"\n'
        "match = { regex = 'size (?P<size>\\d+)', logs = true }\n"
        'explanation = "needs {size} bytes"\nsuggestion = "free {size} bytes at {where}"\n'
        + CATCH_ALL
        + "\n".join(f'[[finding]]\nid = "{f}"\ngroup = "task"\nsuggestion = "s"\n'
                    for f in fb.FINDING_IDS),
        encoding="utf-8",
    )
    table = fb.load_rules(path)
    d = diag("E-ANY", "size 42 is too much", line=2, column=3)
    advice, _ = fb.advise(d, table=table)
    assert advice.explanation == "needs 42 bytes"
    assert advice.suggestion == "free 42 bytes at line 2, column 3"
    assert advice.groups == ("region",)


def test_parse_errors_of_real_programs_are_all_explained():
    """Every §9.2 example input reaches a rule made for it (its code, or the paper's text)."""
    inputs = ["def f(Task t):\n return 1;", "IndexTaskMap saxpy m f;",
              "def f(task) { return 1; }", "Layout * * GPU SOA;", "Task 0 GPU;",
              "Region * x GPU ZCMEM\nLayout * * * SOA;", "x = m.split;", "x = !y;", "",
              "x = @;", 'print("abc', "x = 99999999999;", b"\xff"]
    for text in inputs:
        with pytest.raises(DSLError) as info:
            parse(text)
        advice, _ = fb.advise(info.value.diagnostic)
        rule = fb.load_rules().rule(advice.rule_id)
        assert info.value.code in rule.codes or (rule.source == "paper" and not rule.codes)


@pytest.mark.parametrize(
    ("log", "rule_id", "group"),
    [
        ("policy.dsl:3: syntax error, unexpected ':', expecting '{'", "syntax-def-colon",
         "index_task_map"),
        ("IndexTaskMap's function undefined", "map-undef-index", "index_task_map"),
        ("mgpu not found", "name-not-found-log", None),
        ("Assertion failed: stride does not match expected value.", "layout-stride", "layout"),
        ("** On entry to DGEMM parameter number 8 had an illegal value", "layout-blas", "layout"),
        ("Slice processor index out of bound!", "bounds-slice-processor", "index_task_map"),
        ("mapper.cc:120: Assertion 'event.exists()' failed.", "instance-limit-event",
         "instance_limit"),
    ],
)
def test_paper_substrings_are_recognised_in_raw_logs(log, rule_id, group):
    """Logs of the original tools (no structured diagnostic) still reach the paper's rules."""
    result = RunResult(status="runtime_error", throughput=0.0, unit="GFLOPS", elapsed=None,
                       stdout="starting\n", stderr=f"[0 - 7f] runtime\n{log}\nAborted",
                       backend="legion")
    analysis = fb.analyze(result)
    assert analysis.advice[0].rule_id == rule_id
    assert fb.load_rules().rule(rule_id).source == "paper"
    if group is not None:
        assert group in analysis.groups
    assert f"Log: {log}" in analysis.render("explain")
