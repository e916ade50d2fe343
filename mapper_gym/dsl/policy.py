"""Policy tables: what the policy statements of a program say, ready for the mapping resolver.

The policy statements (``Task``, ``Region``, ``Layout``, ``InstanceLimit``, ``CollectMemory``,
``IndexTaskMap``, ``SingleTaskMap``, ``ControlReplicate``) do not compute anything: they fill
tables keyed by task, region and kind (dsl.md §6). This module builds those tables once per
program, applying the *first statement wins* rule of §6.10, and implements the exact lookup
orders of §6.2–§6.8 so that the simulator backend and any other consumer answer "which memory /
layout / function applies here?" identically.

Every entry remembers the position of the statement that set it (:attr:`Policy.origins`):
execution errors are reported at the policy statement that made the failing decision (§9.1),
so the resolver needs provenance, not just values. The ``*_traced`` lookups return it.

Region references written as integers (``Region t 2 GPU ZCMEM;``) are stored under the ``int``
key; a candidate name that is a decimal string (``"2"``, the argument's position) matches it.
Semantic names can never be all digits (they are identifiers), so the two never collide.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TypeAlias

from mapper_gym.dsl import ast
from mapper_gym.dsl.errors import Diagnostic

RegionKey: TypeAlias = str | int
#: ``(line, column)`` of the statement that set an entry.
Origin: TypeAlias = tuple[int, int]



def _empty() -> Mapping:
    return MappingProxyType({})


# ---------------------------------------------------------------------------------------------
# Resolved layouts
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LayoutSpec:
    """A layout after applying the words of one ``Layout`` statement (dsl.md §6.4).

    ``align`` is ``()`` (no alignment constraint) or one ``(op, bytes)`` pair: a later ``Align``
    replaces an earlier one, exactly as a later ``AOS`` replaces ``SOA``, and ``No_Align``
    clears it (§10 #2).
    """

    aos: bool = False
    c_order: bool = False
    align: tuple[str, int] | tuple[()] = ()
    compact: bool = False
    exact: bool = False

    def words(self) -> tuple[str, ...]:
        """The canonical word list describing this layout (handy for cache keys and logs)."""
        out = ["AOS" if self.aos else "SOA", "C_order" if self.c_order else "F_order"]
        if self.align:
            op, value = self.align
            out.append(f"Align{op}{value}")
        if self.compact:
            out.append("Compact")
        if self.exact:
            out.append("Exact")
        return tuple(out)


#: The layout used when no ``Layout`` entry matches: SOA, F_order, no alignment.
DEFAULT_LAYOUT = LayoutSpec()


def resolve_layout(constraints: Iterable[ast.LayoutConstraint] | None) -> LayoutSpec:
    """Apply layout words left to right, starting from :data:`DEFAULT_LAYOUT`.

    A later word overrides an earlier conflicting one (``AOS``/``SOA``, ``C_order``/``F_order``,
    ``Align``/``No_Align``). ``Exact`` always requests an exact instance, with or without
    ``Compact`` (§10 #11). ``None`` (no entry matched) gives the default layout.
    """
    aos, c_order, compact, exact = False, False, False, False
    align: tuple[str, int] | tuple[()] = ()
    for constraint in constraints or ():
        word = constraint.word
        if word == "SOA":
            aos = False
        elif word == "AOS":
            aos = True
        elif word == "C_order":
            c_order = True
        elif word == "F_order":
            c_order = False
        elif word == "Compact":
            compact = True
        elif word == "Exact":
            exact = True
        elif word == "Align":
            if constraint.op is None or constraint.value is None:
                raise ValueError("Align constraint without operator or value")
            align = (constraint.op, constraint.value)
        elif word == "No_Align":
            align = ()
        else:
            raise ValueError(f"unknown layout word {word!r}")
    return LayoutSpec(aos=aos, c_order=c_order, align=align, compact=compact, exact=exact)


# ---------------------------------------------------------------------------------------------
# The tables
# ---------------------------------------------------------------------------------------------


def _region_key(candidate: str | int) -> RegionKey:
    """The table key a candidate name matches: decimal strings match integer region refs."""
    if isinstance(candidate, int):
        return candidate
    if candidate.isascii() and candidate.isdigit():
        return int(candidate)
    return candidate


def _candidate_keys(candidate_names: Sequence[str | int]) -> tuple[RegionKey, ...]:
    """Candidate names as table keys, in order, without repeats and without ``*``.

    A repeated name would only repeat the same entry, so dropping it changes no decision.
    ``*`` is not a name a region argument can have; it is matched by the wildcard levels.
    """
    seen: dict[RegionKey, None] = {}
    for name in candidate_names:
        if name == "*":
            continue
        seen.setdefault(_region_key(name), None)
    return tuple(seen)


@dataclass(frozen=True)
class Policy:
    """The tables of dsl.md §6 for one program (first statement wins for every key).

    Read-only mappings; lookups never consult file order, only the lookup orders of §6.
    ``instance_limits`` keeps ``0`` entries (``0`` means *no limit*, but the entry still holds
    its key against later statements). ``replicate`` is ``None`` when the program has no
    ``ControlReplicate`` statement (the default replication applies, §6.9).
    """

    task_kinds: Mapping[str, tuple[str, ...]] = field(default_factory=_empty)
    regions: Mapping[tuple[str, RegionKey], Mapping[str, tuple[str, ...]]] = field(
        default_factory=_empty
    )
    layouts: Mapping[tuple[str, RegionKey], Mapping[str, tuple[ast.LayoutConstraint, ...]]] = (
        field(default_factory=_empty)
    )
    instance_limits: Mapping[str, int] = field(default_factory=_empty)
    collect: frozenset[tuple[str, RegionKey]] = frozenset()
    index_maps: Mapping[str, str] = field(default_factory=_empty)
    single_maps: Mapping[str, str] = field(default_factory=_empty)
    replicate: frozenset[str] | None = None
    #: Position of the statement that set each entry. Keys: ``("Task", task)``,
    #: ``("Region", task, region, proc)``, ``("Layout", task, region, mem)``,
    #: ``("InstanceLimit", task)``, ``("CollectMemory", task, region)``,
    #: ``("IndexTaskMap", key)``, ``("SingleTaskMap", key)``, ``("ControlReplicate", task)``
    #: (for the two sets: the first statement that added the element).
    origins: Mapping[tuple, Origin] = field(default_factory=_empty)

    # -- §6.2 -----------------------------------------------------------------------------

    def task_priority(self, task: str) -> tuple[str, ...] | None:
        """Processor kinds to try for ``task``: its own entry, else ``Task *``, else None."""
        found = self.task_priority_traced(task)
        return None if found is None else found[0]

    def task_priority_traced(self, task: str) -> tuple[tuple[str, ...], Origin] | None:
        """:meth:`task_priority` with the position of the statement that provided the list."""
        for key in (task, "*"):
            kinds = self.task_kinds.get(key)
            if kinds is not None:
                return kinds, self.origins.get(("Task", key), (0, 0))
        return None

    # -- §6.3 -----------------------------------------------------------------------------

    def _levels(
        self, task: str, candidate_names: Sequence[str | int]
    ) -> list[tuple[str, RegionKey]]:
        """The (task, region) keys in lookup order: (T, c...), (T, *), (*, c...), (*, *)."""
        names = _candidate_keys(candidate_names)
        levels: list[tuple[str, RegionKey]] = []
        if task != "*":
            levels.extend((task, name) for name in names)
            levels.append((task, "*"))
        levels.extend(("*", name) for name in names)
        levels.append(("*", "*"))
        return levels

    def memory_candidates(
        self, task: str, candidate_names: Sequence[str | int], proc_kind: str
    ) -> tuple[str, ...]:
        """The concatenated memory list of §6.3 for one region argument on ``proc_kind``.

        ``candidate_names`` are the argument's semantic names followed by its 0-based position
        as a decimal string. From each matching ``(task, region)`` entry the list for
        ``proc_kind`` is taken, else its ``*`` list. The caller tries the result in order
        (``VIRTUAL`` stops the search; unusable kinds are skipped).
        """
        return tuple(mem for mem, _ in self.memory_candidates_traced(task, candidate_names,
                                                                     proc_kind))

    def memory_candidates_traced(
        self, task: str, candidate_names: Sequence[str | int], proc_kind: str
    ) -> tuple[tuple[str, Origin], ...]:
        """:meth:`memory_candidates`, each memory paired with its ``Region`` statement."""
        out: list[tuple[str, Origin]] = []
        for task_key, region_key in self._levels(task, candidate_names):
            entry = self.regions.get((task_key, region_key))
            if entry is None:
                continue
            for proc_key in (proc_kind, "*"):
                memories = entry.get(proc_key)
                if memories is not None:
                    origin = self.origins.get(("Region", task_key, region_key, proc_key), (0, 0))
                    out.extend((mem, origin) for mem in memories)
                    break
        return tuple(out)

    # -- §6.4 -----------------------------------------------------------------------------

    def layout_for(
        self, task: str, candidate_names: Sequence[str | int], mem_kind: str
    ) -> tuple[ast.LayoutConstraint, ...] | None:
        """Layout words of the first matching entry (same four levels as ``Region``), or None.

        Within an entry the list for ``mem_kind`` is tried before the one for ``*``. An entry
        with no words is a hit (it selects the default layout explicitly) and returns ``()``.
        """
        found = self.layout_traced(task, candidate_names, mem_kind)
        return None if found is None else found[0]

    def layout_traced(
        self, task: str, candidate_names: Sequence[str | int], mem_kind: str
    ) -> tuple[tuple[ast.LayoutConstraint, ...], Origin] | None:
        """:meth:`layout_for` with the position of the ``Layout`` statement that matched."""
        for task_key, region_key in self._levels(task, candidate_names):
            entry = self.layouts.get((task_key, region_key))
            if entry is None:
                continue
            for mem_key in (mem_kind, "*"):
                constraints = entry.get(mem_key)
                if constraints is not None:
                    origin = self.origins.get(("Layout", task_key, region_key, mem_key), (0, 0))
                    return constraints, origin
        return None

    def resolved_layout(
        self, task: str, candidate_names: Sequence[str | int], mem_kind: str
    ) -> LayoutSpec:
        """The layout an instance of this argument in ``mem_kind`` gets (default if no hit)."""
        return resolve_layout(self.layout_for(task, candidate_names, mem_kind))

    # -- §6.5, §6.6 -----------------------------------------------------------------------

    def instance_limit(self, task: str) -> int | None:
        """Backpressure limit for ``task``; None when unlimited (no statement, or ``0``)."""
        limit = self.instance_limits.get(task)
        return limit if limit else None

    def collects(self, task: str, candidate_names: Sequence[str | int]) -> bool:
        """True when a ``CollectMemory`` pair matches: (T, *), (*, *), (T, c) or (*, c)."""
        return any(key in self.collect for key in self._levels(task, candidate_names))

    # -- §6.7, §6.8 -----------------------------------------------------------------------

    @staticmethod
    def _map_function(table: Mapping[str, str], task: str, proc_kind: str) -> str | None:
        if task != "*" and task in table:
            return table[task]
        if proc_kind in ast.MAP_KIND_KEYS:
            return table.get(proc_kind)
        return None

    def index_map_function(self, task: str, proc_kind: str) -> str | None:
        """Entry function for an index launch of ``task`` on ``proc_kind`` (§6.7).

        The task's own entry, else the entry for the kind key (``CPU``/``GPU``/``OMP`` only),
        else None (default mapper). The ``*`` entry is inert and never returned (§10 #6).
        """
        return self._map_function(self.index_maps, task, proc_kind)

    def single_map_function(self, task: str, proc_kind: str) -> str | None:
        """Entry function for a single launch of ``task`` on ``proc_kind`` (§6.8)."""
        return self._map_function(self.single_maps, task, proc_kind)

    def map_origin(self, statement: str, task: str, proc_kind: str) -> Origin:
        """Position of the ``IndexTaskMap``/``SingleTaskMap`` entry the lookup above used."""
        table = self.index_maps if statement == "IndexTaskMap" else self.single_maps
        if task != "*" and task in table:
            return self.origins.get((statement, task), (0, 0))
        if proc_kind in ast.MAP_KIND_KEYS and proc_kind in table:
            return self.origins.get((statement, proc_kind), (0, 0))
        return (0, 0)

    # -- §6.9 -----------------------------------------------------------------------------

    def replicates(self, task: str) -> bool | None:
        """True/False when a ``ControlReplicate`` statement decides; None for the default."""
        if self.replicate is None:
            return None
        return task in self.replicate


# ---------------------------------------------------------------------------------------------
# Building the tables
# ---------------------------------------------------------------------------------------------


def _region_text(region: RegionKey) -> str:
    return str(region)


class _Builder:
    """Fills the tables statement by statement and records first-wins conflicts."""

    def __init__(self) -> None:
        self.task_kinds: dict[str, tuple[str, ...]] = {}
        self.regions: dict[tuple[str, RegionKey], dict[str, tuple[str, ...]]] = {}
        self.layouts: dict[tuple[str, RegionKey], dict[str, tuple[ast.LayoutConstraint, ...]]] = {}
        self.instance_limits: dict[str, int] = {}
        self.collect: dict[tuple[str, RegionKey], None] = {}
        self.index_maps: dict[str, str] = {}
        self.single_maps: dict[str, str] = {}
        self.replicate: dict[str, None] | None = None
        self.origins: dict[tuple, Origin] = {}
        self.findings: list[Diagnostic] = []

    def warn(self, stmt: ast.Node, code: str, message: str, hint: str | None = None) -> None:
        self.findings.append(
            Diagnostic(
                kind="check", code=code, message=message, line=stmt.line, column=stmt.column,
                severity="warning", hint=hint,
            )
        )

    def claim(self, origin_key: tuple, stmt: ast.Node, label: str) -> bool:
        """Record that ``stmt`` sets ``origin_key``; False (and W-DUP-KEY) if already set."""
        earlier = self.origins.get(origin_key)
        if earlier is not None:
            self.warn(
                stmt,
                "W-DUP-KEY",
                f"{label} is already set by the statement at line {earlier[0]}; "
                "this setting is ignored (the first statement wins)",
                hint="delete one of the two statements, or merge them into the first",
            )
            return False
        self.origins[origin_key] = (stmt.line, stmt.column)
        return True

    def add(self, stmt: ast.Statement) -> None:
        if isinstance(stmt, ast.TaskStmt):
            for task in stmt.tasks:
                if self.claim(("Task", task), stmt, f"Task {task}"):
                    self.task_kinds[task] = tuple(stmt.kinds)
        elif isinstance(stmt, ast.RegionStmt):
            label = f"Region {stmt.task} {_region_text(stmt.region)} {stmt.proc}"
            if self.claim(("Region", stmt.task, stmt.region, stmt.proc), stmt, label):
                entry = self.regions.setdefault((stmt.task, stmt.region), {})
                entry[stmt.proc] = tuple(stmt.memories)
        elif isinstance(stmt, ast.LayoutStmt):
            label = f"Layout {stmt.task} {_region_text(stmt.region)} {stmt.memory}"
            if self.claim(("Layout", stmt.task, stmt.region, stmt.memory), stmt, label):
                layouts = self.layouts.setdefault((stmt.task, stmt.region), {})
                layouts[stmt.memory] = tuple(stmt.constraints)
        elif isinstance(stmt, ast.InstanceLimitStmt):
            self.add_limit(stmt)
        elif isinstance(stmt, ast.CollectMemoryStmt):
            key = (stmt.task, stmt.region)
            if key not in self.collect:  # duplicates are harmless (§6.6): no warning
                self.collect[key] = None
                self.origins[("CollectMemory", *key)] = (stmt.line, stmt.column)
        elif isinstance(stmt, ast.IndexTaskMapStmt | ast.SingleTaskMapStmt):
            self.add_map(stmt)
        elif isinstance(stmt, ast.ControlReplicateStmt):
            if self.replicate is None:
                self.replicate = {}
            for task in stmt.tasks:
                if task not in self.replicate:
                    self.replicate[task] = None
                    self.origins[("ControlReplicate", task)] = (stmt.line, stmt.column)

    def add_limit(self, stmt: ast.InstanceLimitStmt) -> None:
        if stmt.legacy_kind is not None:
            self.warn(
                stmt,
                "W-LEGACY-LIMIT",
                f"InstanceLimit: the processor kind {stmt.legacy_kind} is ignored "
                "(legacy form)",
                hint=f"write InstanceLimit {stmt.task} {stmt.limit};",
            )
        if stmt.limit == 0:
            self.warn(
                stmt,
                "W-LIMIT-ZERO",
                f"InstanceLimit {stmt.task} 0 sets no limit (0 means unlimited)",
                hint="use a positive limit, or delete the statement",
            )
        if self.claim(("InstanceLimit", stmt.task), stmt, f"InstanceLimit {stmt.task}"):
            self.instance_limits[stmt.task] = stmt.limit

    def add_map(self, stmt: ast.IndexTaskMapStmt | ast.SingleTaskMapStmt) -> None:
        name = "IndexTaskMap" if isinstance(stmt, ast.IndexTaskMapStmt) else "SingleTaskMap"
        table = self.index_maps if name == "IndexTaskMap" else self.single_maps
        for key in stmt.keys:
            if key == "*":
                self.warn(
                    stmt,
                    "W-STAR-INERT",
                    f"{name} * has no effect: no task is looked up under *",
                    hint=f"use a processor-kind key to cover every task of a kind, "
                    f"e.g. {name} GPU {stmt.func};",
                )
            if self.claim((name, key), stmt, f"{name} {key}"):
                table[key] = stmt.func

    def policy(self) -> Policy:
        return Policy(
            task_kinds=MappingProxyType(dict(self.task_kinds)),
            regions=MappingProxyType(
                {key: MappingProxyType(dict(v)) for key, v in self.regions.items()}
            ),
            layouts=MappingProxyType(
                {key: MappingProxyType(dict(v)) for key, v in self.layouts.items()}
            ),
            instance_limits=MappingProxyType(dict(self.instance_limits)),
            collect=frozenset(self.collect),
            index_maps=MappingProxyType(dict(self.index_maps)),
            single_maps=MappingProxyType(dict(self.single_maps)),
            replicate=None if self.replicate is None else frozenset(self.replicate),
            origins=MappingProxyType(dict(self.origins)),
        )


def build_policy(program: ast.Program) -> tuple[Policy, list[Diagnostic]]:
    """The policy tables of ``program`` and the warnings found while filling them.

    Warnings (kind ``check``, in statement order): ``W-DUP-KEY`` (a key already set; the
    message names the line of the statement that set it), ``W-LEGACY-LIMIT``,
    ``W-LIMIT-ZERO`` and ``W-STAR-INERT``. Non-policy statements are skipped; nothing here
    needs the machine or the application.
    """
    builder = _Builder()
    for stmt in program.statements:
        builder.add(stmt)
    return builder.policy(), builder.findings
