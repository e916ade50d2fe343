"""Backends: problems bound to machines, the evaluation cache, and the simulator backend's
promise never to raise for a bad program."""

from __future__ import annotations

import pytest

from benchmarks import APP_NAMES, get_app
from mapper_gym.backends import (
    Backend,
    BackendUnavailable,
    EvaluationCache,
    build_problem,
    check_backend_name,
    default_problem,
    machine_shape,
    machine_summary,
    make_backend,
)
from mapper_gym.config import RunConfig
from mapper_gym.machine import MachineError, load_machine
from mapper_gym.result import RunResult

# ---------------------------------------------------------------------------------------------
# Problems
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("app", APP_NAMES)
def test_problem_on_the_p100_node_is_the_groups_preset_a(app):
    problem = build_problem(app, "p100-node")
    assert problem.app_name == app
    assert problem.preset == "A"
    # the application is sized for exactly the machine it is mapped on, flags applied
    assert problem.model.machine == machine_shape(problem.machine)
    assert problem.machine.nodes == 1
    assert problem.machine.processors_per_node("GPU") == 4
    assert problem.unit == problem.model.throughput_unit


def test_distal_flags_reconfigure_the_machine():
    # DISTAL's P100 flags add an OpenMP processor and NUMA memory (apps.md §4.1 table)
    problem = build_problem("Cannon", "p100-node")
    assert problem.machine.processors_per_node("OMP") == 1
    assert problem.machine.memories_per_node("SOCKMEM") == 2
    assert problem.model.machine.omps_per_node == 1
    regent = build_problem("Stencil", "p100-node")
    assert regent.machine.processors_per_node("OMP") == 0
    assert regent.machine.processors_per_node("UTIL") == 1  # Stencil runs with -ll:util 1


def test_application_flags_are_a_command_line_over_realm_defaults():
    # DISTAL does not pass -ll:zsize/-ll:rsize/-ll:csize, so its runs get Realm's defaults even
    # though the p100-node file describes the Regent runs (2 GiB zero-copy, 512 MiB RDMA).
    mib = 1 << 20
    cannon = build_problem("Cannon", "p100-node").machine
    assert cannon.memory("ZCMEM", 0).capacity == 64 * mib
    assert cannon.memories_of("RDMEM") == ()
    assert cannon.memory("SYSMEM", 0).capacity == 512 * mib
    circuit = build_problem("Circuit", "p100-node").machine
    assert circuit.memory("ZCMEM", 0).capacity == 2048 * mib
    assert circuit.memory("RDMEM", 0).capacity == 512 * mib


def test_cpu_only_machines_keep_their_own_launch_settings():
    # A GPU build's flags (-ll:gpu 4, 150 GB of system memory) cannot start on local-cpu.
    machine = load_machine("local-cpu")
    problem = build_problem("Circuit", "local-cpu")
    assert problem.machine.legion == machine.legion


@pytest.mark.parametrize("app", ["Johnson", "COSMA"])
def test_four_ranks_per_node_for_johnson_and_cosma_at_preset_b(app):
    problem = build_problem(app, "lassen", nodes=4)
    assert problem.preset == "B"
    assert problem.machine.ranks_per_node == 4
    assert problem.machine.nodes == 16
    assert problem.machine.processors_per_node("GPU") == 1
    assert problem.model.machine.ranks_per_node == 4
    # the group's layout can be overridden
    single = build_problem(app, "lassen", nodes=4, ranks_per_node=1)
    assert single.machine.nodes == 4 and single.machine.processors_per_node("GPU") == 4


def test_other_apps_keep_one_rank_on_lassen():
    problem = build_problem("Cannon", "lassen", nodes=2)
    assert problem.preset == "B"
    assert problem.machine.nodes == 2 and problem.machine.ranks_per_node == 1


def test_default_problem_per_machine():
    assert default_problem(load_machine("p100-node")) == "A"
    assert default_problem(load_machine("lassen")) == "B"
    assert default_problem(load_machine("local-cpu")) == "small"


def test_problem_keys_separate_sizes_machines_and_overrides():
    a = build_problem("Stencil", "p100-node", problem="small")
    b = build_problem("Stencil", "p100-node", problem="small")
    c = build_problem("Stencil", "p100-node", problem="small", tsteps=7)
    d = build_problem("Stencil", "lassen", problem="small")
    assert a.key == b.key
    assert len({a.key, c.key, d.key}) == 3
    assert c.model.params["tsteps"] == 7


def test_problem_errors_are_value_or_key_errors():
    with pytest.raises(KeyError, match="unknown application"):
        build_problem("Nope")
    with pytest.raises(ValueError, match="unknown problem 'Z'"):
        build_problem("Stencil", problem="Z")
    with pytest.raises(MachineError):
        build_problem("Stencil", "p100-node", nodes=2)  # one node only
    with pytest.raises(MachineError):
        build_problem("Stencil", "no-such-machine")
    with pytest.raises(ValueError):
        build_problem("Stencil", problem="small", bogus=1)
    with pytest.raises(ValueError, match="cannot be split"):
        build_problem("Stencil", "lassen", ranks_per_node=3)


def test_problem_description_is_what_the_agent_needs():
    problem = build_problem("Circuit", "p100-node", problem="small")
    described = problem.describe()
    names = {t["name"] for t in described["app"]["tasks"]}
    assert names == set(problem.app_info().task_names())
    assert described["machine"]["processors_per_node"]["GPU"] == 4
    assert described["machine"]["memories_per_node"]["FBMEM"]["count"] == 4
    assert described["problem"] == "small"
    assert "task" in described["app_text"]


def test_machine_summary_counts_ranks():
    machine = load_machine("lassen", nodes=2).with_legion_settings(
        ranks_per_node=4, gpu=1, csize=37500
    )
    summary = machine_summary(machine)
    assert (summary["nodes"], summary["hosts"], summary["ranks_per_node"]) == (8, 2, 4)
    assert summary["processors_per_node"]["GPU"] == 1


# ---------------------------------------------------------------------------------------------
# Backend names and the cache
# ---------------------------------------------------------------------------------------------


def test_legion_backend_refuses_what_this_host_cannot_run():
    # The runtime from PyPI is CPU-only and single-node (legion.md): a GPU machine is refused
    # with a reason, never simulated (every application has a real CPU implementation).
    check_backend_name("legion")
    with pytest.raises(BackendUnavailable, match="GPU"):
        make_backend("legion", build_problem("Stencil", problem="small"))
    with pytest.raises(BackendUnavailable, match="GPU"):
        make_backend("legion", build_problem("Cannon", problem="small"))
    with pytest.raises(ValueError, match="unknown backend"):
        make_backend("gpu", build_problem("Stencil", problem="small"))


def _result(tag: str) -> RunResult:
    return RunResult(status="ok", throughput=1.0, unit="u", elapsed=1.0, stdout=tag,
                     stderr="", backend="sim")


def test_cache_is_least_recently_used():
    cache = EvaluationCache(maxsize=2)
    cache.put("a", _result("a"))
    cache.put("b", _result("b"))
    assert cache.get("a").stdout == "a"  # a is now the most recent
    cache.put("c", _result("c"))  # evicts b
    assert "b" not in cache and "a" in cache and "c" in cache
    assert cache.get("b") is None
    assert (cache.hits, cache.misses) == (1, 1)
    cache.clear()
    assert len(cache) == 0


def test_cache_of_size_zero_stores_nothing():
    cache = EvaluationCache(maxsize=0)
    cache.put("a", _result("a"))
    assert cache.get("a") is None and len(cache) == 0
    with pytest.raises(ValueError):
        EvaluationCache(maxsize=-1)


# ---------------------------------------------------------------------------------------------
# The simulator backend (needs mapper_gym.mapping and mapper_gym.sim)
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def stencil():
    problem = build_problem("Stencil", "p100-node", problem="small")
    return make_backend("sim", problem, cache=EvaluationCache())


def test_sim_backend_satisfies_the_protocol(stencil):
    assert isinstance(stencil, Backend)
    assert stencil.name == "sim"


def test_expert_mapper_runs(stencil):
    result = stencil.run(get_app("Stencil").expert_mapper(), RunConfig())
    assert result.ok, result.raw_output()
    assert result.throughput > 0 and result.elapsed > 0
    assert result.unit == "points*steps/s"
    assert result.backend == "sim"
    assert result.raw_output().startswith("Performance Metric: ")
    assert result.plan_summary["tasks"]["stencil"]["kind"] == "GPU"


@pytest.mark.parametrize(
    ("text", "status", "code", "feedback"),
    [
        ("", "compile_error", "E-SYNTAX", "Compile Error: Syntax error, unexpected end of file"),
        ("def f(Task t):\n  return t;\n", "compile_error", "E-SYNTAX",
         "Compile Error: Syntax error, unexpected :, expecting {"),
        ("IndexTaskMap stencil f;\n", "compile_error", "E-MAP-UNDEF",
         "Compile Error: IndexTaskMap's function undefined"),
        (b"Task * GPU;\n# \xff\xfe\n", "compile_error", "E-LEX-UTF8",
         "Compile Error: Input is not valid UTF-8"),
        ("Task * GPU; @", "compile_error", "E-LEX-CHAR",
         "Compile Error: Unrecognized character: @"),
        ("x = " + "(" * 40 + "1" + ")" * 40 + ";", "compile_error", "E-LIMIT", None),
        ("Task * GPU;" * 20000, "compile_error", "E-LIMIT", None),
        (12345, "compile_error", "E-INPUT", None),
    ],
)
def test_bad_programs_are_results_not_exceptions(stencil, text, status, code, feedback):
    result = stencil.run(text, RunConfig())
    assert result.status == status
    assert result.error is not None and result.error.code == code
    assert result.throughput == 0.0 and result.elapsed is None
    assert result.stderr  # the log carries the error
    if feedback is not None:
        assert result.raw_output() == feedback


def test_runtime_errors_of_the_map_phase(stencil):
    program = (
        "Task * GPU,CPU;\n"
        "gpus = Machine(GPU);\n"
        "def f(Task t) { return gpus[0, 4]; }\n"
        "IndexTaskMap stencil f;\n"
    )
    result = stencil.run(program, RunConfig())
    assert result.status == "runtime_error"
    assert result.error.kind == "map"
    assert result.raw_output() == "Execution Error: Slice processor index out of bound! 4 >= 4"


def test_check_failure_keeps_every_error_in_the_log(stencil):
    program = "IndexTaskMap stencil f;\nSingleTaskMap check g;\n"
    result = stencil.run(program, RunConfig())
    assert result.status == "compile_error"
    assert "IndexTaskMap's function undefined" in result.stderr
    assert "SingleTaskMap's function undefined" in result.stderr


def test_the_exact_text_is_the_cache_key(stencil):
    text = get_app("Stencil").expert_mapper()
    first = stencil.run(text, RunConfig())
    assert stencil.run(text, RunConfig()) is first
    assert stencil.cache.hits == 1
    # a different configuration is a different evaluation
    other = stencil.run(text, RunConfig(collect=False))
    assert other is not first and stencil.cache.hits == 1


def test_a_relaid_program_reports_its_own_positions(stencil):
    # Same canonical text, different layout: the error must point at this text's line, not at
    # the line of an earlier evaluation of the other layout.
    bad = ("gpus = Machine(GPU);\ndef f(Task t) {\n    return gpus[0, 9];\n}\n"
           "IndexTaskMap stencil f;\n")
    first = stencil.run(bad, RunConfig())
    moved = stencil.run("# moved down\n\n" + bad, RunConfig())
    assert first.status == moved.status == "runtime_error"
    assert moved.error.line == first.error.line + 2
    assert moved.throughput == first.throughput


def test_unexpected_exceptions_become_internal_errors(stencil, monkeypatch):
    import mapper_gym.backends.sim as sim_module

    def broken(plan, config):
        raise ZeroDivisionError("a bug in the simulator")

    monkeypatch.setattr(sim_module, "simulate", broken)
    result = stencil.run(get_app("Stencil").expert_mapper(), RunConfig())
    assert result.status == "runtime_error"
    assert result.error.code == "E-INTERNAL" and result.error.kind == "execute"
    assert result.raw_output() == "Execution Error: Internal error"
    assert "ZeroDivisionError: a bug in the simulator" in result.stderr
    assert "Traceback" not in result.stderr  # the traceback is for developers only
    assert "Traceback" in result.error.context["traceback"]
    # an internal error is not cached: the next run tries again
    monkeypatch.undo()
    assert stencil.run(get_app("Stencil").expert_mapper(), RunConfig()).ok


def test_resolver_bugs_are_internal_errors_of_the_map_phase(stencil, monkeypatch):
    import mapper_gym.backends.planned as planned_module

    def broken(*args, **kwargs):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(planned_module, "resolve", broken)
    result = stencil.run("Task * GPU;\n", RunConfig())
    assert result.error.code == "E-INTERNAL" and result.error.kind == "map"
