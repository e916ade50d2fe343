"""LLMAgent logic with an in-process scripted client: the loop, repairs, failures, budgets,
ablations. (End-to-end runs over HTTP against real environments: test_end_to_end.py.)"""

from __future__ import annotations

import json
import math

import gymnasium as gym
import pytest

import mapper_gym  # noqa: F401  (registers the environments)
from agents import Completion, LLMAgent, LLMConfig, LLMError, Sections
from agents.llm_agent import random_start_sections
from agents.sections import sections_from_program
from benchmarks import get_app
from mapper_gym.agent import AgentInfo, BaseAgent
from mapper_gym.dsl.pipeline import diagnose

START = Sections(task="Task * CPU;", region="Region * * CPU SYSMEM;",
                 layout="Layout * * * SOA F_order;")


class FakeClient:
    """A ChatClient that answers from a list: text, a Completion, or an exception."""

    model = "fake-model"

    def __init__(self, *replies, prompt_tokens=100, completion_tokens=50):
        self.replies = list(replies)
        self.calls: list[tuple[list[dict], int | None]] = []
        self.tokens = (prompt_tokens, completion_tokens)

    def complete(self, messages, *, seed=None):
        self.calls.append(([dict(m) for m in messages], seed))
        if not self.replies:
            raise AssertionError("the agent asked more often than scripted")
        reply = self.replies.pop(0)
        if isinstance(reply, BaseException):
            raise reply
        if isinstance(reply, Completion):
            return reply
        return Completion(text=reply, prompt_tokens=self.tokens[0],
                          completion_tokens=self.tokens[1], model=self.model, latency_s=0.5)

    def user_message(self, call: int) -> str:
        return self.calls[call][0][1]["content"]


@pytest.fixture(scope="module")
def info():
    env = gym.make("Mapper-Stencil-v0", budget=10)
    _, reset_info = env.reset(seed=0)
    env.close()
    return reset_info


def outcome(reward=0.0, status="ok", feedback="Performance Metric: 1 GFLOPS",
            raw="Performance Metric: 1 GFLOPS"):
    observation = {"status": ["ok", "compile_error", "runtime_error", "timeout"].index(status),
                   "feedback": feedback, "throughput": 1.0 if status == "ok" else 0.0}
    return observation, reward, {"status": status, "raw_output": raw}


def step(agent, reward=0.0, status="ok", **kwargs):
    action = agent.propose()
    observation, reward, step_info = outcome(reward, status, **kwargs)
    agent.observe(action, observation, reward, step_info)
    return action


def make(client, info, **config):
    config.setdefault("model", "fake-model")
    agent = LLMAgent(LLMConfig(**config), client=client, start=START)
    agent.reset(info)
    return agent


def test_is_a_base_agent_and_starts_with_the_start_mapper(info):
    client = FakeClient()
    agent = make(client, info)
    assert isinstance(agent, BaseAgent) and agent.name == "llm"
    first = agent.propose()
    assert first == START.render() and client.calls == []
    assert agent.propose() == first  # asked again before observe: the same proposal
    agent.observe(first, *outcome(0.0, "runtime_error"))
    (record,) = agent.records
    assert record.source == "start" and record.requests == 0 and record.cost_usd == 0.0


def test_reply_replaces_only_the_sections_it_gives(info):
    client = FakeClient("Faster memory:\n```dsl region\nRegion * * CPU SOCKMEM,SYSMEM;\n```")
    agent = make(client, info)
    step(agent, 0.5)
    program = agent.propose()
    sections = sections_from_program(program)
    assert sections.region == "Region * * CPU SOCKMEM,SYSMEM;"
    assert sections.task == START.task and sections.layout == START.layout
    agent.observe(program, *outcome(0.7))
    record = agent.records[-1]
    assert record.source == "llm" and record.changed == ("region",)
    assert (record.prompt_tokens, record.completion_tokens, record.requests) == (100, 50, 1)
    assert record.replies and record.messages[0]["role"] == "system"
    # the request carried the history: the start program, its score and feedback
    user = client.user_message(0)
    assert START.render().strip() in user and "score 0.5000" in user
    assert "Performance Metric: 1 GFLOPS" in user and "evaluation 2 of 10" in user


def test_unreadable_reply_is_repaired_with_a_follow_up_request(info):
    client = FakeClient("I would move the data to faster memory.",
                        "```dsl task\nTask * GPU,CPU;\n```")
    agent = make(client, info)
    step(agent)
    program = agent.propose()
    assert sections_from_program(program).task == "Task * GPU,CPU;"
    follow_up = client.calls[1][0]
    assert [m["role"] for m in follow_up] == ["system", "user", "assistant", "user"]
    assert follow_up[2]["content"] == "I would move the data to faster memory."
    assert "could not be used" in follow_up[3]["content"]
    agent.observe(program, *outcome(0.4))
    record = agent.records[-1]
    assert record.source == "llm" and record.requests == 2 and not record.failed
    assert record.prompt_tokens == 200


def test_unusable_replies_make_a_failed_step_not_a_crash(info):
    client = FakeClient("no idea", Completion("", 10, 0, "fake-model", 0.1,
                                              finish_reason="length"),
                        "```dsl layout\nLayout * * * AOS;\n```")
    agent = make(client, info, format_retries=1)
    step(agent, 0.3)
    again = agent.propose()
    assert again == START.render()  # the current program, proposed again
    agent.observe(again, *outcome(0.3))
    failed = agent.records[-1]
    assert failed.failed and failed.source == "fallback" and failed.requests == 2
    assert "cut off at the output token limit" in failed.error
    # the next prompt tells the model what happened
    step(agent, 0.3)
    assert "unusable reply" in client.user_message(2)
    assert "the previous program was evaluated again" in client.user_message(2)
    assert agent.usage().failed_steps == 1 and not agent.exhausted


def test_api_error_is_a_failed_step_then_the_agent_carries_on(info):
    client = FakeClient(LLMError("HTTP 503: overloaded (gave up after 5 attempts)",
                                 status=503, retryable=True, attempts=5),
                        "```dsl task\nTask * GPU;\n```")
    agent = make(client, info)
    step(agent)
    assert step(agent) == START.render()
    record = agent.records[-1]
    assert record.failed and "HTTP 503" in record.error and record.attempts == 5
    assert "Task * GPU;" in step(agent, 0.8)
    assert not agent.exhausted


def test_fatal_api_error_stops_the_agent_cleanly(info):
    client = FakeClient(LLMError("HTTP 401: invalid key", status=401, fatal=True))
    agent = make(client, info)
    step(agent, 0.2)
    step(agent, 0.0, "runtime_error")
    assert agent.exhausted and "HTTP 401" in agent.stop_reason
    for _ in range(3):  # no more requests: the best program, again and again
        assert step(agent, 0.2) == START.render()
    assert len(client.calls) == 1
    assert [r.source for r in agent.records] == ["start", "exhausted", "exhausted",
                                                 "exhausted", "exhausted"]


def test_token_budget_stops_cleanly_with_the_best_program(info):
    replies = [f"```dsl task\nTask * {k};\n```" for k in ("GPU", "GPU,CPU", "OMP", "CPU")]
    client = FakeClient(*replies)
    agent = make(client, info, max_total_tokens=300)  # two requests of 150 tokens
    step(agent, 0.1)
    best = step(agent, 0.9)
    step(agent, 0.2)
    assert agent.usage().total_tokens == 300 and not agent.exhausted
    assert step(agent, 0.9) == best
    assert agent.exhausted and "token budget spent (300 of 300 tokens)" in agent.stop_reason
    assert step(agent, 0.9) == best and len(client.calls) == 2
    assert agent.summary()["exhausted"] is True


def test_cost_budget_and_prices(info):
    prices = {"fake-model": (1000.0, 2000.0)}  # $0.1 + $0.1 per request
    client = FakeClient(*["```dsl task\nTask * GPU;\n```"] * 5)
    agent = make(client, info, max_cost_usd=0.35, prices=prices)
    for _ in range(5):
        step(agent, 0.5)
    assert len(client.calls) == 2
    assert agent.usage().cost_usd == pytest.approx(0.4)
    assert agent.records[1].cost_usd == pytest.approx(0.2)
    assert agent.exhausted and "cost budget spent" in agent.stop_reason


def test_unknown_price_gives_unknown_cost_and_cost_budget_needs_a_price(info):
    agent = make(FakeClient("```dsl task\nTask * GPU;\n```"), info, model="local-llama")
    step(agent)
    step(agent)
    assert agent.records[1].cost_usd is None and agent.usage().cost_usd is None
    with pytest.raises(ValueError, match="needs a price"):
        LLMConfig(model="local-llama", max_cost_usd=1.0)
    assert LLMConfig(model="local-llama", max_cost_usd=1.0,
                     prices={"local-llama": (0.0, 0.0)}).price() == (0.0, 0.0)


def test_zero_shot_asks_every_step_without_history_or_feedback(info):
    replies = [f"```dsl task\nTask * {k};\n```" for k in ("GPU", "CPU", "GPU,CPU")]
    client = FakeClient(*replies)
    agent = make(client, info, mode="zero_shot", seed=7)
    programs = [step(agent, 0.5, feedback="SECRET FEEDBACK") for _ in range(3)]
    assert len(client.calls) == 3  # the first proposal is a generation too
    for i in range(3):
        user = client.user_message(i)
        assert "# History" not in user and "SECRET FEEDBACK" not in user
        assert "# Starting mapper" in user and START.task in user
    assert [seed for _, seed in client.calls] == [8, 9, 10]  # a new sample each step
    assert [sections_from_program(p).task for p in programs] == [
        "Task * GPU;", "Task * CPU;", "Task * GPU,CPU;"]
    # each generation starts from the start mapper, not from the previous proposal
    assert all(sections_from_program(p).region == START.region for p in programs)


def test_few_shot_shows_mappers_of_other_applications(info):
    client = FakeClient("```dsl task\nTask * GPU;\n```")
    agent = make(client, info, mode="few_shot", few_shot_k=3)
    step(agent)
    user = client.user_message(0)
    assert user.count("```dsl\n") == 3 and "# Example mappers for other applications" in user
    assert "## Stencil" not in user
    assert "# History" not in user


@pytest.mark.parametrize(("choice", "shown", "hidden"), [
    ("env", "AUTOGUIDE SUGGESTION", "RAW LINE"),
    ("raw", "RAW LINE", "AUTOGUIDE SUGGESTION"),
    ("none", None, "AUTOGUIDE SUGGESTION"),
])
def test_feedback_choices(info, choice, shown, hidden):
    client = FakeClient("```dsl task\nTask * GPU;\n```")
    agent = make(client, info, feedback=choice)
    step(agent, 0.0, "runtime_error", feedback="AUTOGUIDE SUGGESTION", raw="RAW LINE")
    step(agent)
    user = client.user_message(0)
    if shown:
        assert shown in user
    assert hidden not in user
    assert "score 0.0000, runtime_error" in user


def test_edit_from_best_rewrites_the_best_program(info):
    client = FakeClient("```dsl task\nTask * GPU;\n```",
                        "```dsl region\nRegion * * GPU FBMEM;\n```")
    agent = make(client, info, edit_from="best")
    step(agent, 0.9)  # the start scores best
    step(agent, 0.1, "runtime_error")
    third = sections_from_program(agent.propose())
    assert third.task == START.task and third.region == "Region * * GPU FBMEM;"
    assert "```dsl task\nTask * CPU;\n```" in client.user_message(1)


def test_foreign_action_is_adopted_and_usage_kept(info):
    client = FakeClient("```dsl task\nTask * GPU;\n```", "```dsl layout\nLayout * * * AOS;\n```")
    agent = make(client, info)
    step(agent)
    agent.propose()  # an LLM proposal, replaced by someone else's program
    observation, reward, step_info = outcome(0.6)
    agent.observe("Task * OMP;\n", observation, reward, step_info)
    record = agent.records[-1]
    assert record.source == "external" and record.program == "Task * OMP;\n"
    assert record.requests == 1 and record.prompt_tokens == 100
    assert agent.current_sections.task == "Task * OMP;"
    assert sections_from_program(agent.propose()).task == "Task * OMP;"


def test_malformed_outcomes_are_accepted(info):
    agent = make(FakeClient(*["```dsl task\nTask * GPU;\n```"] * 4), info)
    for observation, reward, step_info in [({}, math.nan, {}), (None, None, None),
                                           ({"status": 99}, math.inf, {"status": "boom"}),
                                           ({"feedback": None}, "x", {"status": "ok"})]:
        agent.observe(agent.propose(), observation, reward, step_info)
    assert all(r.reward is not None and math.isfinite(r.reward) for r in agent.records)
    json.dumps(agent.summary())


def test_summary_is_json_and_complete(info):
    client = FakeClient("```dsl task\nTask * GPU;\n```")
    agent = make(client, info)
    step(agent, 0.2)
    step(agent, 0.6)
    summary = json.loads(json.dumps(agent.summary()))
    assert summary["best_step"] == 2 and summary["best_reward"] == 0.6
    assert summary["usage"]["total_tokens"] == 150 and summary["usage"]["requests"] == 1
    assert summary["config"]["model"] == "fake-model"
    assert [s["source"] for s in summary["steps"]] == ["start", "llm"]
    assert "Task * GPU;" in summary["best_program"]


def test_random_start_is_a_valid_seeded_mapper(info):
    app_info = AgentInfo.from_reset_info(info).app_info()
    first = random_start_sections(info, 1)
    assert first == random_start_sections(info, 1)
    assert first != random_start_sections(info, 2)
    program, findings = diagnose(first.render(), app_info)
    assert program is not None and not [d for d in findings if d.is_error]
    # the agent uses it when no start is given, seeded by the config
    agents = [LLMAgent(LLMConfig(model="fake-model", seed=5), client=FakeClient())
              for _ in range(2)]
    for agent in agents:
        agent.reset(info)
    assert agents[0].propose() == agents[1].propose()
    assert agents[0].start_sections.task.startswith("Task ")


def test_expert_mapper_as_start(info):
    expert = get_app("Stencil").expert_mapper()
    agent = LLMAgent(LLMConfig(model="fake-model"), client=FakeClient(), start=expert)
    agent.reset(info)
    assert sections_from_program(agent.propose()) == sections_from_program(expert)


def test_config_validation_and_repr():
    for bad in ({"mode": "one_shot"}, {"feedback": "suggest"}, {"edit_from": "worst"},
                {"max_retries": -1}, {"history_window": 0}, {"max_total_tokens": 0}):
        with pytest.raises(ValueError):
            LLMConfig(**bad)
    config = LLMConfig()
    assert config.to_dict()["prices"]["gpt-4o-2024-08-06"] == [2.5, 10.0]
    assert config.retry_policy().max_retries == 4
    with pytest.raises(RuntimeError):
        LLMAgent(config, client=FakeClient()).propose()


def test_no_repair_request_once_the_budget_is_spent(info):
    client = FakeClient("prose only, no code", "```dsl task\nTask * GPU;\n```")
    agent = make(client, info, max_total_tokens=150)  # one request
    step(agent)
    step(agent)
    failed = agent.records[-1]
    assert failed.failed and failed.error == "budget spent before the reply could be repaired"
    assert len(client.calls) == 1
    step(agent)
    assert agent.exhausted and agent.records[-1].source == "exhausted"
    assert len(client.calls) == 1


def test_start_function_gets_the_info_and_the_seeded_generator(info):
    seen = []

    def start(reset_info, rng):
        seen.append((reset_info["app"]["name"], rng.random()))
        return "Task * GPU,CPU;\n"

    for _ in range(2):
        agent = LLMAgent(LLMConfig(model="fake-model", seed=3), client=FakeClient(), start=start)
        agent.reset(info)
        assert agent.propose() == "Task * GPU,CPU;\n"
    assert seen[0] == seen[1] and seen[0][0] == "Stencil"
