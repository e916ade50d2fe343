"""Reading machine files: presets, ``extends`` chains, evidence labels.

A machine file is TOML. Its values are grouped in **records**: tables that carry a ``label``
(one of V, R, S, P, D, A; machine.md) and a ``note`` (the source, in a few words) for all of
their other keys::

    [gpu.hbm]
    gib = 16.0
    peak_gbs = 732.0
    label = "V"
    note = "Tesla P100 datasheet: 16 GB HBM2 at 732 GB/s"

    [legion]
    fsize = { value = 15000, label = "S", note = "-ll:fsize 15000 (MiB) in the Regent scripts" }

A record whose only value key is ``value`` stands for that value. Records are flat (no tables
inside). Every value of a machine file must sit directly in a record; the only exceptions are
the structural keys ``extends``, ``machine.name`` and ``machine.description``. The loader
refuses files that break this rule, so a preset cannot hide an unsourced number.

Layering: ``presets/_base.toml`` (Realm's defaults and the shared starting values) is merged
first, then the chain of ``extends = "<preset or path>"`` parents, then the file itself. A
table that carries a ``label`` is replaced whole by a later layer, so a value never keeps the
label of a record it did not come from.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mapper_gym.machine.errors import MachineError
from mapper_gym.machine.model import PRESET_LABELS, Source

PRESETS_DIR = Path(__file__).with_name("presets")
BASE_FILE = PRESETS_DIR / "_base.toml"
#: Keys whose values need no label (dotted paths from the file's top level).
STRUCTURAL_KEYS: frozenset[str] = frozenset({"extends", "machine.name", "machine.description"})
RECORD_META: frozenset[str] = frozenset({"label", "note"})


def list_presets() -> tuple[str, ...]:
    """Names of the machine presets shipped with the package, sorted."""
    return tuple(
        sorted(p.stem for p in PRESETS_DIR.glob("*.toml") if not p.stem.startswith("_"))
    )


def resolve(name_or_path: str | Path, relative_to: Path | None = None) -> Path:
    """The file of a preset name or of a path to a machine file."""
    text = str(name_or_path)
    looks_like_path = (
        isinstance(name_or_path, Path) or text.endswith(".toml") or "/" in text or "\\" in text
    )
    if looks_like_path:
        path = Path(text)
        if not path.is_absolute() and relative_to is not None:
            path = relative_to / path
        if not path.is_file():
            raise MachineError(f"machine file not found: {path}", key=text)
        return path
    path = PRESETS_DIR / f"{text}.toml"
    if text.startswith("_") or not path.is_file():
        presets = ", ".join(list_presets())
        raise MachineError(
            f"unknown machine preset {text!r}; presets: {presets} (or give a path to a .toml "
            "machine file)",
            key=text,
        )
    return path


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise MachineError(f"{path}: invalid TOML: {exc}", key=str(path)) from None
    except OSError as exc:
        raise MachineError(f"{path}: cannot read: {exc}", key=str(path)) from None


def is_record(table: Mapping[str, Any]) -> bool:
    return "label" in table


def unlabelled_values(tree: Mapping[str, Any], prefix: str = "") -> list[str]:
    """Dotted paths of values not covered by a record (the rule of this module's docstring)."""
    problems: list[str] = []
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if path in STRUCTURAL_KEYS:
            continue
        if isinstance(value, dict):
            if is_record(value):
                problems.extend(_record_problems(value, path))
            else:
                problems.extend(unlabelled_values(value, path + "."))
        else:
            problems.append(path)
    return problems


def _record_problems(record: Mapping[str, Any], path: str) -> list[str]:
    problems = []
    if record.get("label") not in PRESET_LABELS:
        problems.append(f"{path}.label (must be one of {', '.join(sorted(PRESET_LABELS))})")
    if not isinstance(record.get("note"), str) or not record["note"].strip():
        problems.append(f"{path}.note (a non-empty source note is required)")
    for key, value in record.items():
        if isinstance(value, dict):
            problems.append(f"{path}.{key} (records are flat: no tables inside a record)")
    if not set(record) - RECORD_META:
        problems.append(f"{path} (a record needs at least one value)")
    return problems


def merge(base: dict[str, Any], layer: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge ``layer`` over ``base``; records and plain values replace whole."""
    out = dict(base)
    for key, value in layer.items():
        old = out.get(key)
        if (
            isinstance(value, dict)
            and isinstance(old, dict)
            and not is_record(value)
            and not is_record(old)
        ):
            out[key] = merge(old, value)
        else:
            out[key] = value
    return out


def load_layers(name_or_path: str | Path) -> tuple[dict[str, Any], Path]:
    """The merged raw tree of a machine file (base, parents, file) and the file's path."""
    path = resolve(name_or_path)
    chain: list[tuple[Path, dict[str, Any]]] = []
    seen: set[Path] = set()
    current: Path | None = path
    while current is not None:
        real = current.resolve()
        if real in seen:
            names = " -> ".join(str(p) for p, _ in chain)
            raise MachineError(f"cyclic 'extends' chain: {names} -> {current}", key="extends")
        seen.add(real)
        tree = read_toml(current)
        problems = unlabelled_values(tree)
        if problems:
            listed = "; ".join(problems[:8]) + (" ..." if len(problems) > 8 else "")
            raise MachineError(
                f"{current}: every value needs a record with a label and a note: {listed}",
                key=problems[0],
            )
        chain.append((current, tree))
        parent = tree.get("extends")
        if parent is not None and not isinstance(parent, str):
            raise MachineError(f"{current}: 'extends' must be a string", key="extends")
        current = resolve(parent, relative_to=current.parent) if parent else None
    merged = read_toml(BASE_FILE)
    for _, tree in reversed(chain):
        merged = merge(merged, tree)
    merged.pop("extends", None)
    if "name" not in chain[0][1].get("machine", {}):
        # a file that extends a preset without naming itself must not pass for that preset
        merged.setdefault("machine", {})["name"] = path.stem
    return merged, path


def flatten(tree: Mapping[str, Any], prefix: str = "") -> tuple[dict[str, Any], dict[str, Source]]:
    """Strip records to plain values; return (plain tree, dotted path -> Source).

    A record ``{value = x, label, note}`` becomes ``x``; any other record becomes a table of its
    value keys, each sourced with the record's label and note.
    """
    plain: dict[str, Any] = {}
    sources: dict[str, Source] = {}
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and is_record(value):
            source = Source(value["label"], value["note"])
            fields = {k: v for k, v in value.items() if k not in RECORD_META}
            if set(fields) == {"value"}:
                plain[key] = fields["value"]
                sources[path] = source
            else:
                plain[key] = fields
                for field_key in fields:
                    sources[f"{path}.{field_key}"] = source
        elif isinstance(value, dict):
            sub_plain, sub_sources = flatten(value, path + ".")
            plain[key] = sub_plain
            sources.update(sub_sources)
        else:
            plain[key] = value
    return plain, sources
