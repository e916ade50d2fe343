"""The backend contract: run one mapping program on one problem and return a RunResult.

A backend is bound to a :class:`~mapper_gym.backends.problem.Problem` (an application at one
size on one configured machine) when it is made. ``run`` takes the program text and the run's
:class:`~mapper_gym.config.RunConfig` and always returns a
:class:`~mapper_gym.result.RunResult`: a bad program is a *result* (``compile_error`` or
``runtime_error`` with a structured :class:`~mapper_gym.dsl.errors.Diagnostic`), never an
exception, because optimizers feed arbitrary text (LLM output, random samples) to it.
"""

from __future__ import annotations

import traceback
from typing import Protocol, runtime_checkable

from mapper_gym.config import RunConfig
from mapper_gym.dsl.errors import Diagnostic, Phase
from mapper_gym.result import RunResult

__all__ = [
    "BACKEND_NAMES",
    "Backend",
    "BackendUnavailable",
    "internal_error",
]

#: Backends the environment knows by name.
BACKEND_NAMES: tuple[str, ...] = ("sim", "legion")


@runtime_checkable
class Backend(Protocol):
    """Runs mapping programs on the problem it is bound to."""

    #: Short name recorded in every RunResult (``"sim"``, ``"legion"``).
    name: str

    def run(self, program_text: str, config: RunConfig) -> RunResult:
        """Evaluate one program. Never raises for a bad program."""
        ...


class BackendUnavailable(NotImplementedError):
    """A backend that exists in the design but cannot run here (not built yet, or its runtime
    is missing). Raised when the backend is made, never during a run."""


def internal_error(phase: Phase, error: BaseException, line: int = 0, column: int = 0
                   ) -> Diagnostic:
    """E-INTERNAL (dsl.md §9.1): an unexpected failure while processing ``phase``.

    The message is the fixed ``Internal error``, which is what an optimizer sees. The exception
    goes to the ``raw`` text (the run's log) and, with its traceback, to the record's context,
    where a developer finds it in the environment's ``info`` without the traceback ever
    reaching an optimizer's observation.
    """
    detail = f"{type(error).__name__}: {error}"
    trace = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    return Diagnostic(
        kind=phase,
        code="E-INTERNAL",
        message="Internal error",
        line=line,
        column=column,
        hint="this is a bug in mapper-gym, not in the mapping program; please report it",
        context={"exception": detail, "traceback": trace},
        raw=f"Internal error ({detail})",
    )
