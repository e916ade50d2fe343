"""Speed of the LLM agent's own work per step (target: well under 50 ms, negligible next to a
model's seconds of latency): reading a reply that pastes a whole large program, and building a
10-step prompt for the largest decision space (Pennant).

Run with ``python -m pytest tests/perf/test_agent_speed.py --benchmark-enable``; in the normal
suite (``--benchmark-disable``) each benchmarked function runs once, as a smoke test.
"""

from __future__ import annotations

import random

import pytest

from agents.llm_agent import random_start_sections
from agents.prompts import HistoryEntry, improve_messages
from agents.reply import parse_reply
from benchmarks import get_app
from mapper_gym.appmodel import MachineShape
from mapper_gym.backends.problem import machine_summary
from mapper_gym.machine import load_machine


@pytest.fixture(scope="module")
def pennant_info():
    model = get_app("Pennant").build(MachineShape(nodes=1, gpus_per_node=4), preset="small")
    return {"app": model.describe(), "app_text": model.describe_text(),
            "machine": machine_summary(load_machine()), "budget": 10}


def test_parse_whole_program_reply(benchmark, pennant_info):
    program = random_start_sections(pennant_info, random.Random(0)).render()
    reply = f"Here is the whole mapper.\n```dsl\n{program}```\nIt should be faster."
    parsed = benchmark(parse_reply, reply)
    assert "index_task_map" in parsed.sections


def test_build_ten_step_prompt(benchmark, pennant_info):
    programs = [random_start_sections(pennant_info, seed).render() for seed in range(10)]
    history = [HistoryEntry(i + 1, p, 0.0, "runtime_error", "Execution Error: x")
               for i, p in enumerate(programs)]
    sections = random_start_sections(pennant_info, 0)
    messages = benchmark(improve_messages, pennant_info["app_text"], "machine", sections,
                         history, step=10, budget=10)
    assert len(messages[1]["content"]) > 10 * len(programs[0]) // 2
