"""A bounded LRU cache of evaluations (architecture.md "Caching").

An evaluation is fully determined by the backend, the problem (application, preset, parameter
overrides, machine fingerprint), the :class:`~mapper_gym.config.RunConfig` and the program's
canonical text (dsl.md §12), so two programs that differ only in comments or spacing share one
entry. Optimizers re-propose identical mappers often (the paper's agent rewrites one decision
group at a time), and the environment evaluates the expert mapper once per environment; both
are served from here.

Results are immutable records (:class:`~mapper_gym.result.RunResult` is frozen); callers that
hand parts of them to users copy the mutable mappings inside (the environment does).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable

from mapper_gym.result import RunResult

__all__ = ["DEFAULT_CACHE_SIZE", "EvaluationCache", "shared_cache"]

#: Entries kept by the process-wide cache. A RunResult is a few kilobytes to a few hundred
#: (its Legion-style log), so this bounds the cache to tens of megabytes at worst.
DEFAULT_CACHE_SIZE = 512


class EvaluationCache:
    """A thread-safe least-recently-used map from evaluation keys to :class:`RunResult`.

    ``maxsize=0`` disables caching (every lookup misses, nothing is stored), which is what
    speed benchmarks of the simulator want.
    """

    def __init__(self, maxsize: int = DEFAULT_CACHE_SIZE) -> None:
        if maxsize < 0:
            raise ValueError(f"maxsize must be >= 0, got {maxsize}")
        self.maxsize = maxsize
        self._entries: OrderedDict[Hashable, RunResult] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable) -> RunResult | None:
        """The cached result for ``key`` (and mark it recently used), or None."""
        with self._lock:
            result = self._entries.get(key)
            if result is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return result

    def put(self, key: Hashable, result: RunResult) -> None:
        """Store ``result``; evict the least recently used entries beyond ``maxsize``."""
        if self.maxsize == 0:
            return
        with self._lock:
            self._entries[key] = result
            self._entries.move_to_end(key)
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.hits = 0
            self.misses = 0

    def __deepcopy__(self, memo: dict) -> EvaluationCache:
        # A cache is a shared service, not data: Gymnasium deep-copies make() arguments (env
        # specs), and every copy must keep feeding the same cache.
        return self

    def __reduce__(self) -> tuple:
        # Sent to another process (AsyncVectorEnv), a cache starts empty there: results are
        # cheap to recompute and a lock cannot travel.
        return (EvaluationCache, (self.maxsize,))

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._entries


_SHARED = EvaluationCache()


def shared_cache() -> EvaluationCache:
    """The process-wide cache that backends use unless given their own."""
    return _SHARED
