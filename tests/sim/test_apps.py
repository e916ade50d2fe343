"""The nine applications under their expert mappers: runs, output, statistics, determinism and
exactness of the periodic-state extrapolation."""

from __future__ import annotations

import math
import re

import pytest

from benchmarks import APP_NAMES
from mapper_gym.sim import simulate

from .runs import expert, expert_run, plan_for, problem


@pytest.mark.parametrize("app", APP_NAMES)
def test_expert_runs_on_the_paper_node(app):
    result = expert_run(app)
    assert result.ok, result.stderr
    assert result.backend == "sim"
    assert result.throughput > 0 and math.isfinite(result.throughput)
    assert result.elapsed is not None and result.elapsed > 0
    stats = result.stats
    assert stats is not None
    assert stats.processor_busy and stats.task_time
    for uid, peak in stats.memory_peak.items():
        assert 0 <= peak <= stats.memory_capacity[uid]
    # every busy processor was busy for at most the measured time (plus, for the
    # per-iteration timers, nothing outside it)
    busiest = max(stats.processor_busy.values())
    assert busiest <= result.elapsed * (1 + 1e-9)
    assert result.plan_summary["tasks"]
    assert "{3}{app}" in result.stderr


def test_output_lines_follow_the_programs():
    circuit = expert_run("Circuit").stdout.splitlines()
    assert circuit[0].startswith("circuit settings: loops=10 prune=30 pieces=40")
    assert re.fullmatch(r"ELAPSED TIME = +[0-9.]+ s", circuit[-2])
    assert re.fullmatch(r"GFLOPS = +[0-9.]+ GFLOPS", circuit[-1])
    stencil = expert_run("Stencil").stdout.splitlines()
    assert stencil[-1] == "check completed successfully"
    pennant = expert_run("Pennant").stdout.splitlines()
    assert re.fullmatch(r"ELAPSED TIME = +[0-9.]+ s", pennant[4])
    cannon = expert_run("Cannon").stdout.splitlines()
    assert len(cannon) == 11
    assert all(re.fullmatch(r"Execution time: \d+ ms\.", line) for line in cannon[:10])
    assert re.fullmatch(r"On 1 nodes achieved GFLOPS per node: [0-9.]+\.", cannon[10])


def test_elapsed_matches_the_printed_window():
    result = expert_run("Circuit")
    printed = float(re.search(r"ELAPSED TIME = +([0-9.]+) s", result.stdout).group(1))
    assert printed == pytest.approx(result.elapsed, abs=5e-4)
    # the Circuit program's own GFLOPS line: l·(p·wpp·(96·steps + 4) + 4·p·npp) / ELAPSED
    p = problem("Circuit").model.params
    flops = p["l"] * (p["p"] * p["wpp"] * (96 * p["steps"] + 4) + 4 * p["p"] * p["npp"])
    assert result.throughput == pytest.approx(flops / result.elapsed / 1e9)


@pytest.mark.parametrize("app", ["Circuit", "Stencil", "Pennant", "Cannon", "Johnson"])
def test_runs_are_deterministic(app):
    prob = problem(app)
    a = simulate(plan_for(prob, expert(app)))
    b = simulate(plan_for(prob, expert(app)))
    assert a == b


@pytest.mark.parametrize("app", ["Circuit", "Stencil", "Pennant"])
def test_skipping_repeating_iterations_is_exact_on_the_paper_node(app):
    prob = problem(app)
    plan = plan_for(prob, expert(app))
    fast = simulate(plan)
    full = simulate(plan, extrapolate=False)
    assert fast.ok and full.ok
    assert fast.stats.extra["skipped_iterations"] > 0 or \
        fast.stats.extra["simulated_iterations"] < full.stats.extra["simulated_iterations"]
    assert fast.elapsed == full.elapsed  # bit for bit: the future was a shifted copy
    assert fast.stdout == full.stdout
    for name in ("processor_busy", "link_bytes", "task_time", "task_copy_bytes",
                 "memory_peak"):
        assert getattr(fast.stats, name) == getattr(full.stats, name), name


LONGER = {"Circuit": {"l": 20, "prune": 10}, "Stencil": {"tsteps": 20, "tprune": 10},
          "Pennant": {"cstop": 20, "prune": 10}}


@pytest.mark.parametrize("app", APP_NAMES)
def test_skipping_is_exact_on_small_problems_over_two_nodes(app):
    prob = problem(app, "lassen", 2, problem="small", **LONGER.get(app, {}))
    plan = plan_for(prob, expert(app))
    fast = simulate(plan)
    full = simulate(plan, extrapolate=False)
    assert fast.ok, fast.stderr
    assert fast.elapsed == full.elapsed
    assert fast.stats.task_time == full.stats.task_time
    assert fast.stats.link_bytes == full.stats.link_bytes
    assert fast.stats.processor_busy == full.stats.processor_busy
    if app in ("Stencil", "Pennant"):
        assert fast.stats.extra["simulated_iterations"] < full.stats.extra["simulated_iterations"]


_DIGEST = """
import hashlib, sys
sys.path.insert(0, {root!r})
from tests.sim.runs import expert, plan_for, problem
from mapper_gym.sim import simulate
parts = []
for app, machine, nodes in (("Circuit", "p100-node", None), ("Pennant", "lassen", 2)):
    r = simulate(plan_for(problem(app, machine, nodes), expert(app)))
    parts.append(repr((r.elapsed, r.stdout, r.stderr, sorted(r.stats.link_bytes.items()),
                       sorted(r.stats.processor_busy.items()), r.stats.extra)))
print(hashlib.sha256("".join(parts).encode()).hexdigest())
"""


def test_results_do_not_depend_on_hash_randomisation():
    """Nothing in a run may depend on the iteration order of hashed strings: two interpreters
    with different hash seeds produce the same bytes."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = str(Path(__file__).resolve().parents[2])
    code = _DIGEST.format(root=root)
    digests = set()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                             text=True, check=True, timeout=300)
        digests.add(out.stdout.strip())
    assert len(digests) == 1


@pytest.mark.parametrize("app", ["Circuit", "Pennant", "Cannon"])
def test_the_run_ahead_window_does_not_change_results(app, monkeypatch):
    """The model bounds how far the top-level task runs ahead (simulate.WINDOW iterations);
    as long as analysis keeps ahead of execution, the bound must not show in the results."""
    import importlib

    module = importlib.import_module("mapper_gym.sim.simulate")
    plan = plan_for(problem(app), expert(app))
    results = []
    for window in (2, 5):
        monkeypatch.setattr(module, "WINDOW", window)
        results.append(simulate(plan))
    assert results[0].elapsed == results[1].elapsed
    assert results[0].stats.task_time == results[1].stats.task_time
