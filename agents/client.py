"""Chat completions from any OpenAI-compatible endpoint, with retries, usage and cost.

:class:`OpenAIChatClient` speaks the ``/v1/chat/completions`` protocol that OpenAI, vLLM and
Ollama all serve, through the ``openai`` package. The agent sees only the small
:class:`ChatClient` protocol, so tests and other providers can plug in their own client.

Three promises, each tested:

- **Retries.** Connection failures, timeouts, 408/409/429 and 5xx answers are retried with
  exponential backoff (a ``Retry-After`` header is honoured, capped by the policy's maximum).
  The client does its own retrying (the ``openai`` package's is switched off) so the number of
  attempts and the waits are known and recorded, and tests inject ``sleep`` instead of waiting.
- **Errors are values.** Every failure becomes :class:`LLMError` with ``retryable`` and ``fatal``
  flags (authentication, permission and unknown-model answers are fatal: asking again cannot
  help). No exception of the HTTP stack escapes, and none is chained, because those carry the
  request and its headers.
- **The API key stays secret.** The key is read from an environment variable (its *name* is
  configuration, the value never is), kept in one private attribute, and removed from every
  text this module returns: error messages and even replies (an endpoint that echoed the key
  would otherwise plant it in results).
"""

from __future__ import annotations

import math
import os
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

#: Prices in US dollars per million tokens (input, output), as OpenAI listed them in 2025.
#: They change: pass your own table (``LLMConfig.prices``) for serious accounting. A model
#: missing from the table has an unknown cost (``None``), never a guessed one.
DEFAULT_PRICES: Mapping[str, tuple[float, float]] = {
    "gpt-4o-2024-08-06": (2.50, 10.00),
    "gpt-4o": (2.50, 10.00),
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o-mini-2024-07-18": (0.15, 0.60),
}

REDACTED = "[REDACTED]"


class LLMError(Exception):
    """A chat completion that failed; the message is safe to log (secrets removed).

    ``retryable``: the same request may succeed later (it was retried up to the policy's limit).
    ``fatal``: no request to this endpoint with this configuration can succeed (bad key, no such
    model); an agent should stop. ``status`` is the HTTP status, when there was one.
    """

    def __init__(self, message: str, *, status: int | None = None, retryable: bool = False,
                 fatal: bool = False, attempts: int = 1, retry_after: float | None = None
                 ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.retryable = retryable
        self.fatal = fatal
        self.attempts = attempts
        #: Seconds the server asked us to wait (``Retry-After``), if it did.
        self.retry_after = retry_after

    def __reduce__(self) -> tuple[Any, ...]:  # picklable for multiprocessing runners
        return (_rebuild_error, (type(self), self.message, self.status, self.retryable,
                                 self.fatal, self.attempts, self.retry_after))


def _rebuild_error(cls: type[LLMError], message: str, status: int | None, retryable: bool,
                   fatal: bool, attempts: int, retry_after: float | None) -> LLMError:
    return cls(message, status=status, retryable=retryable, fatal=fatal, attempts=attempts,
               retry_after=retry_after)


class MissingAPIKey(LLMError):
    """The environment variable that should hold the API key is not set."""


@dataclass(frozen=True)
class Completion:
    """One successful chat completion.

    ``prompt_tokens``/``completion_tokens`` are the endpoint's counts; when it reports none they
    are estimated (about four characters per token) and ``usage_estimated`` is set.
    ``latency_s`` is the wall time of all attempts, waits included; ``attempts`` counts requests.
    """

    text: str
    prompt_tokens: int
    completion_tokens: int
    model: str
    latency_s: float
    attempts: int = 1
    finish_reason: str | None = None
    usage_estimated: bool = False

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


Message = Mapping[str, str]


@runtime_checkable
class ChatClient(Protocol):
    """What the agent needs from a language model."""

    @property
    def model(self) -> str:
        """The model name requests are made for (used to look up prices)."""
        ...

    def complete(self, messages: Sequence[Message], *, seed: int | None = None) -> Completion:
        """One chat completion for ``messages``; raises :class:`LLMError` on failure."""
        ...


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff: wait ``initial_s * multiplier**k`` before retry ``k + 1``.

    ``jitter`` spreads each wait uniformly by ±that fraction (0 keeps waits exact; the jitter
    draws from a generator seeded by ``seed``, so a run's waits are reproducible).
    """

    max_retries: int = 4
    initial_s: float = 1.0
    multiplier: float = 2.0
    max_s: float = 60.0
    jitter: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {self.max_retries}")
        if self.initial_s < 0 or self.max_s < 0 or self.multiplier < 1:
            raise ValueError("backoff times must be >= 0 and the multiplier >= 1")
        if not 0 <= self.jitter < 1:
            raise ValueError(f"jitter must be in [0, 1), got {self.jitter}")

    def delay(self, retry: int, retry_after: float | None = None,
              rng: random.Random | None = None) -> float:
        """Seconds to wait before retry number ``retry`` (0-based)."""
        wait = min(self.max_s, self.initial_s * self.multiplier**retry)
        if self.jitter and rng is not None:
            wait *= 1 + rng.uniform(-self.jitter, self.jitter)
        if retry_after is not None and math.isfinite(retry_after) and retry_after > 0:
            wait = max(wait, min(retry_after, self.max_s))
        return max(0.0, wait)


def cost_usd(prices: Mapping[str, tuple[float, float]], model: str, prompt_tokens: int,
             completion_tokens: int) -> float | None:
    """Dollars for one completion, or ``None`` when ``model`` has no price."""
    price = prices.get(model)
    if price is None:
        return None
    per_input, per_output = price
    return (prompt_tokens * per_input + completion_tokens * per_output) / 1_000_000


def estimate_tokens(text: str) -> int:
    """A rough token count (four characters per token) for endpoints that report no usage."""
    return max(1, math.ceil(len(text) / 4)) if text else 0


@dataclass(frozen=True)
class Redactor:
    """Removes secrets from text before it is returned, logged or stored."""

    secrets: tuple[str, ...] = field(default=(), repr=False)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            if secret and secret in text:
                text = text.replace(secret, REDACTED)
        return text

    def __repr__(self) -> str:
        return f"Redactor({len(self.secrets)} secret(s))"


_RETRYABLE_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
_FATAL_STATUS = frozenset({401, 403, 404})


class OpenAIChatClient:
    """A :class:`ChatClient` for OpenAI-compatible endpoints (OpenAI, vLLM, Ollama, ...).

    Args:
        model: model name sent with each request.
        base_url: the endpoint's ``/v1`` URL (``None``: OpenAI's). Ollama serves
            ``http://localhost:11434/v1``, vLLM ``http://localhost:8000/v1``.
        api_key_env: name of the environment variable holding the key. If it is unset, a
            custom ``base_url`` gets a placeholder key (local servers need none) and OpenAI's
            raises :class:`MissingAPIKey`.
        temperature, max_output_tokens: sampling settings sent with each request
            (``max_output_tokens=None`` lets the endpoint decide).
        timeout_s: per-request timeout.
        retry: the backoff policy; ``sleep`` is called for each wait (inject it in tests).
        extra_body: additional JSON fields for endpoints with their own options.
    """

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key_env: str = "OPENAI_API_KEY",
        temperature: float | None = None,
        max_output_tokens: int | None = None,
        timeout_s: float = 120.0,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        extra_body: Mapping[str, Any] | None = None,
    ) -> None:
        try:
            import openai
        except ImportError as error:  # pragma: no cover - openai is a dependency
            raise ImportError("the LLM agent needs the `openai` package: pip install openai") \
                from error
        key = os.environ.get(api_key_env, "")
        if not key:
            if base_url is None:
                raise MissingAPIKey(
                    f"set the environment variable {api_key_env} to an API key (or pass a "
                    "base_url for a local server that needs none)", fatal=True)
            key = "no-key-needed"  # the openai package insists on some key
            secrets: tuple[str, ...] = ()
        else:
            secrets = (key,)
        self._model = model
        self._base_url = base_url
        self._api_key_env = api_key_env
        self._temperature = temperature
        self._max_output_tokens = max_output_tokens
        self._timeout_s = timeout_s
        self._retry = retry or RetryPolicy()
        self._sleep = sleep
        self._clock = clock
        self._extra_body = dict(extra_body or {})
        self._redact = Redactor(secrets)
        self._jitter_rng = random.Random(self._retry.seed)
        self._openai = openai
        self.__client = openai.OpenAI(
            api_key=key, base_url=base_url, max_retries=0, timeout=timeout_s
        )
        del key

    @property
    def model(self) -> str:
        return self._model

    @property
    def redact(self) -> Redactor:
        """The redactor holding this client's secret (for callers that store texts)."""
        return self._redact

    def close(self) -> None:
        """Release the HTTP connections (the client cannot be used afterwards)."""
        self.__client.close()

    def __enter__(self) -> OpenAIChatClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (f"OpenAIChatClient(model={self._model!r}, base_url={self._base_url!r}, "
                f"api_key_env={self._api_key_env!r})")

    def complete(self, messages: Sequence[Message], *, seed: int | None = None) -> Completion:
        """One chat completion, retried per the policy; raises :class:`LLMError`."""
        start = self._clock()
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self._request(messages, seed)
                return self._completion(response, messages, attempt, self._clock() - start)
            except LLMError as error:
                error.attempts = attempt
                if not error.retryable or attempt > self._retry.max_retries:
                    if error.retryable:
                        error.message = (f"{error.message} (gave up after {attempt} attempts)")
                        error.args = (error.message,)
                    raise
                wait = self._retry.delay(attempt - 1, error.retry_after, self._jitter_rng)
                self._sleep(wait)

    # -- one request ------------------------------------------------------------------------------

    def _request(self, messages: Sequence[Message], seed: int | None) -> Any:
        kwargs: dict[str, Any] = {
            "model": self._model,
            "messages": [{"role": m["role"], "content": m["content"]} for m in messages],
        }
        if self._temperature is not None:
            kwargs["temperature"] = self._temperature
        if self._max_output_tokens is not None:
            kwargs["max_tokens"] = self._max_output_tokens
        if seed is not None:
            kwargs["seed"] = seed
        if self._extra_body:
            kwargs["extra_body"] = dict(self._extra_body)
        try:
            return self.__client.chat.completions.create(**kwargs)
        except Exception as error:  # every failure becomes an LLMError value
            failure = self._failure(error)
        # Raised outside the handler so that the LLMError has no __context__: the original
        # exception holds the HTTP request, headers (and key) included.
        raise failure

    def _failure(self, error: Exception) -> LLMError:
        openai = self._openai
        if isinstance(error, openai.APITimeoutError):
            return LLMError(f"request timed out after {self._timeout_s:g} s", retryable=True)
        if isinstance(error, openai.APIConnectionError):
            return LLMError(self._redact(f"connection failed: {_short(error)}"),
                            retryable=True)
        if isinstance(error, openai.APIStatusError):
            status = int(error.status_code)
            return LLMError(
                self._redact(f"HTTP {status}: {_short(error)}"),
                status=status,
                retryable=status in _RETRYABLE_STATUS or status >= 500,
                fatal=status in _FATAL_STATUS,
                retry_after=_retry_after_header(error),
            )
        # malformed responses and anything else of the HTTP stack
        return LLMError(self._redact(f"{type(error).__name__}: {_short(error)}"))

    def _completion(self, response: Any, messages: Sequence[Message], attempts: int,
                    latency: float) -> Completion:
        choices = getattr(response, "choices", None) or []
        text = ""
        finish = None
        if choices:
            message = getattr(choices[0], "message", None)
            content = getattr(message, "content", None)
            text = content if isinstance(content, str) else ""
            finish = getattr(choices[0], "finish_reason", None)
        text = self._redact(text)
        usage = getattr(response, "usage", None)
        prompt = getattr(usage, "prompt_tokens", None)
        completion = getattr(usage, "completion_tokens", None)
        estimated = not (isinstance(prompt, int) and isinstance(completion, int))
        if estimated:
            prompt = estimate_tokens("".join(m["content"] for m in messages))
            completion = estimate_tokens(text)
        model = getattr(response, "model", None)
        return Completion(
            text=text,
            prompt_tokens=int(prompt),
            completion_tokens=int(completion),
            model=str(model) if isinstance(model, str) and model else self._model,
            latency_s=latency,
            attempts=attempts,
            finish_reason=str(finish) if finish is not None else None,
            usage_estimated=estimated,
        )


def _short(error: BaseException, limit: int = 300) -> str:
    text = " ".join(str(error).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _retry_after_header(error: Any) -> float | None:
    response = getattr(error, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    try:
        value = headers.get("retry-after")
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


__all__ = [
    "DEFAULT_PRICES",
    "REDACTED",
    "ChatClient",
    "Completion",
    "LLMError",
    "Message",
    "MissingAPIKey",
    "OpenAIChatClient",
    "Redactor",
    "RetryPolicy",
    "cost_usd",
    "estimate_tokens",
]
