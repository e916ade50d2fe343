"""The LLM tape: live calls are recorded, replays serve them and check the requests."""

from __future__ import annotations

import pytest

from agents import Completion, LLMError
from experiments.factory import EndpointUnavailable, ReplayMismatch, TapeClient

MESSAGES = [{"role": "user", "content": "improve the mapper"}]


class Endpoint:
    def __init__(self) -> None:
        self.calls = 0

    def complete(self, messages, *, seed=None):
        self.calls += 1
        if messages[-1]["content"] == "fail":
            raise LLMError("rate limited", status=429, retryable=True, attempts=5)
        return Completion(text=f"reply {self.calls}", prompt_tokens=10, completion_tokens=3,
                          model="m", latency_s=0.5, finish_reason="stop")


def _recorded() -> tuple[list[dict], Endpoint]:
    endpoint = Endpoint()
    tape = TapeClient("m", lambda: endpoint)
    tape.complete(MESSAGES, seed=1)
    with pytest.raises(LLMError):
        tape.complete([{"role": "user", "content": "fail"}], seed=2)
    return tape.drain(), endpoint


def test_live_calls_are_recorded_with_usage_and_failures():
    calls, endpoint = _recorded()
    assert endpoint.calls == 2
    assert calls[0]["ok"] and calls[0]["text"] == "reply 1" and calls[0]["prompt_tokens"] == 10
    assert not calls[1]["ok"] and calls[1]["error"]["status"] == 429
    assert calls[0]["request"] != calls[1]["request"]


def test_a_replay_serves_the_tape_without_the_endpoint():
    calls, _ = _recorded()
    tape = TapeClient("m", lambda: pytest.fail("the endpoint must not be made"), calls)
    tape.allow_live(False)
    completion = tape.complete(MESSAGES, seed=1)
    assert (completion.text, completion.prompt_tokens, completion.finish_reason) == (
        "reply 1", 10, "stop")
    with pytest.raises(LLMError) as failure:
        tape.complete([{"role": "user", "content": "fail"}], seed=2)
    assert failure.value.status == 429 and failure.value.retryable
    assert not tape.replaying and tape.drain() == []
    with pytest.raises(ReplayMismatch, match="more requests"):
        tape.complete(MESSAGES, seed=3)


def test_a_different_request_is_a_mismatch():
    calls, _ = _recorded()
    tape = TapeClient("m", Endpoint, calls)
    with pytest.raises(ReplayMismatch, match="differs"):
        tape.complete([{"role": "user", "content": "something else"}])


def test_after_the_tape_live_requests_go_to_the_endpoint():
    calls, _ = _recorded()
    endpoint = Endpoint()
    tape = TapeClient("m", lambda: endpoint, calls[:1])
    tape.complete(MESSAGES, seed=1)
    tape.complete(MESSAGES, seed=5)
    assert endpoint.calls == 1 and len(tape.drain()) == 1


def test_a_missing_endpoint_fails_the_unit_not_the_step():
    def missing():
        raise LLMError("set OPENAI_API_KEY", fatal=True)

    with pytest.raises(EndpointUnavailable, match="OPENAI_API_KEY"):
        TapeClient("m", missing).complete(MESSAGES)
