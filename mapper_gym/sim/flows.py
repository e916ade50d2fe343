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

Rates change only when a transfer starts or ends; the engine then re-times the transfers whose
rate changed (:meth:`FlowTable.add` / :meth:`FlowTable.remove` return them).
"""

from __future__ import annotations

import math

from mapper_gym.sim.routes import Route
from mapper_gym.sim.units import PS_PER_S


class Flow:
    """One active transfer. ``remaining`` bytes as of time ``last`` (ps), at ``rate`` B/s."""

    __slots__ = ("cap", "engine", "key", "last", "loads", "nbytes", "rate", "remaining",
                 "stage", "version")

    def __init__(self, key: tuple[int, int], route: Route, nbytes: float, now: int, stage: int,
                 engine: int) -> None:
        self.key = key
        self.loads = route.loads
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
        self.flows: dict[tuple[int, int], Flow] = {}
        #: per link: flow key -> load, in arrival order
        self.on_link: list[dict[tuple[int, int], float]] = [{} for _ in link_bw]
        self.total = [0.0] * len(link_bw)

    def _neighbours(self, loads) -> list[Flow]:
        on_link = self.on_link
        if len(loads) == 1:
            keys = list(on_link[loads[0][0]])
        else:
            seen: dict[tuple[int, int], None] = {}
            for li, _ in loads:
                seen.update(dict.fromkeys(on_link[li]))
            keys = list(seen)
        flows = self.flows
        return [flows[k] for k in keys]

    def _retotal(self, loads) -> bool:
        """Recompute the total load of each link; True when one of them carries several
        transfers (someone else's rate may change)."""
        shared = False
        total, on_link = self.total, self.on_link
        for li, _ in loads:
            d = on_link[li]
            if len(d) > 1:
                total[li] = math.fsum(d.values())
                shared = True
            elif d:
                total[li] = next(iter(d.values()))
            else:
                total[li] = 0.0
        return shared

    def _rate(self, flow: Flow) -> float:
        rate = flow.cap
        bw, total = self.link_bw, self.total
        for li, _ in flow.loads:
            share = bw[li] / total[li]
            if share < rate:
                rate = share
        return rate

    def _retime(self, flows: list[Flow], now: int) -> list[Flow]:
        changed = []
        for f in flows:
            rate = self._rate(f)
            if rate != f.rate:
                if f.rate > 0.0 and now > f.last:
                    f.remaining -= f.rate * (now - f.last) / PS_PER_S
                    if f.remaining < 0.0:
                        f.remaining = 0.0
                f.last = now
                f.rate = rate
                f.version += 1
                changed.append(f)
        return changed

    def add(self, flow: Flow, now: int) -> list[Flow]:
        """Start ``flow``; returns every flow whose rate changed (``flow`` included)."""
        self.flows[flow.key] = flow
        key = flow.key
        on_link = self.on_link
        for li, load in flow.loads:
            on_link[li][key] = load
        if not self._retotal(flow.loads):
            return self._retime([flow], now)
        return self._retime(self._neighbours(flow.loads), now)

    def remove(self, flow: Flow, now: int) -> list[Flow]:
        """End ``flow``; returns the flows whose rate changed."""
        key = flow.key
        del self.flows[key]
        on_link = self.on_link
        busy = False
        for li, _ in flow.loads:
            d = on_link[li]
            del d[key]
            if d:
                busy = True
        self._retotal(flow.loads)
        if not busy:
            return []
        return self._retime(self._neighbours(flow.loads), now)

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
        def rekey(key):
            p, i = key
            return (p + dphase if p >= 0 else p, i)

        flows = {}
        for key, f in self.flows.items():
            f.key = rekey(key)
            f.last += dt
            flows[f.key] = f
        self.flows = flows
        self.on_link = [{rekey(k): v for k, v in d.items()} for d in self.on_link]

    def state(self, now: int, rel) -> tuple:
        """The flows relative to ``now`` (phases through ``rel``), for state comparison."""
        return tuple(
            (rel(f.key[0]), f.key[1], f.stage, f.engine, f.remaining, f.last - now, f.rate)
            for f in self.flows.values()
        )
