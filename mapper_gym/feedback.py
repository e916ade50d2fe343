"""AutoGuide: turn a :class:`~mapper_gym.result.RunResult` into feedback text for an optimizer.

The paper's agent improves a mapper from the text it gets back after each run. AutoGuide
interprets the raw output at three levels (the paper's ablation):

- ``raw``: the raw output alone, ``Compile Error: ...``, ``Execution Error: ...`` or
  ``Performance Metric: ...`` (:meth:`RunResult.raw_output`);
- ``explain``: the raw output plus what it means: for a failure, what the error is and where
  it happened; for a successful run, what the run's statistics show (which tasks dominate,
  idle processors, bytes moved, memories near capacity, suspicious placements);
- ``suggest``: the explanation plus what to change, naming the decision group (task, region,
  layout, instance_limit, index_task_map, single_task_map) so that an agent built from
  independent decision functions knows which one to rewrite.

Each level's text starts with the text of the level below, so the levels are strictly nested.

Failures are interpreted by a table of keyword rules kept as data
(``mapper_gym/feedback_rules.toml``): the first rule whose conditions hold (error code,
substring, regular expression, run status) supplies an explanation and a suggestion, with
placeholders filled from the diagnostic (task, point, function, position) and from the
application description. Rules can also search the run's raw logs, so the messages of the
original tools (for example ``Assertion 'event.exists()' failed``) are recognised even when no
structured diagnostic exists. Successful runs are interpreted by fixed analyses of
:class:`~mapper_gym.result.RunStats` and the plan summary, whose thresholds and wording live in
the same file.

Everything is deterministic: lists are sorted, numbers rounded, and nothing depends on dict
order of the input beyond what the inputs themselves fix.
"""

from __future__ import annotations

import functools
import math
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from mapper_gym.dsl.errors import Diagnostic
from mapper_gym.result import STATUSES, RunResult, RunStats, finite_or_zero

FEEDBACK_LEVELS: tuple[str, ...] = ("raw", "explain", "suggest")

#: The paper's six independent decision groups, in the order the agent concatenates them.
DECISION_GROUPS: tuple[str, ...] = (
    "task",
    "region",
    "layout",
    "instance_limit",
    "index_task_map",
    "single_task_map",
)

#: Groups a rule may name: the six, ``map_function`` (IndexTaskMap or SingleTaskMap, decided
#: from the diagnostic's context) and ``program`` (not one group: the text at the position).
RULE_GROUPS: tuple[str, ...] = (*DECISION_GROUPS, "map_function", "program")

GROUP_DESCRIPTIONS: Mapping[str, str] = {
    "task": "Task statements: the processor kind of each task",
    "region": "Region statements: the memory of each region argument",
    "layout": "Layout statements: how instances are laid out",
    "instance_limit": "InstanceLimit statements: tasks in flight",
    "index_task_map": "IndexTaskMap statements and their functions: where index points run",
    "single_task_map": "SingleTaskMap statements and their functions: where single tasks run",
}

#: Generic words for placeholders that neither the diagnostic, the rule's regex, the rule's
#: ``defaults`` nor the application description fill.
PLACEHOLDER_DEFAULTS: Mapping[str, str] = {
    "where": "the reported position",
    "line": "?",
    "column": "?",
    "task": "the task",
    "task_key": "*",
    "point": "the current point",
    "function": "the mapping function",
    "name": "the name",
    "context": "",
    "layout_need": "",
    "layout_fix": "the layout the task's variant expects",
}

#: Keys a rule's ``match`` table may use.
MATCH_KEYS = frozenset({"code", "status", "phase", "severity", "contains", "regex", "logs"})

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_PROCESSOR_UID = re.compile(r"^n(\d+)\.([A-Z]+)(\d+)$")
#: Processor kinds whose use the performance analysis reports (utility processors are the
#: runtime's own and never run application tasks).
_APPLICATION_KINDS = ("GPU", "CPU", "OMP", "IO", "PY", "PROC")
_HOST_KINDS = frozenset({"CPU", "OMP", "IO", "PY", "PROC"})
_MAX_LISTED = 5


# ---------------------------------------------------------------------------------------------
# The rule table
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """One keyword rule: conditions on a failure, and the text it produces.

    All given conditions must hold. ``codes``/``statuses``/``phases``: membership;
    ``contains``: one of the substrings occurs; ``regex``: searched, its named groups become
    placeholders. The searched text is the diagnostic's message and raw rendering, plus the
    run's stdout and stderr when ``logs`` is set.
    """

    id: str
    group: str
    explanation: str
    suggestion: str
    codes: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    phases: tuple[str, ...] = ()
    severity: str | None = None
    contains: tuple[str, ...] = ()
    regex: re.Pattern[str] | None = None
    logs: bool = False
    source: str = ""
    defaults: Mapping[str, str] = field(default_factory=dict)

    @property
    def is_catch_all(self) -> bool:
        """True when the rule has no condition besides severity: it matches every failure."""
        return not (self.codes or self.statuses or self.phases or self.contains or self.regex)

    def placeholders(self) -> set[str]:
        """Names of the placeholders its texts use."""
        return {
            m.group(1)
            for text in (self.explanation, self.suggestion)
            for m in _PLACEHOLDER.finditer(text)
        }

    def match(
        self, diagnostic: Diagnostic | None, result: RunResult | None
    ) -> tuple[dict[str, str], str | None] | None:
        """``(regex groups, matched log line or None)`` if the rule applies, else None.

        ``diagnostic`` None stands for a failed run without a structured error: only status,
        substring and regex conditions can hold then.
        """
        severity = diagnostic.severity if diagnostic is not None else "error"
        if self.severity is not None and severity != self.severity:
            return None
        if self.codes and (diagnostic is None or diagnostic.code not in self.codes):
            return None
        if self.phases and (diagnostic is None or diagnostic.kind not in self.phases):
            return None
        if self.statuses and (result is None or result.status not in self.statuses):
            return None
        if not (self.contains or self.regex):
            return {}, None
        for text, from_log in _search_texts(diagnostic, result, self.logs):
            found = self._search(text)
            if found is not None:
                groups, line = found
                return groups, line if from_log else None
        return None

    def _search(self, text: str) -> tuple[dict[str, str], str] | None:
        if self.contains and not any(s in text for s in self.contains):
            return None
        groups: dict[str, str] = {}
        anchor = next((s for s in self.contains if s in text), None)
        if self.regex is not None:
            found = self.regex.search(text)
            if found is None:
                return None
            groups = {k: v for k, v in found.groupdict().items() if v is not None}
            anchor = found.group(0)
        line = next((ln.strip() for ln in text.splitlines() if anchor and anchor in ln), "")
        return groups, line or (anchor or "")


def _search_texts(
    diagnostic: Diagnostic | None, result: RunResult | None, logs: bool
) -> Iterable[tuple[str, bool]]:
    """The texts a rule searches, most specific first, flagged True for raw logs."""
    if diagnostic is not None:
        yield diagnostic.message, False
        if diagnostic.raw_text() != diagnostic.message:
            yield diagnostic.raw_text(), False
    elif result is not None:
        yield result.raw_output(), False
    if logs and result is not None:
        for text in (result.stderr, result.stdout):
            if text:
                yield text, True


@dataclass(frozen=True)
class FindingText:
    """Wording of one performance finding (the numbers come from the analysis)."""

    id: str
    group: str
    explanation: str
    suggestion: str
    source: str = ""


@dataclass(frozen=True)
class PerformanceSettings:
    """Thresholds of the performance analysis."""

    top_tasks: int = 3
    imbalance_ratio: float = 0.5
    memory_near_full: float = 0.9
    max_suggestions: int = 4


@dataclass(frozen=True)
class RuleTable:
    """The whole AutoGuide table: failure rules in order, performance wording and thresholds."""

    rules: tuple[Rule, ...]
    findings: Mapping[str, FindingText]
    performance: PerformanceSettings

    def match(
        self, diagnostic: Diagnostic | None, result: RunResult | None = None
    ) -> tuple[Rule, dict[str, str], str | None]:
        """The first rule that applies, its regex groups and the log line it matched."""
        for rule in self.rules:
            found = rule.match(diagnostic, result)
            if found is not None:
                return rule, found[0], found[1]
        raise LookupError("the rule table has no catch-all rule")  # load_rules forbids this

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)


#: Findings the performance analysis produces; the data file must word each of them.
FINDING_IDS: tuple[str, ...] = (
    "cpu-task-has-gpu-variant",
    "processor-imbalance",
    "memory-near-full",
    "zero-copy-on-gpu",
    "data-movement",
    "instance-limits",
    "paper-throughput",
    "paper-execution-time",
)

#: Placeholders each finding's text may use.
_FINDING_PLACEHOLDERS: Mapping[str, frozenset[str]] = {
    "cpu-task-has-gpu-variant": frozenset({"items", "tasks", "task_list"}),
    "processor-imbalance": frozenset({"kind", "spread", "count", "for_tasks"}),
    "memory-near-full": frozenset({"items", "memories"}),
    "zero-copy-on-gpu": frozenset({"items", "task", "argument"}),
    "data-movement": frozenset({"items", "tasks"}),
    "instance-limits": frozenset({"items", "tasks"}),
    "paper-throughput": frozenset({"unit"}),
    "paper-execution-time": frozenset({"unit"}),
}


def _as_tuple(value: Any, what: str, rule_id: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ValueError(f"rule {rule_id}: {what} must be a string or a list of strings")


def _parse_rule(entry: Mapping[str, Any]) -> Rule:
    rule_id = entry.get("id")
    if not isinstance(rule_id, str) or not rule_id:
        raise ValueError(f"a rule without an id: {dict(entry)!r}")
    unknown = set(entry) - {"id", "group", "explanation", "suggestion", "match", "source",
                            "defaults"}
    if unknown:
        raise ValueError(f"rule {rule_id}: unknown fields {sorted(unknown)}")
    match = entry.get("match", {})
    if not isinstance(match, Mapping):
        raise ValueError(f"rule {rule_id}: match must be a table")
    bad_keys = set(match) - MATCH_KEYS
    if bad_keys:
        raise ValueError(f"rule {rule_id}: unknown match keys {sorted(bad_keys)}")
    codes = _as_tuple(match.get("code"), "code", rule_id)
    statuses = _as_tuple(match.get("status"), "status", rule_id)
    if any(s not in STATUSES for s in statuses):
        raise ValueError(f"rule {rule_id}: unknown status in {statuses}")
    severity = match.get("severity")
    if severity is None and codes:
        severity = "warning" if all(c.startswith("W-") for c in codes) else "error"
    if severity is None:
        severity = "error"
    if severity not in ("error", "warning"):
        raise ValueError(f"rule {rule_id}: severity must be error or warning")
    regex = match.get("regex")
    try:
        compiled = re.compile(regex) if regex is not None else None
    except re.error as exc:
        raise ValueError(f"rule {rule_id}: bad regex {regex!r}: {exc}") from None
    defaults = entry.get("defaults", {})
    if not isinstance(defaults, Mapping) or not all(
        isinstance(v, str) for v in defaults.values()
    ):
        raise ValueError(f"rule {rule_id}: defaults must map names to strings")
    group = entry.get("group")
    if group not in RULE_GROUPS:
        raise ValueError(f"rule {rule_id}: group {group!r} is not one of {RULE_GROUPS}")
    texts = {k: entry.get(k) for k in ("explanation", "suggestion")}
    for key, text in texts.items():
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"rule {rule_id}: {key} must be a non-empty string")
    rule = Rule(
        id=rule_id,
        group=group,
        explanation=str(texts["explanation"]),
        suggestion=str(texts["suggestion"]),
        codes=codes,
        statuses=statuses,
        phases=_as_tuple(match.get("phase"), "phase", rule_id),
        severity=severity,
        contains=_as_tuple(match.get("contains"), "contains", rule_id),
        regex=compiled,
        logs=bool(match.get("logs", False)),
        source=str(entry.get("source", "")),
        defaults=dict(defaults),
    )
    known = set(PLACEHOLDER_DEFAULTS) | set(rule.defaults)
    if compiled is not None:
        known |= set(compiled.groupindex)
    missing = rule.placeholders() - known
    if missing:
        raise ValueError(f"rule {rule_id}: unknown placeholders {sorted(missing)}")
    return rule


def _parse_finding(entry: Mapping[str, Any]) -> FindingText:
    finding_id = entry.get("id")
    if finding_id not in _FINDING_PLACEHOLDERS:
        raise ValueError(f"unknown performance finding {finding_id!r}")
    group = entry.get("group")
    if group not in DECISION_GROUPS:
        raise ValueError(f"finding {finding_id}: group {group!r} is not a decision group")
    text = FindingText(
        id=str(finding_id),
        group=str(group),
        explanation=str(entry.get("explanation", "")),
        suggestion=str(entry.get("suggestion", "")),
        source=str(entry.get("source", "")),
    )
    if not text.suggestion.strip():
        raise ValueError(f"finding {finding_id}: suggestion must be non-empty")
    used = {
        m.group(1) for t in (text.explanation, text.suggestion) for m in _PLACEHOLDER.finditer(t)
    }
    missing = used - _FINDING_PLACEHOLDERS[text.id]
    if missing:
        raise ValueError(f"finding {finding_id}: unknown placeholders {sorted(missing)}")
    return text


def parse_rules(data: Mapping[str, Any]) -> RuleTable:
    """Build and validate a :class:`RuleTable` from the decoded TOML document.

    Raises ValueError for anything inconsistent: unknown fields or groups, placeholders no
    value can fill, duplicate ids, a missing performance wording, or a table whose last rule
    does not catch every failure.
    """
    entries = data.get("rule", [])
    rules = tuple(_parse_rule(entry) for entry in entries)
    ids = [rule.id for rule in rules]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"duplicate rule ids: {duplicates}")
    if not rules or not (rules[-1].is_catch_all and rules[-1].severity == "error"):
        raise ValueError("the last rule must be a catch-all for errors (an empty match)")
    findings = {f.id: f for f in (_parse_finding(e) for e in data.get("finding", []))}
    missing = [f for f in FINDING_IDS if f not in findings]
    if missing:
        raise ValueError(f"performance findings without wording: {missing}")
    settings = data.get("performance", {})
    performance = PerformanceSettings(
        top_tasks=int(settings.get("top_tasks", 3)),
        imbalance_ratio=float(settings.get("imbalance_ratio", 0.5)),
        memory_near_full=float(settings.get("memory_near_full", 0.9)),
        max_suggestions=int(settings.get("max_suggestions", 4)),
    )
    return RuleTable(rules=rules, findings=findings, performance=performance)


@functools.cache
def _default_table() -> RuleTable:
    text = resources.files("mapper_gym").joinpath("feedback_rules.toml").read_text("utf-8")
    return parse_rules(tomllib.loads(text))


def load_rules(path: str | Path | None = None) -> RuleTable:
    """The rule table from ``path``, or the one shipped with the package (cached)."""
    if path is None:
        return _default_table()
    with open(path, "rb") as handle:
        return parse_rules(tomllib.load(handle))


# ---------------------------------------------------------------------------------------------
# The application description
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _TaskFacts:
    variants: tuple[str, ...] = ()
    index_launched: bool | None = None
    requirements: int | None = None
    layout: tuple[Mapping[str, Any], ...] = ()


def _app_facts(app_info: Any) -> dict[str, _TaskFacts]:
    """Per task: variants, whether index-launched, requirement count, layout demands.

    Accepts the dict of ``AppModel.describe()`` (tasks as a list of dicts, or a mapping from
    task name to dict), the environment's problem description (that dict under ``"app"``) or
    a :class:`~mapper_gym.dsl.context.AppInfo`.
    """
    if app_info is None:
        return {}
    if isinstance(app_info, Mapping) and "tasks" not in app_info and isinstance(
        app_info.get("app"), Mapping
    ):
        app_info = app_info["app"]  # the problem description of the environment
    tasks = app_info.get("tasks", ()) if isinstance(app_info, Mapping) else getattr(
        app_info, "tasks", ()
    )
    items: list[tuple[str, Any]] = []
    if isinstance(tasks, Mapping):
        items = [(str(name), info) for name, info in tasks.items()]
    else:
        for info in tasks:
            name = info.get("name") if isinstance(info, Mapping) else getattr(info, "name", None)
            if name is not None:
                items.append((str(name), info))
    facts: dict[str, _TaskFacts] = {}
    for name, info in items:
        if isinstance(info, Mapping):
            launches = info.get("launches")
            index = None if launches is None else any(s != "single" for s in launches)
            if index is None and "index_launch" in info:
                index = bool(info["index_launch"])
            requirements = info.get("requirements")
            facts[name] = _TaskFacts(
                variants=tuple(info.get("variants", ())),
                index_launched=index,
                requirements=len(requirements) if requirements is not None else None,
                layout=tuple(r for r in info.get("layout", ()) if isinstance(r, Mapping)),
            )
        else:
            regions = getattr(info, "regions", None)
            facts[name] = _TaskFacts(
                variants=tuple(getattr(info, "variants", ())),
                index_launched=getattr(info, "index_launch", None),
                requirements=len(regions) if regions is not None else None,
            )
    return facts


def _layout_words(rule: Mapping[str, Any]) -> list[str]:
    words = []
    if rule.get("soa") is True:
        words.append("SOA")
    elif rule.get("soa") is False:
        words.append("AOS")
    if rule.get("order") == "C":
        words.append("C_order")
    elif rule.get("order") == "F":
        words.append("F_order")
    return words


_ORDER_MEANING = {"C_order": "last dimension contiguous", "F_order": "first dimension contiguous"}


def _layout_advice(
    facts: Mapping[str, _TaskFacts], task: str | None, text: str
) -> tuple[str, str] | None:
    """``(layout_need, layout_fix)`` from the application's failing layout demands.

    Restricted to ``task`` when it is known, and to the demands whose message occurs in
    ``text`` when any does (the stride check and the BLAS check are different demands).
    """
    names = [task] if task is not None and task in facts else sorted(facts)
    demands = [
        (name, rule)
        for name in names
        for rule in facts[name].layout
        if rule.get("effect", "error") == "error" and _layout_words(rule)
    ]
    quoted = [(n, r) for n, r in demands if r.get("message") and str(r["message"]) in text]
    demands = quoted or demands
    if not demands:
        return None
    needs, fixes = [], []
    for name, rule in demands:
        words = _layout_words(rule)
        arguments = sorted(int(i) for i in rule.get("requirements", ()))
        meaning = ", ".join(_ORDER_MEANING[w] for w in words if w in _ORDER_MEANING)
        demand = " ".join(words) + (f" ({meaning})" if meaning else "")
        noun = "argument" if len(arguments) == 1 else "arguments"
        variant = rule.get("variant")
        who = f"{name}'s {variant} variant" if variant else name
        needs.append(f"{who} needs {demand} on {noun} {_join(map(str, arguments))}")
        count = facts[name].requirements
        if count is not None and set(arguments) == set(range(count)):
            fixes.append(f"`Layout {name} * * {' '.join(words)};`")
        else:
            fixes.extend(f"`Layout {name} {i} * {' '.join(words)};`" for i in arguments)
    return "; ".join(needs) + ".", ", ".join(dict.fromkeys(fixes))


# ---------------------------------------------------------------------------------------------
# Advice for failures
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Advice:
    """What one rule or finding says: explanation, suggestion and the groups to change."""

    rule_id: str
    groups: tuple[str, ...]
    explanation: str
    suggestion: str
    hint: str | None = None


def _render(template: str, values: Mapping[str, str]) -> str:
    """Fill ``{name}`` placeholders (other braces, as in DSL snippets, stay as they are)."""
    text = _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)
    return re.sub(r"[ \t]{2,}", " ", text).strip()


def _format_point(point: Any) -> str:
    if isinstance(point, list | tuple):
        return "(" + ", ".join(str(p) for p in point) + ")"
    return str(point)


def _diagnostic_values(diagnostic: Diagnostic | None) -> dict[str, str]:
    if diagnostic is None:
        return {}
    values: dict[str, str] = {}
    if diagnostic.line > 0:
        values["line"] = str(diagnostic.line)
        values["column"] = str(diagnostic.column)
        values["where"] = f"line {diagnostic.line}, column {diagnostic.column}"
    context = diagnostic.context or {}
    for key, value in context.items():
        if isinstance(value, str | int) and not isinstance(value, bool):
            values[str(key)] = str(value)
    if context.get("point") is not None:
        values["point"] = _format_point(context["point"])
    stack = context.get("stack")
    if isinstance(stack, list | tuple) and stack:
        innermost = stack[-1]
        if isinstance(innermost, list | tuple) and innermost:
            values["function"] = str(innermost[0])
    parts = [values["where"]] if "where" in values else []
    parts += [f"in {values['function']}"] if "function" in values else []
    parts += [f"task {values['task']}"] if "task" in values else []
    parts += [f"point {values['point']}"] if "point" in values else []
    if parts:
        values["context"] = " (" + "; ".join(parts) + ")"
    return values


def _resolve_groups(group: str, diagnostic: Diagnostic | None) -> tuple[str, ...]:
    """The decision groups a rule's group stands for, given the diagnostic's context."""
    if group in DECISION_GROUPS:
        return (group,)
    if group == "map_function":
        context = diagnostic.context if diagnostic is not None else {}
        if "point" in context:
            return ("index_task_map",) if context["point"] is not None else ("single_task_map",)
        return ("index_task_map", "single_task_map")
    return ()


def advise(
    diagnostic: Diagnostic | None,
    result: RunResult | None = None,
    *,
    app_info: Any = None,
    table: RuleTable | None = None,
) -> tuple[Advice, str | None]:
    """The advice of the first matching rule for a failure, and the log line it matched.

    ``diagnostic`` is the error (or warning) to interpret; None for a failed ``result``
    without a structured error.
    """
    table = table or load_rules()
    rule, groups, log_line = table.match(diagnostic, result)
    values: dict[str, str] = dict(PLACEHOLDER_DEFAULTS)
    values.update(rule.defaults)
    values.update(_diagnostic_values(diagnostic))
    values.update(groups)
    task = values.get("task") if values.get("task") != PLACEHOLDER_DEFAULTS["task"] else None
    if task is not None:
        values["task_key"] = task
    if "layout_need" in rule.placeholders() or "layout_fix" in rule.placeholders():
        searched = "\n".join(text for text, _ in _search_texts(diagnostic, result, True))
        layout = _layout_advice(_app_facts(app_info), task, searched)
        if layout is not None:
            values["layout_need"], values["layout_fix"] = layout
    advice = Advice(
        rule_id=rule.id,
        groups=_resolve_groups(rule.group, diagnostic),
        explanation=_render(rule.explanation, values),
        suggestion=_render(rule.suggestion, values),
        hint=diagnostic.hint if diagnostic is not None else None,
    )
    return advice, log_line


# ---------------------------------------------------------------------------------------------
# Numbers
# ---------------------------------------------------------------------------------------------


def _fmt_bytes(count: float) -> str:
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            return f"{value:.0f} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def _fmt_percent(fraction: float) -> str:
    return f"{math.floor(fraction * 100 + 0.5)}%"


def _fmt_seconds(seconds: float) -> str:
    return f"{seconds:.3g} s"


def _join(items: Iterable[str], limit: int = _MAX_LISTED) -> str:
    listed = list(items)
    if len(listed) > limit:
        return ", ".join(listed[:limit]) + f" and {len(listed) - limit} more"
    return ", ".join(listed)



# ---------------------------------------------------------------------------------------------
# Performance analysis
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Finding:
    id: str
    values: Mapping[str, str]


def _plan_tasks(plan_summary: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    tasks = plan_summary.get("tasks", {}) if isinstance(plan_summary, Mapping) else {}
    return {str(k): v for k, v in tasks.items() if isinstance(v, Mapping)}


def _processors_by_kind(stats: RunStats) -> dict[str, list[tuple[str, float]]]:
    by_kind: dict[str, list[tuple[str, float]]] = {}
    for uid, busy in stats.processor_busy.items():
        parsed = _PROCESSOR_UID.match(str(uid))
        kind = parsed.group(2) if parsed else str(uid).rstrip("0123456789").split(".")[-1]
        by_kind.setdefault(kind, []).append((str(uid), finite_or_zero(busy)))
    return by_kind


def _machine_has_gpus(stats: RunStats | None, plan: Mapping[str, Mapping[str, Any]]) -> bool:
    if any(entry.get("kind") == "GPU" for entry in plan.values()):
        return True
    if stats is None:
        return False
    return any(
        (m := _PROCESSOR_UID.match(str(uid))) is not None and m.group(2) == "GPU"
        for uid in stats.processor_busy
    ) or any("FBMEM" in str(uid) for uid in stats.memory_capacity)


_LINK_CLASSES: tuple[tuple[str, str], ...] = (
    (".peer", "between GPUs (peer links)"),
    (".up", "GPU to host (PCIe)"),
    (".down", "host to GPU (PCIe)"),
    (".tx", "over the network"),
    (".xsocket", "between sockets"),
)


def _link_totals(stats: RunStats) -> list[tuple[str, float]]:
    """Bytes per class of link that moves data between devices (memory channels excluded)."""
    totals: dict[str, float] = {}
    for link, moved in stats.link_bytes.items():
        for suffix, label in _LINK_CLASSES:
            if str(link).endswith(suffix):
                totals[label] = totals.get(label, 0.0) + finite_or_zero(moved)
                break
    return [(label, totals[label]) for _, label in _LINK_CLASSES if label in totals]


class _Performance:
    """The facts and findings of a successful run (one object per call, no state kept)."""

    def __init__(self, result: RunResult, facts: Mapping[str, _TaskFacts],
                 table: RuleTable) -> None:
        self.result = result
        self.texts = table.findings
        settings = table.performance
        self.stats = result.stats
        self.plan = _plan_tasks(result.plan_summary)
        self.app = facts
        self.settings = settings
        times = dict(self.stats.task_time) if self.stats is not None else {}
        self.task_time = {str(k): finite_or_zero(v) for k, v in times.items()}
        self.total_time = sum(self.task_time.values())

    def share(self, task: str) -> float | None:
        if self.total_time <= 0 or task not in self.task_time:
            return None
        return self.task_time[task] / self.total_time

    def by_time(self, tasks: Iterable[str]) -> list[str]:
        """Tasks ordered by decreasing time, then by name."""
        return sorted(tasks, key=lambda t: (-self.task_time.get(t, 0.0), t))

    def labelled(self, task: str) -> str:
        share = self.share(task)
        return task if share is None else f"{task} ({_fmt_percent(share)} of task time)"

    # -- facts ----------------------------------------------------------------------------------

    def facts(self) -> list[str]:
        lines: list[str] = []
        if self.stats is None:
            return ["No statistics were reported for this run."]
        if self.total_time > 0:
            top = self.by_time(t for t, v in self.task_time.items() if v > 0)
            listed = top[: self.settings.top_tasks]
            shown = [
                f"{t} {_fmt_percent(self.task_time[t] / self.total_time)}"
                f" ({_fmt_seconds(self.task_time[t])})"
                for t in listed
            ]
            others = len(top) - len(listed)
            if others > 0:
                rest = 1 - sum(self.task_time[t] for t in listed) / self.total_time
                shown.append(f"{others} other task(s) {_fmt_percent(rest)}")
            lines.append("Time by task (share of all task time): " + ", ".join(shown) + ".")
        elapsed = self.result.elapsed
        for kind, procs in sorted(_processors_by_kind(self.stats).items()):
            if kind not in _APPLICATION_KINDS or not any(b > 0 for _, b in procs):
                continue
            used = sum(1 for _, b in procs if b > 0)
            if elapsed and elapsed > 0 and len(procs) == 1:
                lines.append(
                    f"{kind} processors: {used} of 1 ran tasks; busy "
                    f"{_fmt_percent(procs[0][1] / elapsed)} of the elapsed time."
                )
            elif elapsed and elapsed > 0:
                fractions = [b / elapsed for _, b in procs]
                low, high = min(fractions), max(fractions)
                mean = sum(fractions) / len(fractions)
                lines.append(
                    f"{kind} processors: {used} of {len(procs)} ran tasks; busy "
                    f"{_fmt_percent(low)} to {_fmt_percent(high)} of the elapsed time "
                    f"(mean {_fmt_percent(mean)})."
                )
            else:
                lines.append(f"{kind} processors: {used} of {len(procs)} ran tasks.")
        links = _link_totals(self.stats)
        if links:
            lines.append(
                "Data moved: " + ", ".join(f"{_fmt_bytes(b)} {label}" for label, b in links) + "."
            )
        extra = sorted(
            (str(k), v) for k, v in self.stats.extra.items()
            if isinstance(v, int | float | str) and not isinstance(v, bool)
        )
        if extra:
            shown = [
                f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in extra[:8]
            ]
            lines.append("Other statistics: " + ", ".join(shown) + ".")
        return lines

    # -- findings -------------------------------------------------------------------------------

    def findings(self) -> list[_Finding]:
        found: list[_Finding] = []
        for analysis in (
            self._cpu_tasks_with_gpu_variants,
            self._imbalance,
            self._memory_near_full,
            self._zero_copy,
        ):
            found.extend(analysis())
        found.extend(self._paper_defaults(found))
        found.extend(self._instance_limits())
        found.extend(self._data_movement())
        return found

    def _cpu_tasks_with_gpu_variants(self) -> list[_Finding]:
        if not self.app or not _machine_has_gpus(self.stats, self.plan):
            return []
        tasks = [
            name
            for name, entry in self.plan.items()
            if entry.get("kind") in _HOST_KINDS
            and "GPU" in self.app.get(name, _TaskFacts()).variants
        ]
        if not tasks:
            return []
        ordered = self.by_time(tasks)
        return [_Finding("cpu-task-has-gpu-variant", {
            "items": _join(self.labelled(t) for t in ordered),
            "tasks": _join(ordered),
            "task_list": ",".join(ordered),
        })]

    def _imbalance(self) -> list[_Finding]:
        if self.stats is None:
            return []
        found = []
        for kind, procs in sorted(_processors_by_kind(self.stats).items()):
            if kind not in _APPLICATION_KINDS or len(procs) < 2:
                continue
            busiest = max(b for _, b in procs)
            if busiest <= 0 or min(b for _, b in procs) >= self.settings.imbalance_ratio * busiest:
                continue
            ranked = sorted(procs, key=lambda p: (-p[1], p[0]))
            reference = self.result.elapsed if self.result.elapsed else busiest
            word = "of the elapsed time" if self.result.elapsed else "of the busiest"
            spread = _join(
                (f"{uid} {_fmt_percent(b / reference)}" for uid, b in ranked), limit=8
            ) + f" busy ({word})"
            narrow = []
            for name, entry in self.plan.items():
                if entry.get("kind") != kind:
                    continue
                procs_used = len(set(map(str, entry.get("processors", ()))))
                if procs_used >= len(procs):
                    continue
                index = self.app.get(name, _TaskFacts()).index_launched
                share = self.share(name) or 0.0
                if index or (index is None and share >= 0.1):
                    narrow.append((name, procs_used))
            for_tasks = ""
            if narrow:
                ordered = self.by_time(n for n, _ in narrow)
                used = dict(narrow)
                for_tasks = "; for example " + _join(
                    f"{n} runs on {used[n]} of {len(procs)}" for n in ordered
                )
            found.append(_Finding("processor-imbalance", {
                "kind": kind, "spread": spread, "count": str(len(procs)), "for_tasks": for_tasks,
            }))
        return found

    def _memory_near_full(self) -> list[_Finding]:
        if self.stats is None:
            return []
        full = []
        for uid, peak in self.stats.memory_peak.items():
            capacity = finite_or_zero(self.stats.memory_capacity.get(uid))
            if capacity > 0 and finite_or_zero(peak) >= self.settings.memory_near_full * capacity:
                full.append((str(uid), finite_or_zero(peak), capacity))
        if not full:
            return []
        full.sort(key=lambda m: (-m[1] / m[2], m[0]))
        return [_Finding("memory-near-full", {
            "items": _join(
                f"{uid} {_fmt_percent(p / c)} ({_fmt_bytes(p)} of {_fmt_bytes(c)})"
                for uid, p, c in full
            ),
            "memories": _join(uid for uid, _, _ in full),
        })]

    def _zero_copy(self) -> list[_Finding]:
        uses: dict[str, list[str]] = {}
        for name, entry in self.plan.items():
            if entry.get("kind") != "GPU":
                continue
            memories = entry.get("memories", {})
            arguments = sorted(
                (str(i) for i, kind in memories.items() if kind == "ZCMEM"),
                key=lambda i: (len(i), i),
            )
            if arguments:
                uses[name] = arguments
        if not uses:
            return []
        ordered = self.by_time(uses)
        items = []
        for name in ordered:
            noun = "argument" if len(uses[name]) == 1 else "arguments"
            label = self.labelled(name)
            items.append(f"{label}: {noun} {', '.join(uses[name])}")
        return [_Finding("zero-copy-on-gpu", {
            "items": _join(items), "task": ordered[0], "argument": uses[ordered[0]][0],
        })]

    def _instance_limits(self) -> list[_Finding]:
        limits = self.result.plan_summary.get("instance_limits", {}) if isinstance(
            self.result.plan_summary, Mapping) else {}
        active = sorted((str(t), int(n)) for t, n in limits.items() if int(n) > 0)
        if not active:
            return []
        return [_Finding("instance-limits", {
            "items": _join(f"{t} at most {n} in flight" for t, n in active),
            "tasks": _join(t for t, _ in active),
        })]

    def _data_movement(self) -> list[_Finding]:
        if self.stats is None:
            return []
        copies = {str(t): finite_or_zero(b) for t, b in self.stats.task_copy_bytes.items()}
        moving = sorted((t for t, b in copies.items() if b > 0), key=lambda t: (-copies[t], t))
        if not moving:
            return []
        top = moving[: self.settings.top_tasks]
        return [_Finding("data-movement", {
            "items": _join(f"{t} {_fmt_bytes(copies[t])}" for t in top),
            "tasks": _join(top),
        })]

    def _paper_defaults(self, found: Sequence[_Finding]) -> list[_Finding]:
        """The paper's two performance rules, when no specific finding already covers them.

        A throughput in GFLOPS: try other IndexTaskMap / SingleTaskMap functions. An execution
        time: move more tasks to GPUs; but when the application description and the plan show
        that no task can move (no finding of the task group), the mapping functions are next.
        """
        groups = {self.texts[f.id].group for f in found}
        unit = self.result.unit or ""
        values = {"unit": unit}
        index = [] if "index_task_map" in groups else [_Finding("paper-throughput", values)]
        if "FLOP" in unit.upper():
            return index
        if "task" in groups:
            return []
        if self.app and self.plan:
            return index
        return [_Finding("paper-execution-time", values)]


# ---------------------------------------------------------------------------------------------
# The analysis of a whole result, and its rendering
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Analysis:
    """Everything AutoGuide says about one result, before it is rendered at a level."""

    raw: str
    #: Lines of the explanation (explain level), in order: for a failure its location (and
    #: the log line a rule matched), for a successful run the statistics and every finding.
    facts: tuple[str, ...]
    #: The main advice: one entry for a failure; for a successful run the findings, best
    #: first, cut to the table's ``max_suggestions``.
    advice: tuple[Advice, ...]
    #: Other errors and the warnings of the run, each with its advice.
    notes: tuple[tuple[Diagnostic, Advice], ...] = ()
    ok: bool = False

    @property
    def groups(self) -> tuple[str, ...]:
        """Decision groups to change, most important first, without repetition."""
        return tuple(dict.fromkeys(g for a in self.advice for g in a.groups))

    def render(self, level: str = "suggest") -> str:
        if level not in FEEDBACK_LEVELS:
            raise ValueError(f"unknown feedback level {level!r}; use one of {FEEDBACK_LEVELS}")
        lines = [self.raw]
        if level == "raw":
            return self.raw
        lines.extend(self._explain_lines())
        if level == "suggest":
            lines.extend(self._suggest_lines())
        return "\n".join(lines)

    def _explain_lines(self) -> list[str]:
        lines: list[str] = []
        if self.ok:
            lines.append("Explanation:")
            lines.extend(f"- {text}" for text in self.facts)
        else:
            main = self.advice[0]
            lines.append(f"Explanation: {main.explanation}")
            lines.extend(self.facts)
        errors = [(d, a) for d, a in self.notes if d.is_error]
        warnings = [(d, a) for d, a in self.notes if not d.is_error]
        for title, notes in (("Other errors:", errors), ("Warnings:", warnings)):
            if notes:
                lines.append(title)
                lines.extend(
                    f"- {_position(d)}{d.message.splitlines()[0] if d.message else d.code} "
                    f"[{d.code}]: {a.explanation}"
                    for d, a in notes[:_MAX_LISTED]
                )
                if len(notes) > _MAX_LISTED:
                    lines.append(f"- ... and {len(notes) - _MAX_LISTED} more")
        return lines

    def _suggest_lines(self) -> list[str]:
        lines: list[str] = []
        if self.ok:
            lines.append("Suggestions:")
            for number, advice in enumerate(self.advice, start=1):
                lines.append(f"{number}. {advice.suggestion}{_group_tag(advice.groups)}")
        else:
            main = self.advice[0]
            lines.append(f"Suggestion: {main.suggestion}")
            lines.append(f"Decision to change: {_group_text(main.groups)}")
            if main.hint:
                lines.append(f"Hint: {main.hint}")
        if self.notes:
            lines.append("Fixes for the other findings:")
            shown = [(d, a) for d, a in self.notes if d.is_error][:_MAX_LISTED] + [
                (d, a) for d, a in self.notes if not d.is_error][:_MAX_LISTED]
            for diagnostic, advice in shown:
                text = advice.suggestion + (f" Hint: {diagnostic.hint}" if diagnostic.hint else "")
                lines.append(f"- {_position(diagnostic)}{text}{_group_tag(advice.groups)}")
        return lines


def _position(diagnostic: Diagnostic) -> str:
    return f"line {diagnostic.line}: " if diagnostic.line > 0 else ""


def _group_tag(groups: Sequence[str]) -> str:
    return f" [change: {' or '.join(groups)}]" if groups else ""


def _group_text(groups: Sequence[str]) -> str:
    if not groups:
        return "the statement at the reported position (any group)"
    return " or ".join(f"{g} ({GROUP_DESCRIPTIONS[g]})" for g in groups)


def _location(diagnostic: Diagnostic | None) -> str | None:
    if diagnostic is None:
        return None
    parts = []
    if diagnostic.line > 0:
        parts.append(f"line {diagnostic.line}, column {diagnostic.column}")
    elif diagnostic.kind == "execute":
        parts.append("a decision of the default mapper")
    context = diagnostic.context or {}
    stack = context.get("stack")
    if isinstance(stack, list | tuple) and stack:
        frames = [str(f[0]) for f in stack if isinstance(f, list | tuple) and f]
        if frames:
            parts.append("in " + " -> ".join(frames))
    if context.get("task") is not None:
        parts.append(f"task {context['task']}")
    if context.get("point") is not None:
        parts.append(f"point {_format_point(context['point'])}")
    return "Location: " + "; ".join(parts) + "." if parts else None


def _notes(
    result: RunResult, table: RuleTable, app_info: Any
) -> tuple[tuple[Diagnostic, Advice], ...]:
    seen = {result.error} if result.error is not None else set()
    unique: list[Diagnostic] = []
    for diagnostic in result.warnings:
        if diagnostic not in seen:
            seen.add(diagnostic)
            unique.append(diagnostic)
    unique.sort(key=lambda d: (not d.is_error, d.line, d.column, d.code, d.message))
    return tuple(
        (d, advise(d, None, app_info=app_info, table=table)[0]) for d in unique
    )


def analyze(
    result: RunResult, *, app_info: Any = None, table: RuleTable | None = None
) -> Analysis:
    """Interpret ``result`` (failure rules or performance analysis) into an :class:`Analysis`.

    ``app_info``: the application description (``AppModel.describe()`` or an ``AppInfo``);
    it lets the feedback name task variants and layout demands.
    """
    table = table or load_rules()
    raw = result.raw_output()
    notes = _notes(result, table, app_info)
    if not result.ok:
        advice, log_line = advise(result.error, result, app_info=app_info, table=table)
        facts = []
        location = _location(result.error)
        if location:
            facts.append(location)
        if log_line and log_line not in raw:
            facts.append(f"Log: {log_line}")
        return Analysis(raw=raw, facts=tuple(facts), advice=(advice,), notes=notes)
    performance = _Performance(result, _app_facts(app_info), table)
    advice = tuple(_finding_advice(f, table) for f in performance.findings())
    explained = tuple(a.explanation for a in advice if a.explanation)
    return Analysis(
        raw=raw,
        facts=tuple(performance.facts()) + explained,
        advice=advice[: table.performance.max_suggestions],
        notes=notes,
        ok=True,
    )


def _finding_advice(finding: _Finding, table: RuleTable) -> Advice:
    text = table.findings[finding.id]
    return Advice(
        rule_id=finding.id,
        groups=(text.group,),
        explanation=_render(text.explanation, finding.values) if text.explanation else "",
        suggestion=_render(text.suggestion, finding.values),
    )


def feedback(result: RunResult, level: str = "suggest", *, app_info: Any = None) -> str:
    """AutoGuide feedback text for ``result`` at ``level`` (one of :data:`FEEDBACK_LEVELS`).

    ``raw`` is exactly :meth:`RunResult.raw_output`; ``explain`` adds what the output means;
    ``suggest`` adds what to change. Each level's text begins with the previous level's text.
    """
    if level not in FEEDBACK_LEVELS:
        raise ValueError(f"unknown feedback level {level!r}; use one of {FEEDBACK_LEVELS}")
    if level == "raw":
        return result.raw_output()
    return analyze(result, app_info=app_info).render(level)


def feedback_function(level: str = "suggest", *, app_info: Any = None) -> FeedbackHook:
    """A feedback function for hosts that take one, such as ``mapper_gym.envs``.

    The returned callable takes ``(result, context=None)``. Without a fixed ``app_info`` it
    reads the application description from ``context.problem`` (the environment's
    ``FeedbackContext``), so the text can name task variants and layout demands.
    """
    if level not in FEEDBACK_LEVELS:
        raise ValueError(f"unknown feedback level {level!r}; use one of {FEEDBACK_LEVELS}")
    return FeedbackHook(level=level, app_info=app_info)


@dataclass(frozen=True)
class FeedbackHook:
    """``feedback`` with its level (and optionally the application) fixed; picklable."""

    level: str
    app_info: Any = None

    def __call__(self, result: RunResult, context: Any = None) -> str:
        app_info = self.app_info
        if app_info is None and context is not None:
            app_info = _problem_description(getattr(context, "problem", None))
        return feedback(result, self.level, app_info=app_info)


_DESCRIPTIONS: dict[Any, Any] = {}
_MAX_DESCRIPTIONS = 32


def _problem_description(problem: Any) -> Any:
    """``problem.model.describe()``, remembered per problem (describing walks the task graph)."""
    model = getattr(problem, "model", None)
    if model is None or not hasattr(model, "describe"):
        return None
    try:
        key = problem.key
        hash(key)
    except Exception:  # a host's own problem type without a usable key: describe every time
        return model.describe()
    found = _DESCRIPTIONS.get(key)
    if found is None:
        found = model.describe()
        if len(_DESCRIPTIONS) >= _MAX_DESCRIPTIONS:
            _DESCRIPTIONS.pop(next(iter(_DESCRIPTIONS)))
        _DESCRIPTIONS[key] = found
    return found
