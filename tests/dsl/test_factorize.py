"""Factor choice of balance_split, greedy_split and auto_split (dsl.md §8.8–§8.10)."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mapper_gym.dsl import factorize
from mapper_gym.dsl.values import EvalError


@pytest.mark.parametrize(
    ("n", "factors"),
    [
        (1, []),
        (2, [2]),
        (12, [2, 2, 3]),
        (97, [97]),
        (360, [2, 2, 2, 3, 3, 5]),
        (1_048_576, [2] * 20),
        (1_000_003, [1_000_003]),
        (999_983 * 2, [2, 999_983]),
    ],
)
def test_prime_factors(n, factors):
    assert factorize.prime_factors(n) == factors


@given(st.integers(1, 200_000))
def test_prime_factors_multiply_back(n):
    factors = factorize.prime_factors(n)
    assert math.prod(factors) == n
    assert factors == sorted(factors)
    assert all(all(p % d for d in range(2, math.isqrt(p) + 1)) for p in factors)


@pytest.mark.parametrize(
    ("size", "parts", "expected"),
    [
        (6, 2, (3, 2)),
        (8, 2, (4, 2)),
        (12, 2, (6, 2)),
        (12, 3, (3, 2, 2)),
        (30, 3, (5, 3, 2)),
        (7, 3, (7, 1, 1)),
        (12, 1, (12,)),
        (1, 4, (1, 1, 1, 1)),
    ],
)
def test_balance_split_table(size, parts, expected):
    assert factorize.balance_split(size, parts) == expected


@given(st.integers(1, 100_000), st.integers(1, 8))
def test_balance_split_product_and_order(size, parts):
    factors = factorize.balance_split(size, parts)
    assert len(factors) == parts
    assert math.prod(factors) == size
    assert list(factors) == sorted(factors, reverse=True)


# The §8.10 table: O, L, minimal-cost candidates, greedy_split, auto_split.
SECTION_8_10 = [
    (12, (6, 4), [(4, 3)], (6, 2), (4, 3)),
    (6, (1, 1), [(2, 3), (3, 2)], (3, 2), (3, 2)),
    (4, (2, 4), [(1, 4), (2, 2)], (2, 2), (2, 2)),
    (24, (2, 2, 3), [(2, 3, 4), (3, 2, 4)], (4, 2, 3), (2, 3, 4)),
    (3, (6, 4), [(3, 1)], (3, 1), (3, 1)),
]


def brute_force_candidates(size: int, extents: tuple[int, ...]) -> list[tuple[int, ...]]:
    """Every ordered factorisation of ``size`` into ``len(extents)`` factors, by plain search."""
    divisors = [d for d in range(1, size + 1) if size % d == 0]
    return [
        combo
        for combo in itertools.product(divisors, repeat=len(extents))
        if math.prod(combo) == size
    ]


def cost(factors, extents) -> Fraction:
    return sum((Fraction(b, L) for b, L in zip(factors, extents, strict=True)), Fraction(0))


@pytest.mark.parametrize(("size", "extents", "minimal", "greedy", "auto"), SECTION_8_10)
def test_section_8_10_table(size, extents, minimal, greedy, auto):
    assert factorize.greedy_split(size, extents) == greedy
    assert factorize.auto_split(size, extents) == auto
    candidates = brute_force_candidates(size, extents)
    best = min(cost(c, extents) for c in candidates)
    assert sorted(c for c in candidates if cost(c, extents) == best) == minimal


def test_section_8_10_costs():
    assert cost((4, 3), (6, 4)) == Fraction(17, 12)
    assert cost((3, 4), (6, 4)) == cost((6, 2), (6, 4)) == Fraction(3, 2)
    numerator, denominator = factorize.split_cost((4, 3), (6, 4))
    assert Fraction(numerator, denominator) == Fraction(17, 12)


def test_exponent_spreads_are_lexicographic():
    assert factorize.exponent_spreads(2, 2) == [(0, 2), (1, 1), (2, 0)]
    spreads = factorize.exponent_spreads(3, 3)
    assert spreads == sorted(spreads)
    assert len(spreads) == math.comb(5, 2)
    assert all(sum(s) == 3 for s in spreads)


def enumeration_order(size: int, parts: int) -> list[tuple[int, ...]]:
    """§8.10 step 2, written independently: largest prime's spreads outermost."""
    exponents = factorize.prime_exponents(size)
    primes = sorted(exponents, reverse=True)
    lists = [factorize.exponent_spreads(exponents[q], parts) for q in primes]
    order = []
    for combo in itertools.product(*lists):
        order.append(
            tuple(
                math.prod(q ** spread[i] for q, spread in zip(primes, combo, strict=True))
                for i in range(parts)
            )
        )
    return order


def reference_auto_split(size: int, extents: tuple[int, ...]) -> tuple[int, ...]:
    if size == 1:
        return (1,) * len(extents)
    order = enumeration_order(size, len(extents))
    best = min(cost(c, extents) for c in order)
    minimal = [c for c in order if cost(c, extents) == best]
    greedy = factorize.greedy_split(size, extents)
    return greedy if greedy in minimal else minimal[0]


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 720), st.lists(st.integers(1, 12), min_size=1, max_size=3).map(tuple))
def test_auto_split_minimises_over_all_factorisations(size, extents):
    """Brute force over ALL ordered factorisations, with the §8.10 tie-break."""
    chosen = factorize.auto_split(size, extents)
    assert math.prod(chosen) == size
    candidates = brute_force_candidates(size, extents)
    order = enumeration_order(size, len(extents))
    assert len(set(order)) == len(order)
    assert sorted(candidates) == sorted(order)
    assert len(order) == factorize.auto_split_candidate_count(size, len(extents))
    best = min(cost(c, extents) for c in candidates)
    assert cost(chosen, extents) == best
    assert chosen == reference_auto_split(size, extents)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 5000), st.lists(st.integers(1, 50), min_size=1, max_size=4).map(tuple))
def test_greedy_split_follows_the_rule(size, extents):
    factors = factorize.greedy_split(size, extents)
    assert math.prod(factors) == size
    # Replay §8.9 with Fractions.
    b = [1] * len(extents)
    r = [Fraction(x) for x in extents]
    for p in reversed(factorize.prime_factors(size)):
        j = r.index(max(r))
        b[j] *= p
        r[j] /= p
    assert factors == tuple(b)


def test_ties_use_exact_rationals():
    """Float arithmetic would see 1/3 + 1/3 + 1/3 differ from 1; rationals do not."""
    # Two candidates whose costs tie exactly: (3, 1) and (1, 3) over (3, 3) cost 4/3 each.
    assert factorize.auto_split(3, (3, 3)) == factorize.greedy_split(3, (3, 3)) == (3, 1)
    # Huge extents: float rounding would make these equal; exact comparison does not.
    big = 2_147_483_647
    assert factorize.greedy_split(2, (big, big - 1)) == (2, 1)
    assert factorize.greedy_split(2, (big - 1, big)) == (1, 2)


def test_candidate_count_and_limit():
    assert factorize.auto_split_candidate_count(12, 2) == 3 * 2
    assert factorize.auto_split_candidate_count(24, 3) == math.comb(5, 2) * 3
    size = 2 * 3 * 5 * 7 * 11 * 13 * 17  # 7 distinct primes: 16 positions each → 16**7 > 1e6
    assert factorize.auto_split_candidate_count(size, 16) == 16**7
    with pytest.raises(EvalError) as info:
        factorize.auto_split(size, (1,) * 16)
    assert info.value.code == "E-LIMIT"
    assert info.value.message == "Resource limit exceeded: auto_split candidates (limit 1000000)"
    # A small explicit limit is checked before enumerating as well.
    with pytest.raises(EvalError):
        factorize.auto_split(12, (6, 4), max_candidates=5)
    assert factorize.auto_split(12, (6, 4), max_candidates=6) == (4, 3)


def test_auto_split_of_one():
    assert factorize.auto_split(1, (5, 7, 9)) == (1, 1, 1)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 5000),
    st.lists(st.integers(1, 40), min_size=1, max_size=5).map(tuple),
)
def test_pruned_search_equals_plain_enumeration(size, extents):
    """The branch-and-bound search returns what full enumeration in §8.10 order returns."""
    if factorize.auto_split_candidate_count(size, len(extents)) > 3000:
        return
    assert factorize.auto_split(size, extents) == reference_auto_split(size, extents)
