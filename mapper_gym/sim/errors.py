"""The one way a simulated run fails: :class:`SimFailure`, carrying the execution diagnostic.

A failure of the run itself (an allocation that does not fit, a task variant that rejects its
instance layout, an instance the processor cannot address) is not a bug of the simulator: it
is the result the real program would have produced. It travels as an exception from wherever
the simulator notices it to :func:`mapper_gym.sim.simulate`, which turns it into a failed
:class:`~mapper_gym.result.RunResult` with the program's output so far and a Legion-style log.
"""

from __future__ import annotations

from mapper_gym.dsl.errors import Diagnostic

#: Codes of execution failures the simulator itself raises (besides the layout-rule codes the
#: application models define, such as ``E-LAYOUT-BLAS``), all from dsl.md §9.
OOM = "E-OOM"
VIRTUAL = "E-VIRTUAL"
#: A plan the resolver should never produce (a memory its processor cannot address).
INTERNAL = "E-INTERNAL"
#: The generic layout failure (dsl.md §9.5), for a layout rule that names no code.
LAYOUT = "E-LAYOUT-STRIDE"


class SimFailure(Exception):
    """The simulated run failed; ``diagnostic`` says why, ``stdout`` is what the program had
    printed for it (e.g. a layout rule's output lines)."""

    def __init__(self, diagnostic: Diagnostic, stdout: tuple[str, ...] = ()) -> None:
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic
        self.stdout = stdout


def execution_error(
    code: str, message: str, origin: tuple[int, int] = (0, 0), **context: object
) -> Diagnostic:
    """An execute-phase diagnostic at the policy statement ``origin`` (line, column)."""
    return Diagnostic(
        kind="execute",
        code=code,
        message=message,
        line=origin[0],
        column=origin[1],
        context=dict(context),
    )
