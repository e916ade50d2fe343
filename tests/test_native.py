"""The mypyc-compiled build of the simulator's hot modules (setup.py, mapper_gym/native.py).

Compilation is only an optimisation: the compiled modules must compute exactly what their
Python sources compute, and a stale or unwanted build must never run.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import mapper_gym
from mapper_gym import native

#: Evaluations compared between the two implementations: successes on one and several nodes,
#: shared links, reductions, index mappings, and failures (layout, out of memory).
CASES: tuple[tuple[str, str, str, int | None, str | None], ...] = (
    ("Circuit", "expert", "p100-node", None, None),
    ("Circuit", "default", "lassen", 4, None),
    ("Stencil", "expert", "lassen", 2, None),
    ("Pennant", "expert", "p100-node", None, None),
    ("Pennant", "default", "p100-node", None, None),
    ("Cannon", "expert", "p100-node", None, None),
    ("Cannon", "default", "p100-node", None, None),  # the DGEMM layout failure
    ("Johnson", "expert", "lassen", 2, None),
    ("COSMA", "expert", "lassen", 32, None),  # out of memory at Preset B
)

#: Runs CASES in a fresh interpreter and prints every result's observable parts as JSON.
_PROBE = """
import json, sys
from mapper_gym import native
from mapper_gym.backends import build_problem
from mapper_gym.backends.sim import SimBackend
from benchmarks import get_app
import mapper_gym.sim.engine as engine
cases = json.loads(sys.argv[1])
out = {"compiled": native.status().compiled, "engine": engine.__file__, "results": []}
for app, which, machine, nodes, problem in cases:
    backend = SimBackend(build_problem(app, machine, nodes=nodes, problem=problem))
    r = backend.run(getattr(get_app(app), which + "_mapper")())
    out["results"].append(repr((r.status, r.throughput, r.elapsed, r.stdout, r.stderr,
                                r.error, r.warnings, r.stats, r.plan_summary)))
print(json.dumps(out))
"""


def _probe(pure: bool) -> dict:
    env = dict(os.environ)
    env.pop(native.PURE_ENV, None)
    if pure:
        env[native.PURE_ENV] = "1"
    done = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(CASES)], env=env,
                          capture_output=True, text=True, timeout=500,
                          cwd=Path(mapper_gym.__file__).resolve().parent.parent)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _compiled_here() -> bool:
    return native.status().compiled


@pytest.mark.skipif(not _compiled_here(), reason="this install is pure Python: nothing compiled "
                    "to compare (" + native.status().reason + ")")
def test_compiled_and_python_modules_give_identical_results():
    compiled, pure = _probe(pure=False), _probe(pure=True)
    assert compiled["compiled"] and not pure["compiled"]
    assert not compiled["engine"].endswith(".py")
    assert pure["engine"].endswith("engine.py")
    for case, a, b in zip(CASES, compiled["results"], pure["results"], strict=True):
        assert a == b, f"compiled and Python simulators differ on {case}"


@pytest.mark.skipif(not os.environ.get("CI") or shutil.which("gcc") is None,
                    reason="the compiled build is required only in CI, where a compiler exists")
def test_ci_install_is_compiled():
    """README's install command must produce the compiled build where a compiler exists:
    the speed targets of the performance benchmarks assume it."""
    assert native.status().compiled, native.status().reason


def test_status_explains_itself():
    st = native.status()
    assert st.reason
    engine = importlib.import_module("mapper_gym.sim.engine")
    assert st.compiled == (not engine.__file__.endswith(".py"))


def test_every_compiled_module_is_checked_against_its_source(tmp_path, monkeypatch):
    manifest = tmp_path / "native_manifest.json"
    monkeypatch.setattr(native, "_MANIFEST", manifest)
    assert native._stale_sources() == list(native.COMPILED)  # no manifest: nothing is trusted
    sources = {native._source(m).relative_to(native._ROOT).as_posix(): "0" * 64
               for m in native.COMPILED}
    manifest.write_text(json.dumps(sources))
    assert native._stale_sources() == list(native.COMPILED)  # every hash differs
    exact = {path: hashlib.sha256((native._ROOT / path).read_bytes()).hexdigest()
             for path in sources}
    manifest.write_text(json.dumps(exact))
    assert native._stale_sources() == []
    first = native._source(native.COMPILED[0]).relative_to(native._ROOT).as_posix()
    manifest.write_text(json.dumps({**exact, first: "f" * 64}))
    assert native._stale_sources() == [native.COMPILED[0]]


def test_setup_and_runtime_list_the_same_modules():
    """setup.py compiles exactly the modules mapper_gym.native checks."""
    setup_file = native._ROOT / "setup.py"
    if not setup_file.is_file():
        pytest.skip("setup.py is not shipped with this install (a wheel)")
    text = setup_file.read_text()
    block = text[text.index("COMPILED = ("):]
    block = block[:block.index(")")]
    listed = set(re.findall(r'"([^"]+\.py)"', block))
    assert listed == {native._source(m).relative_to(native._ROOT).as_posix()
                      for m in native.COMPILED}
