"""The nine benchmark applications of mapper-gym and their expert and default mappers.

Each application is a module that builds an :class:`mapper_gym.appmodel.AppModel` (data plus
small functions) for a problem preset on a machine shape; the simulator needs nothing else.
``get_app(name)`` returns the registry entry::

    from benchmarks import get_app
    from mapper_gym.appmodel import MachineShape

    app = get_app("Stencil")
    model = app.build(MachineShape(nodes=1, gpus_per_node=4), preset="A")
    expert_text = app.expert_mapper()
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cache
from importlib import resources

from mapper_gym.appmodel import AppModel, MachineShape
from mapper_gym.dsl.context import AppInfo, Topology

#: The nine applications in the paper's order.
APP_NAMES: tuple[str, ...] = (
    "Circuit", "Stencil", "Pennant", "Cannon", "SUMMA", "PUMMA", "Johnson", "Solomonik", "COSMA",
)

_MODULES = {name: f"benchmarks.{name.lower()}" for name in APP_NAMES}


@dataclass(frozen=True)
class Application:
    """Registry entry of one application."""

    name: str
    module: str

    def _mod(self):
        return importlib.import_module(self.module)

    @property
    def presets(self) -> tuple[str, ...]:
        """Problem presets: ``"A"`` (the group's single P100-node sizes, scaled with N where the
        group did), ``"B"`` (the multi-node V100-cluster sizes) and ``"small"`` (tests)."""
        return tuple(self._mod().PRESETS)

    def parameters(self, machine: MachineShape, preset: str = "A", **overrides: int) -> dict:
        """The program's parameters for a preset on a machine (without building the model)."""
        return self._mod().parameters(machine, preset, **overrides)

    def build(self, machine: MachineShape, preset: str = "A", **overrides: int) -> AppModel:
        """The full application model; ``overrides`` replace individual parameters."""
        return self._mod().build(machine, preset, **overrides)

    def expert_mapper(self, machine: MachineShape | Topology | None = None) -> str:
        """The expert mapping program (DSL text) written from apps.md's expert policy.

        ``machine`` selects the build the program is written for: on a machine without GPUs an
        application with a separate CPU build (the DISTAL matmuls, apps.md §4.1) has its own
        expert, ``mappers/<app>_expert_cpu.dsl``. Without ``machine``, or for applications with
        one build, it is the program for the GPU build (``mappers/<app>_expert.dsl``)."""
        return _mapper_text(self.name.lower(), "expert", _cpu_build(machine))

    def default_mapper(self, machine: MachineShape | Topology | None = None) -> str:
        """A program reproducing Legion's default mapper policy (DSL text); ``machine`` as for
        :meth:`expert_mapper` (the default policy is the same for both builds so far)."""
        return _mapper_text(self.name.lower(), "default", _cpu_build(machine))

    def app_info(self) -> AppInfo:
        """Task and region names (machine- and size-independent) for the checker and agents."""
        return _app_info(self.name)


@cache
def _app_info(name: str) -> AppInfo:
    app = get_app(name)
    return app.build(MachineShape(nodes=1, gpus_per_node=4), preset="small").app_info()


def _cpu_build(machine: MachineShape | Topology | None) -> bool:
    """True when ``machine`` runs the applications' CPU builds (it has no GPU)."""
    if machine is None:
        return False
    if isinstance(machine, MachineShape):
        return machine.gpus_per_node == 0
    return machine.processors_per_node("GPU") == 0


@cache
def _mapper_text(stem: str, kind: str, cpu_build: bool = False) -> str:
    mappers = resources.files(__name__).joinpath("mappers")
    if cpu_build and mappers.joinpath(f"{stem}_{kind}_cpu.dsl").is_file():
        return mappers.joinpath(f"{stem}_{kind}_cpu.dsl").read_text(encoding="utf-8")
    return mappers.joinpath(f"{stem}_{kind}.dsl").read_text(encoding="utf-8")


def get_app(name: str) -> Application:
    """The application called ``name`` (case-insensitive; one of :data:`APP_NAMES`)."""
    for known in APP_NAMES:
        if known.lower() == name.lower():
            return Application(known, _MODULES[known])
    raise KeyError(f"unknown application {name!r}; known: {', '.join(APP_NAMES)}")


__all__ = ["APP_NAMES", "Application", "get_app"]
