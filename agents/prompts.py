"""Prompt assembly for the LLM agent; the wording lives in ``agents/prompts/*.md``.

Every request is self-contained (no chat memory across iterations, as in the paper's
optimizers): a system message with the role, the six sections and the condensed DSL reference,
and a user message with the application, the machine, the current sections and the history of
programs, scores and feedback. The zero-shot and few-shot ablations use a user message without
history (few-shot adds example mappers of *other* applications).

Templates use ``string.Template`` (``$name``) because DSL text is full of braces.
"""

from __future__ import annotations

import random
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from agents.sections import SECTION_NAMES, SECTION_PURPOSE, Sections

#: Feedback longer than this is cut in the middle in prompts (logs can be long).
MAX_FEEDBACK_CHARS = 4000


@cache
def load_template(name: str) -> string.Template:
    """The prompt file ``agents/prompts/<name>.md`` as a template."""
    text = resources.files("agents").joinpath("prompts", f"{name}.md").read_text("utf-8")
    return string.Template(text)


def _fill(name: str, **values: str) -> str:
    return load_template(name).substitute(**values).strip() + "\n"


# ---------------------------------------------------------------------------------------------
# Problem description (what the paper's agent receives)
# ---------------------------------------------------------------------------------------------


def describe_app(info: Mapping[str, Any]) -> str:
    """The application part of the prompt, from the environment's reset ``info``.

    Uses ``info["app_text"]`` when present; otherwise renders ``info["app"]`` (the
    ``AppModel.describe()`` dict, an ``AppInfo``, or text).
    """
    text = info.get("app_text")
    if isinstance(text, str) and text.strip():
        return text.strip()
    app = info.get("app")
    if isinstance(app, str):
        return app.strip()
    if isinstance(app, Mapping):
        return _describe_app_dict(app)
    if app is not None and hasattr(app, "tasks"):
        return describe_app_info(app)
    raise ValueError("reset info has no application description ('app_text' or 'app')")


def _describe_app_dict(app: Mapping[str, Any]) -> str:
    lines = [f"Application {app.get('name', '?')}."]
    for task in app.get("tasks", ()):
        kind = "inner" if task.get("inner") else "leaf"
        launches = ", ".join(
            "single" if shape == "single" else "index " + "x".join(map(str, shape))
            for shape in task.get("launches", ())
        ) or "not launched"
        variants = ",".join(task.get("variants", ()))
        lines.append(f"task {task['name']} [{kind}; variants {variants}; {launches}]")
        for req in task.get("requirements", ()):
            names = ", ".join(req.get("names", ())) or "-"
            fields = ", ".join(req.get("fields", ()))
            lines.append(f"  region {req.get('index')}: names {names}; "
                         f"{req.get('privilege', '')} {{{fields}}}")
    return "\n".join(lines)


def describe_app_info(app: Any) -> str:
    """Compact text for a :class:`mapper_gym.dsl.context.AppInfo` (names and launch kinds)."""
    lines = [f"Application {app.name}."]
    for task in app.tasks:
        launches = [k for k, on in (("index", task.index_launch),
                                    ("single", task.single_launch)) if on]
        kind = "inner" if task.inner else "leaf"
        lines.append(f"task {task.name} [{kind}; variants {','.join(task.variants)}; "
                     f"{', '.join(launches) or 'not launched'}]")
        for i, names in enumerate(task.regions):
            lines.append(f"  region {i}: names {', '.join(names) or '-'}")
    return "\n".join(lines)


def describe_machine(info: Mapping[str, Any]) -> str:
    """The machine part of the prompt: nodes, processors and memories per node.

    The machine's own one-line description (``info["machine"]["text"]``) is used when present;
    otherwise the counts are rendered. A rank layout with several Legion ranks per physical
    node is spelled out, because each rank is a node of ``Machine(K)``.
    """
    machine = info.get("machine")
    if isinstance(machine, str):
        return machine.strip()
    if not isinstance(machine, Mapping):
        raise ValueError("reset info has no machine description ('machine')")
    lines = []
    text = machine.get("text")
    if isinstance(text, str) and text.strip():
        lines.append(text.strip())
    else:
        nodes = machine.get("nodes")
        head = f"{nodes} node(s)" if nodes is not None else "nodes: unknown"
        if machine.get("name"):
            head = f"Machine {machine['name']}: {head}"
        lines.append(head + ".")
        procs = machine.get("processors_per_node") or {}
        if procs:
            lines.append("Processors per node: "
                         + ", ".join(f"{n} {kind}" for kind, n in procs.items()) + ".")
        memories = machine.get("memories_per_node") or {}
        if memories:
            parts = []
            for kind, entry in memories.items():
                if isinstance(entry, Mapping):
                    capacity = entry.get("capacity_bytes")
                    size = f" of {_bytes(capacity)}" if isinstance(capacity, int | float) else ""
                    parts.append(f"{entry.get('count', 1)} {kind}{size}")
                else:
                    parts.append(str(kind))
            lines.append("Memories per node: " + ", ".join(parts) + ".")
    ranks = machine.get("ranks_per_node")
    if isinstance(ranks, int) and ranks > 1:
        lines.append(f"Each physical node runs {ranks} Legion ranks; every rank is one node of "
                     "Machine(K).")
    return "\n".join(lines)


def _bytes(n: float) -> str:
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{int(n)} B"


# ---------------------------------------------------------------------------------------------
# Sections, history, examples
# ---------------------------------------------------------------------------------------------


def render_sections(sections: Sections) -> str:
    """Each section as a tagged fenced block (the format replies should use)."""
    blocks = []
    for name, text in sections.items():
        body = text.strip() or "# (empty)"
        blocks.append(f"```dsl {name}\n{body}\n```")
    return "\n\n".join(blocks)


def section_list() -> str:
    return "\n".join(f"{i}. `{name}`: {SECTION_PURPOSE[name]}"
                     for i, name in enumerate(SECTION_NAMES, 1))


@dataclass(frozen=True)
class HistoryEntry:
    """One evaluated program as the prompt shows it."""

    step: int
    program: str
    reward: float | None
    status: str | None = None
    feedback: str | None = None
    changed: tuple[str, ...] = ()
    #: Why this step's program was not a new proposal (a failed LLM step), if it was not.
    note: str | None = None


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    keep = limit // 2
    return f"{text[:keep]}\n[... {len(text) - 2 * keep} characters omitted ...]\n{text[-keep:]}"


def render_history(entries: Sequence[HistoryEntry], *, show_feedback: bool = True,
                   window: int | None = None,
                   max_feedback_chars: int = MAX_FEEDBACK_CHARS) -> str:
    """Programs, scores and (unless ``show_feedback`` is off) feedback, oldest first.

    With a ``window``, only the last ``window`` programs are shown in full; older steps keep
    their score and status. A program equal to an earlier one is referenced, not repeated.
    """
    if not entries:
        return "No program has been evaluated yet."
    first_full = len(entries) - window if window is not None else 0
    seen: dict[str, int] = {}
    parts = []
    for i, e in enumerate(entries):
        score = "not evaluated" if e.reward is None else f"score {e.reward:.4f}"
        status = f", {e.status}" if e.status else ""
        lines = [f"## Step {e.step}: {score}{status}"]
        if e.note:
            lines.append(f"Note: {e.note}")
        if e.changed:
            lines.append("Sections changed: " + ", ".join(e.changed))
        key = e.program.strip()
        if key in seen:
            lines.append(f"Program: identical to step {seen[key]}.")
        elif i >= first_full:
            lines.append(f"```dsl\n{e.program.strip()}\n```")
        else:
            lines.append("Program: omitted (older step).")
        seen.setdefault(key, e.step)
        if show_feedback and e.feedback:
            lines.append("Feedback:\n" + _clip(e.feedback.strip(), max_feedback_chars))
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


@dataclass(frozen=True)
class Example:
    """A few-shot example: an application's description and a mapper for it."""

    app: str
    description: str
    program: str


def default_examples(exclude: str | None, k: int, seed: int = 0) -> list[Example]:
    """``k`` expert mappers of benchmark applications other than ``exclude``, with their
    task and region names, chosen deterministically from ``seed``."""
    from benchmarks import APP_NAMES, get_app

    others = [n for n in APP_NAMES if exclude is None or n.lower() != exclude.lower()]
    chosen = random.Random(seed).sample(others, min(k, len(others)))
    examples = []
    for name in chosen:
        app = get_app(name)
        examples.append(Example(name, describe_app_info(app.app_info()), app.expert_mapper()))
    return examples


def render_examples(examples: Sequence[Example]) -> str:
    if not examples:
        return ""
    parts = ["", "# Example mappers for other applications", ""]
    for ex in examples:
        parts.append(f"## {ex.app}\n\n{ex.description}\n\n```dsl\n{ex.program.strip()}\n```\n")
    return "\n".join(parts)


# ---------------------------------------------------------------------------------------------
# Messages
# ---------------------------------------------------------------------------------------------


@cache
def system_prompt() -> str:
    """The system message: role, the six sections, the DSL reference and the answer format."""
    reference = load_template("dsl_reference").template.strip()
    return _fill("system", section_list=section_list(), dsl_reference=reference)


def improve_messages(app: str, machine: str, sections: Sections,
                     history: Sequence[HistoryEntry], *, step: int, budget: int | None,
                     show_feedback: bool = True, window: int | None = None
                     ) -> list[dict[str, str]]:
    """The request of one feedback iteration (the paper's full mode when feedback is shown)."""
    scored = [e for e in history if e.reward is not None]
    if scored:
        top = max(scored, key=lambda e: (e.reward, -e.step))
        best = f"The best score so far is {top.reward:.4f} (step {top.step})."
    else:
        best = "Nothing has been evaluated yet."
    task = _fill("task_improve", step=str(step), budget=str(budget or "?"), best=best)
    user = _fill(
        "iteration", app=app, machine=machine, sections=render_sections(sections),
        history=render_history(history, show_feedback=show_feedback, window=window),
        task=task.strip(),
    )
    return [{"role": "system", "content": system_prompt()}, {"role": "user", "content": user}]


def generate_messages(app: str, machine: str, sections: Sections,
                      examples: Sequence[Example] = ()) -> list[dict[str, str]]:
    """The request of the zero-shot (no examples) and few-shot ablations: no history."""
    user = _fill(
        "generate", app=app, machine=machine, sections=render_sections(sections),
        examples=render_examples(examples), task=_fill("task_generate").strip(),
    )
    return [{"role": "system", "content": system_prompt()}, {"role": "user", "content": user}]


def format_repair_message(problem: str) -> dict[str, str]:
    """The follow-up user message after a reply from which no section could be read."""
    return {"role": "user",
            "content": _fill("format_repair", problem=problem, names=", ".join(SECTION_NAMES))}


__all__ = [
    "MAX_FEEDBACK_CHARS",
    "Example",
    "HistoryEntry",
    "default_examples",
    "describe_app",
    "describe_app_info",
    "describe_machine",
    "format_repair_message",
    "generate_messages",
    "improve_messages",
    "load_template",
    "render_examples",
    "render_history",
    "render_sections",
    "system_prompt",
]
