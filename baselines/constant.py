"""Constant agents: the same program every step (the expert and default mappers as agents).

They make the reference points of every comparison run through the same loop as the
optimizers: the expert agent scores 1.0 by definition of the normalisation, the default agent
shows what Legion's default mapper achieves.
"""

from __future__ import annotations

from collections.abc import Callable

from mapper_gym.agent import AgentInfo, BaseAgent


class ConstantAgent(BaseAgent):
    """Proposes one fixed program: ``program`` is the text, or a function of the reset info
    that returns it (evaluated at every reset)."""

    name = "constant"

    def __init__(self, program: str | Callable[[AgentInfo], str], seed: int | None = 0) -> None:
        super().__init__(seed)
        self._program = program
        self._text: str | None = program if isinstance(program, str) else None

    def on_reset(self, info: AgentInfo) -> None:
        if not isinstance(self._program, str):
            self._text = self._program(info)

    def propose(self) -> str:
        self.require_info()
        assert self._text is not None
        return self._text


def _benchmark_mapper(kind: str) -> Callable[[AgentInfo], str]:
    def text(info: AgentInfo) -> str:
        from benchmarks import get_app

        app = get_app(info.app)
        # the machine picks the build: the DISTAL codes have a CPU build with its own expert
        if kind == "expert":
            return app.expert_mapper(info.machine)
        return app.default_mapper(info.machine)

    return text


class ExpertAgent(ConstantAgent):
    """The application's expert mapper (benchmarks/mappers/<app>_expert.dsl)."""

    name = "expert"

    def __init__(self, seed: int | None = 0) -> None:
        super().__init__(_benchmark_mapper("expert"), seed)


class DefaultAgent(ConstantAgent):
    """Legion's default mapper policy written as a program (<app>_default.dsl)."""

    name = "default"

    def __init__(self, seed: int | None = 0) -> None:
        super().__init__(_benchmark_mapper("default"), seed)
