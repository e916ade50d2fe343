"""Build the native part of the Legion backend once, into a cache folder.

What is built (sources in ``mapper_gym/legion/native/``):

* ``libcuda.so.1``: the stand-in driver (``cuda_standin.c``) that lets the CUDA-enabled Legion
  libraries of the legate wheel load where no NVIDIA driver exists (legion.md). Where a real
  driver is installed it is not built, and the real one is used.
* ``mapper-gym-legion``: one executable for every application (``driver.cc`` picks the
  application named by its first argument), linked from the DSL mapper (``dsl_mapper.cc``,
  ``plan.cc``) and the applications (``apps/*.cc``). One executable keeps the number of link
  steps at one; each heavy translation unit (~8 s and ~460 MB with Legion's headers) is compiled
  separately and cached under a hash of its inputs, so editing one application recompiles that
  file only.

The build folder is ``<cache>/legion/<key>/`` where ``key`` hashes every native source, the
compiler and its flags, the wheel's version and location, and whether the stand-in driver is
used: a rebuild happens exactly when one of them changes. ``<cache>`` is ``$MAPPER_GYM_CACHE``,
else ``$XDG_CACHE_HOME/mapper-gym``, else ``~/.cache/mapper-gym``. Concurrent builds (several
environments, test workers) serialise on a file lock and reuse each other's results.
"""

from __future__ import annotations

import ctypes
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from mapper_gym.legion.wheel import LegionRuntimeFiles, WheelUnavailable, find_runtime

__all__ = [
    "BLAS_DISTRIBUTION",
    "EXECUTABLE_NAME",
    "BlasFiles",
    "BuildError",
    "LegionBuild",
    "build",
    "build_key",
    "cache_root",
    "find_blas",
    "native_dir",
    "real_cuda_driver",
]

#: Bumped when the build procedure itself changes (part of every cache key).
BUILD_FORMAT = 1
EXECUTABLE_NAME = "mapper-gym-legion"
STANDIN_NAME = "libcuda.so.1"

#: Translation units of the executable, compiled one by one (paths relative to native/).
TRANSLATION_UNITS: tuple[str, ...] = (
    "dsl_mapper.cc",
    "apps/stencil.cc",
    "apps/circuit.cc",
    "apps/pennant.cc",
    "apps/distal_2d.cc",
    "apps/distal_3d.cc",
    "driver.cc",
    "plan.cc",
)
#: Headers every translation unit may include (their text is part of every object's key).
HEADERS: tuple[str, ...] = ("plan.h", "dsl_mapper.h", "apps/common.h", "apps/distal.h")
STANDIN_SOURCE = "cuda_standin.c"

CXXFLAGS: tuple[str, ...] = (
    "-std=c++17", "-O2", "-fPIC", "-Wall", "-Wextra", "-Wno-deprecated-declarations",
    "-Wno-unused-function",
)
CFLAGS: tuple[str, ...] = ("-O2", "-fPIC", "-Wall", "-Wextra")


class BuildError(RuntimeError):
    """The native build failed; the message carries the failing command's output."""


#: The CBLAS the DISTAL matmul leaves call (``scipy_cblas_dgemm``): the PyPI wheel
#: ``scipy-openblas32`` (OpenBLAS with 32-bit integers and ``scipy_``-prefixed symbols), which
#: ``python -m mapper_gym.legion install`` installs next to the Legion runtime.
BLAS_DISTRIBUTION = "scipy-openblas32"


@dataclass(frozen=True)
class BlasFiles:
    """Where the installed ``scipy-openblas32`` wheel keeps its header and library."""

    include_dir: Path
    lib_dir: Path
    library: str
    version: str

    @property
    def identity(self) -> str:
        """What the build key records about the BLAS: version, library and its location."""
        return f"{BLAS_DISTRIBUTION}={self.version}:{self.lib_dir}/{self.library}"


def find_blas() -> BlasFiles:
    """The installed ``scipy-openblas32`` wheel; raises :class:`WheelUnavailable` (the Legion
    backend's "install first" error) when it is missing."""
    import importlib.metadata

    try:
        import scipy_openblas32 as blas
        version = importlib.metadata.version(BLAS_DISTRIBUTION)
    except (ImportError, importlib.metadata.PackageNotFoundError):
        raise WheelUnavailable(
            f"the BLAS of the DISTAL applications is not installed: run `python -m "
            f"mapper_gym.legion install` (pip install {BLAS_DISTRIBUTION})") from None
    return BlasFiles(Path(blas.get_include_dir()), Path(blas.get_lib_dir()),
                     blas.get_library(), version)


@dataclass(frozen=True)
class LegionBuild:
    """A finished build: where the executable is and how it was made."""

    directory: Path
    key: str
    runtime: LegionRuntimeFiles
    #: True when the stand-in ``libcuda.so.1`` was built (no real NVIDIA driver here).
    standin_driver: bool

    @property
    def executable(self) -> Path:
        return self.directory / "bin" / EXECUTABLE_NAME

    def environment(self) -> dict[str, str]:
        """Extra environment for running the executable (none needed: rpaths are absolute)."""
        return {}


def native_dir() -> Path:
    """The folder of the C/C++ sources shipped with the package."""
    return Path(__file__).resolve().parent / "native"


def cache_root() -> Path:
    """``$MAPPER_GYM_CACHE``, else ``$XDG_CACHE_HOME/mapper-gym``, else ``~/.cache/mapper-gym``."""
    explicit = os.environ.get("MAPPER_GYM_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "mapper-gym"


def real_cuda_driver() -> bool:
    """True when a real NVIDIA driver library can be loaded in this process.

    A library that carries our marker symbol is our own stand-in (found, say, through
    ``LD_LIBRARY_PATH``), not a driver.
    """
    try:
        lib = ctypes.CDLL("libcuda.so.1")
    except OSError:
        return False
    try:
        lib.mapper_gym_cuda_standin  # noqa: B018 - probing for the symbol is the point
    except AttributeError:
        return True
    return False


def _compiler(env: str, default: str) -> str:
    return os.environ.get(env, default)


def _compiler_identity(compiler: str) -> str:
    try:
        out = subprocess.run([compiler, "--version"], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError) as error:
        raise BuildError(f"no working compiler {compiler!r}: {error}") from None
    return out.stdout.splitlines()[0] if out.stdout else compiler


def _digest(*parts: bytes | str) -> str:
    h = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()[:24]


@dataclass(frozen=True)
class _BuildInputs:
    """Everything a build depends on, and the keys derived from it."""

    sources: dict[str, bytes]
    #: Hash of the compilers, their flags and the wheel: part of every object's key.
    toolchain: str
    #: Hash of everything: names the build folder.
    key: str

    @staticmethod
    def read(src: Path, runtime: LegionRuntimeFiles, standin: bool,
             blas: BlasFiles | None = None) -> _BuildInputs:
        cxx, cc = _compiler("CXX", "g++"), _compiler("CC", "gcc")
        sources = {name: (src / name).read_bytes()
                   for name in (*TRANSLATION_UNITS, *HEADERS, STANDIN_SOURCE)}
        blas = blas or find_blas()
        toolchain = _digest(str(BUILD_FORMAT), _compiler_identity(cxx), " ".join(CXXFLAGS),
                            _compiler_identity(cc), " ".join(CFLAGS), runtime.version,
                            str(runtime.package_dir), blas.identity)
        key = _digest(toolchain, str(standin),
                      *(f"{name}\0".encode() + sources[name] for name in sorted(sources)))
        return _BuildInputs(sources, toolchain, key)


def build_key(source_dir: Path | None = None, *, standin: bool | None = None) -> str:
    """The cache key a build of ``source_dir`` (default: the package's sources) would get."""
    return _BuildInputs.read(source_dir or native_dir(), find_runtime(),
                             not real_cuda_driver() if standin is None else standin).key


@contextmanager
def _locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class _Progress:
    """What the build is doing, on a terminal as one live line, elsewhere one line per step."""

    def __init__(self, stream: TextIO | None, total: int) -> None:
        self.stream = stream
        self.total = total
        self.done = 0
        self.running: list[str] = []
        self.started = time.monotonic()
        self.live = bool(stream is not None and stream.isatty())
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def __enter__(self) -> _Progress:
        if self.live:
            self._ticker = threading.Thread(target=self._tick, daemon=True)
            self._ticker.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
        if self.live and self.stream is not None:
            self.stream.write("\r\033[K")
            self.stream.flush()

    def message(self, text: str) -> None:
        if self.stream is None:
            return
        with self._lock:
            if self.live:
                self.stream.write("\r\033[K")
            self.stream.write(f"[mapper-gym legion] {text}\n")
            self.stream.flush()

    def start(self, name: str) -> None:
        with self._lock:
            self.running.append(name)

    def finish(self, name: str, seconds: float, what: str) -> None:
        with self._lock:
            self.running.remove(name)
            self.done += 1
            done = self.done
        self.message(f"[{done}/{self.total}] {what} {name} ({seconds:.1f} s)")

    def _tick(self) -> None:
        spinner = "|/-\\"
        turn = 0
        while not self._stop.wait(0.2):
            with self._lock:
                running = ", ".join(self.running) or "..."
                line = (f"{spinner[turn % 4]} building the Legion backend: {self.done}/"
                        f"{self.total} done, now {running} "
                        f"[{time.monotonic() - self.started:.0f} s]")
                assert self.stream is not None
                self.stream.write("\r\033[K" + line[:150])
                self.stream.flush()
            turn += 1


_log_lock = threading.Lock()


def _run(command: Sequence[str], what: str, log: Path | None = None) -> float:
    """Run one build step; its compiler messages (warnings too) go to ``log``."""
    started = time.monotonic()
    done = subprocess.run(list(command), capture_output=True, text=True)
    if log is not None:
        with _log_lock, open(log, "a") as handle:
            handle.write(f"$ {' '.join(command)}\n{done.stdout}{done.stderr}")
    if done.returncode != 0:
        output = (done.stdout + done.stderr).strip()
        tail = "\n".join(output.splitlines()[-60:])
        raise BuildError(f"{what} failed (exit {done.returncode}):\n$ {' '.join(command)}\n{tail}")
    return time.monotonic() - started


def build(
    *,
    force: bool = False,
    jobs: int | None = None,
    progress: TextIO | bool | None = True,
    cache: Path | None = None,
) -> LegionBuild:
    """Build (or find in the cache) the stand-in driver and the executable.

    Args:
        force: rebuild even when a finished build with the same key exists.
        jobs: parallel compile jobs (default: up to 2, the machine's cores).
        progress: where to show progress: ``True`` for stderr, a stream, or ``False``/``None``.
        cache: cache root (default :func:`cache_root`).

    Raises:
        WheelUnavailable: the legate wheel is not installed or cannot exist here.
        BuildError: a compile or link step failed (the message has the compiler output).
    """
    runtime = find_runtime()
    blas = find_blas()
    stream: TextIO | None = sys.stderr if progress is True else (progress or None)
    root = (cache or cache_root()) / "legion"
    cxx, cc = _compiler("CXX", "g++"), _compiler("CC", "gcc")
    standin = not real_cuda_driver()
    src = native_dir()
    inputs = _BuildInputs.read(src, runtime, standin, blas)
    sources, toolchain, key = inputs.sources, inputs.toolchain, inputs.key
    directory = root / key
    done_marker = directory / "build.json"
    if done_marker.is_file() and not force:
        return LegionBuild(directory, key, runtime, standin)

    with _locked(root / ".lock"):
        if done_marker.is_file() and not force:  # another process finished it meanwhile
            return LegionBuild(directory, key, runtime, standin)
        (directory / "bin").mkdir(parents=True, exist_ok=True)
        (directory / "lib").mkdir(parents=True, exist_ok=True)
        objects_dir = root / "objects"
        objects_dir.mkdir(parents=True, exist_ok=True)
        include = ([f"-isystem{d}" for d in runtime.include_dirs]
                   + [f"-isystem{blas.include_dir}", f"-I{src}"])
        log = directory / "build.log"
        log.write_text("")
        header_text = b"".join(sources[h] for h in HEADERS)

        steps: list[tuple[str, str, Callable[[], float]]] = []
        objects: list[Path] = []
        for unit in TRANSLATION_UNITS:
            digest = _digest(toolchain, sources[unit], header_text)
            obj = objects_dir / f"{Path(unit).stem}-{digest}.o"
            objects.append(obj)
            if obj.is_file() and not force:
                continue
            tmp = obj.with_suffix(f".{os.getpid()}.tmp")

            def compile_unit(unit: str = unit, obj: Path = obj, tmp: Path = tmp) -> float:
                seconds = _run([cxx, *CXXFLAGS, *include, "-c", str(src / unit), "-o", str(tmp)],
                               f"compiling {unit}", log)
                os.replace(tmp, obj)
                return seconds

            steps.append((unit, "compiled", compile_unit))
        standin_lib = directory / "lib" / STANDIN_NAME
        if standin:
            steps.append((STANDIN_NAME, "built", lambda: _run(
                [cc, *CFLAGS, "-shared", "-Wl,-soname," + STANDIN_NAME, str(src / STANDIN_SOURCE),
                 "-o", str(standin_lib)], "building the stand-in CUDA driver", log)))
        with _Progress(stream, len(steps) + 1) as shown:
            shown.message(
                f"building the Legion backend in {directory} ({len(steps)} step(s) before "
                "linking" + ("; stand-in CUDA driver, no NVIDIA driver here" if standin else "")
                + ")")
            workers = max(1, min(jobs or min(2, os.cpu_count() or 1), len(steps) or 1))
            with ThreadPoolExecutor(max_workers=workers) as pool:
                futures: list[tuple[str, str, Future[float]]] = []
                for name, what, step in steps:
                    def run_step(name: str = name, step: Callable[[], float] = step) -> float:
                        shown.start(name)
                        return step()
                    futures.append((name, what, pool.submit(run_step)))
                errors = []
                for name, what, future in futures:
                    try:
                        shown.finish(name, future.result(), what)
                    except BuildError as error:
                        errors.append(error)
                        with shown._lock:
                            if name in shown.running:
                                shown.running.remove(name)
                if errors:
                    raise errors[0]
            exe = directory / "bin" / EXECUTABLE_NAME
            link = [cxx, *(str(o) for o in objects), "-o", str(exe) + ".tmp"]
            if standin:
                link += [f"-L{directory / 'lib'}", "-Wl,--no-as-needed", f"-l:{STANDIN_NAME}",
                         "-Wl,--as-needed", f"-Wl,-rpath,{directory / 'lib'}"]
            link += [f"-L{runtime.lib_dir}", *(f"-l{lib}" for lib in runtime.libraries),
                     f"-Wl,-rpath,{runtime.lib_dir}"]
            link += [f"-L{blas.lib_dir}", f"-l{blas.library}", f"-Wl,-rpath,{blas.lib_dir}"]
            started = time.monotonic()
            _run(link, "linking", log)
            os.replace(str(exe) + ".tmp", exe)
            shown.message(f"[{len(steps) + 1}/{len(steps) + 1}] linked {EXECUTABLE_NAME} "
                          f"({time.monotonic() - started:.1f} s)")
        # The executable must at least load (dynamic libraries, stand-in driver).
        check = subprocess.run([str(exe), "--list"], capture_output=True, text=True)
        if check.returncode != 0:
            raise BuildError(f"the built executable does not start:\n{check.stderr.strip()}")
        done_marker.write_text(json.dumps({
            "key": key,
            "legate": runtime.version,
            "legate_dir": str(runtime.package_dir),
            "standin_driver": standin,
            "apps": check.stdout.split(),
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
        }, indent=2))
        _prune_old_builds(root, keep=directory)
    return LegionBuild(directory, key, runtime, standin)


def _prune_old_builds(root: Path, keep: Path, max_builds: int = 4) -> None:
    """Keep the cache bounded: the newest few finished builds survive."""
    builds = sorted((d for d in root.iterdir() if d.is_dir() and (d / "build.json").is_file()
                     and d != keep), key=lambda d: d.stat().st_mtime, reverse=True)
    for old in builds[max_builds - 1:]:
        shutil.rmtree(old, ignore_errors=True)
