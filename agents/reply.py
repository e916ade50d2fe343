"""Reading an LLM reply into section rewrites, repairing its *format* only.

The prompt asks for one fenced block per rewritten section, the section name after the fence's
language tag (```` ```dsl index_task_map ````). Models deviate: they put the name in a heading
or a comment, answer in JSON, forget the fences, wrap code in prose, or paste a whole program.
:func:`parse_reply` accepts all of these and says what it repaired.

It never touches the DSL code itself. A Python-style ``def f(Task t):``, a missing ``;`` or an
undefined name reaches the environment as written: the compiler's message is the feedback the
agent is meant to learn from (paper.md, AutoGuide), and fixing it here would hide it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from agents.sections import SECTION_NAMES, chunk_statements, split_program

#: Spellings of section names seen in replies, after :func:`_normalise_name`.
_ALIASES: dict[str, str] = {}
for _name, _extra in {
    "task": ("tasks", "taskstatements", "processor", "processorkind", "processors"),
    "region": ("regions", "regionstatements", "memory", "memories"),
    "layout": ("layouts", "layoutstatements"),
    "instance_limit": ("instancelimit", "instancelimits", "limit", "limits"),
    "index_task_map": ("indextaskmap", "indextaskmaps", "indexmap", "indexmapping",
                       "indextask", "indexlaunch"),
    "single_task_map": ("singletaskmap", "singletaskmaps", "singlemap", "singlemapping",
                        "singletask", "singlelaunch"),
}.items():
    _ALIASES[_name.replace("_", "")] = _name
    for _alias in _extra:
        _ALIASES[_alias] = _name

_SECTION_WORD = re.compile(
    r"(?i)\b(task|region|layout|instance[ _-]?limit|index[ _-]?task[ _-]?map|"
    r"single[ _-]?task[ _-]?map)s?\b"
)
_FENCE = re.compile(r"^[ \t]*(```+|~~~+)[ \t]*([^\n`]*)\n", re.MULTILINE)
_POLICY_KEYWORDS = ("Task", "Region", "Layout", "InstanceLimit", "CollectMemory",
                    "IndexTaskMap", "SingleTaskMap", "ControlReplicate")
_CODE_LANGS = frozenset({"", "dsl", "mapple", "mapper", "legion", "text", "txt", "plain",
                         "python", "py", "c", "cpp", "c++", "ruby", "perl", "bash", "sh",
                         "code", "none"})


class ReplyError(ValueError):
    """A reply from which no section could be read (the step may ask again, or fail)."""


@dataclass(frozen=True)
class ParsedReply:
    """Section rewrites read from one reply.

    ``sections`` maps section names to their new text (an empty text clears the section).
    ``repairs`` lists, in words, every format deviation that was tolerated.
    """

    sections: dict[str, str]
    repairs: tuple[str, ...] = ()


def _normalise_name(text: str) -> str:
    name = re.sub(r"[^a-z]", "", text.lower())
    for suffix in ("section", "decision", "function", "group", "statements", "block"):
        if name.endswith(suffix) and name != suffix:
            name = name[: -len(suffix)]
    for prefix in ("section", "decision", "def", "the"):
        if name.startswith(prefix) and name != prefix:
            name = name[len(prefix):]
    return name


def section_name(text: str) -> str | None:
    """The section named by a label such as ``index_task_map``, ``IndexTaskMap``, ``Task section``
    (``None`` when ``text`` names none)."""
    return _ALIASES.get(_normalise_name(text))


def _name_in_line(line: str) -> str | None:
    """The first section name mentioned in a line of prose (a heading, a bold label)."""
    stripped = line.strip().strip("#*_`:>[]=- ").strip()
    whole = section_name(stripped)
    if whole is not None:
        return whole
    match = _SECTION_WORD.search(line)
    return section_name(match.group(1)) if match else None


@dataclass
class _Block:
    info: str
    body: str
    before: str  # prose between the previous block and this one
    closed: bool


def _fenced_blocks(text: str) -> list[_Block]:
    """Fenced code blocks, each with the prose just before it."""
    blocks: list[_Block] = []
    pos = 0
    while True:
        opening = _FENCE.search(text, pos)
        if opening is None:
            break
        fence = opening.group(1)
        before = text[pos:opening.start()]
        closing_fence = re.escape(fence[0]) + "{" + str(len(fence)) + ",}"
        closing = re.compile(r"^[ \t]*" + closing_fence + r"[ \t]*$", re.MULTILINE).search(
            text, opening.end())
        if closing is None:
            blocks.append(_Block(opening.group(2).strip(), text[opening.end():], before, False))
            break
        blocks.append(_Block(opening.group(2).strip(), text[opening.end():closing.start()],
                             before, True))
        pos = closing.end()
    return blocks


def _json_sections(text: str) -> dict[str, str] | None:
    """Sections from a JSON object whose keys name sections (values: text or list of lines)."""
    candidate = text.strip()
    if not candidate.startswith("{"):
        start, end = candidate.find("{"), candidate.rfind("}")
        if start < 0 or end <= start:
            return None
        candidate = candidate[start:end + 1]
    try:
        data = json.loads(candidate)
    except (ValueError, RecursionError):
        return None
    if isinstance(data, dict) and isinstance(data.get("sections"), dict):
        data = data["sections"]
    if not isinstance(data, dict):
        return None
    found: dict[str, str] = {}
    for key, value in data.items():
        name = section_name(str(key))
        if name is None:
            continue
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            value = "\n".join(value)
        if value is None:
            value = ""
        if isinstance(value, str):
            found[name] = value
    return found or None


def _label_of(block: _Block) -> tuple[str | None, str, bool]:
    """The section a fenced block is for, its code (a label comment removed), and whether the
    label was the fence's tag (the format the prompt asks for)."""
    for word in re.split(r"[\s,:;=/|]+", block.info):
        name = section_name(word)
        if name is not None:
            return name, block.body, True
    lines = block.body.split("\n")
    first = lines[0].strip() if lines else ""
    comment = re.match(r"^(#+|//)\s*(section\s*[:=]?\s*)?(.+?)\s*:?\s*$", first, re.IGNORECASE)
    if comment is not None:
        name = section_name(comment.group(3))
        if name is not None:
            return name, "\n".join(lines[1:]), False
    for line in reversed(block.before.strip().split("\n")[-2:]):
        if line.strip():
            name = _name_in_line(line)
            if name is not None:
                return name, block.body, False
            break
    return None, block.body, False


def _looks_like_dsl(line: str) -> bool:
    """True for a line of DSL code in a reply without fences; prose and headings are dropped.

    Policy statements must end with ``;`` or ``,`` (so ``Task placement stays the same`` is
    prose); ``def`` lines and lines inside braces are always code.
    """
    code = line.split("//")[0]
    code = code.split("#")[0] if not line.lstrip().startswith("#") else ""
    stripped = code.strip()
    if not stripped:
        return False
    first = re.match(r"[A-Za-z_][A-Za-z0-9_]*", stripped)
    word = first.group(0) if first else ""
    if word in _POLICY_KEYWORDS:
        return stripped.endswith((";", ","))
    if word in ("def", "return", "print"):
        return True
    if re.match(r"[A-Za-z_][A-Za-z0-9_]*\s*=(?!=)", stripped):
        return stripped.endswith((";", ",", "(", "[", "{"))
    return stripped in ("{", "}", "};")


def _code_lines(text: str) -> str:
    """The DSL-looking lines of fence-less text (lines inside ``{ }`` of a ``def`` kept too)."""
    kept: list[str] = []
    depth = 0
    for line in text.split("\n"):
        code = line.split("#")[0].split("//")[0]
        if depth > 0 or _looks_like_dsl(line):
            kept.append(line)
            depth = max(0, depth + code.count("{") - code.count("}"))
        elif kept and line.startswith((" ", "\t")) and kept[-1].rstrip().endswith(":"):
            kept.append(line)  # the body of a Python-style def: kept, the compiler will object
    return "\n".join(kept)


def _heading_sections(text: str) -> dict[str, str] | None:
    """Fence-less sections introduced by heading lines (``### task``, ``task:``, ``[task]``)."""
    found: dict[str, list[str]] = {}
    current: str | None = None
    for line in text.split("\n"):
        stripped = line.strip()
        heading = None
        if stripped and not _looks_like_dsl(line) and len(stripped) <= 60:
            label = stripped.strip("#*_`:>[]=- ").strip()
            heading = section_name(label) if label else None
        if heading is not None:
            current = heading
            found[current] = []
        elif current is not None:
            found[current].append(line)
    if not found:
        return None
    return {name: _code_lines("\n".join(lines)) for name, lines in found.items()}


def parse_reply(text: str) -> ParsedReply:
    """Section rewrites in ``text``; raises :class:`ReplyError` when there are none.

    Order of attempts: fenced blocks (labelled by the fence's tag, a first-line comment or the
    heading just before; unlabelled code is split by statement kind), then a JSON object, then
    fence-less headings, then any DSL-looking lines. A later block for the same section replaces
    an earlier one (models often show "before" and "after"). A block labelled for one section
    that holds statements of other sections is split by statement kind too. Unlabelled code
    covering at least :data:`WHOLE_PROGRAM_SECTIONS` sections is a whole program: the sections
    it lacks become empty.
    """
    if not isinstance(text, str) or not text.strip():
        raise ReplyError("the reply is empty")
    repairs: list[str] = []
    sections: dict[str, str] = {}
    blocks = _fenced_blocks(text)
    unlabelled: list[str] = []
    for block in blocks:
        if not block.closed:
            repairs.append("a code fence was not closed")
        if block.info.lower() == "json" or block.body.lstrip().startswith('{"'):
            from_json = _json_sections(block.body)
            if from_json:
                repairs.append("sections given as JSON")
                _merge(sections, from_json, repairs)
                continue
        name, body, by_tag = _label_of(block)
        if name is None:
            if block.info.lower().split(" ")[0] in _CODE_LANGS:
                unlabelled.append(body)
            continue  # otherwise e.g. a diff or an example output, not code to use
        foreign = _foreign_sections(body, name)
        if foreign:
            repairs.append(f"block for section {name} held statements of "
                           f"{', '.join(foreign)}: treated as unlabelled code")
            unlabelled.append(body)
            continue
        if not by_tag and _has_code(body) and not _policy_sections(body):
            # "a helper for the task placement:" + a lone def: prose named a section, but the
            # block holds none of its statements; replacing the section with it would lose them
            repairs.append(f"block after a mention of {name} has no {name} statement: "
                           "treated as unlabelled code")
            unlabelled.append(body)
            continue
        if not by_tag:
            repairs.append(f"section {name} found by a label, not the fence tag")
        _merge(sections, {name: body}, repairs)
    if unlabelled:
        whole = _from_unlabelled("\n".join(unlabelled), repairs, complete=not sections)
        _merge(sections, whole, repairs)
    if sections:
        return ParsedReply(sections, tuple(dict.fromkeys(repairs)))

    from_json = _json_sections(text)
    if from_json:
        return ParsedReply(from_json, ("sections given as JSON",))
    if not blocks:
        from_headings = _heading_sections(text)
        if from_headings and any(v.strip() for v in from_headings.values()):
            return ParsedReply(from_headings, ("no code fences: sections read from headings",))
        code = _code_lines(text)
        repairs = ["no code fences: DSL lines extracted from the prose"]
        found = _from_unlabelled(code, repairs, complete=True) if code.strip() else {}
        if found:
            return ParsedReply(found, tuple(repairs))
    raise ReplyError("no section of the mapper was found in the reply")


#: Unlabelled code with statements of this many sections or more is taken as a whole program.
WHOLE_PROGRAM_SECTIONS = 3


def _from_unlabelled(code: str, repairs: list[str], complete: bool) -> dict[str, str]:
    if not _policy_sections(code):
        # no policy statement: an example output, a log, prose, or helpers alone (which would
        # otherwise replace the whole index_task_map section)
        if _has_code(code):
            repairs.append("unlabelled code without policy statements ignored")
        return {}
    split = split_program(code)
    repairs.append("unlabelled code split into sections by statement kind")
    if complete and len(split) >= WHOLE_PROGRAM_SECTIONS:
        repairs.append("unlabelled code taken as a whole program: missing sections cleared")
        return {name: split.get(name, "") for name in SECTION_NAMES}
    return split


def _policy_sections(code: str) -> set[str]:
    """Sections of the policy statements in ``code`` (helpers and prose excluded)."""
    return {c.section for c in chunk_statements(code) if c.section is not None}


def _has_code(code: str) -> bool:
    return any(chunk.keyword for chunk in chunk_statements(code))


def _foreign_sections(body: str, name: str) -> tuple[str, ...]:
    """Sections other than ``name`` that policy statements in ``body`` belong to."""
    found = _policy_sections(body)
    return tuple(n for n in SECTION_NAMES if n in found and n != name)


def _merge(into: dict[str, str], new: dict[str, str], repairs: list[str]) -> None:
    for name, body in new.items():
        if name in into and into[name].strip() != body.strip():
            repairs.append(f"section {name} given more than once: the last one is used")
        into[name] = body


__all__ = [
    "WHOLE_PROGRAM_SECTIONS", "ParsedReply", "ReplyError", "parse_reply", "section_name",
]
