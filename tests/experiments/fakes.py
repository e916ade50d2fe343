"""Deterministic stand-ins for the experiment tests: a cheap environment and agents.

They are importable by path (``tests.experiments.fakes:FakeAgent``), which is how the runner
loads third-party agents and environment factories, so worker processes and Ray tasks load
them the same way.
"""

from __future__ import annotations

import hashlib
import os
import random
import time
from collections.abc import Mapping
from typing import Any

import numpy as np

STATUSES = ("ok", "compile_error", "runtime_error", "timeout")
LOG_VARIABLE = "MAPPER_GYM_FAKE_ENV_LOG"
DELAY_VARIABLE = "MAPPER_GYM_FAKE_ENV_DELAY"


def program_score(program: str, app: str) -> tuple[str, float]:
    """A fixed (status, normalized throughput) per program and application."""
    digest = hashlib.sha256(f"{app}|{program}".encode()).digest()
    if "bad" in program or digest[0] < 64:  # about a quarter fail, like real search spaces
        return "runtime_error", 0.0
    return "ok", round(0.2 + 1.1 * digest[1] / 255.0, 6)


class FakeEnv:
    """A MapperEnv-shaped environment whose score is a hash of the program.

    The variables :data:`LOG_VARIABLE` (a file that gets one line per evaluation, across
    processes, so tests count real evaluations) and :data:`DELAY_VARIABLE` (seconds per
    evaluation) are read from the environment, so they are not part of a unit's identity.
    """

    def __init__(self, app: str, budget: int, feedback: str, seed: int | None,
                 **_: Any) -> None:
        self.app = app
        self.budget = budget
        self.feedback_level = feedback
        self.log = os.environ.get(LOG_VARIABLE) or None
        self.delay = float(os.environ.get(DELAY_VARIABLE) or 0.0)
        self.steps = 0

    @property
    def unwrapped(self) -> FakeEnv:
        return self

    def evaluation_identity(self) -> dict[str, Any]:
        return {"fake": self.app, "feedback": self.feedback_level}

    def reset(self, seed: int | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
        self.steps = 0
        observation = {"throughput": np.array(0.0), "normalized": np.array(0.0), "status": 0,
                       "stdout": "", "stderr": "", "feedback": ""}
        return observation, {"app": {"name": self.app, "tasks": []}, "budget": self.budget,
                             "statuses": list(STATUSES)}

    def step(self, action: str) -> tuple[dict[str, Any], float, bool, bool, dict[str, Any]]:
        if self.steps >= self.budget:
            raise RuntimeError("budget spent")
        self.steps += 1
        if self.delay:
            time.sleep(self.delay)
        status, score = program_score(action, self.app)
        if self.log:
            with open(self.log, "a", encoding="utf-8") as handle:
                handle.write(f"{os.getpid()} {self.app} {action}\n")
        raw = (f"Performance Metric: {score * 100:.4f} GFLOPS" if status == "ok"
               else "Execution Error: the run failed")
        feedback = raw if self.feedback_level == "raw" else raw + " | try other mappings"
        observation = {"throughput": np.array(score * 100), "normalized": np.array(score),
                       "status": STATUSES.index(status), "stdout": f"ran {action}\n",
                       "stderr": "" if status == "ok" else "assertion failed\n",
                       "feedback": feedback}
        info = {"status": status, "raw_output": raw, "normalized": score,
                "throughput": score * 100, "unit": "GFLOPS", "step": self.steps,
                "budget_left": self.budget - self.steps, "plan": {"tasks": len(action)}}
        truncated = self.steps >= self.budget
        return observation, score if status == "ok" else 0.0, False, truncated, info

    def close(self) -> None:
        pass


def make_fake_env(app: str, **kwargs: Any) -> FakeEnv:
    """Environment factory (``env_factory = "tests.experiments.fakes:make_fake_env"``)."""
    return FakeEnv(app, **kwargs)


class FakeAgent:
    """Deterministic given its seed and observations, and sensitive to both: every proposal
    depends on the rewards seen so far; every third one repeats the best program (so the cache
    serves something)."""

    def __init__(self, seed: int | None = 0, prefix: str = "p") -> None:
        self.seed = seed
        self.prefix = prefix

    def reset(self, info: Mapping[str, Any]) -> None:
        self.rng = random.Random(self.seed)
        self.app = info["app"]["name"]
        self.rewards: list[float] = []
        self.best: tuple[float, str] | None = None

    def propose(self) -> str:
        step = len(self.rewards)
        if step % 3 == 2 and self.best is not None:
            return self.best[1]
        return (f"{self.prefix}-{self.app}-{self.rng.randint(0, 10**6)}-"
                f"{round(sum(self.rewards), 6)}")

    def observe(self, action: str, observation: Mapping[str, Any], reward: float,
                info: Mapping[str, Any]) -> None:
        self.rewards.append(float(reward))
        assert isinstance(observation["normalized"], np.ndarray)
        if info.get("status") == "ok" and (self.best is None or reward > self.best[0]):
            self.best = (float(reward), action)


class ForgetfulAgent(FakeAgent):
    """Not deterministic: its proposals depend on the wall clock, so it cannot resume."""

    def propose(self) -> str:
        return f"t-{time.time_ns()}"


class CrashingAgent(FakeAgent):
    """Raises at its third proposal (a unit failure must not stop the others)."""

    def propose(self) -> str:
        if len(self.rewards) == 2:
            raise RuntimeError("agent exploded")
        return super().propose()


#: A file that gets one line per scripted LLM request (counts requests across a resume).
LLM_LOG_VARIABLE = "MAPPER_GYM_FAKE_LLM_LOG"


class ScriptedChat:
    """A chat client whose reply depends only on the request's seed: it rewrites the task
    section, alternating GPU-first and CPU-only placements."""

    model = "gpt-4o-2024-08-06"

    def complete(self, messages: Any, *, seed: int | None = None) -> Any:
        from agents import Completion

        log = os.environ.get(LLM_LOG_VARIABLE)
        if log:
            with open(log, "a", encoding="utf-8") as handle:
                handle.write(f"{seed}\n")
        kinds = "GPU,CPU" if (seed or 0) % 2 else "CPU"
        text = f"Moving tasks.\n```dsl task\nTask * {kinds};\n```\n"
        prompt = sum(len(m["content"]) for m in messages) // 4
        return Completion(text=text, prompt_tokens=prompt, completion_tokens=15,
                          model=self.model, latency_s=0.001)


def scripted_llm(config: Any) -> ScriptedChat:
    """Client factory for the LLM agent's ``client`` option."""
    return ScriptedChat()


class LeakyChat(ScriptedChat):
    """An endpoint that echoes the API key in its reply (it must never reach the results)."""

    def complete(self, messages: Any, *, seed: int | None = None) -> Any:
        import dataclasses

        completion = super().complete(messages, seed=seed)
        leak = os.environ.get("OPENAI_API_KEY", "")
        return dataclasses.replace(completion, text=f"my key is {leak}\n" + completion.text)


def leaky_llm(config: Any) -> LeakyChat:
    return LeakyChat()
