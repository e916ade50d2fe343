"""Johnson's 3-D algorithm (DISTAL ``johnsonMM``), apps.md §4.3: ``task_4`` over a g × g × g
grid, point (i, j, k) computes A(i, j) += B(i, k) · C(k, j) into a reduction instance; the g
partial sums of A(i, j) are folded into A's placement home by the RO relaunch of ``task_1``.

On a machine without GPUs the CPU build runs instead: an extra inner level (``task_5`` over the
grid, each point a ``task_4`` leaf launch over its 2 row halves; ``distal.build_3d``), with the
grid looked up by the CPU build's processor count (``distal.grid_for``).
"""

from __future__ import annotations

from mapper_gym.appmodel import AppModel, MachineShape

from . import distal

NAME = "Johnson"
PRESETS = distal.PRESETS
#: g by total GPU count (apps.md §4.3).
GRID: dict[int, tuple[int, ...]] = {4: (2,), 8: (2,), 16: (4,), 32: (4,), 64: (4,),
                                    128: (6,), 256: (7,)}


def parameters(machine: MachineShape, preset: str = "A", **overrides: int) -> dict[str, int]:
    """``n, gdim``. With four ranks per node pass a machine of 4N address spaces with one GPU
    each; g depends only on the total GPU count. (The group's four-node P100 runs used
    n = 10000 for Johnson; pass ``n=`` to reproduce that.)"""
    (g,) = distal.grid_for(GRID, machine, NAME)
    p = {"n": distal.default_n(preset, machine, 16 * g), "gdim": g}
    distal.check_overrides(p, overrides, NAME)
    if p["n"] < p["gdim"]:
        raise ValueError("Johnson: n too small for the processor grid")
    return p


def build(machine: MachineShape, preset: str = "A", **overrides: int) -> AppModel:
    p = parameters(machine, preset, **overrides)
    g = p["gdim"]
    return distal.build_3d(NAME, machine, preset, p, (g, g, g))
