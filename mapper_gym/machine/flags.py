"""Legion settings: validated overrides and parsing of ``-ll:`` command lines.

Applications run with their own Legion flags (apps.md quotes them); those flags decide which
processors and memories exist and how large the memories are. This module turns either keyword
overrides (``cpu=4, fsize="15G"``) or a flag string (``"-ll:gpu 4 -ll:fsize 15G"``) into a new
:class:`~mapper_gym.machine.model.LegionSettings`, rejecting unknown names and bad values with
:class:`~mapper_gym.machine.errors.MachineError`.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import shlex
from collections.abc import Iterable, Mapping, Sequence

from mapper_gym.machine.errors import MachineError
from mapper_gym.machine.model import LegionSettings

#: Settings that count processors or threads (integers >= 0).
COUNT_SETTINGS: tuple[str, ...] = (
    "cpu", "gpu", "omp", "omp_threads", "util", "io", "py", "bgwork",
)
#: Settings that size memories, in MiB (integers, or strings with a K/M/G/T suffix).
SIZE_SETTINGS: tuple[str, ...] = (
    "csize", "fsize", "zsize", "rsize", "nsize", "ncsize", "ib_zsize", "ib_fsize",
)
BOOL_SETTINGS: tuple[str, ...] = ("onuma",)
LEGION_SETTINGS: tuple[str, ...] = COUNT_SETTINGS + BOOL_SETTINGS + SIZE_SETTINGS

#: ``-ll:`` flags that map to a setting.
FLAG_TO_SETTING: Mapping[str, str] = {
    "-ll:cpu": "cpu",
    "-ll:gpu": "gpu",
    "-ll:ocpu": "omp",
    "-ll:othr": "omp_threads",
    "-ll:onuma": "onuma",
    "-ll:util": "util",
    "-ll:io": "io",
    "-ll:py": "py",
    "-ll:bgwork": "bgwork",
    "-ll:csize": "csize",
    "-ll:fsize": "fsize",
    "-ll:zsize": "zsize",
    "-ll:rsize": "rsize",
    "-ll:nsize": "nsize",
    "-ll:ncsize": "ncsize",
    "-ll:ib_zsize": "ib_zsize",
    "-ll:ib_fsize": "ib_fsize",
}
#: ``-ll:`` flags for resources the model does not have; accepted only with value 0
#: (global, disk and managed memory, NUMA-pinned CPU processors; machine.md §1.1–1.2).
ZERO_ONLY_FLAGS: frozenset[str] = frozenset({"-ll:gsize", "-ll:dsize", "-ll:msize", "-ll:ncpu"})
#: ``-ll:`` flags that take a value but do not change the model (thread pinning, allocation
#: policy, RDMA staging size).
IGNORED_FLAGS: frozenset[str] = frozenset({"-ll:bgnumapin", "-ll:defalloc", "-ll:ib_rsize"})

_SIZE_RE = re.compile(r"^\s*(\d+)\s*([kmgt]?)\s*(?:i?b)?\s*$", re.IGNORECASE)
_SUFFIX_MIB = {"": 1, "m": 1, "g": 1024, "t": 1024 * 1024}


def parse_size_mib(value: object, name: str) -> int:
    """A memory size in MiB from an int (MiB) or a string such as ``"15000"``, ``"15G"``.

    Realm reads sizes in MiB and accepts K/M/G/T suffixes (machine.md §1.2).
    """
    if isinstance(value, bool):
        raise MachineError(f"{name}: expected a size in MiB, got {value!r}", key=name)
    if isinstance(value, int):
        if value < 0:
            raise MachineError(f"{name}: size must be >= 0 MiB, got {value}", key=name)
        return value
    if isinstance(value, str):
        match = _SIZE_RE.match(value)
        if match:
            number, suffix = int(match.group(1)), match.group(2).lower()
            if suffix == "k":
                if number % 1024:
                    raise MachineError(
                        f"{name}: {value!r} is not a whole number of MiB", key=name
                    )
                return number // 1024
            return number * _SUFFIX_MIB[suffix]
    raise MachineError(
        f"{name}: expected a size in MiB (e.g. 15000 or '15G'), got {value!r}", key=name
    )


def _count(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, str) and value.strip().isdigit():
            return int(value)
        raise MachineError(f"{name}: expected a non-negative integer, got {value!r}", key=name)
    if value < 0:
        raise MachineError(f"{name}: must be >= 0, got {value}", key=name)
    return value


def _flag_bool(value: object, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if value in (0, 1, "0", "1"):
        return bool(int(value))  # type: ignore[arg-type]
    raise MachineError(f"{name}: expected 0/1 or a boolean, got {value!r}", key=name)


def unknown_name_error(name: str, valid: Iterable[str], what: str) -> MachineError:
    """A MachineError for an unknown name, with the closest valid names as a hint."""
    valid = sorted(valid)
    close = difflib.get_close_matches(name, valid, n=3)
    hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
    return MachineError(
        f"unknown {what} {name!r}.{hint} Valid: {', '.join(valid)}", key=name
    )


def apply_legion_settings(settings: LegionSettings, flags: Mapping[str, object]) -> LegionSettings:
    """Return ``settings`` with ``flags`` (setting name -> value) applied and type-checked.

    Cross-checks against the hardware (enough GPUs, sizes that fit) happen when the machine is
    built, because they depend on the host and on ``ranks_per_node``.
    """
    changes: dict[str, object] = {}
    for name, value in flags.items():
        if name in COUNT_SETTINGS:
            changes[name] = _count(value, name)
        elif name in BOOL_SETTINGS:
            changes[name] = _flag_bool(value, name)
        elif name in SIZE_SETTINGS:
            changes[name] = None if name == "ncsize" and value is None else parse_size_mib(
                value, name
            )
        else:
            raise unknown_name_error(name, LEGION_SETTINGS, "Legion setting")
    return dataclasses.replace(settings, **changes)  # type: ignore[arg-type]


def parse_legion_flags(args: str | Sequence[str]) -> dict[str, object]:
    """Settings from a Legion command line such as ``"-ll:gpu 4 -ll:fsize 15G -dm:memoize"``.

    Only ``-ll:`` flags are read; every other flag (``-dm:``, ``-tm:``, ``-lg:``, ``-hl:``,
    application flags) is skipped together with its value(s). Unknown ``-ll:`` flags, and
    non-zero sizes for memories the model does not have, raise :class:`MachineError`.
    """
    tokens = shlex.split(args) if isinstance(args, str) else list(args)
    settings: dict[str, object] = {}
    i = 0
    while i < len(tokens):
        token = tokens[i]
        i += 1
        if not token.startswith("-ll:"):
            # a foreign flag: skip it and the values that follow it
            while i < len(tokens) and not tokens[i].startswith("-"):
                i += 1
            continue
        if i >= len(tokens) or tokens[i].startswith("-"):
            raise MachineError(f"Legion flag {token} needs a value", key=token)
        value = tokens[i]
        i += 1
        if token in FLAG_TO_SETTING:
            settings[FLAG_TO_SETTING[token]] = value
        elif token in ZERO_ONLY_FLAGS:
            if parse_size_mib(value, token) != 0:
                raise MachineError(
                    f"{token} {value}: this resource is not part of the machine model "
                    "(only 0 is accepted)",
                    key=token,
                )
        elif token not in IGNORED_FLAGS:
            known = [*FLAG_TO_SETTING, *ZERO_ONLY_FLAGS, *IGNORED_FLAGS]
            raise unknown_name_error(token, known, "Legion flag")
    return settings
