"""Simulated time is an integer number of picoseconds.

Integer time makes the simulation exactly shift-invariant: an event at ``t + Δ`` computes the
same relative quantities as one at ``t``, bit for bit, because every duration is computed once
from the model's inputs and then only added and subtracted as an integer. That is what lets the
periodic-state detector (:mod:`mapper_gym.sim.periodic`) compare two states for *equality*
instead of closeness, and extrapolate only when the future is provably a shifted copy of the
past. One picosecond is far below any figure of the machine models (the smallest are
nanosecond DRAM latencies), so rounding durations to it changes nothing measurable.
"""

from __future__ import annotations

import math

#: Picoseconds per second.
PS_PER_S = 10**12


def to_ps(seconds: float) -> int:
    """A duration in seconds as whole picoseconds (rounded to nearest)."""
    if seconds <= 0.0:
        return 0
    if math.isinf(seconds) or math.isnan(seconds):
        raise ValueError(f"duration {seconds!r} is not finite")
    return round(seconds * PS_PER_S)


def to_s(picoseconds: int) -> float:
    """Picoseconds as seconds."""
    return picoseconds / PS_PER_S
