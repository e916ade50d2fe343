"""The LLM agent end to end: real environments, the real OpenAI client, and a scripted
OpenAI-compatible server on 127.0.0.1 (good, malformed and failing answers). No internet, no
real key: the key is a sentinel that must never show up in anything the agent records."""

from __future__ import annotations

import json
import logging

import gymnasium as gym
import pytest

import mapper_gym  # noqa: F401  (registers the environments)
from agents import LLMAgent, LLMConfig
from agents.client import REDACTED
from agents.llm_agent import random_start_sections
from benchmarks import get_app
from mapper_gym.testing import check_agent
from mapper_gym.tuning import tune
from tests.agents.conftest import SENTINEL_KEY
from tests.agents.server import Error, Reply

PRICES = {"scripted-model": (2.0, 8.0)}  # dollars per million tokens (input, output)


def config(server, **overrides):
    values = {"model": "scripted-model", "base_url": server.base_url, "prices": PRICES,
              "timeout_s": 10.0, "max_retries": 3, "backoff_initial_s": 1.0}
    values.update(overrides)
    return LLMConfig(**values)


def run_episode(env, agent, steps):
    _, info = env.reset(seed=0)
    agent.reset(info)
    outcomes = []
    for _ in range(steps):
        action = agent.propose()
        observation, reward, _, _, step_info = env.step(action)
        agent.observe(action, observation, reward, step_info)
        outcomes.append((action, observation, reward, step_info))
    return outcomes


def everything_recorded(agent, outcomes, caplog) -> str:
    """Every text the agent produced or kept: summary, records, repr, logs, proposals."""
    return "\n".join([
        json.dumps(agent.summary()),
        repr(agent), repr(agent.config), json.dumps(agent.config.to_dict()),
        repr(agent.records), caplog.text,
        *(action for action, *_ in outcomes),
    ])


def test_stencil_episode_against_a_scripted_server(server, api_key, sleeps, caplog):
    caplog.set_level(logging.DEBUG)  # the openai/httpx loggers included
    expert = get_app("Stencil").expert_mapper()
    server.push(
        # after step 1 (the random start fails on a layout): rewrite the layout section
        Reply("The stencil variant wants SOA F_order.\n\n```dsl layout\n"
              "Layout * * * SOA F_order;\n```", prompt_tokens=2000, completion_tokens=40),
        # after step 2: a server error, then prose without code, then a usable reply
        Error(500, "overloaded"),
        Reply("Let us run everything on GPUs, that should help a lot.",
              prompt_tokens=2100, completion_tokens=15),
        Reply("### task\n```\nTask * GPU,CPU;\n```", prompt_tokens=2200, completion_tokens=12),
        # after step 3: rate limited, then a whole program in one unlabelled block
        Error(429, "slow down", headers={"Retry-After": "3"}),
        Reply(f"Here is a complete mapper.\n```dsl\n{expert}```", prompt_tokens=2300,
              completion_tokens=400),
        # after step 4: a Python-style def; it must reach the environment unrepaired
        Reply("```dsl index_task_map\ngpus = Machine(GPU);\ndef f(Task t):\n"
              "    return gpus[0, t.ipoint[0] % gpus.size[1]];\nIndexTaskMap stencil f;\n```",
              prompt_tokens=2400, completion_tokens=60),
    )
    env = gym.make("Mapper-Stencil-v0", budget=5)
    agent = LLMAgent(config(server), sleep=sleeps)
    try:
        outcomes = run_episode(env, agent, 5)
    finally:
        agent.close()
        env.close()
    assert server.remaining == 0 and len(server.requests) == 7

    records = agent.records
    assert [r.source for r in records] == ["start", "llm", "llm", "llm", "llm"]
    statuses = [step_info["status"] for *_, step_info in outcomes]
    rewards = [reward for _, _, reward, _ in outcomes]
    assert statuses[0] == "runtime_error" and statuses[3] == "ok"
    assert rewards[3] == pytest.approx(1.0)  # the expert mapper's sections
    assert statuses[4] == "compile_error"
    assert "Syntax error, unexpected :, expecting {" in outcomes[4][1]["feedback"]
    assert "def f(Task t):" in outcomes[4][0]
    assert agent.best_step().step == 4 and agent.best_program == outcomes[3][0]

    # what the model was told
    first = server.requests[0].body
    assert first["model"] == "scripted-model" and first["seed"] == 2
    system, user = (m["content"] for m in first["messages"])
    assert "# Mapping DSL: condensed reference" in system
    _, info = env.reset(seed=0)
    assert info["app_text"] in user
    assert random_start_sections(info, 0).render().strip() in user
    assert outcomes[0][1]["feedback"].splitlines()[0] in user  # step 1's feedback
    repair = server.requests[3].body["messages"]
    assert [m["role"] for m in repair] == ["system", "user", "assistant", "user"]
    later = server.requests[6].body["messages"][1]["content"]
    assert "## Step 4: score 1.0000, ok" in later

    # retries waited (injected sleep) per the backoff policy and Retry-After
    assert sleeps.waits == [1.0, 3.0]
    assert records[2].attempts == 3 and records[2].requests == 2
    assert records[3].attempts == 2

    # usage and cost per step and in total
    assert (records[2].prompt_tokens, records[2].completion_tokens) == (4300, 27)
    assert records[2].cost_usd == pytest.approx((4300 * 2.0 + 27 * 8.0) / 1e6)
    usage = agent.usage()
    assert usage.prompt_tokens == 2000 + 2100 + 2200 + 2300 + 2400
    assert usage.requests == 5 and usage.failed_steps == 0
    assert usage.cost_usd == pytest.approx(sum(r.cost_usd for r in records))
    assert all(r.latency_s >= 0 for r in records)

    # the key was sent to the endpoint, and appears nowhere else
    assert all(r.headers["authorization"] == f"Bearer {SENTINEL_KEY}" for r in server.requests)
    assert SENTINEL_KEY not in everything_recorded(agent, outcomes, caplog)


def test_an_echoed_key_is_redacted_everywhere(server, api_key, sleeps, caplog):
    caplog.set_level(logging.DEBUG)
    server.push(
        Error(500, f"backend rejected key {SENTINEL_KEY}"),
        Reply(f"```dsl task\n# key {SENTINEL_KEY}\nTask * GPU,CPU;\n```"),
        Error(400, f"bad request from {SENTINEL_KEY}"),
    )
    env = gym.make("Mapper-Stencil-v0", budget=3)
    agent = LLMAgent(config(server), sleep=sleeps)
    try:
        outcomes = run_episode(env, agent, 3)
    finally:
        agent.close()
        env.close()
    assert SENTINEL_KEY not in everything_recorded(agent, outcomes, caplog)
    assert REDACTED in outcomes[1][0]  # the proposal itself was scrubbed
    assert agent.records[2].failed and REDACTED in agent.records[2].error


def test_fatal_and_budget_stops_in_a_real_episode(server, api_key, sleeps):
    server.push(Error(401, "invalid api key"))
    env = gym.make("Mapper-Circuit-v0", budget=4)
    agent = LLMAgent(config(server), sleep=sleeps)
    try:
        outcomes = run_episode(env, agent, 4)
    finally:
        agent.close()
        env.close()
    assert agent.exhausted and "HTTP 401" in agent.stop_reason and len(server.requests) == 1
    assert len({action for action, *_ in outcomes}) == 1  # the start, then the best = start

    server.push(*[Reply("```dsl task\nTask * GPU,CPU;\n```", prompt_tokens=900,
                        completion_tokens=100)] * 2)
    env = gym.make("Mapper-Circuit-v0", budget=5)
    agent = LLMAgent(config(server, max_total_tokens=2000), sleep=sleeps)
    try:
        run_episode(env, agent, 5)
    finally:
        agent.close()
        env.close()
    assert agent.exhausted and agent.usage().total_tokens == 2000
    assert len(server.requests) == 3 and server.remaining == 0
    assert [r.source for r in agent.records][-2:] == ["exhausted", "exhausted"]


def test_tune_loop_drives_the_llm_agent(server, api_key, sleeps):
    server.default = Reply("```dsl task\nTask * GPU,CPU;\n```")
    agent = LLMAgent(config(server), sleep=sleeps)
    try:
        result = tune("Stencil", agent, iters=3, progress=False)
    finally:
        agent.close()
    assert len(result.history) == 3 and len(server.requests) == 2


def _deterministic_reply(body):
    """A reply that depends only on the request: it moves every task to the kinds listed
    first in the machine description, so runs are reproducible."""
    user = body["messages"][-1]["content"]
    kinds = "GPU,CPU" if "GPU" in user else "CPU"
    return Reply(f"```dsl task\nTask * {kinds};\n```", prompt_tokens=len(user) // 4,
                 completion_tokens=12)


def test_agent_conformance_suite(server, api_key, sleeps):
    server.default = _deterministic_reply

    def make_agent(seed):
        return LLMAgent(config(server, seed=seed), sleep=sleeps)

    report = check_agent(make_agent, env_ids=("Stencil", "Circuit"), iters=3,
                         proposals_compile=True)
    assert report.failures == []
    assert {"protocol", "episode", "determinism", "failure tolerance",
            "switching apps"} <= set(report.checks)
    # the LLM was really asked (the start mapper is the only proposal made without it)
    assert len(server.requests) >= 2 * 2
    assert all(r.body["model"] == "scripted-model" for r in server.requests)
