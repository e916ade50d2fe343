"""The simulator backend: a deterministic discrete-event simulation of an application under a
mapping plan (``simulate(plan, config) -> RunResult``).

What is modelled (machine.md §2, §5–§7; apps.md §0.5–§0.8), module by module:

* :mod:`.program` — the application and plan as integer tables; :mod:`.cost` — each point
  task's processor time (start overhead + max(compute, Σ memory accesses)), with kernel and
  access-pattern efficiencies, zero-copy rules, layout penalties, small-block DGEMM;
* :mod:`.coherence` — Legion dependences over (region, piece, field class) with privileges
  (reductions commute, futures, inner tasks), copies from the best valid source, reduction
  folds, fills, collection; :mod:`.memory` — instances in fixed-capacity memories, reclaimed
  under pressure, out-of-memory failures with the runtime's message;
* :mod:`.engine` — runtime analysis and mapping on utility processors (traced costs, control
  replication, mapper serialisation, instance limits), processors, background workers, copy
  engines and shared links (:mod:`.flows`), fences and a bounded run-ahead window;
* :mod:`.periodic` — exact skipping of repeating iterations; :mod:`.simulate` — timers,
  output, statistics; :mod:`.log` — the Legion-style log;
* :mod:`mapper_gym.native` — whether the mypyc-compiled build of the hot modules runs.

Simplifications (each documented where it is made):

* kernel memory traffic does not contend with copies or with other kernels: a task runs at
  its uncontended access rates; only transfers (copies, folds, fills) share links;
* link sharing is the per-link equal-share rule, not a global max-min allocation;
* memory is accounted in program order (Realm's deferred allocation): a mapping's footprint,
  not the instants instances come and go; fragmentation is ignored;
* a reducer accumulates into a pending reduction instance of the same memory and data;
* the top-level task runs at most :data:`WINDOW` iterations ahead of the oldest unfinished
  one (Legion bounds outstanding operations, by default 1024); the benchmarks give identical
  results for windows of 2 to 8;
* utility processors serve runtime work in the order it is issued;
* not modelled: core oversubscription, Regent's operator tasks, the cost of the top-level
  task's own launch calls.
"""

from mapper_gym.sim.simulate import WINDOW, simulate

__all__ = ["WINDOW", "simulate"]
