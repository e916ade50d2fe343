"""A mapper as six independent decision sections, the unit the LLM rewrites.

The paper's agent is six trainable functions (task, region, layout, instance_limit,
index_task_map, single_task_map) whose outputs are concatenated, in that order, into one DSL
program. Here each function is a block of DSL text, a *section*. A rewrite replaces whole
sections, so a change stays local to one decision group; sections the LLM does not return keep
their text.

Two operations need to know which statement belongs where:

- :func:`split_program` cuts any program text (a start mapper, or an LLM reply that gave a whole
  program instead of sections) into sections by statement kind. It works on the text, line by
  line, and never needs the program to parse: a reply with a syntax error must reach the
  environment unchanged, because the compiler's message is the feedback the LLM learns from.
- :meth:`Sections.render` concatenates the sections into the program.

Statement kinds outside the paper's six groups go with the group they qualify: ``CollectMemory``
(release of region data) with *region*, ``ControlReplicate`` (where a task runs) with *task*.
Helper statements (``def``, global assignments, top-level ``print``) go with the map sections
that use them, directly or through other helpers: *index_task_map* when an ``IndexTaskMap``
needs them (that section comes first, so a ``SingleTaskMap`` can use them too), otherwise
*single_task_map* when a ``SingleTaskMap`` does, otherwise *index_task_map*.

Every section is meant to be self-contained, so two sections may both define ``gpus =
Machine(GPU);``. Concatenating them verbatim would bind the global twice (a compile error that
exists only because of the sectioning), so :meth:`Sections.render` emits a helper statement of a
later section only if no earlier section already has one with the same code. Anything else is
kept exactly as written, errors included.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields, replace

#: The six decision groups, in the order their outputs are concatenated (paper.md).
SECTION_NAMES: tuple[str, ...] = (
    "task", "region", "layout", "instance_limit", "index_task_map", "single_task_map",
)

#: What each section decides, for prompts.
SECTION_PURPOSE: Mapping[str, str] = {
    "task": "processor kind of each task (`Task` statements; `ControlReplicate` if any)",
    "region": "memory of each region argument (`Region` statements; `CollectMemory` if any)",
    "layout": "instance layout of region arguments (`Layout` statements)",
    "instance_limit": "backpressure (`InstanceLimit` statements; often empty)",
    "index_task_map": "placement of index-launch points (`IndexTaskMap` statements with the "
                      "machine variables and `def` functions they use)",
    "single_task_map": "placement of single launches within their node (`SingleTaskMap` "
                       "statements with the functions they use)",
}

#: First keyword of a policy statement -> its section.
_KEYWORD_SECTION: Mapping[str, str] = {
    "Task": "task",
    "ControlReplicate": "task",
    "Region": "region",
    "CollectMemory": "region",
    "Layout": "layout",
    "InstanceLimit": "instance_limit",
    "IndexTaskMap": "index_task_map",
    "SingleTaskMap": "single_task_map",
}
_HELPER_KEYWORDS = frozenset({"def", "print"})
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ASSIGN = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*=(?!=)")
_DEF = re.compile(r"\s*def\s+([A-Za-z_][A-Za-z0-9_]*)")
_FIRST_WORD = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)")


@dataclass(frozen=True)
class Sections:
    """The six sections of one mapper (DSL text each; empty text means "no statements")."""

    task: str = ""
    region: str = ""
    layout: str = ""
    instance_limit: str = ""
    index_task_map: str = ""
    single_task_map: str = ""

    def get(self, name: str) -> str:
        """Text of section ``name`` (one of :data:`SECTION_NAMES`)."""
        if name not in SECTION_NAMES:
            raise KeyError(f"unknown section {name!r}; sections are {', '.join(SECTION_NAMES)}")
        return str(getattr(self, name))

    def items(self) -> Iterator[tuple[str, str]]:
        """``(name, text)`` in concatenation order."""
        for f in fields(self):
            yield f.name, getattr(self, f.name)

    def with_changes(self, changes: Mapping[str, str]) -> Sections:
        """A copy in which the named sections are replaced (text normalised, see :func:`clean`)."""
        for name in changes:
            self.get(name)  # validates the name
        return replace(self, **{name: clean(text) for name, text in changes.items()})

    def changed(self, other: Sections) -> tuple[str, ...]:
        """Names of the sections whose text differs from ``other``'s."""
        return tuple(n for n in SECTION_NAMES if self.get(n).strip() != other.get(n).strip())

    def render(self) -> str:
        """The program: the sections in order, separated by a blank line.

        A helper statement (``def``, global assignment, top-level ``print``) of a section is left
        out when an earlier section already contains one with identical code (comments and
        spacing ignored); see the module docstring.
        """
        seen: set[str] = set()
        parts: list[str] = []
        for _, text in self.items():
            section_keys: set[str] = set()
            kept: list[str] = []
            for chunk in chunk_statements(text):
                key = chunk.key() if chunk.is_helper else None
                if key is not None and key in seen:
                    continue
                if key is not None:
                    section_keys.add(key)
                kept.append(chunk.text)
            seen |= section_keys
            body = "".join(kept).strip("\n")
            if body.strip():
                parts.append(body.rstrip())
        return "\n\n".join(parts) + "\n" if parts else ""

    def to_dict(self) -> dict[str, str]:
        return dict(self.items())

    @classmethod
    def from_dict(cls, data: Mapping[str, str]) -> Sections:
        return cls().with_changes(data)


def clean(text: str) -> str:
    """Normalise a section's text: Unix newlines, no trailing spaces, no blank edges."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Lexical statement chunking (works on text that does not parse)
# ---------------------------------------------------------------------------------------------


@dataclass
class Chunk:
    """One top-level statement as text, with the comment lines written just before it.

    ``keyword`` is the statement's first word (``Task``, ``def``, ...) or ``"="`` for a global
    assignment, ``""`` for text that starts no known statement. ``defines`` is the name a
    helper binds; ``names`` every identifier in the code (an over-approximation of what the
    statement uses, which is all the section assignment needs).
    """

    keyword: str
    text: str
    defines: str | None = None
    names: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_helper(self) -> bool:
        return self.keyword in ("def", "print", "=")

    @property
    def section(self) -> str | None:
        """The section of a policy statement; ``None`` for helpers and unknown text."""
        return _KEYWORD_SECTION.get(self.keyword)

    def key(self) -> str:
        """The code without comments or spacing: identical keys mean identical statements."""
        return " ".join(_code_of(self.text).split())


def _strip_comment(line: str) -> str:
    """``line`` without its ``#`` or ``//`` comment (strings are one-line, no escapes)."""
    in_string = False
    i = 0
    while i < len(line):
        c = line[i]
        if c == '"':
            in_string = not in_string
        elif not in_string and (c == "#" or line.startswith("//", i)):
            return line[:i]
        i += 1
    return line


def _code_of(text: str) -> str:
    return "\n".join(_strip_comment(line) for line in text.split("\n"))


def _code_without_strings(code: str) -> str:
    return re.sub(r'"[^"\n]*"', '""', code)


def _statement_start(code: str) -> str | None:
    """The keyword if this line of code starts a top-level statement, else ``None``."""
    word = _FIRST_WORD.match(code)
    if word is None:
        return None
    first = word.group(1)
    if first in _KEYWORD_SECTION or first in _HELPER_KEYWORDS:
        return first
    if _ASSIGN.match(code):
        return "="
    return None


class _Builder:
    def __init__(self) -> None:
        self.chunks: list[Chunk] = []
        self.lines: list[str] = []
        self.keyword: str | None = None
        self.pending: list[str] = []  # comment/blank lines waiting for the next statement

    def start(self, keyword: str, line: str) -> None:
        self.flush()
        self.lines = [*self.pending, line]
        self.pending = []
        self.keyword = keyword

    def add(self, line: str) -> None:
        if self.keyword is None:
            self.start("", line)
        else:
            self.lines.append(line)

    def flush(self) -> None:
        if self.keyword is None:
            return
        text = "".join(self.lines)
        code = _code_without_strings(_code_of(text))
        defines = None
        if self.keyword == "def":
            m = _DEF.match(code)
            defines = m.group(1) if m else None
        elif self.keyword == "=":
            m = _ASSIGN.match(code)
            defines = m.group(1) if m else None
        names = frozenset(_IDENT.findall(code))
        self.chunks.append(Chunk(self.keyword, text, defines, names))
        self.lines = []
        self.keyword = None

    def finish(self) -> list[Chunk]:
        if self.pending:
            if self.keyword is None:
                self.start("", "")
                self.lines = self.lines[:-1]
            else:
                self.lines.extend(self.pending)
            self.pending = []
        self.flush()
        return self.chunks


def chunk_statements(text: str) -> list[Chunk]:
    """Cut ``text`` into top-level statements, keeping every character (errors included).

    A statement starts at brace depth 0 with a statement keyword, ``def``, ``print`` or
    ``name =``. A statement that has not ended (no ``;`` yet, or an open ``{``) swallows the
    following lines, except that a new policy keyword or ``def`` always starts a new chunk
    (a missing ``;`` stays a missing ``;``). A Python-style ``def f(Task t):`` keeps its
    indented lines. Comment and blank lines go with the statement after them.
    """
    builder = _Builder()
    depth = 0
    open_statement = False  # the current chunk has not reached its terminator
    python_def = False  # the current chunk is `def ...:` with an indented body
    for line in text.replace("\r\n", "\n").replace("\r", "\n").splitlines(keepends=True):
        code = _code_without_strings(_strip_comment(line))
        stripped = code.strip()
        keyword = _statement_start(code) if depth == 0 else None
        indented = line[:1] in (" ", "\t")
        if not stripped:
            if builder.keyword is not None and (open_statement or python_def):
                builder.add(line)
            else:
                builder.pending.append(line)
            continue
        continues_python_def = python_def and indented
        if keyword is not None and not continues_python_def and (
            keyword != "=" or not open_statement
        ):
            builder.start(keyword, line)
            python_def = False
        else:
            builder.add(line)
        depth = max(0, depth + code.count("{") + code.count("(") + code.count("[")
                    - code.count("}") - code.count(")") - code.count("]"))
        if builder.keyword == "def":
            if depth == 0 and stripped.endswith(":"):
                python_def = True
            open_statement = not python_def and not (depth == 0 and "}" in stripped)
        else:
            open_statement = not (depth == 0 and stripped.endswith((";", "}")))
    return builder.finish()


def split_program(text: str) -> dict[str, str]:
    """The sections of a whole program (or of a part of one), by statement kind.

    Returns only the sections that received at least one statement, each in source order.
    Text that starts no known statement stays with the statement before it (or, at the very
    start, goes to *index_task_map*), so nothing is lost.
    """
    chunks = chunk_statements(text)
    helpers = {c.defines: c for c in chunks if c.is_helper and c.defines}

    def closure(roots: set[str]) -> set[str]:
        reached: set[str] = set()
        pending = [name for name in roots if name in helpers]
        while pending:
            name = pending.pop()
            if name in reached:
                continue
            reached.add(name)
            pending.extend(n for n in helpers[name].names if n in helpers and n not in reached)
        return reached

    index_roots: set[str] = set()
    single_roots: set[str] = set()
    for c in chunks:
        if c.section == "index_task_map":
            index_roots |= c.names
        elif c.section == "single_task_map":
            single_roots |= c.names
    index_used = closure(index_roots)
    single_used = closure(single_roots) - index_used

    parts: dict[str, list[str]] = {}
    previous = "index_task_map"
    for c in chunks:
        if c.section is not None:
            target = c.section
        elif c.is_helper:
            target = "single_task_map" if c.defines in single_used else "index_task_map"
            if c.keyword == "print" or c.defines is None:
                target = "index_task_map"
        else:  # text that starts no statement: keep it next to what precedes it
            target = previous
        parts.setdefault(target, []).append(c.text)
        previous = target
    return {name: clean("".join(parts[name])) for name in SECTION_NAMES if name in parts}


def sections_from_program(text: str) -> Sections:
    """All six sections of a whole program (sections without statements are empty)."""
    return Sections().with_changes(split_program(text))
