"""The one structured error record of the mapping DSL (dsl.md §9.1).

Every failure of every phase (parse, check, load, map, execute) is a :class:`Diagnostic`.
A failure that stops processing is raised as :class:`DSLError`, which carries its diagnostic.
Feedback text for an optimizer is derived from the record, never from a Python traceback, so
that an LLM sees exactly the message the original tools printed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Phase = Literal["parse", "check", "load", "map", "execute"]
Severity = Literal["error", "warning"]

#: Phases whose failures are reported as ``Compile Error:`` (the rest are ``Execution Error:``).
COMPILE_PHASES: frozenset[str] = frozenset({"parse", "check", "load"})


@dataclass(frozen=True)
class Diagnostic:
    """One finding: an error or a warning, in the record form of dsl.md §9.1."""

    kind: Phase
    code: str
    message: str
    line: int = 0
    column: int = 0
    severity: Severity = "error"
    hint: str | None = None
    context: dict[str, Any] = field(default_factory=dict, compare=False)
    raw: str | None = None

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def raw_text(self) -> str:
        """The original tools' rendering of the message (``raw`` in the record)."""
        return self.raw if self.raw is not None else self.message

    def feedback(self) -> str:
        """``Compile Error: ...`` or ``Execution Error: ...``, lines joined by spaces."""
        prefix = "Compile Error" if self.kind in COMPILE_PHASES else "Execution Error"
        return f"{prefix}: " + " ".join(part for part in self.message.splitlines() if part)

    def to_dict(self) -> dict[str, Any]:
        record: dict[str, Any] = {
            "kind": self.kind,
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "line": self.line,
            "column": self.column,
            "raw": self.raw_text(),
        }
        if self.hint:
            record["hint"] = self.hint
        if self.context:
            record["context"] = self.context
        return record

    def render(self, filename: str = "<program>") -> str:
        """Compiler-style text: ``file:line:col: error: message`` (plus a hint line)."""
        first, *rest = self.message.splitlines() or [""]
        text = f"{filename}:{self.line}:{self.column}: {self.severity}: {first} [{self.code}]"
        for extra in rest:
            text += f"\n    {extra}"
        if self.hint:
            text += f"\n    hint: {self.hint}"
        return text


class DSLError(Exception):
    """A failure that stops a phase. Carries the structured :class:`Diagnostic`."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic

    @classmethod
    def make(
        cls,
        kind: Phase,
        code: str,
        message: str,
        line: int = 0,
        column: int = 0,
        *,
        hint: str | None = None,
        context: dict[str, Any] | None = None,
        raw: str | None = None,
    ) -> DSLError:
        return cls(
            Diagnostic(
                kind=kind,
                code=code,
                message=message,
                line=line,
                column=column,
                hint=hint,
                context=context or {},
                raw=raw,
            )
        )

    # Convenience accessors so callers can treat the exception like the record.
    @property
    def kind(self) -> str:
        return self.diagnostic.kind

    @property
    def code(self) -> str:
        return self.diagnostic.code

    @property
    def message(self) -> str:
        return self.diagnostic.message

    @property
    def line(self) -> int:
        return self.diagnostic.line

    @property
    def column(self) -> int:
        return self.diagnostic.column

    @property
    def hint(self) -> str | None:
        return self.diagnostic.hint

    def feedback(self) -> str:
        return self.diagnostic.feedback()

    def __str__(self) -> str:
        return f"{self.diagnostic.line}:{self.diagnostic.column}: {self.diagnostic.message}"


class CheckFailed(DSLError):
    """Raised when the checker found errors; ``diagnostics`` holds all findings, sorted."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        errors = [d for d in diagnostics if d.is_error]
        super().__init__(errors[0])
        self.diagnostics = diagnostics


def limit_error(
    kind: Phase, what: str, limit: int, line: int = 0, column: int = 0
) -> DSLError:
    """E-LIMIT: ``Resource limit exceeded: <what> (limit <n>)`` (dsl.md §11)."""
    return DSLError.make(
        kind, "E-LIMIT", f"Resource limit exceeded: {what} (limit {limit})", line, column
    )
