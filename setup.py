"""Build hook: compile the simulator's event loop with mypyc where this machine can.

Everything else about the package lives in ``pyproject.toml``. The simulator's timing engine
and its logical pass run up to a few hundred thousand small Python operations per evaluation;
compiled by mypyc (plain, type-annotated Python turned into a C extension) they run about
1.5-2x faster, which is what keeps an ``env.step`` within the targets of the performance
benchmarks. The compiled modules compute exactly what the Python sources compute
(``tests/test_native.py`` compares them), so compilation is an optimisation, never a
requirement:

* without mypyc or a C compiler the extensions are skipped (``optional``) and the package
  installs as pure Python;
* ``MAPPER_GYM_PURE_PYTHON=1`` at install time skips compilation on purpose;
* at import time :mod:`mapper_gym.native` checks that a compiled module was built from the
  source file next to it and falls back to that source when it was edited since.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

from setuptools import setup

ROOT = Path(__file__).resolve().parent
#: The modules compiled (mapper_gym.native.COMPILED names them; keep the two in step).
COMPILED = (
    "mapper_gym/sim/engine.py",
    "mapper_gym/sim/flows.py",
    "mapper_gym/sim/coherence.py",
    "mapper_gym/sim/memory.py",
    "mapper_gym/sim/templates.py",
)
#: Source hashes of the compiled modules, read by mapper_gym.native at import time.
MANIFEST = ROOT / "mapper_gym" / "native_manifest.json"


def _write_manifest() -> None:
    hashes = {path: hashlib.sha256((ROOT / path).read_bytes()).hexdigest() for path in COMPILED}
    MANIFEST.write_text(json.dumps(hashes, indent=2, sort_keys=True) + "\n")


def _extensions() -> list:
    if os.environ.get("MAPPER_GYM_PURE_PYTHON"):
        print("mapper-gym: MAPPER_GYM_PURE_PYTHON is set; installing pure Python")
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:
        print("mapper-gym: mypyc is not available; installing pure Python")
        return []
    try:
        extensions = mypycify(
            [*COMPILED, "--ignore-missing-imports", "--follow-imports=silent"],
            opt_level="3",
            group_name="mapper_gym_simcore",
        )
    except (Exception, SystemExit) as error:  # a type error must not make the package uninstallable
        print(f"mapper-gym: mypyc could not compile the simulator ({error}); installing pure "
              "Python", file=sys.stderr)
        return []
    for extension in extensions:
        extension.optional = True  # no C compiler: skip it, keep the Python module
    _write_manifest()
    return extensions


setup(ext_modules=_extensions())
