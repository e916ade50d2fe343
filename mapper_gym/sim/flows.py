"""Transfers sharing links: per-link fair shares, each direction a separate link.

A transfer (a copy, the apply pass of a reduction fold, a fill's write pass) puts ``load``
bytes on each link of its route per byte it moves (:class:`~mapper_gym.sim.routes.Route`).
Transfers that are active at the same time share every link fairly: a link of bandwidth ``B``
carrying transfers with total load ``L`` gives each of them the rate ``B / L``, and a transfer
moves at the smallest such share along its route, capped by its route's own limit. This is
the per-link equal-share rule (each direction of a PCIe, NVLink or NIC link is its own link, so
the two directions never compete); unlike a full max-min allocation it does not hand capacity
left unused by a transfer bottlenecked elsewhere to the others, which keeps every update local
to the links of the transfer that started or ended.

Loads are kept as integers (units of 2**-20 byte per byte), so a link's total load is an exact
sum that does not depend on the order transfers came and went in; the rates, and hence the
simulation, are then a function of the set of active transfers alone.

Rates change only when a transfer starts or ends; the engine then re-times the transfers whose
rate changed (:meth:`FlowTable.add` / :meth:`FlowTable.remove` return them).
"""

from __future__ import annotations

import math

from mapper_gym.sim.routes import LOAD_SCALE, Route
from mapper_gym.sim.units import PS_PER_S


class Flow:
    """One active transfer. ``remaining`` bytes as of time ``last`` (ps), at ``rate`` B/s."""

    __slots__ = ("cap", "engine", "iloads", "key", "last", "loads", "nbytes", "rate",
                 "remaining", "stage", "version")

    def __init__(self, key: tuple[int, int], route: Route, nbytes: float, now: int, stage: int,
                 engine: int) -> None:
        self.key = key
        self.loads = route.loads
        self.iloads = route.iloads
        self.cap = route.cap
        self.nbytes = nbytes
        self.remaining = float(nbytes)
        self.rate = 0.0
        self.last = now
        self.version = 0
        self.stage = stage
        self.engine = engine


class FlowTable:
    """The active transfers and the links they load."""

    def __init__(self, link_bw: tuple[float, ...]) -> None:
        self.link_bw = link_bw
        self.scaled_bw = tuple(bw * LOAD_SCALE for bw in link_bw)
        self.flows: dict[tuple[int, int], Flow] = {}
        #: per link: flow key -> integer load, in arrival order
        self.on_link: list[dict[tuple[int, int], int]] = [{} for _ in link_bw]
        self.total = [0] * len(link_bw)

    def _rate(self, flow: Flow) -> float:
        rate = flow.cap
        bw, total = self.scaled_bw, self.total
        for li, _ in flow.loads:
            share = bw[li] / total[li]
            if share < rate:
                rate = share
        return rate

    @staticmethod
    def _set_rate(f: Flow, rate: float, now: int, changed: list[Flow]) -> None:
        if f.rate > 0.0 and now > f.last:
            f.remaining -= f.rate * (now - f.last) / PS_PER_S
            if f.remaining < 0.0:
                f.remaining = 0.0
        f.last = now
        f.rate = rate
        f.version += 1
        changed.append(f)

    def add(self, flow: Flow, now: int) -> list[Flow]:
        """Start ``flow``; returns every flow whose rate changed (``flow`` included).

        A link's share only drops when a transfer joins it, so only the transfers on its links
        that went faster than the new share slow down; the others keep their rate."""
        key = flow.key
        flows = self.flows
        flows[key] = flow
        on_link, total, bw = self.on_link, self.total, self.scaled_bw
        slowed: list[Flow] | None = None
        for li, load in flow.iloads:
            d = on_link[li]
            d[key] = load
            t = total[li] + load
            total[li] = t
            if len(d) > 1:
                share = bw[li] / t
                for other in d:
                    if other != key:
                        g = flows[other]
                        if g.rate > share:
                            if slowed is None:
                                slowed = [g]
                            elif g not in slowed:
                                slowed.append(g)
        # the new flow's rate (``_rate``, inlined: this runs once per transfer); it has moved
        # nothing yet, so only its time stamp and rate are set
        rate = flow.cap
        for li, _ in flow.loads:
            share = bw[li] / total[li]
            if share < rate:
                rate = share
        flow.last = now
        flow.rate = rate
        flow.version += 1
        changed: list[Flow] = [flow]
        if slowed is not None:
            for g in slowed:
                rate = self._rate(g)
                if rate != g.rate:
                    self._set_rate(g, rate, now, changed)
        return changed

    def remove(self, flow: Flow, now: int) -> list[Flow]:
        """End ``flow``; returns the flows whose rate changed.

        A link's share only rises, so only the transfers it was limiting (their rate equals
        its old share) can speed up."""
        key = flow.key
        flows = self.flows
        del flows[key]
        on_link, total, bw = self.on_link, self.total, self.scaled_bw
        limited: list[Flow] | None = None
        for li, load in flow.iloads:
            d = on_link[li]
            del d[key]
            t = total[li]
            total[li] = t - load
            if d:
                old_share = bw[li] / t
                for other in d:
                    g = flows[other]
                    if g.rate >= old_share:
                        if limited is None:
                            limited = [g]
                        elif g not in limited:
                            limited.append(g)
        changed: list[Flow] = []
        if limited is not None:
            for g in limited:
                rate = self._rate(g)
                if rate != g.rate:
                    self._set_rate(g, rate, now, changed)
        return changed

    @staticmethod
    def finish_time(flow: Flow) -> int:
        """When ``flow`` ends at its current rate (ps)."""
        if flow.remaining <= 0.0:
            return flow.last
        if flow.rate <= 0.0 or math.isinf(flow.rate):
            return flow.last
        return flow.last + math.ceil(flow.remaining * PS_PER_S / flow.rate)

    def shift(self, dphase: int, dt: int) -> None:
        """Renumber phases by ``dphase`` (phases >= 0 only) and move times by ``dt``."""
        flows = {}
        for key, f in self.flows.items():
            f.key = shifted_key(key, dphase)
            f.last += dt
            flows[f.key] = f
        self.flows = flows
        self.on_link = [{shifted_key(k, dphase): v for k, v in d.items()} for d in self.on_link]

    def state(self, now: int, j: int) -> tuple:
        """The flows relative to ``now`` and iteration ``j``, for state comparison."""
        return tuple(
            (relative_phase(f.key[0], j), f.key[1], f.stage, f.engine, f.remaining,
             f.last - now, f.rate)
            for f in self.flows.values()
        )


# Plain functions, not closures: compiled by mypyc a closure and its environment form a
# reference cycle that only the garbage collector frees (see Coherence._signature).


def relative_phase(p: int, j: int) -> int:
    """Phase ``p`` relative to iteration ``j`` (the setup phase kept apart)."""
    return p - j if p >= 0 else p - 10**9


def shifted_phase(p: int, dphase: int) -> int:
    """Phase ``p`` renumbered by ``dphase`` (iterations only)."""
    return p + dphase if p >= 0 else p


def shifted_key(key: tuple[int, int], dphase: int) -> tuple[int, int]:
    return (shifted_phase(key[0], dphase), key[1])
