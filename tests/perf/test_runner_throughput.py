"""Evaluations per minute of the experiment runner: one process vs the process pool.

The random agent on all nine benchmarks, every evaluation a real simulation (no caches), run
serially and then with the pool in the same test; both rates and their ratio go into the
benchmark's ``extra_info``. Run the full measurement with::

    python -m pytest tests/perf/test_runner_throughput.py --benchmark-enable -s

or ``python -m experiments.bench_throughput`` for a larger grid. In the normal suite (benchmarks
disabled) it runs once on a small grid, as a smoke test of both executors.
"""

from __future__ import annotations

from experiments.bench_throughput import measure


def test_runner_throughput_pool_vs_single_process(benchmark):
    result = benchmark.pedantic(measure, kwargs={"seeds": 2, "budget": 10}, rounds=1,
                                iterations=1)
    serial, pool = result["serial"], result["pool"]
    assert serial["evaluations"] == pool["evaluations"] == 9 * 2 * 10
    assert serial["executor"] == "serial"
    assert pool["executor"] in ("process", "serial")  # serial when one core is available
    benchmark.extra_info.update({
        "serial_evaluations_per_minute": round(serial["per_minute"]),
        "pool_evaluations_per_minute": round(pool["per_minute"]),
        "pool_workers": pool["workers"],
        "ratio": round(result["ratio"], 3),
    })
    print(f"\nsingle process {serial['per_minute']:.0f}/min, pool x{pool['workers']} "
          f"{pool['per_minute']:.0f}/min, ratio {result['ratio']:.2f}")
