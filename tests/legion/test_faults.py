"""Fault handling on real Legion: a mapping that makes the program fail, a run past its time
limit, a process killed from outside, a memory overrun and a plan the machine cannot honour
each give a failed observation with the real log, never an exception."""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from pathlib import Path

from benchmarks import get_app
from mapper_gym.legion import legion_problem
from mapper_gym.machine import load_machine

from .conftest import plan_for


def _our_processes(tag: str) -> list[int]:
    """Processes whose command line carries ``tag`` (only ones this test started)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if tag.encode() in cmdline:
            found.append(int(entry.name))
    return found


def _slow_circuit():
    # 2 superpieces × 160 wires × 96 flops × 2e6 sub-steps per iteration: minutes of work
    return legion_problem("Circuit", steps=2_000_000)


def test_a_run_past_its_time_limit_is_a_timeout_with_the_log(make_backend):
    problem = _slow_circuit()
    tag = f"mapgym-test-{uuid.uuid4().hex}"
    backend = make_backend(problem, time_limit=3.0, extra_flags=("-mapgym:tag", tag))
    started = time.monotonic()
    result = backend.run(get_app("Circuit").expert_mapper())
    assert time.monotonic() - started < 30
    assert result.status == "timeout"
    assert result.error.code == "E-TIMEOUT" and result.error.kind == "execute"
    assert "I am invoked!" in result.stderr  # the log up to the kill
    assert "circuit settings:" in result.stdout
    assert result.throughput == 0.0
    assert result.raw_output().startswith("Execution Error:")
    assert _our_processes(tag) == []  # the process group is gone


def test_a_killed_process_is_a_failed_run_with_its_log(make_backend):
    problem = _slow_circuit()
    tag = f"mapgym-test-{uuid.uuid4().hex}"
    backend = make_backend(problem, time_limit=120.0, extra_flags=("-mapgym:tag", tag))
    box = {}
    worker = threading.Thread(
        target=lambda: box.setdefault("result", backend.run(get_app("Circuit").expert_mapper())))
    worker.start()
    deadline = time.monotonic() + 60
    killed = False
    while time.monotonic() < deadline and not killed:
        for pid in _our_processes(tag):
            time.sleep(1.0)  # let it get into the main loop
            os.kill(pid, signal.SIGKILL)
            killed = True
            break
        time.sleep(0.05)
    worker.join(timeout=120)
    assert killed, "the program never started"
    result = box["result"]
    assert result.status == "runtime_error"
    assert result.error.code == "E-CRASH"
    assert result.error.message == "the program was killed by SIGKILL"
    assert "I am invoked!" in result.stderr


def test_memory_overrun_is_out_of_memory(problems, make_backend):
    backend = make_backend(problems["Stencil"], memory_limit=32 * 2**20)
    result = backend.run(get_app("Stencil").expert_mapper())
    assert result.status == "runtime_error"
    assert result.error.code == "E-OOM"
    assert "32 MiB" in result.error.message
    assert result.stats.extra["peak_rss_bytes"] > 32 * 2**20


def test_a_plan_for_another_machine_is_an_internal_error(problems, make_backend):
    """The C++ mapper refuses a processor Legion does not have (instead of mapping elsewhere)."""
    three = load_machine("local-cpu").with_legion_settings(cpu=3)
    problem = legion_problem("Stencil", three)
    plan = plan_for(problem, """
        Task * CPU;
        cpus = Machine(CPU);
        def third(Task t) { return cpus[0, 2]; }
        IndexTaskMap stencil third;
    """)
    result = make_backend(problems["Stencil"]).execute(plan)
    assert result.status == "runtime_error"
    assert result.error.code == "E-INTERNAL"
    assert "CPU processor 2 of node 0" in result.error.raw


def test_errors_found_before_running_need_no_process(problems, make_backend):
    backend = make_backend(problems["Stencil"])
    broken = backend.run("Task * CPU\n")
    assert broken.status == "compile_error" and broken.error.kind == "parse"
    assert broken.stats is None
    virtual = backend.run("Task * CPU;\nRegion stencil * CPU VIRTUAL;\n")
    assert virtual.status == "runtime_error" and virtual.error.code == "E-VIRTUAL"
    assert virtual.stats is None and virtual.stdout == ""


def test_concurrent_runs_do_not_interfere(problems, make_backend):
    backend = make_backend(problems["Circuit"])
    text = get_app("Circuit").default_mapper()
    results = [None, None]

    def run(i):
        results[i] = backend.run(text)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert all(r is not None and r.ok for r in results), [r.raw_output() for r in results if r]


def test_an_instance_that_does_not_fit_is_out_of_memory_like_the_simulator(make_backend):
    """64 MiB of system memory cannot hold a 64 MB tile plus the rest: the DefaultMapper's own
    allocation report, and the simulator predicts the same allocation failing."""
    small_memory = load_machine("local-cpu").with_legion_settings(csize=64)
    problem = legion_problem("Stencil", small_memory, nx=4004, ny=2004)
    text = get_app("Stencil").expert_mapper()
    result = make_backend(problem).run(text)
    assert result.status == "runtime_error" and result.error.code == "E-OOM"
    assert result.error.message.startswith(
        "Default mapper failed allocation of size 64256256 bytes for region requirement 0 of "
        "task stencil")
    assert "Default mapper failed allocation" in result.stderr
    try:
        from mapper_gym.backends.sim import SimBackend
        simulated = SimBackend(problem, cache=False).run(text)
    except ImportError:
        return
    assert (simulated.status, simulated.error.code) == ("runtime_error", "E-OOM")
    assert "failed allocation of size 64256256 bytes" in simulated.error.message
