"""The task cost model (machine.md §5, §7): how long one point task occupies its processor.

::

    t_task = t_start(kind) + max(t_compute, t_memory)
    t_compute = flops / (peak(kind, precision) · eff_compute(kernel class))
    t_memory  = Σ over the requirement instances m, Σ over their accesses a:
                    bytes_a / (bw(processor, memory of m) · eff_access(pattern of a) · layout_m)

Where the numbers come from (all from the machine file, none from here):

* ``peak`` and ``bw``: :meth:`Machine.compute` and :meth:`Machine.access` (a CPU processor is one
  core with a per-core bandwidth cap; an OMP processor its threads and at most its socket);
* ``eff_compute``: the efficiency class of the kernel (:data:`KERNEL_CLASS`). Classes whose
  basis is a flop rate (DGEMM, Circuit's wire solver) scale the peak; bandwidth-bound classes
  contribute no compute efficiency (their flops are tiny) and are timed by their accesses.
  DGEMM on blocks smaller than the class's ``full_block`` runs at
  ``eff · (g / full_block) ** 0.5`` with ``g`` the geometric mean of ``(m, n, k)`` — a smooth
  reduction as machine.md §7 asks; the exponent is this model's assumption [A];
* ``eff_access``: the efficiency class of the access pattern (:data:`PATTERN_CLASS`);
* zero-copy accesses from a GPU follow the zero-copy figures instead: streaming at the
  zero-copy stream bandwidth; gathers and scatters move ``count · max(grain, min transaction)``
  bytes at that bandwidth; atomics run at the zero-copy atomic rate. Each such access stream
  also pays one dependent-access latency;
* ``layout_m``: the machine's factor of a layout rule with ``effect="slowdown"`` that the
  instance of requirement ``m`` violates for the variant that runs (:mod:`mapper_gym.appmodel`
  ``LayoutRule``), e.g. ``c_order_2d`` for Stencil's GPU kernels on C-ordered tiles.

Kernel memory traffic is not shared with copies or other kernels (see the package docstring).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from mapper_gym.appmodel import Kernel, Pattern, Work
from mapper_gym.machine import Access as MachineAccess
from mapper_gym.machine import Machine, Processor

#: Efficiency class (machine.md §7) of each kernel kind of the application schema.
KERNEL_CLASS: dict[Kernel, str] = {
    Kernel.DGEMM: "dense_dgemm",
    Kernel.WIRE_SOLVER: "circuit_wire_solver",
    Kernel.STREAM: "streaming_stencil",
    Kernel.GATHER: "gather_mesh",
    Kernel.ATOMIC: "scattered_reduction",
}

#: Efficiency class of each access pattern (machine.md §5 ``eff_access``).
PATTERN_CLASS: dict[Pattern, str] = {
    Pattern.STREAM: "streaming_stencil",
    Pattern.GATHER: "gather_mesh",
    Pattern.SCATTER: "gather_mesh",
    Pattern.ATOMIC: "scattered_reduction",
}

#: Layout penalty names used by application models that differ from the machine file's class
#: names (the application says what is penalised, the machine file how much).
PENALTY_ALIASES: dict[str, str] = {"aos_multifield": "aos_layout"}

#: Exponent of the small-block DGEMM efficiency reduction [A].
DGEMM_SMALL_BLOCK_EXPONENT = 0.5


def _efficiency(machine: Machine, name: str, kind: str) -> float | None:
    try:
        eff = machine.efficiency(name)
    except ValueError:
        alias = PENALTY_ALIASES.get(name)
        if alias is None:
            raise
        eff = machine.efficiency(alias)
    return eff.for_kind(kind)


def compute_seconds(machine: Machine, proc: Processor, work: Work) -> float:
    """``t_compute`` of a leaf body on ``proc``."""
    if work.flops <= 0.0 or work.kernel in (Kernel.EMPTY,):
        return 0.0
    compute = machine.compute(proc)
    cls = KERNEL_CLASS.get(work.kernel)
    if cls is None:  # scalar host logic: at peak
        return work.flops / compute.flops(work.precision)
    eff_record = machine.efficiency(cls)
    if eff_record.basis not in ("fp64", "fp32"):
        return work.flops / compute.flops(work.precision)
    eff = eff_record.for_kind(proc.kind)
    if eff is None or eff <= 0.0:
        eff = 1.0
    if work.kernel is Kernel.DGEMM and work.gemm is not None:
        try:
            full = eff_record.param("full_block")
        except KeyError:
            full = 0.0
        if full > 0:
            m, n, k = work.gemm
            g = (max(m, 1) * max(n, 1) * max(k, 1)) ** (1.0 / 3.0)
            if g < full:
                eff *= (g / full) ** DGEMM_SMALL_BLOCK_EXPONENT
    return work.flops / (compute.flops(eff_record.basis) * eff)


def memory_seconds(
    machine: Machine,
    proc: Processor,
    work: Work,
    accesses: Sequence[MachineAccess | None],
    layout_factors: Sequence[float],
) -> float:
    """``t_memory`` of a leaf body: ``accesses[i]`` is how ``proc`` reaches the instance of
    requirement ``i`` (None when it has no instance), ``layout_factors[i]`` its layout
    penalty (1.0 when none)."""
    total = 0.0
    zc = machine.zero_copy
    for i, acc_list in enumerate(work.accesses):
        if not acc_list:
            continue
        access = accesses[i]
        if access is None:
            continue
        factor = layout_factors[i]
        bw = access.bandwidth * factor
        if access.zero_copy and zc is not None:
            for a in acc_list:
                if a.pattern is Pattern.ATOMIC and a.count > 0:
                    total += a.count / (zc.atomic_rate * factor)
                elif a.pattern in (Pattern.GATHER, Pattern.SCATTER) and a.count > 0:
                    total += a.count * max(a.grain, zc.min_transaction_bytes) / bw
                else:
                    total += a.bytes / bw
                total += access.latency
            continue
        for a in acc_list:
            if a.bytes <= 0:
                continue
            eff = _efficiency(machine, PATTERN_CLASS[a.pattern], proc.kind)
            if eff is None or eff <= 0.0:
                eff = 1.0
            total += a.bytes / (bw * eff)
    return total


def layout_factor(machine: Machine, penalty: str, kind: str) -> float:
    """The efficiency factor of a layout penalty class for a processor kind (1.0 when the
    machine says it does not apply)."""
    eff = _efficiency(machine, penalty, kind)
    if eff is None or eff <= 0.0 or not math.isfinite(eff):
        return 1.0
    return eff
