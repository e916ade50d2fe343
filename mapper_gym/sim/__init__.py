"""The simulator backend: a deterministic discrete-event simulation of an application under a
mapping plan (``simulate(plan, config) -> RunResult``).

What is modelled (machine.md §2, §5–§7; apps.md §0.5–§0.8), module by module:

* :mod:`.program` — the application and plan as integer tables; :mod:`.cost` — each point
  task's processor time (start overhead + max(compute, Σ memory accesses)), with kernel and
  access-pattern efficiencies, zero-copy rules, layout penalties, small-block DGEMM;
* :mod:`.coherence` — Legion dependences over (region, piece, field) with privileges
  (reductions commute, futures, inner tasks), copies from the best valid source, reduction
  folds, fills, collection; :mod:`.memory` — instances in fixed-capacity memories, reclaimed
  under pressure, out-of-memory failures with the runtime's message;
* :mod:`.engine` — runtime analysis and mapping on utility processors (traced costs, control
  replication, mapper serialisation, instance limits), processors, background workers, copy
  engines and shared links (:mod:`.flows`), fences and a bounded run-ahead window;
* :mod:`.periodic` — exact skipping of repeating iterations; :mod:`.simulate` — timers,
  output, statistics; :mod:`.log` — the Legion-style log.

Not modelled: kernel memory traffic does not contend with copies or other kernels (each task
runs at its uncontended access rates); link sharing is per-link equal shares, not max-min;
instances are tracked per key, so an instance's size is the bytes of what a task needs and
fragmentation is ignored; core oversubscription; Regent's operator tasks; the runtime's
window counts iterations (2), not operations.
"""

from mapper_gym.sim.simulate import WINDOW, simulate

__all__ = ["WINDOW", "simulate"]
