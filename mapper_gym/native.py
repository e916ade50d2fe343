"""Which implementation of the hot modules runs: compiled by mypyc, or Python.

``setup.py`` compiles :data:`COMPILED` with mypyc when the installing machine can (see its
docstring); the compiled extension then sits next to each source file and Python's importer
prefers it. Two situations must not run it:

* the source was edited after the build (an editable install, a checkout of another commit):
  the extension would silently run the old code. The build records each source's SHA-256 in
  ``native_manifest.json``; a mismatch, or a missing manifest, means "stale";
* ``MAPPER_GYM_PURE_PYTHON=1`` asks for the Python sources (profiling, debugging, and the
  test that compares both implementations).

Modules of one mypyc build call each other directly in C, so the choice is all or nothing:
when any compiled module is stale, a finder placed first on ``sys.meta_path`` loads every one of
them from source. :func:`activate` runs before any of them
is imported (``mapper_gym/__init__.py`` calls it first). Both implementations compute identical
results (``tests/test_native.py``).
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["COMPILED", "NativeStatus", "activate", "status"]

#: Modules ``setup.py`` compiles: the simulator's event loop, its flows and its logical pass.
#: (Compiling the resolver or the program tables gained nothing measurable.)
COMPILED: tuple[str, ...] = (
    "mapper_gym.sim.engine",
    "mapper_gym.sim.flows",
    "mapper_gym.sim.coherence",
    "mapper_gym.sim.memory",
    "mapper_gym.sim.templates",
)
PURE_ENV = "MAPPER_GYM_PURE_PYTHON"

_ROOT = Path(__file__).resolve().parent.parent  # the folder holding the mapper_gym package
_MANIFEST = _ROOT / "mapper_gym" / "native_manifest.json"
_log = logging.getLogger("mapper_gym")


@dataclass(frozen=True)
class NativeStatus:
    """What :func:`activate` decided."""

    #: True when the compiled extensions run.
    compiled: bool
    #: Why (shown by ``mapper-gym`` diagnostics and the README's performance notes).
    reason: str


class _SourceFinder(importlib.abc.MetaPathFinder):
    """Finds the compiled modules' Python sources ahead of the extensions."""

    def find_spec(self, fullname, path, target=None):
        if fullname not in COMPILED:
            return None
        return importlib.util.spec_from_file_location(fullname, _source(fullname))


def _source(module: str) -> Path:
    return _ROOT.joinpath(*module.split(".")).with_suffix(".py")


def _extension_paths() -> dict[str, Path]:
    """The compiled extension of each module in :data:`COMPILED`, where one exists."""
    found: dict[str, Path] = {}
    for name in COMPILED:
        base = _source(name).with_suffix("")
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            candidate = base.with_name(base.name + suffix)
            if candidate.is_file():
                found[name] = candidate
                break
    return found


def _stale_sources() -> list[str]:
    """Sources whose hash differs from the one recorded when the extensions were built."""
    try:
        recorded = json.loads(_MANIFEST.read_text())
    except (OSError, ValueError):
        return list(COMPILED)
    stale = []
    for name in COMPILED:
        source = _source(name)
        digest = hashlib.sha256(source.read_bytes()).hexdigest()
        if recorded.get(source.relative_to(_ROOT).as_posix()) != digest:
            stale.append(name)
    return stale


_STATUS: NativeStatus | None = None


def activate() -> NativeStatus:
    """Decide once per process which implementation runs (see the module docstring)."""
    global _STATUS
    if _STATUS is not None:
        return _STATUS
    extensions = _extension_paths()
    if not extensions:
        _STATUS = NativeStatus(False, "not compiled (pure Python install)")
        return _STATUS
    if os.environ.get(PURE_ENV):
        reason = f"{PURE_ENV} is set"
    elif len(extensions) < len(COMPILED):
        missing = sorted(set(COMPILED) - set(extensions))
        reason = f"incomplete build: no extension for {', '.join(missing)}"
    elif stale := _stale_sources():
        reason = (f"the extensions are older than the sources of {', '.join(stale)}; "
                  "reinstall (pip install -e .) to recompile")
        _log.warning("mapper-gym: running the simulator from Python sources: %s", reason)
    else:
        _STATUS = NativeStatus(True, "compiled with mypyc")
        return _STATUS
    sys.meta_path.insert(0, _SourceFinder())
    _STATUS = NativeStatus(False, reason)
    return _STATUS


def status() -> NativeStatus:
    """The decision :func:`activate` made for this process."""
    return activate()
