"""The LLM agent of the paper: an LLM rewrites six decision sections from feedback.

Protocol (architecture.md)::

    agent = LLMAgent(LLMConfig(model="gpt-4o-2024-08-06"))
    obs, info = env.reset(seed=0)
    agent.reset(info)
    for _ in range(info["budget"]):
        action = agent.propose()
        obs, reward, terminated, truncated, step_info = env.step(action)
        agent.observe(action, obs, reward, step_info)

**What one iteration does.** The first proposal is the start mapper (a valid random mapper,
as in the paper). Every later proposal sends one self-contained request: the application and
machine description, the DSL reference, the current six sections and the history of programs,
scores and feedback. The reply's sections replace the current ones (:mod:`agents.reply` reads
it); the concatenation is the next program.

**Failure is a step, not a crash.** An API error that survives the retries, or a reply from
which no section can be read even after ``format_retries`` follow-up requests, makes a *failed
step*: the agent proposes its current program again (the environment serves it from its cache)
and the next prompt says what went wrong. Errors that cannot heal (bad key, unknown model) stop
the agent the same way a spent budget does.

**Budget.** ``max_total_tokens`` and ``max_cost_usd`` cap the run's LLM usage. Once either is
reached the agent stops asking: :attr:`LLMAgent.exhausted` becomes true and every further
proposal is the best program seen so far. The check happens before each request, so a run
overshoots by at most one request (``max_output_tokens`` bounds its reply).

**Ablations.** ``mode="zero_shot"``/``"few_shot"``: every proposal is a fresh generation
without history or feedback (few-shot adds example mappers of other applications).
``feedback="env"`` shows the observation's feedback (its level is the environment's
``feedback=`` option: raw, explain, suggest); ``"raw"`` shows the raw output line whatever the
environment's level (the paper's *Execution* level); ``"none"`` shows scores and status only.

**Secrets.** The agent never holds the API key; its client reads it from the environment
variable named in the configuration. Everything the agent records or proposes is passed
through a redactor holding the key's current value, so not even an endpoint that echoed the key
could plant it in results.
"""

from __future__ import annotations

import logging
import os
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from agents.client import (
    DEFAULT_PRICES,
    ChatClient,
    Completion,
    LLMError,
    OpenAIChatClient,
    Redactor,
    RetryPolicy,
    cost_usd,
)
from agents.prompts import (
    Example,
    HistoryEntry,
    default_examples,
    describe_app,
    describe_machine,
    format_repair_message,
    generate_messages,
    improve_messages,
)
from agents.reply import ReplyError, parse_reply
from agents.sections import SECTION_NAMES, Sections, sections_from_program
from mapper_gym.agent import AgentInfo, BaseAgent
from mapper_gym.result import finite_or_zero

logger = logging.getLogger(__name__)

Mode = Literal["feedback", "zero_shot", "few_shot"]
FeedbackChoice = Literal["env", "raw", "none"]
#: ``(reset info, random generator) -> program text``: how a start mapper is made.
StartFunction = Callable[[Mapping[str, Any], random.Random], str]
Source = Literal["start", "llm", "fallback", "exhausted", "external"]


@dataclass(frozen=True)
class LLMConfig:
    """Everything that configures an LLM agent run. JSON-ready via :meth:`to_dict`; holds no
    secret (only the *name* of the variable with the API key)."""

    #: Model name sent to the endpoint (the paper used gpt-4o-2024-08-06).
    model: str = "gpt-4o-2024-08-06"
    #: OpenAI-compatible endpoint (``None``: OpenAI). E.g. ``http://localhost:11434/v1``.
    base_url: str | None = None
    #: Name of the environment variable holding the API key.
    api_key_env: str = "OPENAI_API_KEY"
    temperature: float | None = 0.7
    #: Reply length limit per request (``None``: the endpoint's default).
    max_output_tokens: int | None = 4096
    timeout_s: float = 120.0
    #: Retries per request on connection errors, timeouts, 408/409/429 and 5xx.
    max_retries: int = 4
    backoff_initial_s: float = 1.0
    backoff_max_s: float = 60.0
    #: Sampling seed sent with each request (plus the step number); ``None`` sends none.
    seed: int | None = 0
    mode: Mode = "feedback"
    feedback: FeedbackChoice = "env"
    #: Few-shot examples per request (``mode="few_shot"``).
    few_shot_k: int = 5
    #: Show the full program of only the last N steps (``None``: all).
    history_window: int | None = None
    #: Rewrite the last program (the paper's loop) or the best one so far.
    edit_from: Literal["last", "best"] = "last"
    #: Evaluate the start mapper as the first step (feedback mode).
    evaluate_start: bool = True
    #: Follow-up requests after a reply from which no section could be read.
    format_retries: int = 1
    #: LLM budget of the run: total tokens (prompt + completion) and dollars.
    max_total_tokens: int | None = None
    max_cost_usd: float | None = None
    #: Dollars per million tokens (input, output) by model; ``None`` uses DEFAULT_PRICES.
    prices: Mapping[str, tuple[float, float]] | None = None
    #: Keep request messages and raw replies in the step records.
    keep_transcripts: bool = True

    def __post_init__(self) -> None:
        if self.mode not in ("feedback", "zero_shot", "few_shot"):
            raise ValueError(f"unknown mode {self.mode!r}")
        if self.feedback not in ("env", "raw", "none"):
            raise ValueError(f"unknown feedback choice {self.feedback!r}")
        if self.edit_from not in ("last", "best"):
            raise ValueError(f"edit_from must be 'last' or 'best', got {self.edit_from!r}")
        for name in ("max_retries", "format_retries", "few_shot_k"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")
        if self.history_window is not None and self.history_window < 1:
            raise ValueError("history_window must be >= 1 or None")
        if self.max_total_tokens is not None and self.max_total_tokens <= 0:
            raise ValueError("max_total_tokens must be positive")
        if self.max_cost_usd is not None:
            if self.max_cost_usd <= 0:
                raise ValueError("max_cost_usd must be positive")
            if self.price() is None:
                raise ValueError(
                    f"max_cost_usd needs a price for model {self.model!r}: add it to prices"
                )

    def price_table(self) -> Mapping[str, tuple[float, float]]:
        return DEFAULT_PRICES if self.prices is None else self.prices

    def price(self) -> tuple[float, float] | None:
        """Dollars per million (input, output) tokens of :attr:`model`, if known."""
        return self.price_table().get(self.model)

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(max_retries=self.max_retries, initial_s=self.backoff_initial_s,
                           max_s=self.backoff_max_s)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["prices"] = {k: list(v) for k, v in self.price_table().items()}
        return data


@dataclass
class LLMStep:
    """What happened in one proposal, and (after ``observe``) how it scored.

    ``source``: ``start`` (the start mapper), ``llm`` (sections from a reply), ``fallback``
    (the LLM step failed; the current program again), ``exhausted`` (the agent had stopped;
    the best program again), ``external`` (``observe`` got an action the agent had not
    proposed; it is adopted as the current program). Usage fields count every request of the
    step, follow-ups included. ``cost_usd`` is ``None`` when the model has no price.
    """

    step: int
    source: Source
    program: str
    sections: dict[str, str]
    changed: tuple[str, ...] = ()
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = 0.0
    latency_s: float = 0.0
    requests: int = 0
    attempts: int = 0
    usage_estimated: bool = False
    repairs: tuple[str, ...] = ()
    failed: bool = False
    error: str | None = None
    reward: float | None = None
    status: str | None = None
    throughput: float | None = None
    feedback: str | None = None
    messages: list[dict[str, str]] | None = None
    replies: list[str] = field(default_factory=list)

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["changed"] = list(self.changed)
        data["repairs"] = list(self.repairs)
        return data


@dataclass(frozen=True)
class Usage:
    """LLM usage of a run so far."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    #: ``None`` as soon as one request had no price.
    cost_usd: float | None = 0.0
    requests: int = 0
    llm_steps: int = 0
    failed_steps: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class LLMAgent(BaseAgent):
    """The paper's LLM optimizer over the six decision sections (see the module docstring).

    Args:
        config: the run's configuration (its ``seed`` seeds the agent: the start mapper and
            the sampling seeds sent to the endpoint).
        client: a :class:`~agents.client.ChatClient`; ``None`` makes an
            :class:`~agents.client.OpenAIChatClient` from ``config`` at :meth:`reset`.
        start: the start mapper: program text, :class:`Sections`, or a function
            ``(info, rng) -> text``; ``None`` samples a random valid mapper from the
            application's decision space (:mod:`mapper_gym.space`), as the paper starts.
        examples: few-shot examples; ``None`` takes ``config.few_shot_k`` expert mappers of
            other benchmark applications.
        sleep: how retries wait (tests pass a recorder instead of ``time.sleep``).
    """

    name = "llm"

    def __init__(self, config: LLMConfig | None = None, *, client: ChatClient | None = None,
                 start: str | Sections | StartFunction | None = None,
                 examples: Sequence[Example] | None = None,
                 sleep: Callable[[float], None] | None = None) -> None:
        self.config = config or LLMConfig()
        super().__init__(seed=self.config.seed)
        self._given_client = client
        self._client: ChatClient | None = client
        self._owns_client = False
        self._start_spec = start
        self._given_examples = list(examples) if examples is not None else None
        self._sleep = sleep
        self._records: list[LLMStep] = []
        self._pending: LLMStep | None = None
        self._exhausted = False
        self._stop_reason: str | None = None
        self._app_text = ""
        self._machine_text = ""
        self._budget: int | None = None
        self._start = Sections()
        self._current = Sections()
        self._examples: list[Example] = []
        self._redact = Redactor()

    def __repr__(self) -> str:
        return (f"LLMAgent(model={self.config.model!r}, mode={self.config.mode!r}, "
                f"seed={self.seed}, steps={len(self._records)}, exhausted={self._exhausted})")

    # -- protocol -------------------------------------------------------------------------------

    def on_reset(self, info: AgentInfo) -> None:
        """Start a run on the problem ``info`` describes (called by :meth:`reset`)."""
        cfg = self.config
        key = os.environ.get(cfg.api_key_env, "")
        self._redact = Redactor((key,) if key else ())
        del key
        self._app_text = describe_app(info.raw)
        self._machine_text = describe_machine(info.raw)
        self._budget = info.budget if info.budget and info.budget > 0 else None
        self._start = self._make_start(info)
        self._current = self._start
        self._records = []
        self._pending = None
        self._exhausted = False
        self._stop_reason = None
        if cfg.mode == "few_shot":
            self._examples = (self._given_examples if self._given_examples is not None
                              else default_examples(info.app or None, cfg.few_shot_k,
                                                    self.seed or 0))
        else:
            self._examples = []
        if self._given_client is None and self._client is None:
            self._client = OpenAIChatClient(
                cfg.model, base_url=cfg.base_url, api_key_env=cfg.api_key_env,
                temperature=cfg.temperature, max_output_tokens=cfg.max_output_tokens,
                timeout_s=cfg.timeout_s, retry=cfg.retry_policy(),
                **({"sleep": self._sleep} if self._sleep is not None else {}),
            )
            self._owns_client = True

    def propose(self) -> str:
        """The next program to evaluate (never raises for LLM or reply problems)."""
        self.require_info()
        if self._pending is not None:  # proposed but not observed: the same program again
            return self._pending.program
        step = len(self._records) + 1
        if self._exhausted:
            record = self._record(step, "exhausted", self._best_sections())
        elif step == 1 and self.config.mode == "feedback" and self.config.evaluate_start:
            record = self._record(step, "start", self._start)
        else:
            record = self._llm_step(step)
        self._pending = record
        return record.program

    def observe(self, action: str, observation: Mapping[str, Any], reward: float,
                info: Mapping[str, Any]) -> None:
        """Record how ``action`` scored; any outcome is accepted (the protocol's rule)."""
        super().observe(action, observation, reward, info)
        outcome = self.history[-1]
        record = self._pending
        self._pending = None
        if record is None or outcome.action != record.program:
            # an action the agent did not propose: adopt it as the current program, keeping
            # the usage of the abandoned proposal (its tokens were spent all the same)
            text = self._redact(outcome.action)
            adopted = self._record(len(self._records) + 1, "external",
                                   sections_from_program(text))
            adopted.program = text
            if record is not None:
                _carry_usage(record, adopted)
            record = adopted
        record.reward = outcome.reward
        record.status = outcome.status
        throughput = observation.get("throughput") if isinstance(observation, Mapping) else None
        record.throughput = finite_or_zero(throughput) if throughput is not None else None
        record.feedback = self._redact(self._feedback_text(outcome.feedback,
                                                           outcome.raw_output))
        self._records.append(record)
        if self.config.edit_from == "best":
            self._current = self._best_sections()
        elif record.source in ("start", "llm", "external"):
            self._current = Sections.from_dict(record.sections)
        logger.info("step %d (%s): reward %.4f, status %s", record.step, record.source,
                    record.reward, record.status)

    def close(self) -> None:
        """Release the HTTP connections of a client the agent made itself."""
        if self._owns_client and self._client is not None:
            close = getattr(self._client, "close", None)
            if callable(close):
                close()
            self._client = None
            self._owns_client = False

    # -- results --------------------------------------------------------------------------------

    @property
    def records(self) -> tuple[LLMStep, ...]:
        """Observed steps, oldest first."""
        return tuple(self._records)

    @property
    def exhausted(self) -> bool:
        """True once the agent stopped asking the LLM (budget spent, or a fatal API error)."""
        return self._exhausted

    @property
    def stop_reason(self) -> str | None:
        return self._stop_reason

    @property
    def current_sections(self) -> Sections:
        return self._current

    @property
    def start_sections(self) -> Sections:
        return self._start

    def best_step(self) -> LLMStep | None:
        """The observed step with the highest reward (the earliest among equals)."""
        scored = [r for r in self._records if r.reward is not None]
        return max(scored, key=lambda r: (r.reward, -r.step)) if scored else None

    @property
    def best_program(self) -> str:
        best = self.best_step()
        return best.program if best is not None else self._current.render()

    def usage(self) -> Usage:
        """Tokens, dollars and requests so far (the pending proposal included)."""
        records = [*self._records, *([self._pending] if self._pending else [])]
        costs = [r.cost_usd for r in records if r.requests]
        return Usage(
            prompt_tokens=sum(r.prompt_tokens for r in records),
            completion_tokens=sum(r.completion_tokens for r in records),
            cost_usd=None if any(c is None for c in costs) else sum(c or 0.0 for c in costs),
            requests=sum(r.requests for r in records),
            llm_steps=sum(1 for r in records if r.requests),
            failed_steps=sum(1 for r in records if r.failed),
        )

    def summary(self) -> dict[str, Any]:
        """A JSON-ready account of the run: configuration, usage, outcome and every step."""
        best = self.best_step()
        usage = self.usage()
        return {
            "agent": self.name,
            "config": self.config.to_dict(),
            "usage": {**asdict(usage), "total_tokens": usage.total_tokens},
            "exhausted": self._exhausted,
            "stop_reason": self._stop_reason,
            "best_step": best.step if best else None,
            "best_reward": best.reward if best else None,
            "best_program": self.best_program,
            "steps": [r.to_dict() for r in self._records],
        }

    # -- internals ------------------------------------------------------------------------------

    def _make_start(self, info: AgentInfo) -> Sections:
        spec = self._start_spec
        if isinstance(spec, Sections):
            return spec
        if isinstance(spec, str):
            return sections_from_program(spec)
        if callable(spec):
            return sections_from_program(spec(info.raw, self.rng))
        return random_start_sections(info, self.rng)

    def _record(self, step: int, source: Any, sections: Sections) -> LLMStep:
        program = self._redact(sections.render())
        return LLMStep(step=step, source=source, program=program,
                          sections={k: self._redact(v) for k, v in sections.items()},
                          changed=sections.changed(self._current))

    def _best_sections(self) -> Sections:
        best = self.best_step()
        return Sections.from_dict(best.sections) if best is not None else self._current

    def _budget_exceeded(self) -> str | None:
        cfg = self.config
        usage = self.usage()
        if cfg.max_total_tokens is not None and usage.total_tokens >= cfg.max_total_tokens:
            return (f"token budget spent ({usage.total_tokens} of {cfg.max_total_tokens} "
                    "tokens)")
        if cfg.max_cost_usd is not None and usage.cost_usd is not None \
                and usage.cost_usd >= cfg.max_cost_usd:
            return f"cost budget spent (${usage.cost_usd:.4f} of ${cfg.max_cost_usd:.4f})"
        return None

    def _stop(self, reason: str) -> None:
        self._exhausted = True
        self._stop_reason = reason
        logger.warning("LLM agent stops asking: %s", reason)

    def _messages(self, step: int) -> list[dict[str, str]]:
        cfg = self.config
        if cfg.mode == "feedback":
            history = [
                HistoryEntry(
                    step=r.step, program=r.program, reward=r.reward, status=r.status,
                    feedback=r.feedback, changed=r.changed if r.source == "llm" else (),
                    note=_note(r),
                )
                for r in self._records
            ]
            return improve_messages(
                self._app_text, self._machine_text, self._current, history, step=step,
                budget=self._budget, show_feedback=cfg.feedback != "none",
                window=cfg.history_window,
            )
        return generate_messages(self._app_text, self._machine_text, self._start,
                                 self._examples)

    def _llm_step(self, step: int) -> LLMStep:
        cfg = self.config
        reason = self._budget_exceeded()
        if reason is not None:
            self._stop(reason)
            return self._record(step, "exhausted", self._best_sections())
        base = self._current if cfg.mode == "feedback" else self._start
        messages = self._messages(step)
        seed = cfg.seed + step if cfg.seed is not None else None
        usage = _StepUsage(self.config)
        transcript: list[dict[str, str]] = list(messages)
        replies: list[str] = []
        repairs: tuple[str, ...] = ()
        error: str | None = None
        sections: Sections | None = None
        for round_ in range(cfg.format_retries + 1):
            if round_ and self._budget_exceeded_with(usage):
                error = "budget spent before the reply could be repaired"
                break
            try:
                completion = self._client_or_fail().complete(transcript, seed=seed)
            except LLMError as failure:
                usage.attempts += failure.attempts
                error = self._redact(f"LLM request failed: {failure.message}")
                if failure.fatal:
                    self._stop(error)
                break
            usage.add(completion)
            reply = self._redact(completion.text)
            replies.append(reply)
            try:
                parsed = parse_reply(reply)
            except ReplyError as bad:
                problem = str(bad)
                if completion.finish_reason == "length":
                    problem += " (the reply was cut off at the output token limit)"
                error = f"unusable reply: {problem}"
                transcript = [*transcript, {"role": "assistant", "content": reply},
                              format_repair_message(problem)]
                continue
            sections = base.with_changes(parsed.sections)
            repairs = parsed.repairs
            error = None
            break
        if sections is None and self._exhausted:  # a fatal error: no point in more requests
            record = self._record(step, "exhausted", self._best_sections())
            record.failed = True
            record.error = error
        elif sections is None:
            record = self._record(step, "fallback", self._current)
            record.failed = True
            record.error = error or "no usable reply"
            logger.warning("step %d: LLM step failed: %s", step, record.error)
        else:
            record = self._record(step, "llm", sections)
            record.repairs = repairs
        usage.fill(record)
        if cfg.keep_transcripts:
            record.messages = [{"role": m["role"], "content": self._redact(m["content"])}
                               for m in transcript]
            record.replies = replies
        logger.info("step %d: %d requests, %d+%d tokens, cost %s, %.2f s", step,
                    record.requests, record.prompt_tokens, record.completion_tokens,
                    "unknown" if record.cost_usd is None else f"${record.cost_usd:.4f}",
                    record.latency_s)
        return record

    def _budget_exceeded_with(self, step_usage: _StepUsage) -> bool:
        cfg = self.config
        usage = self.usage()
        tokens = usage.total_tokens + step_usage.prompt + step_usage.completion
        if cfg.max_total_tokens is not None and tokens >= cfg.max_total_tokens:
            return True
        return (cfg.max_cost_usd is not None and usage.cost_usd is not None
                and step_usage.cost is not None
                and usage.cost_usd + step_usage.cost >= cfg.max_cost_usd)

    def _client_or_fail(self) -> ChatClient:
        if self._client is None:  # pragma: no cover - reset() always sets one
            raise LLMError("no LLM client", fatal=True)
        return self._client

    def _feedback_text(self, feedback: str, raw_output: str) -> str:
        choice = self.config.feedback
        if choice == "none":
            return ""
        if choice == "raw" and raw_output:
            return raw_output
        return feedback


class _StepUsage:
    """Usage summed over the requests of one step."""

    def __init__(self, config: LLMConfig) -> None:
        self.prices = config.price_table()
        self.model = config.model
        self.prompt = 0
        self.completion = 0
        self.cost: float | None = 0.0
        self.latency = 0.0
        self.requests = 0
        self.attempts = 0
        self.estimated = False

    def add(self, completion: Completion) -> None:
        self.prompt += completion.prompt_tokens
        self.completion += completion.completion_tokens
        price = cost_usd(self.prices, self.model, completion.prompt_tokens,
                         completion.completion_tokens)
        self.cost = None if price is None or self.cost is None else self.cost + price
        self.latency += completion.latency_s
        self.requests += 1
        self.attempts += completion.attempts
        self.estimated = self.estimated or completion.usage_estimated

    def fill(self, record: LLMStep) -> None:
        record.prompt_tokens = self.prompt
        record.completion_tokens = self.completion
        record.cost_usd = self.cost if self.requests else 0.0
        record.latency_s = self.latency
        record.requests = self.requests
        record.attempts = self.attempts
        record.usage_estimated = self.estimated



def _note(record: LLMStep) -> str | None:
    if record.source == "start":
        return "the start mapper"
    if record.source == "fallback":
        return f"{record.error}; the previous program was evaluated again"
    if record.source == "external":
        return "a program the agent did not propose"
    return None


def _carry_usage(source: LLMStep, target: LLMStep) -> None:
    for name in ("prompt_tokens", "completion_tokens", "cost_usd", "latency_s", "requests",
                 "attempts", "usage_estimated", "messages", "replies"):
        setattr(target, name, getattr(source, name))


def random_start_sections(info: Mapping[str, Any] | AgentInfo,
                          rng: random.Random | int | None = None) -> Sections:
    """A valid random mapper for the problem in ``info``, one section per decision group of
    :mod:`mapper_gym.space` (the paper's start: random decisions that always form a valid
    program)."""
    agent_info = AgentInfo.from_reset_info(info)
    space = agent_info.space()
    config = space.sample(rng)
    return Sections.from_dict({group: space.render_group(config, group, comments=False)
                               for group in SECTION_NAMES})


__all__ = ["LLMAgent", "LLMConfig", "LLMStep", "StartFunction", "Usage",
           "random_start_sections"]
