"""The LLM agent of mapper-gym (paper.md): an LLM rewrites six decision sections of a DSL
mapper from the history of programs, scores and feedback.

Quick start (any OpenAI-compatible endpoint; the key is read from ``OPENAI_API_KEY``)::

    import gymnasium as gym
    import mapper_gym  # noqa: F401
    from agents import LLMAgent, LLMConfig

    env = gym.make("Mapper-Stencil-v0")
    agent = LLMAgent(LLMConfig(model="gpt-4o-2024-08-06", max_cost_usd=1.0))
    obs, info = env.reset(seed=0)
    agent.reset(info)
    for _ in range(info["budget"]):
        action = agent.propose()
        obs, reward, terminated, truncated, step_info = env.step(action)
        agent.observe(action, obs, reward, step_info)
    print(agent.summary()["best_reward"])
"""

from agents.client import (
    DEFAULT_PRICES,
    ChatClient,
    Completion,
    LLMError,
    MissingAPIKey,
    OpenAIChatClient,
    RetryPolicy,
)
from agents.llm_agent import LLMAgent, LLMConfig, LLMStep, Usage
from agents.prompts import Example
from agents.reply import ParsedReply, ReplyError, parse_reply
from agents.sections import SECTION_NAMES, Sections, sections_from_program, split_program

__all__ = [
    "DEFAULT_PRICES",
    "SECTION_NAMES",
    "ChatClient",
    "Completion",
    "Example",
    "LLMAgent",
    "LLMConfig",
    "LLMError",
    "LLMStep",
    "MissingAPIKey",
    "OpenAIChatClient",
    "ParsedReply",
    "ReplyError",
    "RetryPolicy",
    "Sections",
    "Usage",
    "parse_reply",
    "sections_from_program",
    "split_program",
]
