"""Loading machine models: ``load_machine`` and ``list_presets``.

``load_machine("lassen", nodes=16)`` reads the preset file (package data under ``presets/``),
merges it over the shared base layer, checks that every value carries an evidence label and a
source note, types it, applies the overrides and returns a
:class:`~mapper_gym.machine.machine.Machine`. A path to a ``.toml`` file works in place of a
preset name; such a file may start from a preset with ``extends = "p100-node"`` and replace
only the records it recalibrates.

Node counts: ``nodes`` counts physical nodes (hosts). Each preset states its range in
``[machine.nodes]``: ``lassen`` 1..64, ``p100-node`` and ``local-cpu`` exactly 1 (they describe
one machine and no network; a file that extends them with a ``[network]`` block and a wider
range may run more). ``ranks_per_node`` splits every host into several address spaces.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from mapper_gym.machine._files import BASE_FILE, flatten, list_presets, load_layers, read_toml
from mapper_gym.machine._schema import read_machine_file
from mapper_gym.machine.flags import unknown_name_error
from mapper_gym.machine.machine import OVERRIDES, Machine

__all__ = ["DEFAULT_PRESET", "list_presets", "load_machine", "realm_defaults"]

#: The paper's node.
DEFAULT_PRESET = "p100-node"


def load_machine(
    name_or_path: str | Path = DEFAULT_PRESET, *, nodes: int | None = None, **overrides: object
) -> Machine:
    """Load a machine preset (or machine file) and apply overrides.

    Args:
        name_or_path: a preset name from :func:`list_presets` or a path to a ``.toml`` file.
        nodes: number of physical nodes; ``None`` takes the file's default.
        **overrides: ``ranks_per_node`` and Legion settings named like their ``-ll:`` flags:
            ``cpu``, ``gpu``, ``omp`` (``-ll:ocpu``), ``omp_threads`` (``-ll:othr``),
            ``onuma``, ``util``, ``io``, ``py``, ``bgwork``, and sizes in MiB (or strings such
            as ``"15G"``) ``csize``, ``fsize``, ``zsize``, ``rsize``, ``nsize``, ``ncsize``,
            ``ib_zsize``, ``ib_fsize``.

    Raises:
        MachineError: unknown preset or file, malformed or unlabelled file, unknown override
            name, value out of range (node count, GPUs, memory that does not fit).
    """
    for name in overrides:
        if name not in OVERRIDES:
            raise unknown_name_error(name, OVERRIDES, "machine override")
    tree, path = load_layers(name_or_path)
    plain, sources = flatten(tree)
    spec = read_machine_file(plain, sources, path)
    machine = Machine(
        name=spec.name,
        description=spec.description,
        hardware=spec.hardware,
        legion=spec.legion,
        hosts=spec.hardware.node_range.default,
        ranks_per_node=spec.ranks_per_node,
        sources=sources,
    )
    if nodes is not None:
        overrides = {"nodes": nodes, **overrides}
    return machine.with_overrides(**overrides) if overrides else machine


@cache
def _realm_defaults() -> tuple[tuple[str, object], ...]:
    table = read_toml(BASE_FILE)["legion"]
    return tuple(sorted((name, record["value"]) for name, record in table.items()))


def realm_defaults() -> dict[str, object]:
    """Realm's default value of every ``-ll:`` setting (the base layer's ``[legion]`` block).

    A Legion command line only names the flags it changes; everything else takes these values.
    """
    return dict(_realm_defaults())
