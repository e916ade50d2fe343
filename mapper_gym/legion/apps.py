"""The applications that have a real Legion implementation, and how to call them.

Each entry ties an application of ``benchmarks/`` (its model: task names, requirement lists,
launches, parameters) to the program in ``native/apps/`` that implements it for real, and turns
the model's parameters into the program's command-line flags. The program registers its tasks
under the model's names and launches them with the model's region arguments in the model's
order, which is what lets one lowered plan drive both.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["REAL_APPS", "RealApp", "real_app"]


@dataclass(frozen=True)
class RealApp:
    """A real Legion program for one application."""

    #: Registry name (``benchmarks.APP_NAMES``).
    name: str
    #: The executable's first argument.
    program: str
    #: Model parameter → command-line flag of the program (apps.md's flags).
    flags: Mapping[str, str]
    #: What the implementation simplifies with respect to apps.md (shown in docs and reports).
    notes: tuple[str, ...] = ()

    def arguments(self, params: Mapping[str, int | float]) -> list[str]:
        """The program's flags for a model's parameters (every parameter must have a flag)."""
        unknown = sorted(set(params) - set(self.flags))
        if unknown:
            raise ValueError(f"{self.name}: no command-line flag for parameters {unknown}")
        out: list[str] = []
        for name, flag in self.flags.items():
            if name in params:
                value = params[name]
                out += [flag, str(int(value)) if float(value).is_integer() else str(value)]
        return out


#: What the real 2-D DISTAL matmuls (``native/apps/distal_2d.cc``) change or fix.
_DISTAL_2D_NOTES: tuple[str, ...] = (
    "CPU build (apps.md §4.2): CPU variants instead of the original's OpenMP ones, which this "
    "Legion lacks; the grid covers the machine's CPU processors",
    "task_4 calls OpenBLAS's cblas_dgemm (scipy-openblas32, one thread per call) with leading "
    "dimensions from dimension 0's stride: Fortran order fails the run",
)

#: What the real 3-D DISTAL matmuls (``native/apps/distal_3d.cc``) change or fix.
_DISTAL_3D_NOTES: tuple[str, ...] = (
    "CPU build (apps.md §4.3-§4.5): CPU variants instead of the original's OpenMP ones; grids "
    "from the tables by CPU count (below the smallest count, its grid)",
    "task_4 reduces into A with cblas_dgemm (scipy-openblas32) on the sum-reduction instance, "
    "leading dimensions from dimension 0's stride: Fortran order fails the run",
    "placement is write-discard with an empty body, as in the original: a mapping that moves "
    "a block away from its fill instance loses the values and fails taco_validate",
)

REAL_APPS: dict[str, RealApp] = {
    "Stencil": RealApp(
        name="Stencil",
        program="stencil",
        flags={"nx": "-nx", "ny": "-ny", "ntx": "-ntx", "nty": "-nty", "tsteps": "-tsteps",
               "tprune": "-tprune", "init": "-init"},
        notes=(
            "CPU variants only; the CPU kernels demand SOA, Fortran order on the private tile "
            "(apps.md §2.9) and abort with the original assertion otherwise",
        ),
    ),
    "Circuit": RealApp(
        name="Circuit",
        program="circuit",
        flags={"npp": "-npp", "wpp": "-wpp", "p": "-p", "pps": "-pps", "l": "-l",
               "prune": "-prune", "steps": "-i", "pct": "-pct", "seed": "-s"},
        notes=(
            "CPU variants only (no GPU variants can be registered without a CUDA toolkit)",
            "rp_ghost is the image of each superpiece's real ghost range (other superpieces' "
            "shared nodes its wires reach); the model approximates it by the ±3-piece window",
        ),
    ),
    "Pennant": RealApp(
        name="Pennant",
        program="pennant",
        flags={"nzx": "-nzx", "nzy": "-nzy", "cstop": "-cstop", "prune": "-prune",
               "npieces": "-npieces", "numpcx": "-numpcx", "numpcy": "-numpcy"},
        notes=(
            "CPU variants only (no GPU variants can be registered without a CUDA toolkit)",
            "reduced mesh (apps.md §3.2): the program generates the rectangular nzx × nzy quad "
            "mesh of a Sedov deck in horizontal strips instead of reading a deck file; -nzx, "
            "-nzy and -cstop stand for the deck's mesh size and stop cycle",
            "physics after PENNANT (r-z geometry, polytropic gas, TTS, QCS viscosity) with the "
            "Sedov deck's constants fixed in the program; neighbour sides a task has no map "
            "field for come from index arithmetic (4 consecutive sides per zone)",
        ),
    ),
    "Cannon": RealApp(
        name="Cannon",
        program="cannon",
        flags={"n": "-n", "gx": "-gx", "gy": "-gy"},
        notes=_DISTAL_2D_NOTES,
    ),
    "SUMMA": RealApp(
        name="SUMMA",
        program="summa",
        flags={"n": "-n", "gx": "-gx", "gy": "-gy"},
        notes=_DISTAL_2D_NOTES,
    ),
    "PUMMA": RealApp(
        name="PUMMA",
        program="pumma",
        flags={"n": "-n", "gx": "-gx", "gy": "-gy"},
        notes=_DISTAL_2D_NOTES,
    ),
    "Johnson": RealApp(
        name="Johnson",
        program="johnson",
        flags={"n": "-n", "gdim": "-gdim"},
        notes=_DISTAL_3D_NOTES,
    ),
    "COSMA": RealApp(
        name="COSMA",
        program="cosma",
        flags={"n": "-n", "gx": "-gx", "gy": "-gy", "gz": "-gz"},
        notes=_DISTAL_3D_NOTES,
    ),
    "Solomonik": RealApp(
        name="Solomonik",
        program="solomonik",
        flags={"n": "-n", "rpoc": "-rpoc", "c": "-c", "rpoc3": "-rpoc3"},
        notes=_DISTAL_3D_NOTES,
    ),
}


def real_app(name: str) -> RealApp | None:
    """The real implementation of application ``name`` (case-insensitive), or None."""
    for key, app in REAL_APPS.items():
        if key.lower() == name.lower():
            return app
    return None
