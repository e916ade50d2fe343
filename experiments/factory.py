"""Making a unit's environment and agent, and the LLM tape that makes LLM runs resumable.

A unit is resumed by replaying its recorded evaluations into a fresh agent (agents are
deterministic given their seed and what they observe). The LLM agent is deterministic given
the *replies* it receives too, so its client is wrapped in a :class:`TapeClient`: live, it
records every request's reply and usage; in a replay it serves the recorded replies in order,
checking that the agent asks the same thing it asked the first time, and never calls the API.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import platform
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from experiments.config import ConfigError, RunUnit

__all__ = [
    "EndpointUnavailable",
    "ReplayMismatch",
    "TapeClient",
    "evaluation_identity",
    "load_object",
    "make_unit_agent",
    "make_unit_env",
    "preflight",
]


class EndpointUnavailable(RuntimeError):
    """The LLM agent's client cannot be made (no API key, no endpoint). A unit fails with it
    instead of spending its budget on an agent that cannot ask."""


class ReplayMismatch(RuntimeError):
    """A resumed agent did not repeat its recorded behaviour (it is not deterministic given
    its seed and observations), so the unit cannot be resumed faithfully."""


def load_object(path: str) -> Any:
    """The object at ``package.module:attribute`` (dots allowed in the attribute)."""
    module_name, _, attribute = path.partition(":")
    if not module_name or not attribute:
        raise ConfigError(f"{path!r} is not an import path package.module:Name")
    try:
        target: Any = importlib.import_module(module_name)
    except ImportError as error:
        raise ConfigError(f"cannot import {module_name!r} (from {path!r}): {error}") from None
    for part in attribute.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise ConfigError(f"{module_name!r} has no attribute {attribute!r}") from None
    return target


# ---------------------------------------------------------------------------------------------
# Environments
# ---------------------------------------------------------------------------------------------


def make_unit_env(unit: RunUnit) -> Any:
    """The unit's environment, with a budget of the unit's evaluations.

    ``gym.make("Mapper-<App>-v0", backend=..., machine=..., feedback=..., seed=...,
    budget=..., problem=..., **env_options)``, or the unit's ``env_factory`` called with the
    same keywords plus ``app``.
    """
    kwargs: dict[str, Any] = {
        "backend": unit.backend,
        "machine": unit.machine,
        "feedback": unit.feedback,
        "seed": unit.seed,
        "budget": unit.budget,
        **dict(unit.env_options),
    }
    if unit.problem is not None:
        kwargs["problem"] = unit.problem
    if unit.env_factory:
        factory = load_object(unit.env_factory)
        return factory(app=unit.app, **kwargs)
    import gymnasium as gym

    import mapper_gym  # noqa: F401  (registers the environments)
    from mapper_gym.registration import env_id

    return gym.make(env_id(unit.app), **kwargs)


def evaluation_identity(env: Any) -> Any | None:
    """What an evaluation in ``env`` depends on besides the program (the cache key's first
    half), or None when it cannot be known (then nothing is cached).

    For :class:`~mapper_gym.envs.MapperEnv`: the backend, the problem key (application,
    preset, overrides, machine fingerprint), the run configuration and the feedback level;
    for a measuring backend (real Legion) also the host, whose hardware the measurement
    belongs to.
    Other environments may define ``evaluation_identity()``.
    """
    inner = getattr(env, "unwrapped", env)
    custom = getattr(inner, "evaluation_identity", None)
    if callable(custom):
        return custom()
    backend = getattr(inner, "backend", None)
    problem = getattr(inner, "problem", None)
    config = getattr(inner, "config", None)
    level = getattr(inner, "feedback_level", None)
    if backend is None or problem is None or config is None or level in (None, "custom"):
        return None
    name = getattr(backend, "name", type(backend).__name__)
    identity = {"backend": name, "problem": list(problem.key), "config": list(config.key()),
                "feedback": level}
    if name != "sim":  # a measurement belongs to the host it was made on
        identity["host"] = platform.node()
    return identity


# ---------------------------------------------------------------------------------------------
# The LLM tape
# ---------------------------------------------------------------------------------------------


def _messages_digest(messages: Sequence[Mapping[str, str]]) -> str:
    text = json.dumps([{"role": m.get("role"), "content": m.get("content")} for m in messages],
                      sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class TapeClient:
    """A :class:`agents.ChatClient` that records live calls and replays recorded ones.

    Args:
        model: the model name (for prices).
        live: makes the real client when the first live request comes (a replay of a
            finished prefix never needs it).
        tape: recorded calls of earlier iterations, oldest first (``llm_calls`` of the eval
            records).
    """

    def __init__(self, model: str, live: Callable[[], Any],
                 tape: Sequence[Mapping[str, Any]] = (),
                 redact: Callable[[str], str] = lambda text: text) -> None:
        self._model = model
        self._make_live = live
        self._redact = redact
        self._live: Any | None = None
        self._tape = list(tape)
        self._position = 0
        self._new: list[dict[str, Any]] = []
        self._live_allowed = True

    @property
    def model(self) -> str:
        return self._model

    @property
    def replaying(self) -> bool:
        return self._position < len(self._tape)

    def load(self, calls: Sequence[Mapping[str, Any]]) -> None:
        """Queue recorded calls for replay."""
        self._tape.extend(calls)

    def allow_live(self, allowed: bool) -> None:
        """Whether a request beyond the tape may reach the endpoint (not during a replay:
        an agent that asks more than it asked the first time is not replaying)."""
        self._live_allowed = allowed

    def drain(self) -> list[dict[str, Any]]:
        """The live calls made since the last drain (for the current record)."""
        calls, self._new = self._new, []
        return calls

    def complete(self, messages: Sequence[Mapping[str, str]], *, seed: int | None = None) -> Any:
        from agents.client import Completion, LLMError

        digest = _messages_digest(messages)
        if self.replaying:
            call = self._tape[self._position]
            self._position += 1
            if call.get("request") != digest:
                raise ReplayMismatch(
                    f"the LLM agent's request {self._position} differs from the recorded one "
                    "(its prompt changed: a different program version, or feedback that is "
                    "not deterministic); the unit cannot be resumed from its records"
                )
            if not call.get("ok", False):
                error = call.get("error") or {}
                raise LLMError(str(error.get("message", "recorded failure")),
                               status=error.get("status"),
                               retryable=bool(error.get("retryable", False)),
                               fatal=bool(error.get("fatal", False)),
                               attempts=int(error.get("attempts", 1)),
                               retry_after=error.get("retry_after"))
            return Completion(
                text=str(call["text"]), prompt_tokens=int(call["prompt_tokens"]),
                completion_tokens=int(call["completion_tokens"]), model=str(call["model"]),
                latency_s=float(call.get("latency_s", 0.0)), attempts=int(call.get("attempts", 1)),
                finish_reason=call.get("finish_reason"),
                usage_estimated=bool(call.get("usage_estimated", False)),
            )
        if not self._live_allowed:
            raise ReplayMismatch(
                "the LLM agent made more requests while replaying than it made the first time; "
                "the unit cannot be resumed from its records")
        if self._live is None:
            try:
                self._live = self._make_live()
            except LLMError as failure:  # no endpoint: fail the unit, not one step of it
                raise EndpointUnavailable(f"LLM endpoint unavailable: {failure.message}") \
                    from None
        try:
            completion = self._live.complete(messages, seed=seed)
        except LLMError as failure:
            self._new.append({
                "ok": False, "request": digest, "seed": seed,
                "error": {"message": self._redact(failure.message), "status": failure.status,
                          "retryable": failure.retryable, "fatal": failure.fatal,
                          "attempts": failure.attempts, "retry_after": failure.retry_after},
                "prompt_tokens": 0, "completion_tokens": 0, "latency_s": 0.0,
            })
            raise
        self._new.append({
            "ok": True, "request": digest, "seed": seed, "text": self._redact(completion.text),
            "prompt_tokens": completion.prompt_tokens,
            "completion_tokens": completion.completion_tokens, "model": completion.model,
            "latency_s": completion.latency_s, "attempts": completion.attempts,
            "finish_reason": completion.finish_reason,
            "usage_estimated": completion.usage_estimated,
        })
        return completion


# ---------------------------------------------------------------------------------------------
# Agents
# ---------------------------------------------------------------------------------------------


def _llm_agent(unit: RunUnit, options: Mapping[str, Any]) -> tuple[Any, TapeClient, Any]:
    """An :class:`agents.LLMAgent` seeded by the unit, with a tape client.

    ``options`` are :class:`agents.LLMConfig` fields; ``client`` (an import path of a
    factory ``(config) -> ChatClient``) replaces the OpenAI-compatible client, for scripted
    or in-house endpoints.
    """
    from dataclasses import fields

    from agents import LLMAgent, LLMConfig, OpenAIChatClient
    from agents.client import Redactor

    options = dict(options)
    client_path = options.pop("client", None)
    if "seed" in options:
        raise ConfigError("llm agent: the seed comes from the grid's seeds, not from options")
    known = {f.name for f in fields(LLMConfig)}
    unknown = set(options) - known
    if unknown:
        raise ConfigError(f"llm agent: unknown options {', '.join(sorted(unknown))}; "
                          f"LLMConfig has {', '.join(sorted(known))}")
    if isinstance(options.get("prices"), Mapping):
        options["prices"] = {k: tuple(v) for k, v in options["prices"].items()}
    config = LLMConfig(seed=unit.seed, **options)

    def live() -> Any:
        if client_path:
            return load_object(client_path)(config)
        return OpenAIChatClient(
            config.model, base_url=config.base_url, api_key_env=config.api_key_env,
            temperature=config.temperature, max_output_tokens=config.max_output_tokens,
            timeout_s=config.timeout_s, retry=config.retry_policy(),
        )

    key = os.environ.get(config.api_key_env, "")
    # Replies are stored in the results: no endpoint may plant the key there (the agent's own
    # records are redacted the same way).
    tape = TapeClient(config.model, live, redact=Redactor((key,) if key else ()))
    del key
    return LLMAgent(config, client=tape), tape, config.price()


def make_unit_agent(unit: RunUnit) -> tuple[Any, TapeClient | None, tuple[float, float] | None]:
    """The unit's agent, seeded with the unit's seed; its tape client (LLM agents) and the
    model's price per million tokens (input, output), when known.

    Raises:
        ConfigError: unknown options, or an import path that does not load.
        ImportError: an agent's optional dependency is missing (OpenTuner, ...).
    """
    spec = unit.agent
    if spec.name == "llm":
        return _llm_agent(unit, spec.options)
    if ":" in spec.name:
        factory = load_object(spec.name)
        return factory(seed=unit.seed, **dict(spec.options)), None, None
    from mapper_gym.tuning import make_agent

    try:
        return make_agent(spec.name, seed=unit.seed, **dict(spec.options)), None, None
    except TypeError as error:
        raise ConfigError(f"agent {spec.label}: {error}") from None


def preflight(units: Sequence[RunUnit]) -> None:
    """Fail before any unit runs when a whole agent or problem cannot work: unknown agent
    options, a missing optional dependency, an LLM agent without an endpoint, an unknown
    machine or problem preset, a backend that is not available here. (Otherwise every unit
    would fail the same way, one by one.)

    Each agent is made and reset on the environment of its first unit, and one environment
    of every (backend, feedback, machine, problem) is made; nothing is evaluated.

    Raises:
        ConfigError: with a message that says what to change.
    """
    def check(what: str, action: Callable[[], Any]) -> Any:
        try:
            return action()
        except ConfigError as error:
            raise ConfigError(f"{what}: {error}") from None
        except ImportError as error:
            raise ConfigError(f"{what} is not available: {error}") from None
        except (KeyError, ValueError, TypeError, NotImplementedError) as error:
            message = error.args[0] if isinstance(error, KeyError) and error.args else error
            raise ConfigError(f"{what}: {message}") from None

    problems: set[tuple[Any, ...]] = set()
    agents: set[str] = set()
    for unit in units:
        problem = (unit.backend, unit.feedback, unit.machine, unit.problem, unit.env_factory)
        if problem in problems and unit.agent.label in agents:
            continue
        env = check(f"environment {unit.app} on {unit.machine} ({unit.backend})",
                    lambda unit=unit: make_unit_env(unit))
        problems.add(problem)
        try:
            if unit.agent.label in agents:
                continue
            agents.add(unit.agent.label)
            if unit.agent.name == "llm" and "client" not in unit.agent.options:
                base_url = unit.agent.options.get("base_url")
                key_variable = str(unit.agent.options.get("api_key_env", "OPENAI_API_KEY"))
                if not base_url and not os.environ.get(key_variable):
                    raise ConfigError(
                        f"agent {unit.agent.label}: no LLM endpoint: set {key_variable} or "
                        "give the option base_url (a local OpenAI-compatible server)")
            agent, _, _ = check(f"agent {unit.agent.label}",
                                lambda unit=unit: make_unit_agent(unit))
            _, info = env.reset(seed=unit.seed)
            check(f"agent {unit.agent.label}", lambda agent=agent, info=info: agent.reset(info))
        finally:
            close = getattr(env, "close", None)
            if callable(close):
                close()
