"""COSMA's processor grid in DISTAL (``cosma``), apps.md §4.5: ``task_4`` over (gx, gy, gz),
point (i, j, k) computes A(i, j) += B(i, k) · C(k, j) into a reduction instance; B is broadcast
along y, C along x, and the partial sums of A are reduced along z into A's placement home.

On a machine without GPUs the CPU build runs instead: an extra inner level (``task_5`` over the
grid, each point a ``task_4`` leaf launch over its 2 row halves; ``distal.build_3d``), with the
grid looked up by the CPU build's processor count (``distal.grid_for``).
"""

from __future__ import annotations

from mapper_gym.appmodel import AppModel, MachineShape

from . import distal

NAME = "COSMA"
PRESETS = distal.PRESETS
#: (gx, gy, gz) by processor (GPU) count (apps.md §4.5).
GRID: dict[int, tuple[int, ...]] = {
    2: (2, 1, 1), 4: (1, 2, 2), 8: (2, 2, 2), 16: (2, 2, 4), 32: (2, 4, 4), 64: (4, 4, 4),
    128: (4, 4, 8), 256: (4, 8, 8), 512: (8, 8, 8),
}


def parameters(machine: MachineShape, preset: str = "A", **overrides: int) -> dict[str, int]:
    """``n, gx, gy, gz`` from the fixed table keyed by the total GPU count."""
    gx, gy, gz = distal.grid_for(GRID, machine, NAME)
    p = {"n": distal.default_n(preset, machine, 16 * max(gx, gy, gz)), "gx": gx, "gy": gy,
         "gz": gz}
    distal.check_overrides(p, overrides, NAME)
    if p["n"] < max(p["gx"], p["gy"], p["gz"]):
        raise ValueError("COSMA: n too small for the processor grid")
    return p


def build(machine: MachineShape, preset: str = "A", **overrides: int) -> AppModel:
    p = parameters(machine, preset, **overrides)
    return distal.build_3d(NAME, machine, preset, p, (p["gx"], p["gy"], p["gz"]))
