"""Where the Legion runtime comes from: the ``legate`` wheel, installed without its dependencies.

legion.md: NVIDIA's ``legate==26.6.1`` wheel bundles a Legion snapshot with its headers, which is
the only Legion runtime a registry offers for this platform. Its own dependencies (an NCCL wheel,
numpy, h5py, rich) are needed by Legate, not by Legion, so it is installed with ``--no-deps``
(:func:`install`); the ``legion`` extra of the package cannot express that, hence the installer.

Nothing here imports the ``legate`` package (importing it would start Legate's own machinery):
the installed files are located through :func:`importlib.util.find_spec`.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import platform
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

#: The pinned wheel: Legion ``legion-25.12.0-75-g7b770cff5``, Realm ``25.6.1-rc.4``.
LEGATE_VERSION = "26.6.1"
LEGATE_REQUIREMENT = f"legate=={LEGATE_VERSION}"
#: The CBLAS the real DISTAL matmul applications link (``scipy_cblas_dgemm``).
BLAS_REQUIREMENT = "scipy-openblas32>=0.3.27"

#: Platforms the wheel is published for (cp311, manylinux_2_28).
SUPPORTED_PLATFORMS: tuple[tuple[str, str], ...] = (("Linux", "x86_64"),)

__all__ = [
    "LEGATE_REQUIREMENT",
    "LEGATE_VERSION",
    "LegionRuntimeFiles",
    "WheelUnavailable",
    "find_runtime",
    "install",
    "platform_problem",
]


class WheelUnavailable(RuntimeError):
    """The Legion runtime of the legate wheel is not installed (or not usable) here; the
    message says why and what to run."""


@dataclass(frozen=True)
class LegionRuntimeFiles:
    """The parts of the installed wheel a build needs."""

    package_dir: Path
    version: str

    @property
    def include_dirs(self) -> tuple[Path, ...]:
        deps = self.package_dir / "include" / "legate" / "deps"
        return (deps, deps / "mappers")

    @property
    def lib_dir(self) -> Path:
        return self.package_dir / "lib64"

    @property
    def libraries(self) -> tuple[str, ...]:
        return ("legion-legate", "realm-legate")


def platform_problem() -> str | None:
    """Why the wheel cannot exist on this platform, or None when it can."""
    system, machine = platform.system(), platform.machine()
    if (system, machine) not in SUPPORTED_PLATFORMS:
        return (f"the {LEGATE_REQUIREMENT} wheel (the Legion runtime) is only published for "
                f"Linux x86_64, not {system} {machine}")
    if sys.version_info[:2] != (3, 11):
        return (f"the {LEGATE_REQUIREMENT} wheel is built for CPython 3.11, not "
                f"{platform.python_version()}")
    return None


def find_runtime() -> LegionRuntimeFiles:
    """The installed wheel's files; raises :class:`WheelUnavailable` with the reason."""
    problem = platform_problem()
    if problem is not None:
        raise WheelUnavailable(problem)
    try:
        version = importlib.metadata.version("legate")
    except importlib.metadata.PackageNotFoundError:
        raise WheelUnavailable(
            f"the Legion runtime is not installed: run `python -m mapper_gym.legion install` "
            f"(pip install --no-deps {LEGATE_REQUIREMENT})"
        ) from None
    if version != LEGATE_VERSION:
        raise WheelUnavailable(
            f"legate {version} is installed, but the Legion backend is built against "
            f"{LEGATE_VERSION}: run `python -m mapper_gym.legion install`"
        )
    spec = importlib.util.find_spec("legate")
    if spec is None or not spec.submodule_search_locations:
        raise WheelUnavailable("the legate package is registered but its files are missing")
    files = LegionRuntimeFiles(Path(next(iter(spec.submodule_search_locations))), version)
    missing = [p for p in (*files.include_dirs, files.lib_dir) if not p.is_dir()]
    if not (files.include_dirs[0] / "legion.h").is_file():
        missing.append(files.include_dirs[0] / "legion.h")
    if missing:
        raise WheelUnavailable(
            "the legate wheel is incomplete (missing " + ", ".join(map(str, missing)) + ")"
        )
    return files


def install(quiet: bool = False) -> int:
    """``pip install --no-deps legate==26.6.1 scipy-openblas32`` with this interpreter (the
    Legion runtime and the BLAS of the DISTAL applications); returns pip's exit code.

    A platform without the wheel is reported and returns 1 without calling pip.
    """
    problem = platform_problem()
    if problem is not None:
        print(f"mapper-gym: cannot install the Legion runtime: {problem}", file=sys.stderr)
        return 1
    # scipy-openblas32 (no dependencies of its own): the CBLAS of the DISTAL applications.
    command = [sys.executable, "-m", "pip", "install", "--no-deps", LEGATE_REQUIREMENT,
               BLAS_REQUIREMENT]
    if quiet:
        command.append("--quiet")
    return subprocess.call(command)
