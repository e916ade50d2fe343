"""Layout constraints reach Legion, and a layout the kernel rejects fails the way the
application model (the simulator's input) says it does."""

from __future__ import annotations

import pytest

from mapper_gym.config import RunConfig
from mapper_gym.legion.output import LoggedInstance, parse_mappings

from .conftest import plan_for


def _stride_rule(problem):
    rules = [r for r in problem.model.task("stencil").layout_rules
             if r.variant == "CPU" and r.effect == "error"]
    assert len(rules) == 1
    return rules[0]


def _simulated(problem, text):
    """The simulator's verdict on the same problem, where the simulator exists."""
    try:
        from mapper_gym.backends.sim import SimBackend
        return SimBackend(problem, cache=False).run(text)
    except ImportError:
        return None


@pytest.mark.parametrize("layout", ["SOA C_order", "AOS F_order", "AOS C_order"])
def test_stencil_cpu_kernel_rejects_other_layouts(layout, problems, make_backend):
    problem = problems["Stencil"]
    text = f"Task * CPU;\nLayout * * * {layout};\n"
    result = make_backend(problem).run(text)
    rule = _stride_rule(problem)
    assert result.status == "runtime_error"
    assert result.error.code == rule.code == "E-LAYOUT-STRIDE"
    assert result.error.message == rule.message
    assert (result.error.line, result.error.column) == (2, 1)  # the Layout statement
    assert rule.message in result.stderr  # the real assertion, in the real log
    assert "check completed successfully" not in result.stdout
    assert result.throughput == 0.0 and result.elapsed is None
    simulated = _simulated(problem, text)
    if simulated is not None:
        assert (simulated.status, simulated.error.code, simulated.error.message) == (
            result.status, result.error.code, result.error.message)


def test_c_order_reaches_the_instance_when_checks_are_off(problems, make_backend):
    """With the kernel's assertion switched off (RunConfig.layout_checks), the C-order request
    really produces a C-order instance (y fastest), and the strided kernel still computes the
    right answer."""
    problem = problems["Stencil"]
    text = "Task * CPU;\nLayout * * * SOA C_order;\n"
    config = RunConfig(layout_checks=False)
    result = make_backend(problem).run(text, config)
    assert result.ok, result.raw_output()
    assert "check completed successfully" in result.stdout
    stencils = [m for m in parse_mappings(result.stderr) if m.task == "stencil"]
    assert stencils
    for mapping in stencils:
        private = mapping.requirements[0]
        assert isinstance(private, LoggedInstance)
        assert private.ordering == "YXF" and private.c_order and private.soa


def test_aos_and_alignment_reach_circuit_instances(problems, make_backend):
    problem = problems["Circuit"]
    text = "Task * CPU;\nLayout * * * AOS Align==128;\nLayout distribute_charge * * SOA;\n"
    plan = plan_for(problem, text)
    result = make_backend(problem).execute(plan)
    assert result.ok, result.raw_output()
    logged = parse_mappings(result.stderr)
    currents = [m for m in logged if m.task == "calculate_new_currents"]
    assert currents
    for mapping in currents:
        for req in mapping.requirements:
            assert isinstance(req, LoggedInstance)
            assert req.ordering == "FX" and req.alignment == "==128"
    charges = [m for m in logged if m.task == "distribute_charge"]
    reductions = [r for m in charges for r in m.requirements[1:3]]
    assert reductions and all(isinstance(r, LoggedInstance) and r.special == "red"
                              and r.ordering == "XF" for r in reductions)
