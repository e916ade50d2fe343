"""The simulator's mechanics on tiny applications whose timelines are worked out by hand.

Every expected time below is derived from the machine file's figures (read from the machine,
not restated), following the model of machine.md §5/§6 as the simulator implements it
(engine.py docstring): runtime analysis and mapping on utility processors, copies issued by
background workers, path latency, transfer, then the consuming task.
"""

from __future__ import annotations

import pytest

from mapper_gym.config import RunConfig
from mapper_gym.machine import load_machine
from mapper_gym.sim import simulate
from mapper_gym.sim.flows import Flow, FlowTable
from mapper_gym.sim.routes import Route
from mapper_gym.sim.units import PS_PER_S, to_ps

from .plans import make_plan
from .toy import toy_app

US = 1e-6


@pytest.fixture(scope="module")
def two_gpus():
    """The P100 node with two GPUs: both on socket 0, peers through the root complex."""
    return load_machine("p100-node").with_legion_settings(gpu=2)


def test_copy_between_gpus_follows_the_hand_timeline(two_gpus):
    m = two_gpus
    ov = m.overheads
    app = toy_app(("write", "shift"), pieces=2, gpus=2)
    result = simulate(make_plan(app, m))
    assert result.ok, result.stderr
    peer = m.copy_path(m.memory("FBMEM", 0, 1), m.memory("FBMEM", 0, 0))
    body = 8e6 / (m.access(m.processor("GPU", 0, 0), m.memory("FBMEM", 0, 0)).bandwidth * 0.8)
    start = ov.task_start("GPU")
    # pipeline (one mapper per process, two utility processors, untraced, new instances):
    analyse = ov.index_launch
    map_cost = ov.point_task + ov.instance_create
    w0 = analyse + map_cost  # write point 0 mapped
    w1 = w0 + map_cost  # write point 1 (the mapper serialises)
    s0 = w1 + map_cost  # shift point 0: its launch was analysed on the idle utility processor
    s1 = s0 + map_cost
    # shift point 0 copies piece 1 from GPU 1 once mapped (write 1 finished long before)
    copy0_end = s0 + ov.copy_issue + peer.latency + 8e6 / peer.bandwidth
    # shift point 1 copies piece 0: its own background worker, its own links
    copy1_end = s1 + ov.copy_issue + peer.latency + 8e6 / peer.bandwidth
    assert w1 + start + body < copy0_end
    last = max(copy0_end, copy1_end) + start + body
    assert result.elapsed == pytest.approx(last + ov.fence, abs=2e-12)
    assert result.stats.extra["copies"] == 2
    assert result.stats.task_copy_bytes == {"shift": 16e6}


def test_link_sharing_halves_rates_and_restores_them():
    links = (10.0e9, 10.0e9, 100.0e9)
    table = FlowTable(links)
    route_a = Route(((0, 1.0), (2, 1.0)), float("inf"), 0, -1, 10.0e9, "a")
    route_b = Route(((0, 1.0),), float("inf"), 0, -1, 10.0e9, "b")
    route_c = Route(((1, 1.0),), 4.0e9, 0, -1, 4.0e9, "c")
    a = Flow((0, 0), route_a, 1e9, 0, 1, -1)
    assert table.add(a, 0) == [a] and a.rate == 10.0e9
    b = Flow((0, 1), route_b, 1e9, 0, 1, -1)
    changed = table.add(b, 0)
    assert set(f.key for f in changed) == {(0, 0), (0, 1)}
    assert a.rate == b.rate == 5.0e9  # one link, two transfers: half each
    c = Flow((0, 2), route_c, 1e9, 0, 1, -1)
    assert table.add(c, 0) == [c] and c.rate == 4.0e9  # its own link, capped by its route
    # after 0.1 s, b ends: a is alone again and speeds up
    t = to_ps(0.1)
    assert table.remove(b, t) == [a]
    assert a.rate == 10.0e9
    assert a.remaining == pytest.approx(1e9 - 5.0e9 * 0.1)
    assert FlowTable.finish_time(a) == t + round((1e9 - 5e8) / 10.0e9 * PS_PER_S)


def test_a_link_with_load_two_counts_twice():
    table = FlowTable((10.0e9,))
    staged = Flow((0, 0), Route(((0, 2.0),), float("inf"), 0, -1, 5e9, "s"), 1e9, 0, 1, -1)
    plain = Flow((0, 1), Route(((0, 1.0),), float("inf"), 0, -1, 10e9, "p"), 1e9, 0, 1, -1)
    table.add(staged, 0)
    assert staged.rate == 5e9
    table.add(plain, 0)
    # equal rates r with 2r + r = 10 GB/s
    assert staged.rate == plain.rate == pytest.approx(10e9 / 3)


def test_read_after_write_on_one_gpu_needs_no_copy(two_gpus):
    app = toy_app(("write", "read"), pieces=2, gpus=2)
    result = simulate(make_plan(app, two_gpus))
    assert result.ok
    assert result.stats.extra["copies"] == 0
    assert result.stats.link_bytes == {}


def test_reductions_commute_and_are_folded_before_the_reader(two_gpus):
    m = two_gpus
    # red(i) reduces into piece i, redn(i) into piece i+1: every piece gets two contributions
    app = toy_app(("write", "red", "redn", "read"), pieces=2, gpus=2, elements=100_000)
    result = simulate(make_plan(app, m))
    assert result.ok, result.stderr
    extra = result.stats.extra
    # read(i) on GPU i folds red(i) (same framebuffer) and redn(i-1) (the other GPU's)
    assert extra["reduction_folds"] == 4
    assert extra["copies"] == 0
    # the cross-GPU folds move their bytes over the peer route
    assert result.stats.task_copy_bytes["read"] == pytest.approx(4 * 8 * 100_000)
    # reducers do not wait for each other: red and redn of one GPU run back to back
    one = simulate(make_plan(toy_app(("write", "red", "read"), pieces=2, gpus=2,
                                     elements=100_000), m))
    assert result.elapsed < 2 * one.elapsed


def test_write_after_read_waits_for_the_reader(two_gpus):
    m = two_gpus
    # point i reads its neighbour's piece while the writer of that piece runs on the other
    # GPU: the write must wait for the read (its copy) to finish
    slow = simulate(make_plan(toy_app(("write#1", "shift", "write#2"), pieces=2, gpus=2), m))
    fast = simulate(make_plan(toy_app(("write#1", "read", "write#2"), pieces=2, gpus=2), m))
    assert slow.ok and fast.ok
    assert slow.elapsed > fast.elapsed + 8e6 / m.copy_path(
        m.memory("FBMEM", 0, 0), m.memory("FBMEM", 0, 1)).bandwidth


def test_points_on_one_processor_serialise(two_gpus):
    m = two_gpus
    app = toy_app(("write",), pieces=4, gpus=2, flops=4.7e9 * 2)  # ~2 ms of compute each
    spread = simulate(make_plan(app, m))
    alone = simulate(make_plan(app, m, place=lambda t, i, n, procs: procs[0]))
    body = spread.stats.task_time["write"] / 4
    assert alone.elapsed == pytest.approx(spread.elapsed + 2 * body, rel=0.05)
    assert alone.elapsed > 4 * body


def test_instance_limit_serialises_mapping_behind_completion(two_gpus):
    m = two_gpus
    app = toy_app(("write",), pieces=2, gpus=2, flops=4.7e9)  # ~1 ms each
    free = simulate(make_plan(app, m))
    limited = simulate(make_plan(app, m, instance_limits={"write": 1}))
    body = free.stats.task_time["write"] / 2
    # the second point starts mapping only when the first has finished
    assert limited.elapsed > free.elapsed + body * 0.9
    # with back-pressure off the limit is inert (and the mapper no longer serialises, so
    # compare with an unlimited run under the same switch)
    off = RunConfig(backpressure=False)
    assert simulate(make_plan(app, m, instance_limits={"write": 1}), off).elapsed == \
        simulate(make_plan(app, m), off).elapsed


def test_blocking_launch_holds_back_the_next_analysis(two_gpus):
    m = two_gpus
    plain = simulate(make_plan(toy_app(("write#1", "wonly"), pieces=2, gpus=2,
                                       flops=4.7e9), m))
    blocked = simulate(make_plan(toy_app(("write#1", "wonly"), pieces=2, gpus=2,
                                         flops=4.7e9, blocks=("write#1",)), m))
    # unblocked, the independent wonly launch is analysed and mapped while the writes run;
    # blocked, its analysis and mapping start only when both writes are done
    ov = m.overheads
    assert blocked.elapsed > plain.elapsed + ov.index_launch + ov.point_task


def test_traced_iterations_map_faster(two_gpus):
    m = two_gpus
    kwargs = dict(pieces=2, gpus=2, elements=1000, warmup=1, measured=3, cooldown=0)
    untraced = simulate(make_plan(toy_app(("write", "read"), **kwargs), m))
    traced = simulate(make_plan(toy_app(("write", "read"), traced=True, **kwargs), m))
    assert untraced.ok and traced.ok
    # tiny tasks: the run is bound by analysis and mapping, which tracing cuts
    assert traced.elapsed < 0.6 * untraced.elapsed


def _replicated(plan):
    return type(plan)(**{**plan.__dict__, "replicated": frozenset({"main"})})


def test_scalar_future_all_reduce_across_nodes():
    lassen = load_machine("lassen", nodes=2)
    kwargs = dict(pieces=8, nodes=2, gpus=4, elements=1000, flops=7.8e9)  # ~1 ms writes
    app = toy_app(("write", "read"), futures={"write": "w"}, uses={"read": ("w",)}, **kwargs)
    a = simulate(_replicated(make_plan(app, lassen)))
    b = simulate(_replicated(make_plan(toy_app(("write", "read"), **kwargs), lassen)))
    assert a.ok and b.ok
    # the reads now wait for every write plus one all-reduce round (log2 of 2 nodes): the
    # runtime step and the network latency
    step = lassen.overheads.allreduce_step + lassen.network.latency
    assert a.elapsed == pytest.approx(b.elapsed + step, abs=1e-9)


def test_control_replication_splits_analysis_over_nodes():
    lassen = load_machine("lassen", nodes=4)
    app = toy_app(("write",), pieces=16, nodes=4, gpus=4, elements=1000)
    plan = make_plan(app, lassen)
    shared = simulate(plan)
    replicated = simulate(_replicated(plan))
    assert shared.ok and replicated.ok
    # one node analyses 16 points through one mapper vs four nodes analysing 4 each
    assert replicated.elapsed < shared.elapsed
