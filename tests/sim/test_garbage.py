"""An evaluation leaves no reference cycles behind.

PlanBackend.run pauses the cyclic garbage collector during an evaluation on the promise that
reference counting frees everything it builds. Cycles would break that promise twice: the
garbage would wait for the next collection, and that collection would trace it (before the
simulator broke its cycles, that was a tenth of an evaluation's time). The compiled modules
must keep the promise too, which rules out closures in them (mypyc ties a closure and its
environment in a cycle).
"""

from __future__ import annotations

import gc

import pytest

from benchmarks import get_app
from mapper_gym.backends import build_problem
from mapper_gym.backends.sim import SimBackend

CASES = [
    ("Pennant", "expert", "p100-node", None),
    ("Circuit", "default", "lassen", 4),  # shared links, control replication
    ("Cannon", "expert", "p100-node", None),  # inner tasks, instance limits
    ("Cannon", "default", "p100-node", None),  # the DGEMM layout failure
    ("COSMA", "expert", "lassen", 32),  # out of memory
    ("Stencil", "expert", "p100-node", None),
]


@pytest.mark.parametrize(("app", "which", "machine", "nodes"), CASES)
def test_an_evaluation_leaves_no_cyclic_garbage(app, which, machine, nodes):
    backend = SimBackend(build_problem(app, machine, nodes=nodes), cache=False)
    program = getattr(get_app(app), f"{which}_mapper")()
    backend.run(program)  # warm the process-wide caches (grammar, machine tables)
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        result = backend.run(program)
        unreachable = gc.collect()
    finally:
        if was_enabled:
            gc.enable()
    assert result.status in ("ok", "runtime_error")
    assert unreachable == 0, f"{unreachable} objects in reference cycles after one evaluation"
