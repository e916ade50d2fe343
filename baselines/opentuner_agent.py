"""OpenTuner as an agent: its ask/tell API driven in-process (paper.md: execution time as the
scalar objective, a high penalty for failures).

OpenTuner 0.8.8 was written as a command-line tuner, and using it as a library needs care:

* **Database.** It records every configuration in a SQLAlchemy database and detects duplicate
  requests with a query on it; by default the database is ``./opentuner.db/<host>.db``. We
  always use an in-memory SQLite database (``sqlite://``), one per agent reset. It needs
  ``SQLAlchemy<2``: with 2.x the duplicate query silently stops matching and configurations
  are measured twice (pin ``SQLAlchemy==1.4.54``, the ``[opentuner]`` extra).
* **Files and logging.** Its first run configures the root logger with a console handler and
  a ``FileHandler('opentuner.log')`` in the working directory, and importing it replaces
  ``logging.Formatter`` globally. We skip its logging set-up while constructing the tuner,
  restore ``logging.Formatter`` after the import and give the ``opentuner`` logger a
  NullHandler (its warnings still reach handlers the user configured).
* **Host probing.** It reads ``/proc/cpuinfo`` (leaking the file handle) to label results
  with the host; our measurement driver records a fixed machine instead, so runs do not depend
  on the host.
* **Randomness.** Its techniques draw from the global ``random`` and ``numpy.random``
  generators. Every call into OpenTuner runs with the agent's own generator states swapped in
  (and the caller's restored afterwards), so a seed fixes the sequence and OpenTuner neither
  disturbs nor is disturbed by other users of the global generators.
* **Order.** Differential evolution picks the population member to replace by wall-clock
  timestamps (ties and clock resolution make the choice timing-dependent) and draws parents
  from a ``set`` of population members, whose order follows memory addresses. We give those
  modules a logical clock (a counter: the same order as real time, without ties) and hash
  population members by their configuration's SHA-256, so a seed fixes every choice, across
  runs and processes.
* **Warnings.** Its SQLAlchemy 1.x usage emits deprecation warnings; they are silenced inside
  OpenTuner calls only.

Duplicates: OpenTuner never hands out a configuration it already requested. Different
configurations can still render the same program (parameters that are inactive under the
chosen processor kinds); such a request is answered from the results already measured,
without an evaluation.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import random
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np

from baselines._common import SpaceAgent
from mapper_gym.agent import AgentInfo, StepRecord
from mapper_gym.space import Config

#: Objective value of a failed run: 1000 times slower than the expert mapper.
DEFAULT_FAILURE_PENALTY = 1000.0

_MISSING_MESSAGE = (
    "the OpenTuner baseline needs opentuner==0.8.8 and SQLAlchemy<2: "
    "pip install 'mapper-gym[opentuner]'"
)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _import_opentuner() -> dict[str, Any]:
    """Import OpenTuner once, undoing its import-time side effects; the names we use."""
    cached = _import_opentuner.__dict__.get("modules")
    if cached is not None:
        return cached
    formatter = logging.Formatter
    try:
        with _quiet():
            import opentuner
            import sqlalchemy
            from opentuner import tuningrunmain
            from opentuner.api import TuningRunManager
            from opentuner.measurement.driver import MeasurementDriver
            from opentuner.measurement.interface import DefaultMeasurementInterface
            from opentuner.resultsdb.models import Machine, Result
            from opentuner.search.manipulator import (
                ConfigurationManipulator,
                EnumParameter,
                IntegerParameter,
            )
    except ImportError as error:
        raise ImportError(_MISSING_MESSAGE) from error
    finally:
        logging.Formatter = formatter  # opentuner.tuningrunmain replaces it on import
    if int(sqlalchemy.__version__.split(".")[0]) >= 2:
        raise ImportError(
            f"SQLAlchemy {sqlalchemy.__version__} breaks OpenTuner's duplicate detection; "
            + _MISSING_MESSAGE
        )
    _make_search_order_deterministic()
    logger = logging.getLogger("opentuner")
    if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
        logger.addHandler(logging.NullHandler())

    class FixedMachineDriver(MeasurementDriver):
        """Records results against a fixed machine label instead of probing the host."""

        def get_machine(self):
            machine = Machine(name="mapper-gym", cpu="simulated", cores=1, memory_gb=0.0,
                              machine_class=self.get_machine_class())
            self.session.add(machine)
            return machine

    modules = {
        "opentuner": opentuner,
        "tuningrunmain": tuningrunmain,
        "TuningRunManager": TuningRunManager,
        "DefaultMeasurementInterface": DefaultMeasurementInterface,
        "Result": Result,
        "ConfigurationManipulator": ConfigurationManipulator,
        "EnumParameter": EnumParameter,
        "IntegerParameter": IntegerParameter,
        "FixedMachineDriver": FixedMachineDriver,
    }
    _import_opentuner.__dict__["modules"] = modules
    return modules


def opentuner_techniques() -> tuple[str, ...]:
    """Names of OpenTuner's search techniques (values of ``technique=``)."""
    _import_opentuner()
    from opentuner.search import technique

    with _quiet():
        techniques, _ = technique.all_techniques()
    return tuple(t.name for t in techniques)


class _LogicalClock:
    """Stands in for the ``time`` module where OpenTuner only orders events by timestamp."""

    def __init__(self) -> None:
        self._ticks = itertools.count(1)

    def time(self) -> float:
        return float(next(self._ticks))


def _member_hash(member: Any) -> int:
    config = member.config
    digest = getattr(config, "hash", None)
    return int(digest[:15], 16) if isinstance(digest, str) else id(member)


def _make_search_order_deterministic() -> None:
    from opentuner.search import composableevolutionarytechniques, differentialevolution

    for module in (differentialevolution, composableevolutionarytechniques):
        if not isinstance(module.time, _LogicalClock):
            module.time = _LogicalClock()
    differentialevolution.PopulationMember.__hash__ = _member_hash


class _PrivateRandom:
    """The global ``random``/``numpy.random`` states OpenTuner draws from, kept per agent."""

    def __init__(self, seed: int | None) -> None:
        saved_py, saved_np = random.getstate(), np.random.get_state()
        try:
            random.seed(seed)
            np.random.seed(None if seed is None else seed % 2**32)
            self._py, self._np = random.getstate(), np.random.get_state()
        finally:
            random.setstate(saved_py)
            np.random.set_state(saved_np)

    @contextlib.contextmanager
    def active(self) -> Iterator[None]:
        saved_py, saved_np = random.getstate(), np.random.get_state()
        random.setstate(self._py)
        np.random.set_state(self._np)
        try:
            with _quiet():
                yield
        finally:
            self._py, self._np = random.getstate(), np.random.get_state()
            random.setstate(saved_py)
            np.random.set_state(saved_np)


class OpenTunerAgent(SpaceAgent):
    """OpenTuner's default search (an AUC bandit over differential evolution, greedy
    mutations and Nelder-Mead) over the decision space.

    Args:
        seed: seeds OpenTuner's random choices.
        failure_penalty: objective value of a failed run (successful runs score
            ``1 / normalized throughput``, i.e. time relative to the expert).
        technique: an OpenTuner technique name (``--technique``); None for its default.
        encoding: ``"enum"`` (each decision an EnumParameter, the faithful categorical
            encoding) or ``"index"`` (IntegerParameters over choice indices, which lets the
            numeric techniques such as Nelder-Mead act on every decision).
        max_requests: OpenTuner requests tried per proposal before giving up on finding an
            unmeasured program (a nearly exhausted space); then a random unseen one is used.
        space_options: passed to the decision space.
    """

    name = "opentuner"

    def __init__(
        self,
        seed: int | None = 0,
        failure_penalty: float = DEFAULT_FAILURE_PENALTY,
        technique: str | None = None,
        encoding: str = "enum",
        max_requests: int = 500,
        **space_options: Any,
    ) -> None:
        if encoding not in ("enum", "index"):
            raise ValueError(f"encoding must be 'enum' or 'index', got {encoding!r}")
        if not failure_penalty > 0:
            raise ValueError("failure_penalty must be positive")
        _import_opentuner()  # fail at construction, with the install hint, if it is missing
        if technique is not None and technique not in opentuner_techniques():
            raise ValueError(f"unknown OpenTuner technique {technique!r}; choose from "
                             f"{', '.join(opentuner_techniques())}")
        super().__init__(seed, **space_options)
        self.failure_penalty = float(failure_penalty)
        self.technique = technique
        self.encoding = encoding
        self.max_requests = max_requests
        self._manager: Any = None
        self._random: _PrivateRandom | None = None
        self._pending: tuple[Any, str] | None = None  # (desired result, program text)
        #: OpenTuner requests answered from earlier measurements (aliases), for tests/logs.
        self.aliased_requests = 0

    # -- set-up --------------------------------------------------------------------------------

    def on_reset(self, info: AgentInfo) -> None:
        super().on_reset(info)
        self.close()
        ot = _import_opentuner()
        self._random = _PrivateRandom(self.seed)
        self._pending = None
        self.aliased_requests = 0
        space = self.require_space()
        with self._random.active():
            manipulator = ot["ConfigurationManipulator"]()
            # OpenTuner reads "/" in a parameter name as a path: use positional names.
            for key, param in zip(self._keys(), space.tunable(), strict=True):
                if self.encoding == "enum":
                    manipulator.add_parameter(ot["EnumParameter"](key, param.choices))
                else:
                    manipulator.add_parameter(
                        ot["IntegerParameter"](key, 0, len(param.choices) - 1))
            args = ot["opentuner"].default_argparser().parse_args([])
            args.database = "sqlite://"  # in memory: nothing is written to disk
            args.label = f"mapper-gym-{space.app_name}"
            args.quiet = True  # no display plugin
            args.no_dups = True  # duplicates are expected and handled; do not log each
            if self.technique is not None:
                args.technique = [self.technique]
            interface = ot["DefaultMeasurementInterface"](
                args=args, manipulator=manipulator, project_name="mapper-gym",
                program_name=space.app_name, program_version="0",
            )
            tuningrunmain = ot["tuningrunmain"]
            init_logging = tuningrunmain.init_logging
            tuningrunmain.init_logging = lambda: None  # no opentuner.log, no root handlers
            try:
                self._manager = ot["TuningRunManager"](
                    interface, args, measurement_driver=ot["FixedMachineDriver"])
            finally:
                tuningrunmain.init_logging = init_logging

    def close(self) -> None:
        """Release the in-memory database (also done by the next :meth:`reset`)."""
        if self._manager is not None:
            with _quiet():
                self._manager.session.close()
                self._manager.engine.dispose()
            self._manager = None

    # -- ask -----------------------------------------------------------------------------------

    def _keys(self) -> list[str]:
        return [f"d{i}" for i in range(len(self.require_space().tunable()))]

    def _config_of(self, data: dict[str, Any]) -> Config:
        space = self.require_space()
        partial = {}
        for key, param in zip(self._keys(), space.tunable(), strict=True):
            value = data[key]
            partial[param.name] = param.choices[int(value)] if self.encoding == "index" else value
        return space.canonical(space.complete(partial))

    def _objective(self, reward: float) -> float:
        return 1.0 / reward if reward > 0.0 else self.failure_penalty

    def _tell(self, desired: Any, reward: float) -> None:
        ot = _import_opentuner()
        assert self._random is not None
        with self._random.active():
            self._manager.report_result(desired, ot["Result"](time=self._objective(reward)))

    def propose(self) -> str:
        self.require_info()
        if self._pending is not None:  # asked again before an observation: same program
            return self._pending[1]
        assert self._random is not None
        space = self.require_space()
        for _ in range(self.max_requests):
            with self._random.active():
                desired = self._manager.get_next_desired_result()
            if desired is None:  # a generation of duplicates only: OpenTuner wants a new one
                continue
            config = self._config_of(desired.configuration.data)
            text = space.render(config)
            if text in self.measured:  # another configuration with the same program
                self.aliased_requests += 1
                self._tell(desired, self.measured[text])
                continue
            self.proposed.setdefault(text, config)
            self._pending = (desired, text)
            return text
        config = space.canonical(self.unseen_sample())
        return self.render(config)

    # -- tell ----------------------------------------------------------------------------------

    def on_observe(self, record: StepRecord) -> None:
        super().on_observe(record)
        if self._pending is not None and record.action == self._pending[1]:
            desired, _ = self._pending
            self._pending = None
            self._tell(desired, record.reward)

    def best_configuration(self) -> Config | None:
        """OpenTuner's best configuration so far (completed to a full one), if any."""
        if self._manager is None:
            return None
        assert self._random is not None
        with self._random.active():
            data = self._manager.get_best_configuration()
        return None if data is None else self._config_of(data)

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()
