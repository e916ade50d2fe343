"""Cannon's algorithm (DISTAL), apps.md §4.2: a (gx, gy) node grid, one node block per point;
at outer step s node (i, j) multiplies k block (i + j + s) mod gx, and GPU (a, b) of the node
uses k half (a + b + t) mod 2 at inner step t, so B and C blocks shift systolically.

On a machine without GPUs the CPU build runs instead (``distal.build_2d_cpu``): a (gx, gy) grid
over the CPU-build processors, one level less, with the same k-block rule at outer step s.
"""

from __future__ import annotations

from mapper_gym.appmodel import AppModel, MachineShape

from . import distal

NAME = "Cannon"
PRESETS = distal.PRESETS


def parameters(machine: MachineShape, preset: str = "A", **overrides: int) -> dict[str, int]:
    """``n, gx, gy``: gy = √N (perfect square) or the largest divisor g with g² ≤ N/2."""
    return distal.parameters_2d(NAME, machine, preset, gy_by_rule=True, overrides=overrides)


def build(machine: MachineShape, preset: str = "A", **overrides: int) -> AppModel:
    p = parameters(machine, preset, **overrides)
    return distal.build_2d(NAME, machine, preset, p,
                           k_block=lambda i, j, s, g: (i + j + s) % g,
                           k_half=lambda a, b, t, h: (a + b + t) % h)
