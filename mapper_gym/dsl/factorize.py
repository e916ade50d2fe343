"""How the multi-way splits choose their factors (dsl.md §8.8–§8.10).

``balance_split``, ``greedy_split`` and ``auto_split`` all cut one machine dimension of size ``O``
into ``k`` factors whose product is ``O``; they differ only in which factors they pick. The
functions here are pure arithmetic on ints: argument validation with the user-facing messages
lives in :mod:`mapper_gym.dsl.mspace`, except the candidate-count limit of ``auto_split``, which
is part of the algorithm (it must be computed *before* enumerating).

Comparisons between rationals are exact. Costs ``Σ b_i / L_i`` are compared after scaling every
term by the common denominator ``lcm(L)``, which turns them into integers: the same order as
comparing :class:`fractions.Fraction` values, without the per-candidate allocation. The original
compared floats with a tolerance (dsl.md §10 #28), which can pick a different factorisation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

from mapper_gym.dsl.values import limit_exceeded

#: Largest number of ordered factorisations ``auto_split`` may enumerate (dsl.md §11).
MAX_AUTO_SPLIT_CANDIDATES = 1_000_000


def prime_factors(n: int) -> list[int]:
    """Prime factors of ``n`` (≥ 1), smallest first, with repetition: ``12 → [2, 2, 3]``."""
    if n < 1:
        raise ValueError(f"prime_factors needs a positive integer, got {n}")
    factors: list[int] = []
    divisor = 2
    while divisor * divisor <= n:
        while n % divisor == 0:
            factors.append(divisor)
            n //= divisor
        divisor += 1 if divisor == 2 else 2
    if n > 1:
        factors.append(n)
    return factors


def prime_exponents(n: int) -> dict[int, int]:
    """``{prime: exponent}`` of ``n`` (≥ 1), primes in increasing order."""
    exponents: dict[int, int] = {}
    for prime in prime_factors(n):
        exponents[prime] = exponents.get(prime, 0) + 1
    return exponents


def balance_split(size: int, parts: int) -> tuple[int, ...]:
    """Factors of §8.8: primes (smallest first) go to the smallest factor, then sort descending.

    ``balance_split(12, 2) == (6, 2)`` (not ``(4, 3)``), ``balance_split(30, 3) == (5, 3, 2)``.
    """
    factors = [1] * parts
    for prime in prime_factors(size):
        smallest = min(range(parts), key=factors.__getitem__)  # lowest position among ties
        factors[smallest] *= prime
    return tuple(sorted(factors, reverse=True))


def greedy_split(size: int, extents: Sequence[int]) -> tuple[int, ...]:
    """Legion's default heuristic (§8.9): each prime, largest first, goes to the dimension whose
    remaining extent ``L_j / b_j`` is largest (lowest index among exact ties)."""
    parts = len(extents)
    factors = [1] * parts
    for prime in reversed(prime_factors(size)):
        best = 0
        for j in range(1, parts):
            # extents[j] / factors[j] > extents[best] / factors[best], exactly.
            if extents[j] * factors[best] > extents[best] * factors[j]:
                best = j
        factors[best] *= prime
    return tuple(factors)


def auto_split_candidate_count(size: int, parts: int) -> int:
    """Number of ordered factorisations of ``size`` into ``parts`` factors:
    ``Π over primes of C(a + k − 1, k − 1)`` (the quantity limited by dsl.md §11)."""
    count = 1
    for exponent in prime_exponents(size).values():
        count *= math.comb(exponent + parts - 1, parts - 1)
    return count


def exponent_spreads(total: int, parts: int) -> list[tuple[int, ...]]:
    """All ``(e1, ..., ek)`` with ``Σ e = total``, ``e ≥ 0``, in increasing lexicographic order."""
    if parts == 1:
        return [(total,)]
    spreads: list[tuple[int, ...]] = []
    for first in range(total + 1):
        for rest in exponent_spreads(total - first, parts - 1):
            spreads.append((first, *rest))
    return spreads


def split_cost(factors: Sequence[int], extents: Sequence[int]) -> tuple[int, int]:
    """``Σ b_i / L_i`` as an exact fraction ``(numerator, denominator)`` over ``lcm(L)``."""
    denominator = math.lcm(*extents)
    return sum(b * (denominator // L) for b, L in zip(factors, extents, strict=True)), denominator


def auto_split(
    size: int, extents: Sequence[int], max_candidates: int = MAX_AUTO_SPLIT_CANDIDATES
) -> tuple[int, ...]:
    """The factorisation of §8.10 that minimises ``Σ b_i / L_i``.

    Ties: greedy_split's answer if it is minimal, else the first minimal candidate in the
    enumeration order of §8.10 step 2 (largest prime's spreads outermost). Raises the E-LIMIT
    :class:`~mapper_gym.dsl.values.EvalError` when the candidate count exceeds ``max_candidates``,
    before any enumeration.
    """
    parts = len(extents)
    if size == 1:
        return (1,) * parts
    count = auto_split_candidate_count(size, parts)
    if count > max_candidates:
        raise limit_exceeded("auto_split candidates", max_candidates)
    return _auto_split_search(size, tuple(extents))


@lru_cache(maxsize=4096)
def _auto_split_search(size: int, extents: tuple[int, ...]) -> tuple[int, ...]:
    """Search of §8.10 (memoised: the answer depends only on the arguments).

    A depth-first walk over (prime, position) choices visits the candidates exactly in the
    enumeration order of §8.10 step 2: the largest prime's exponent spread is chosen first,
    each spread position by position in increasing lexicographic order. The cost
    ``Σ b_i·w_i`` (``w_i = lcm(L) / L_i``) is updated incrementally, and a subtree is skipped
    when a lower bound of its costs is not *strictly* below the best cost so far: such a subtree
    cannot hold the first minimal candidate, so the result equals plain enumeration's.

    Lower bound: multiplying the partial factors by the remaining primes adds at least
    ``min_j(b_j·w_j) · Σ (p − 1)`` over the remaining primes (with repetition), because
    ``r − 1 ≥ Σ (p − 1)`` over the prime factors p of any integer ``r ≥ 1``.
    """
    parts = len(extents)
    denominator = math.lcm(*extents)
    weights = [denominator // extent for extent in extents]
    primes = sorted(prime_exponents(size).items(), reverse=True)  # largest prime first
    slack_after = [sum((q - 1) * a for q, a in primes[level + 1 :]) for level in range(len(primes))]
    factors = [1] * parts
    best_cost: int | None = None
    best: tuple[int, ...] = tuple(factors)

    def visit(level: int, position: int, remaining: int, cost: int) -> None:
        nonlocal best_cost, best
        if level == len(primes):
            if best_cost is None or cost < best_cost:
                best_cost, best = cost, tuple(factors)
            return
        prime = primes[level][0]
        if best_cost is not None:
            slack = remaining * (prime - 1) + slack_after[level]
            cheapest = min(b * w for b, w in zip(factors, weights, strict=True))
            if cost + cheapest * slack >= best_cost:
                return
        last = position == parts - 1
        for exponent in (remaining,) if last else range(remaining + 1):
            old = factors[position]
            power = prime**exponent
            factors[position] = old * power
            new_cost = cost + old * weights[position] * (power - 1)
            if last:
                following = primes[level + 1][1] if level + 1 < len(primes) else 0
                visit(level + 1, 0, following, new_cost)
            else:
                visit(level, position + 1, remaining - exponent, new_cost)
            factors[position] = old

    visit(0, 0, primes[0][1], sum(weights))
    assert best_cost is not None
    greedy = greedy_split(size, extents)
    if sum(b * w for b, w in zip(greedy, weights, strict=True)) == best_cost:
        return greedy
    return best
