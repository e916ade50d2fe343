"""The Legion-style runtime log (``RunResult.stderr``) of a simulated run.

Real Legion prints lines such as ``[0 - 7f2c1c3fe700]    0.301262 {5}{runtime}: ...``: node,
thread, wall-clock seconds, level, logger. The simulator writes the same shape, with the
simulated clock, so feedback rules and people reading logs see familiar text: the machine and
its memories, a summary of the mapping, what was simulated, and the error that stopped the
run, if any.
"""

from __future__ import annotations

from mapper_gym.dsl.errors import Diagnostic

#: Legion's logging levels: 2 info, 3 print, 4 warning, 5 error.
INFO, PRINT, WARNING, ERROR = 2, 3, 4, 5


class RuntimeLog:
    """Accumulates log lines."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, level: int, logger: str, text: str, time: float = 0.0, node: int = 0) -> None:
        self.lines.append(f"[{node} - sim] {time:11.6f} {{{level}}}{{{logger}}}: {text}")

    def error(self, diagnostic: Diagnostic, time: float = 0.0) -> None:
        where = f" (policy statement at line {diagnostic.line}, column {diagnostic.column})" \
            if diagnostic.line else ""
        self.add(ERROR, "runtime", f"[error {diagnostic.code}] LEGION ERROR: "
                 f"{diagnostic.message}{where}", time)

    def text(self) -> str:
        return "\n".join(self.lines) + ("\n" if self.lines else "")
