"""Machine spaces: ``Machine(K)`` and its transformations (dsl.md §8).

A :class:`MachineSpace` is an immutable view of the processors of one kind. The base space has
size ``(nodes, processors per node)``; every transformation method returns a new space that
remembers its parent and the operation, so that

* *indexing* (``m[i, j]``) maps coordinates back through the operations, newest first (the
  index rule of each operation), down to a base ``(node, processor)``; and
* *forward mapping* (``t.processor(m)``) pushes a base ``(node, processor)`` through the
  operations, oldest first.

Every coordinate is checked against the space being indexed before anything is mapped (dsl.md
§10 #25): a derived space can never alias a processor outside it. Bound errors name the base
dimension(s) a dimension derives from (§8.1), which is why each space carries a *derivation*
set per dimension.

Errors are raised as :class:`~mapper_gym.dsl.values.EvalError` (code + exact message); the
interpreter adds the position.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from mapper_gym.dsl import factorize
from mapper_gym.dsl.values import (
    MSPACE_TYPE,
    EvalError,
    Point,
    PointSet,
    is_int_tuple,
    limit_exceeded,
    render,
    type_name,
)

#: Highest rank a machine space may reach (dsl.md §11).
MAX_RANK = 16
#: Most points a wildcard index may produce (dsl.md §11).
MAX_POINT_SET = 4096
#: Largest dimension balance_split / auto_split / greedy_split accept (dsl.md §11).
MAX_SPLIT_SIZE = 1_048_576
#: Largest ``k`` of balance_split (dsl.md §8.8).
MAX_BALANCE_PARTS = 8

NODE = "node"
PROC = "proc"
_NODE_ONLY = frozenset({NODE})

SHARDING_BOUND = "Sharding node index out of bound!"
SLICE_BOUND = "Slice processor index out of bound!"


def bound_error(value: int, size: int, derivation: frozenset[str]) -> EvalError:
    """E-BOUNDS for a coordinate outside ``0 ≤ value < size`` (dsl.md §8.1)."""
    header = SHARDING_BOUND if derivation == _NODE_ONLY else SLICE_BOUND
    detail = f"{value} < 0" if value < 0 else f"{value} >= {size}"
    return EvalError("E-BOUNDS", f"{header}\n{detail}")


def _legion2mspace_error(value: int, size: int) -> EvalError:
    return EvalError("E-BOUNDS", f"{value} >= {size} in legion2mspace: index out of bound!")


# ---------------------------------------------------------------------------------------------
# Operations: each knows its index rule (``back``) and forward rule (``forward``)
# ---------------------------------------------------------------------------------------------


class _Operation:
    """One transformation step. ``back`` maps coordinates of the result to the parent's;
    ``forward`` maps the parent's to the result's (possibly failing: a slice drops points)."""

    def back(self, coords: list[int]) -> list[int]:  # pragma: no cover - abstract
        raise NotImplementedError

    def forward(self, coords: list[int]) -> list[int]:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass(frozen=True)
class _MultiSplit(_Operation):
    """Dimension ``dim`` becomes ``factors`` (first varies fastest). ``split(d, f)`` is the
    two-factor case ``(f, s/f)``: its rules ``i + f·j`` / ``k ↦ (k % f, k / f)`` coincide."""

    dim: int
    factors: tuple[int, ...]

    def back(self, coords: list[int]) -> list[int]:
        end = self.dim + len(self.factors)
        value, stride = 0, 1
        for i, factor in zip(coords[self.dim : end], self.factors, strict=True):
            value += i * stride
            stride *= factor
        return [*coords[: self.dim], value, *coords[end:]]

    def forward(self, coords: list[int]) -> list[int]:
        value = coords[self.dim]
        pieces = []
        for factor in self.factors:
            pieces.append(value % factor)
            value //= factor
        return [*coords[: self.dim], *pieces, *coords[self.dim + 1 :]]


@dataclass(frozen=True)
class _Merge(_Operation):
    """Dimensions ``first``/``second`` become one of size ``s[first]·s[second]`` at ``position``
    (``second`` varies fastest); ``others`` are the remaining parent dimensions in order."""

    first: int
    second: int
    second_size: int
    position: int
    others: tuple[int, ...]

    def back(self, coords: list[int]) -> list[int]:
        old = [0] * (len(coords) + 1)
        merged = coords[self.position]
        rest = coords[: self.position] + coords[self.position + 1 :]
        for dim, value in zip(self.others, rest, strict=True):
            old[dim] = value
        old[self.first] = merged // self.second_size
        old[self.second] = merged % self.second_size
        return old

    def forward(self, coords: list[int]) -> list[int]:
        rest = [coords[dim] for dim in self.others]
        merged = coords[self.first] * self.second_size + coords[self.second]
        return [*rest[: self.position], merged, *rest[self.position :]]


@dataclass(frozen=True)
class _Swap(_Operation):
    first: int
    second: int

    def back(self, coords: list[int]) -> list[int]:
        swapped = list(coords)
        swapped[self.first], swapped[self.second] = coords[self.second], coords[self.first]
        return swapped

    forward = back


@dataclass(frozen=True)
class _Slice(_Operation):
    dim: int
    lo: int
    hi: int

    def back(self, coords: list[int]) -> list[int]:
        shifted = list(coords)
        shifted[self.dim] += self.lo
        return shifted

    def forward(self, coords: list[int]) -> list[int]:
        value = coords[self.dim]
        if value < self.lo:
            raise EvalError(
                "E-BOUNDS",
                f"old_point[{self.dim}]={value} < {self.lo}, "
                "not existing in the machine model using SliceMSpace",
            )
        if value > self.hi:
            raise _legion2mspace_error(value - self.lo, self.hi - self.lo + 1)
        shifted = list(coords)
        shifted[self.dim] = value - self.lo
        return shifted


@dataclass(frozen=True)
class _Reverse(_Operation):
    dim: int
    size: int

    def back(self, coords: list[int]) -> list[int]:
        flipped = list(coords)
        flipped[self.dim] = self.size - 1 - coords[self.dim]
        return flipped

    forward = back


# ---------------------------------------------------------------------------------------------
# Machine spaces
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class MachineSpace:
    """A machine space of processors of ``kind`` (DSL values have no equality: ``eq=False``).

    ``size`` is the size tuple; ``derivation[d]`` the base dimensions (``"node"``, ``"proc"``)
    dimension ``d`` derives from. Use :meth:`base` to build ``Machine(K)``.
    """

    TYPE_NAME: ClassVar[str] = MSPACE_TYPE
    kind: str
    size: tuple[int, ...]
    derivation: tuple[frozenset[str], ...]
    parent: MachineSpace | None = field(default=None, repr=False)
    operation: _Operation | None = field(default=None, repr=False)

    @classmethod
    def base(cls, kind: str, nodes: int, processors_per_node: int) -> MachineSpace:
        """``Machine(K)``: size ``(nodes, processors_per_node)`` (dsl.md §8.1)."""
        return cls(kind, (nodes, processors_per_node), (frozenset({NODE}), frozenset({PROC})))

    # -- plain properties -------------------------------------------------------------------

    @property
    def rank(self) -> int:
        return len(self.size)

    @property
    def volume(self) -> int:
        return math.prod(self.size)

    def root(self) -> MachineSpace:
        """The base space ``Machine(K)`` this space was derived from."""
        space = self
        while space.parent is not None:
            space = space.parent
        return space

    @property
    def nodes(self) -> int:
        return self.root().size[0]

    @property
    def processors_per_node(self) -> int:
        return self.root().size[1]

    def render(self) -> str:
        return f"MSpace({self.kind}, {render(self.size)})"

    # -- transformations (dsl.md §8.2–§8.10) ----------------------------------------------------

    def _derive(
        self, size: Sequence[int], derivation: Sequence[frozenset[str]], op: _Operation
    ) -> MachineSpace:
        if len(size) > MAX_RANK:
            raise limit_exceeded("machine rank", MAX_RANK)
        return MachineSpace(self.kind, tuple(size), tuple(derivation), self, op)

    def _check_dim(self, op_name: str, dim: int) -> None:
        if not 0 <= dim < self.rank:
            raise EvalError(
                "E-MSPACE",
                f"{op_name}'s arguments have exceeded the allowed dimensions: {self.rank - 1}",
            )

    def _replace_dim(self, dim: int, factors: Sequence[int]) -> MachineSpace:
        size = (*self.size[:dim], *factors, *self.size[dim + 1 :])
        inherited = (self.derivation[dim],) * len(factors)
        derivation = (*self.derivation[:dim], *inherited, *self.derivation[dim + 1 :])
        return self._derive(size, derivation, _MultiSplit(dim, tuple(factors)))

    def split(self, dim: int, factor: int) -> MachineSpace:
        """Dimension ``dim`` becomes ``(factor, s[dim] / factor)`` (§8.2)."""
        self._check_dim("Split", dim)
        if factor <= 0:
            raise EvalError("E-MSPACE", f"Split's factor must be positive: {factor}")
        extent = self.size[dim]
        if extent % factor != 0:
            raise EvalError("E-MSPACE", f"{extent} must be divisible by {factor}")
        return self._replace_dim(dim, (factor, extent // factor))

    def merge(self, first: int, second: int) -> MachineSpace:
        """Dimensions ``first`` and ``second`` become one (``second`` fastest, §8.3)."""
        self._check_dim("Merge", first)
        self._check_dim("Merge", second)
        if first == second:
            raise EvalError("E-MSPACE", "Merge's arguments should be different integers")
        others = tuple(d for d in range(self.rank) if d not in (first, second))
        position = first if first < second else first - 1
        rest_size = [self.size[d] for d in others]
        rest_derivation = [self.derivation[d] for d in others]
        size = [*rest_size[:position], self.size[first] * self.size[second], *rest_size[position:]]
        union = self.derivation[first] | self.derivation[second]
        derivation = [*rest_derivation[:position], union, *rest_derivation[position:]]
        op = _Merge(first, second, self.size[second], position, others)
        return self._derive(size, derivation, op)

    def swap(self, first: int, second: int) -> MachineSpace:
        """Exchange two dimensions (§8.4)."""
        self._check_dim("Swap", first)
        self._check_dim("Swap", second)
        if first == second:
            raise EvalError("E-MSPACE", "Swap's arguments should be different integers")
        size, derivation = list(self.size), list(self.derivation)
        size[first], size[second] = size[second], size[first]
        derivation[first], derivation[second] = derivation[second], derivation[first]
        return self._derive(size, derivation, _Swap(first, second))

    def slice(self, dim: int, lo: int, hi: int) -> MachineSpace:
        """Keep indices ``lo..hi`` (inclusive) of dimension ``dim`` (§8.5)."""
        self._check_dim("Slice", dim)
        extent = self.size[dim]
        if not 0 <= lo <= hi < extent:
            raise EvalError("E-MSPACE", f"Slice out of bound: {extent}")
        size = list(self.size)
        size[dim] = hi - lo + 1
        return self._derive(size, self.derivation, _Slice(dim, lo, hi))

    def reverse(self, dim: int) -> MachineSpace:
        """Reverse the order of dimension ``dim`` (§8.6)."""
        self._check_dim("Reverse", dim)
        return self._derive(self.size, self.derivation, _Reverse(dim, self.size[dim]))

    def _check_split_size(self, dim: int) -> int:
        extent = self.size[dim]
        if extent == 0:
            raise EvalError("E-MSPACE", "Cannot split a dimension of size 0")
        if extent > MAX_SPLIT_SIZE:
            raise limit_exceeded("size of a split dimension", MAX_SPLIT_SIZE)
        return extent

    def balance_split(self, dim: int, parts: int) -> MachineSpace:
        """Replace ``dim`` by ``parts`` near-equal factors (§8.8)."""
        self._check_dim("balance_split", dim)
        if not 1 <= parts <= MAX_BALANCE_PARTS:
            raise EvalError("E-MSPACE", f"Unsupported Balanced Split Dimension: {parts}")
        extent = self._check_split_size(dim)
        if self.rank - 1 + parts > MAX_RANK:
            raise limit_exceeded("machine rank", MAX_RANK)
        return self._replace_dim(dim, factorize.balance_split(extent, parts))

    def _extents_argument(self, op_name: str, extents: object) -> tuple[int, ...]:
        if not is_int_tuple(extents):
            raise EvalError(
                "E-MSPACE",
                "Autosplit's second argument must be tuple of integers, while getting "
                f"{type_name(extents)}",
            )
        values = extents.coords if isinstance(extents, Point) else extents
        assert isinstance(values, tuple)
        if not values or any(v <= 0 for v in values):
            raise EvalError(
                "E-MSPACE", f"{op_name}'s second argument must contain positive integers"
            )
        return values

    def auto_split(self, dim: int, extents: object) -> MachineSpace:
        """Replace ``dim`` by the communication-minimising factors for ``extents`` (§8.10)."""
        return self._extent_split("auto_split", factorize.auto_split, dim, extents)

    def greedy_split(self, dim: int, extents: object) -> MachineSpace:
        """Replace ``dim`` by Legion's default-mapper factors for ``extents`` (§8.9)."""
        return self._extent_split("greedy_split", factorize.greedy_split, dim, extents)

    def _extent_split(self, op_name: str, choose, dim: int, extents: object) -> MachineSpace:
        self._check_dim(op_name, dim)
        values = self._extents_argument(op_name, extents)
        extent = self._check_split_size(dim)
        if self.rank - 1 + len(values) > MAX_RANK:
            raise limit_exceeded("machine rank", MAX_RANK)
        return self._replace_dim(dim, choose(extent, values))

    # -- indexing (index rule) and forward mapping -------------------------------------------

    def check_coords(self, coords: Sequence[int]) -> None:
        """Raise the §8.1 bound error for the first coordinate outside this space."""
        for dim, (value, extent) in enumerate(zip(coords, self.size, strict=True)):
            if value < 0 or value >= extent:
                raise bound_error(value, extent, self.derivation[dim])

    def locate(self, coords: Sequence[int]) -> tuple[int, int]:
        """Base ``(node, processor)`` of in-bound coordinates (index rules, newest first)."""
        current = list(coords)
        space = self
        while space.operation is not None:
            current = space.operation.back(current)
            assert space.parent is not None
            space = space.parent
        return current[0], current[1]

    def point(self, coords: Sequence[int]) -> Point:
        """``m[i0, ..., ir-1]``: bound-checked point (arity must already match)."""
        self.check_coords(coords)
        node, proc = self.locate(coords)
        return Point(self.kind, node, proc)

    def index(self, items: Sequence[int | None]) -> Point | PointSet:
        """``m[...]`` where ``None`` stands for a wildcard ``*`` (dsl.md §7.2).

        Without wildcards the result is a point; otherwise the point-set of all combinations,
        leftmost index varying slowest. ``len(items)`` must equal the rank.
        """
        if len(items) != self.rank:
            raise EvalError(
                "E-INDEX",
                f"Machine index has {len(items)} coordinates, but the machine space has "
                f"{self.rank} dimensions",
            )
        if all(item is not None for item in items):
            return self.point(items)  # type: ignore[arg-type]
        ranges: list[Sequence[int]] = []
        count = 1
        for dim, (item, extent) in enumerate(zip(items, self.size, strict=True)):
            if item is None:
                if extent == 0:
                    raise bound_error(0, 0, self.derivation[dim])
                ranges.append(range(extent))
                count *= extent
            else:
                if item < 0 or item >= extent:
                    raise bound_error(item, extent, self.derivation[dim])
                ranges.append((item,))
        if count > MAX_POINT_SET:
            raise limit_exceeded("points in a point-set", MAX_POINT_SET)
        points = tuple(
            Point(self.kind, *self.locate(coords)) for coords in itertools.product(*ranges)
        )
        return PointSet(self.kind, points)

    def forward(self, node: int, proc: int) -> tuple[int, ...]:
        """Coordinates in this space of base processor ``(node, proc)`` (forward rules).

        Fails when the processor is outside the base machine or dropped by a ``slice``.
        """
        chain: list[_Operation] = []
        space = self
        while space.operation is not None:
            chain.append(space.operation)
            assert space.parent is not None
            space = space.parent
        for value, extent in ((node, space.size[0]), (proc, space.size[1])):
            if value < 0:
                raise EvalError("E-INTERNAL", "Internal error")  # hosts never number below 0
            if value >= extent:
                raise _legion2mspace_error(value, extent)
        coords = [node, proc]
        for op in reversed(chain):
            coords = op.forward(coords)
        return tuple(coords)
