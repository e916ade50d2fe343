"""OpenAIChatClient against the scripted local server: replies, usage, retries, errors."""

from __future__ import annotations

import pickle

import pytest

from agents.client import (
    REDACTED,
    LLMError,
    MissingAPIKey,
    OpenAIChatClient,
    Redactor,
    RetryPolicy,
    cost_usd,
    estimate_tokens,
)
from tests.agents.conftest import SENTINEL_KEY, SleepRecorder
from tests.agents.server import Error, Raw, Reply, ScriptedServer, Slow

MESSAGES = [{"role": "system", "content": "sys"}, {"role": "user", "content": "hello"}]


def make_client(server: ScriptedServer, sleeps: SleepRecorder, **kwargs) -> OpenAIChatClient:
    kwargs.setdefault("retry", RetryPolicy(max_retries=3, initial_s=1.0, multiplier=2.0,
                                           max_s=10.0))
    kwargs.setdefault("timeout_s", 5.0)
    return OpenAIChatClient("scripted-model", base_url=server.base_url, sleep=sleeps, **kwargs)


def test_reply_usage_and_request_fields(server, api_key, sleeps):
    server.push(Reply("hi there", prompt_tokens=123, completion_tokens=45, model="m-2025"))
    with make_client(server, sleeps, temperature=0.3, max_output_tokens=777) as client:
        done = client.complete(MESSAGES, seed=11)
    assert done.text == "hi there"
    assert (done.prompt_tokens, done.completion_tokens, done.total_tokens) == (123, 45, 168)
    assert done.model == "m-2025" and done.attempts == 1 and not done.usage_estimated
    assert done.finish_reason == "stop" and done.latency_s >= 0
    (request,) = server.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {SENTINEL_KEY}"
    body = request.body
    assert body["model"] == "scripted-model" and body["messages"] == MESSAGES
    assert body["temperature"] == 0.3 and body["max_tokens"] == 777 and body["seed"] == 11
    assert sleeps.waits == []


def test_retries_5xx_and_429_with_exponential_backoff_and_retry_after(server, api_key, sleeps):
    server.push(Error(500), Error(503), Error(429, headers={"Retry-After": "7"}), Reply("ok"))
    with make_client(server, sleeps) as client:
        done = client.complete(MESSAGES)
    assert done.text == "ok" and done.attempts == 4
    # 1 s, then 2 s, then max(4 s, Retry-After 7 s)
    assert sleeps.waits == [1.0, 2.0, 7.0]
    assert len(server.requests) == 4


def test_gives_up_after_max_retries(server, api_key, sleeps):
    server.push(*[Error(502)] * 4)
    with make_client(server, sleeps) as client, pytest.raises(LLMError) as caught:
        client.complete(MESSAGES)
    error = caught.value
    assert error.retryable and not error.fatal and error.status == 502
    assert error.attempts == 4 and "gave up after 4 attempts" in str(error)
    assert sleeps.waits == [1.0, 2.0, 4.0]
    assert error.__cause__ is None and error.__context__ is None


@pytest.mark.parametrize(("status", "fatal"), [(400, False), (401, True), (403, True),
                                               (404, True), (422, False)])
def test_client_errors_are_not_retried(server, api_key, sleeps, status, fatal):
    server.push(Error(status, "nope"))
    with make_client(server, sleeps) as client, pytest.raises(LLMError) as caught:
        client.complete(MESSAGES)
    assert caught.value.status == status and caught.value.fatal is fatal
    assert not caught.value.retryable and caught.value.attempts == 1
    assert len(server.requests) == 1 and sleeps.waits == []
    assert f"HTTP {status}" in str(caught.value)


def test_timeout_is_retried(server, api_key, sleeps):
    server.push(Slow(1.0), Reply("after timeout"))
    with make_client(server, sleeps, timeout_s=0.2) as client:
        done = client.complete(MESSAGES)
    assert done.text == "after timeout" and done.attempts == 2
    assert sleeps.waits == [1.0]


def test_connection_refused_is_retried_then_reported(api_key, sleeps):
    dead = ScriptedServer()
    url = dead.base_url
    dead.stop()  # never started: the port is closed now
    client = OpenAIChatClient("m", base_url=url, sleep=sleeps,
                              retry=RetryPolicy(max_retries=2, initial_s=0.5))
    with client, pytest.raises(LLMError) as caught:
        client.complete(MESSAGES)
    assert caught.value.retryable and caught.value.attempts == 3
    assert sleeps.waits == [0.5, 1.0]


@pytest.mark.parametrize("body", [b"this is not json", b'{"object": "chat.completion"}',
                                  b'{"choices": "nonsense"}'])
def test_malformed_http_bodies_never_crash(server, api_key, sleeps, body):
    server.push(Raw(body))
    with make_client(server, sleeps) as client:
        try:
            done = client.complete(MESSAGES)
        except LLMError as error:
            assert not error.retryable
        else:  # a body without choices reads as an empty reply
            assert done.text == ""


def test_missing_usage_is_estimated(server, api_key, sleeps):
    server.push(Reply("x" * 400, prompt_tokens=None, completion_tokens=None))
    with make_client(server, sleeps) as client:
        done = client.complete(MESSAGES)
    assert done.usage_estimated and done.completion_tokens == 100
    assert done.prompt_tokens == estimate_tokens("syshello")


def test_null_content_reads_as_empty_text(server, api_key, sleeps):
    server.push(Reply(None))
    with make_client(server, sleeps) as client:
        assert client.complete(MESSAGES).text == ""


def test_missing_key_for_openai_is_fatal_but_local_servers_need_none(monkeypatch, server,
                                                                     sleeps):
    monkeypatch.delenv("MY_KEY", raising=False)
    with pytest.raises(MissingAPIKey) as caught:
        OpenAIChatClient("gpt-4o", api_key_env="MY_KEY")
    assert caught.value.fatal and "MY_KEY" in str(caught.value)
    server.push(Reply("local"))
    with OpenAIChatClient("m", base_url=server.base_url, api_key_env="MY_KEY",
                          sleep=sleeps) as client:
        assert client.complete(MESSAGES).text == "local"


def test_key_never_in_repr_errors_or_replies(server, api_key, sleeps):
    # an endpoint that echoes the key in its error and in its reply
    server.push(Error(401, f"invalid key {SENTINEL_KEY}"))
    server.push(Reply(f"your key is {SENTINEL_KEY}"))
    with make_client(server, sleeps) as client:
        assert SENTINEL_KEY not in repr(client)
        with pytest.raises(LLMError) as caught:
            client.complete(MESSAGES)
        for text in (str(caught.value), repr(caught.value), caught.value.message):
            assert SENTINEL_KEY not in text
        assert REDACTED in str(caught.value)
        assert caught.value.__cause__ is None and caught.value.__context__ is None
        reply = client.complete(MESSAGES).text
    assert SENTINEL_KEY not in reply and reply == f"your key is {REDACTED}"
    assert SENTINEL_KEY not in str(pickle.loads(pickle.dumps(caught.value)))


def test_errors_pickle_with_their_flags():
    error = LLMError("boom", status=503, retryable=True, fatal=False, attempts=3,
                     retry_after=2.0)
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.message, copy.status, copy.retryable, copy.fatal, copy.attempts,
            copy.retry_after) == ("boom", 503, True, False, 3, 2.0)
    assert type(pickle.loads(pickle.dumps(MissingAPIKey("k", fatal=True)))) is MissingAPIKey


def test_retry_policy_delays():
    policy = RetryPolicy(max_retries=5, initial_s=0.5, multiplier=3.0, max_s=5.0)
    assert [policy.delay(k) for k in range(4)] == [0.5, 1.5, 4.5, 5.0]
    assert policy.delay(0, retry_after=100.0) == 5.0  # capped
    assert policy.delay(0, retry_after=float("nan")) == 0.5
    import random

    jittery = RetryPolicy(initial_s=1.0, jitter=0.5)
    waits = [jittery.delay(0, rng=random.Random(3)) for _ in range(2)]
    assert waits[0] == waits[1] and 0.5 <= waits[0] <= 1.5
    for bad in ({"max_retries": -1}, {"multiplier": 0.5}, {"jitter": 1.0}):
        with pytest.raises(ValueError):
            RetryPolicy(**bad)


def test_cost_and_redactor():
    prices = {"m": (2.5, 10.0)}
    assert cost_usd(prices, "m", 1_000_000, 100_000) == pytest.approx(3.5)
    assert cost_usd(prices, "other", 10, 10) is None
    redact = Redactor(("abc", ""))
    assert redact("xabcxabc") == f"x{REDACTED}x{REDACTED}" and "abc" not in repr(redact)
