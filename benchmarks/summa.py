"""SUMMA (DISTAL), apps.md §4.2: at outer step s every node uses k block s and every GPU k half
t, so B(i, s) is broadcast along node row i and C(s, j) along node column j.

On a machine without GPUs the CPU build runs instead (``distal.build_2d_cpu``): a (gx, gy) grid
over the CPU-build processors, one level less, with the same k-block rule at outer step s.
"""

from __future__ import annotations

from mapper_gym.appmodel import AppModel, MachineShape

from . import distal

NAME = "SUMMA"
PRESETS = distal.PRESETS


def parameters(machine: MachineShape, preset: str = "A", **overrides: int) -> dict[str, int]:
    """``n, gx, gy``: gx = √N (perfect square) or the largest divisor g with g² ≤ N/2."""
    return distal.parameters_2d(NAME, machine, preset, gy_by_rule=False, overrides=overrides)


def build(machine: MachineShape, preset: str = "A", **overrides: int) -> AppModel:
    p = parameters(machine, preset, **overrides)
    return distal.build_2d(NAME, machine, preset, p,
                           k_block=lambda i, j, s, g: s,
                           k_half=lambda a, b, t, h: t)
