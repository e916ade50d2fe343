"""Memory accounting: instances in fixed-capacity memories (machine.md §2 "Capacity behaviour").

An *allocation* is the bytes of one key (region, piece, field) at one location (an instance
of a memory and layout class, or a reduction instance). The accounting follows the program's
order — the order in which the runtime maps tasks — not the clock:

* an allocation is made when the first task that needs the key at that location is mapped
  (that task pays the instance-creation overhead), and stays while it holds valid data;
* the instances a task has mapped for its earlier requirements are in use by that task: mapping
  a later requirement of the same task never reclaims them, even when they hold no valid data
  yet (its reduction instances, its write-only outputs), as the runtime only releases an
  instance after its last user;
* an allocation whose data became invalid (written elsewhere, or a reduction instance already
  folded) is *reclaimable*: it stays (a later task may reuse it without creating an instance)
  until an allocation that does not fit needs its space; reclaimable allocations are released
  oldest use first;
* ``CollectMemory``: a read-only copy is released right after its task, unless it is the only
  valid copy of its data;
* when the live (valid) data plus the new allocation exceed the memory's capacity, the run fails
  with the runtime's message ``failed allocation of size <n> bytes for region requirement <i>
  of task <t> in memory <m>``, ``n`` being the bytes the requirement needed beyond what was
  already resident there.

Releasing an instance in program order and reusing its space for a later task is what Realm's
deferred allocation does (the new instance waits for the old one's last user). The live set at
each point of the program is therefore the footprint the mapping demands, independent of
timing; fragmentation is ignored (machine.md §2 [A]).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from mapper_gym.sim.errors import OOM, SimFailure, execution_error

#: Allocation ids are ``key << LOC_BITS | location code``.
LOC_BITS = 32
LOC_MASK = (1 << LOC_BITS) - 1


class MemoryState:
    """Allocations per memory, in least-recently-used order."""

    def __init__(self, capacities: Sequence[int], key_bytes: Sequence[int]) -> None:
        self.capacity = list(capacities)
        self.used = [0] * len(capacities)
        self.peak = [0] * len(capacities)
        self.lru: list[dict[int, int]] = [{} for _ in capacities]
        self.key_bytes = key_bytes
        self.created = 0  # instances created (requirements that needed a new allocation)
        self.reclaimed = 0  # allocations released under memory pressure
        self.collected = 0  # allocations released by CollectMemory

    def ensure(
        self,
        keys: Sequence[int],
        loc: int,
        mem: int,
        live: Callable[[int, int], bool],
        where: Callable[..., tuple[str, int, str, tuple[int, int]]],
        *where_args: object,
        pinned: Callable[..., Iterable[int]] | None = None,
    ) -> bool:
        """Make every key of a requirement resident at location ``loc`` of memory ``mem``.

        ``live(key, loc)`` says whether an allocation holds data that must be kept;
        ``where(*where_args)`` names the requirement for an error (task, index, memory uid,
        policy origin); ``pinned(*where_args)``, when given, lists the allocation ids the
        requiring task already uses in ``mem`` (its earlier requirements), which are not
        reclaimable either. Both are only called when the memory is full. Returns True when an
        instance had to be created.
        """
        lru = self.lru[mem]
        missing = None
        for k in keys:
            aid = (k << LOC_BITS) | loc
            size = lru.pop(aid, None)
            if size is None:
                if missing is None:
                    missing = [aid]
                else:
                    missing.append(aid)
            else:
                lru[aid] = size  # most recently used
        if missing is None:
            return False
        kb = self.key_bytes
        need = 0
        for aid in missing:
            need += kb[aid >> LOC_BITS]
        used = self.used[mem]
        if used + need > self.capacity[mem]:
            protect = {(k << LOC_BITS) | loc for k in keys}
            if pinned is not None:
                protect.update(pinned(*where_args))
            used = self._reclaim(mem, used + need - self.capacity[mem], live, protect)
            if used + need > self.capacity[mem]:
                task, index, uid, origin = where(*where_args)
                raise SimFailure(execution_error(
                    OOM,
                    f"failed allocation of size {need} bytes for region requirement {index} "
                    f"of task {task} in memory {uid}",
                    origin, task=task, region=index, memory=uid, size=need,
                    capacity=self.capacity[mem], in_use=used,
                ))
        for aid in missing:
            lru[aid] = kb[aid >> LOC_BITS]
        used += need
        self.used[mem] = used
        if used > self.peak[mem]:
            self.peak[mem] = used
        self.created += 1
        return True

    def _reclaim(self, mem: int, amount: int, live: Callable[[int, int], bool],
                 protect: set[int]) -> int:
        """Release reclaimable allocations of ``mem``, oldest first, until ``amount`` bytes
        are free or none is left; returns the new bytes in use."""
        lru = self.lru[mem]
        freed = 0
        victims = []
        for aid, size in lru.items():
            if aid in protect or live(aid >> LOC_BITS, aid & LOC_MASK):
                continue
            victims.append(aid)
            freed += size
            if freed >= amount:
                break
        for aid in victims:
            del lru[aid]
        self.reclaimed += len(victims)
        self.used[mem] -= freed
        return self.used[mem]

    def release(self, key: int, loc: int, mem: int) -> None:
        """Free one allocation now (CollectMemory)."""
        size = self.lru[mem].pop((key << LOC_BITS) | loc, None)
        if size is not None:
            self.used[mem] -= size
            self.collected += 1

    def signature(self) -> tuple:
        """The allocation state, for periodic-state detection: per memory, the allocations in
        LRU order (their sizes follow from the keys)."""
        return tuple(tuple(lru) for lru in self.lru)
