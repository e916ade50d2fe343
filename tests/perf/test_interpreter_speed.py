"""Speed of the load and map phases (targets, medians on the 2-core dev machine: load of the §6
program under 0.1 ms; mapping the 24 points of a (6, 4) launch, uncached, under 2 ms; the worst
``auto_split`` the §11 limits allow under 1 s).

Run with ``python -m pytest tests/perf/test_interpreter_speed.py --benchmark-enable``; in the
normal suite (``--benchmark-disable``) each benchmarked function runs once, as a smoke test.
"""

from __future__ import annotations

from mapper_gym.dsl import factorize
from mapper_gym.dsl.context import SimpleTopology
from mapper_gym.dsl.interpreter import TaskRef, load
from mapper_gym.dsl.parser import parse
from tests.dsl.spec_programs import SECTION_6_EXAMPLE

MACHINE = SimpleTopology(nodes=3, processors={"GPU": 4, "CPU": 2})
HALO_POINTS = [
    TaskRef("halo", ipoint=(x, y), ispace=(6, 4), index_launch=True)
    for x in range(6)
    for y in range(4)
]


def test_load_section_6_program(benchmark) -> None:
    program = parse(SECTION_6_EXAMPLE)
    loaded = benchmark(load, program, MACHINE)
    assert loaded.globals["gpus"].size == (3, 4)


def test_map_a_launch_uncached(benchmark) -> None:
    program = parse(SECTION_6_EXAMPLE)

    def map_launch() -> list[tuple[int, int]]:
        loaded = load(program, MACHINE)  # fresh: no cached entry results
        return [loaded.call_entry("tiles", task, kind="GPU").coords for task in HALO_POINTS]

    placed = benchmark(map_launch)
    assert placed.count((0, 0)) == 4


def test_worst_auto_split(benchmark) -> None:
    def search() -> tuple[int, ...]:
        factorize._auto_split_search.cache_clear()
        return factorize.auto_split(1_048_576, (8, 7, 6, 5, 4, 3, 2, 1))

    factors = benchmark(search)
    assert factorize.auto_split_candidate_count(1_048_576, 8) <= 1_000_000
    assert len(factors) == 8
