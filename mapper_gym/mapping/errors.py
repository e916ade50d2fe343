"""Execution errors and warnings of mapping resolution (dsl.md §9.1, §9.5).

Resolution is where the original C++ mapper would have failed an assertion or refused a policy
at run time, so its failures are ``execute`` errors (``Execution Error: ...``) positioned at the
policy statement that made the failing decision, or at ``0, 0`` when the default mapper made it.
Its warnings (fallbacks to the default mapper, statements a configuration makes inert) are
``map``-phase warnings. Messages marked *ours* in §9.5 are fixed here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mapper_gym.dsl.errors import Diagnostic, DSLError

Origin = tuple[int, int]


def _execute(code: str, message: str, origin: Origin, context: dict[str, Any],
             hint: str | None = None) -> DSLError:
    return DSLError.make("execute", code, message, origin[0], origin[1], hint=hint,
                         context=context)


def virtual_leaf_error(task: str, index: int, origin: Origin) -> DSLError:
    """E-VIRTUAL (§6.3): a leaf task's region argument with privileges was mapped VIRTUAL."""
    return _execute(
        "E-VIRTUAL",
        f"VIRTUAL mapping of region argument {index} of leaf task {task}",
        origin,
        {"task": task, "region": index},
        hint="VIRTUAL is only for inner tasks; give this argument a memory kind",
    )


def single_node_error(task: str, launching_node: int, func: str, returned_node: int,
                      origin: Origin) -> DSLError:
    """E-NODE (§6.8): a SingleTaskMap result left the node the task was launched on."""
    return _execute(
        "E-NODE",
        f"SingleTaskMap must stay on the task's node: {task} runs on node {launching_node}, "
        f"but {func} returned node {returned_node}",
        origin,
        {"task": task, "node": launching_node, "returned_node": returned_node},
        hint="a single task can only move between processors of its node; index the machine "
        "with the node of t.parent.processor(m)",
    )


def point_set_nodes_error(task: str, point: Sequence[int], func: str, nodes: Sequence[int],
                          origin: Origin) -> DSLError:
    """E-NODE-SET (ours, §6.7): one point's point-set spans several nodes."""
    listed = ", ".join(str(n) for n in nodes)
    return _execute(
        "E-NODE-SET",
        f"IndexTaskMap must place each point on one node: {func} returned processors on nodes "
        f"{listed} for point {tuple(point)} of {task}",
        origin,
        {"task": task, "point": list(point), "nodes": list(nodes)},
        hint="fix the node coordinate and use * only for the processor index, "
        "e.g. m[node, *]",
    )


def replicate_error(task: str, origin: Origin) -> DSLError:
    """E-REPLICATE (§6.9): a control-replicated task has region arguments."""
    return _execute(
        "E-REPLICATE",
        f"Control-replicated task {task} must not have region arguments",
        origin,
        {"task": task},
        hint="replicate only the top-level task (or other tasks without region arguments)",
    )


def no_variant_error(task: str, variants: Sequence[str], available: Sequence[str],
                     origin: Origin) -> DSLError:
    """E-NO-VARIANT (ours): no processor of the machine can run any variant of the task."""
    have = ",".join(variants) or "none"
    kinds = ",".join(available) or "none"
    return _execute(
        "E-NO-VARIANT",
        f"No processor can run task {task}: it has variants for {have}, "
        f"but the machine's nodes have processors {kinds}",
        origin,
        {"task": task, "variants": list(variants), "processors": list(available)},
    )


def no_memory_error(task: str, index: int, processor: str) -> DSLError:
    """E-NO-MEMORY (ours): a processor addresses no memory at all (a broken machine file)."""
    return _execute(
        "E-NO-MEMORY",
        f"No memory is addressable from {processor} for region argument {index} of {task}",
        (0, 0),
        {"task": task, "region": index, "processor": processor},
    )


def bounds_error(kind: str, node: int, index: int, nodes: int, per_node: int) -> DSLError:
    """E-BOUNDS (§8.1) for a returned processor outside the machine (defensive)."""
    if not 0 <= node < nodes:
        message = f"Sharding node index out of bound!\n{node} >= {nodes}"
    else:
        message = f"Slice processor index out of bound!\n{index} >= {per_node}"
    return _execute("E-BOUNDS", message, (0, 0), {"processor": [kind, node, index]})


def warning(code: str, message: str, origin: Origin, hint: str | None = None,
            context: dict[str, Any] | None = None) -> Diagnostic:
    """A resolution warning (``map`` phase)."""
    return Diagnostic(kind="map", code=code, message=message, line=origin[0], column=origin[1],
                      severity="warning", hint=hint, context=context or {})
