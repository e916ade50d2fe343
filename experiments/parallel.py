"""Executors: where units run. This process, a local process pool, or a Ray cluster.

Every executor runs :func:`experiments.runner.run_unit_task` for each task and forwards the
messages it emits (an ``eval`` record per evaluation, then ``unit`` or ``error``) to the
driver's ``handle`` callback *as they happen*, so the driver writes each finished evaluation
before the unit ends and a kill loses none of them. Scheduling is the engine's own:
:class:`concurrent.futures.ProcessPoolExecutor` on one machine, Ray tasks beyond it.

- :class:`SerialExecutor`: units one after the other in this process (debugging, and the
  single-process baseline of the throughput benchmark).
- :class:`ProcessExecutor`: a pool of ``spawn``-ed worker processes sized to the cores;
  messages come back through a :class:`multiprocessing.Queue`. Workers ignore Ctrl-C, which
  the driver turns into an orderly stop (finished evaluations still in the queue are saved),
  and stop by themselves when the driver dies.
- :class:`RayExecutor`: one Ray task per unit on a local Ray instance or the cluster at an
  address (``pip install 'mapper-gym[ray]'``); messages come back through a
  :class:`ray.util.queue.Queue`.
"""

from __future__ import annotations

import multiprocessing
import os
import queue as queue_module
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from experiments.config import RunOptions
from experiments.runner import Message, UnitTask, run_unit_task

__all__ = [
    "ExecutorUnavailable",
    "ProcessExecutor",
    "RayExecutor",
    "SerialExecutor",
    "make_executor",
]

Handle = Callable[[Message], None]
_TERMINAL = ("unit", "error")


def _unit_of(message: Message) -> str | None:
    if message[0] == "unit":
        return str(message[1]["unit"])
    if message[0] == "error":
        return str(message[1])
    return None


class SerialExecutor:
    """Runs units one after the other in this process."""

    name = "serial"
    workers = 1

    def run(self, tasks: Sequence[UnitTask], handle: Handle) -> None:
        for task in tasks:
            run_unit_task(task, handle)


# ---------------------------------------------------------------------------------------------
# Process pool
# ---------------------------------------------------------------------------------------------

_worker_queue: Any = None
_worker_stop: Any = None


def _watch_driver(driver: int, interval: float = 0.5) -> None:
    """Exit this worker once its driver is gone (its parent changes). A worker blocked on the
    pool's queues would otherwise wait forever: it holds the queues' write ends itself."""
    while True:
        time.sleep(interval)
        if os.getppid() != driver:
            os._exit(70)


def _init_worker(messages: Any, stop: Any) -> None:
    """Pool initializer: the message queue and stop event; Ctrl-C belongs to the driver,
    and the worker ends with its driver (a hard kill of the driver leaks no process)."""
    global _worker_queue, _worker_stop
    _worker_queue = messages
    _worker_stop = stop
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_watch_driver, args=(os.getppid(),), daemon=True,
                     name="watch-driver").start()
    from experiments import runner

    runner.set_stop_check(stop.is_set)


def _pool_entry(task: UnitTask) -> None:
    run_unit_task(task, _worker_queue.put)


class ProcessExecutor:
    """A :class:`~concurrent.futures.ProcessPoolExecutor` of ``workers`` processes.

    Args:
        workers: pool size (default: the cores this process may use).
        grace_s: how long to wait for a unit's closing message after its worker returned
            (the message travels through the queue's feeder thread).
    """

    name = "process"

    def __init__(self, workers: int | None = None, *, grace_s: float = 30.0) -> None:
        self.workers = workers if workers is not None else RunOptions().worker_count
        self.grace_s = grace_s

    def run(self, tasks: Sequence[UnitTask], handle: Handle) -> None:
        from concurrent.futures import ProcessPoolExecutor

        if not tasks:
            return
        context = multiprocessing.get_context("spawn")
        messages = context.Queue()
        stop = context.Event()
        tasks = [replace(t, parent_pid=os.getpid()) for t in tasks]
        expected = {t.unit_id for t in tasks}
        terminal: set[str] = set()
        returned: dict[str, float] = {}
        pool = ProcessPoolExecutor(max_workers=min(self.workers, len(tasks)),
                                   mp_context=context, initializer=_init_worker,
                                   initargs=(messages, stop))
        futures = {pool.submit(_pool_entry, task): task for task in tasks}

        def forward(message: Message) -> None:
            unit = _unit_of(message)
            if unit is not None:
                terminal.add(unit)
            handle(message)

        def drain(timeout: float) -> None:
            try:
                forward(messages.get(timeout=timeout))
            except queue_module.Empty:
                return
            while True:
                try:
                    forward(messages.get_nowait())
                except queue_module.Empty:
                    return

        try:
            while terminal < expected:
                drain(0.2)
                now = time.monotonic()
                for future, task in futures.items():
                    unit = task.unit_id
                    if unit in terminal or not future.done():
                        continue
                    error = future.exception()
                    if error is not None:  # the worker died (BrokenProcessPool) or pickling
                        drain(0.5)
                        if unit not in terminal:
                            forward(("error", unit, f"{type(error).__name__}: {error}",
                                     repr(error)))
                        continue
                    first = returned.setdefault(unit, now)
                    if now - first > self.grace_s:
                        forward(("error", unit, "the worker returned without a result", ""))
        except BaseException:
            stop.set()  # workers stop at their next evaluation
            for future in futures:
                future.cancel()
            deadline = time.monotonic() + 60.0
            while any(not f.done() for f in futures) and time.monotonic() < deadline:
                drain(0.2)
            drain(0.5)  # evaluations that finished before the stop are kept
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            messages.close()
            messages.join_thread()


# ---------------------------------------------------------------------------------------------
# Ray
# ---------------------------------------------------------------------------------------------


class ExecutorUnavailable(RuntimeError):
    """The executor cannot start (a Ray cluster that cannot be reached)."""


def _ray_entry(task: UnitTask, messages: Any) -> None:
    run_unit_task(task, messages.put)


def import_ray() -> Any:
    """The ``ray`` module, or an ImportError that says how to install it."""
    try:
        import ray
    except ImportError as error:
        raise ImportError(
            "the Ray executor needs Ray: pip install 'mapper-gym[ray]'"
        ) from error
    return ray


def _source_root() -> str:
    """The folder holding the ``experiments`` package (a source checkout's root)."""
    return str(Path(__file__).resolve().parent.parent)


class RayExecutor:
    """One Ray task per unit, at most ``workers`` at once.

    Args:
        address: a running cluster (``host:port`` or ``auto``); ``None`` starts a local Ray
            instance with ``workers`` CPUs for the duration of the run. If Ray is already
            initialised in this process, that session is used as it is.
        workers: units in flight (default: the cluster's CPUs).

    Workers on other machines need mapper-gym installed (the same version). A local checkout
    that is not installed is put on the workers' ``PYTHONPATH``. A cluster with token
    authentication (Ray's default for new clusters) needs ``RAY_AUTH_MODE=token`` and the
    cluster's token (``RAY_AUTH_TOKEN`` or ``~/.ray/auth_token``) in this process's environment:
    Ray only picks a token up by itself for a local cluster it finds on its own.
    """

    name = "ray"

    def __init__(self, address: str | None = None, workers: int | None = None) -> None:
        self.address = address
        self.requested = workers
        self.workers = workers or 0

    def _init(self, ray: Any) -> bool:
        if ray.is_initialized():
            return False
        path = os.pathsep.join(p for p in (_source_root(), os.environ.get("PYTHONPATH")) if p)
        kwargs: dict[str, Any] = {
            "runtime_env": {"env_vars": {"PYTHONPATH": path}},
            "include_dashboard": False,
            "log_to_driver": False,
            "configure_logging": False,
        }
        try:
            if self.address is not None:
                ray.init(address=self.address, **kwargs)
            else:
                workers = self.requested or RunOptions().worker_count
                ray.init(num_cpus=workers, **kwargs)
        except ConnectionError as error:
            hint = ""
            if self.address is not None and os.environ.get("RAY_AUTH_MODE") != "token":
                hint = ("; if the cluster uses token authentication, set RAY_AUTH_MODE=token "
                        "and its token (RAY_AUTH_TOKEN, or ~/.ray/auth_token)")
            raise ExecutorUnavailable(f"cannot reach the Ray cluster: {error}{hint}") from None
        return True

    def run(self, tasks: Sequence[UnitTask], handle: Handle) -> None:
        if not tasks:
            return
        ray = import_ray()
        owned = self._init(ray)
        from ray.util.queue import Empty, Queue

        messages = Queue()
        try:
            limit = self.requested or max(1, int(ray.cluster_resources().get("CPU", 1)))
            self.workers = limit
            remote = ray.remote(num_cpus=1, max_retries=0)(_ray_entry)
            pending = list(tasks)
            running: dict[Any, UnitTask] = {}
            terminal: set[str] = set()

            def drain() -> None:
                while True:
                    try:
                        message = messages.get(block=False)
                    except Empty:
                        return
                    unit = _unit_of(message)
                    if unit is not None:
                        terminal.add(unit)
                    handle(message)

            try:
                while pending or running:
                    while pending and len(running) < limit:
                        task = pending.pop(0)
                        running[remote.remote(task, messages)] = task
                    ready, _ = ray.wait(list(running), num_returns=1, timeout=0.2)
                    drain()
                    for ref in ready:
                        task = running.pop(ref)
                        try:
                            ray.get(ref)
                        except Exception as error:  # the task itself failed (worker died)
                            drain()
                            if task.unit_id not in terminal:
                                terminal.add(task.unit_id)
                                handle(("error", task.unit_id,
                                        f"{type(error).__name__}: {error}", repr(error)))
                            continue
                        drain()
                        if task.unit_id not in terminal:
                            terminal.add(task.unit_id)
                            handle(("error", task.unit_id,
                                    "the Ray task returned without a result", ""))
            except BaseException:
                for ref in running:
                    ray.cancel(ref, force=True)
                drain()
                raise
        finally:
            messages.shutdown(force=True)
            if owned:
                ray.shutdown()


def make_executor(options: RunOptions, tasks: int) -> Any:
    """The executor ``options`` name, sized for ``tasks`` units."""
    if options.executor == "serial":
        return SerialExecutor()
    if options.executor == "ray":
        import_ray()
        return RayExecutor(options.ray_address, options.workers)
    workers = max(1, min(options.worker_count, tasks or 1))
    if workers == 1 and options.workers is None:
        print("one core available: running units in this process", file=sys.stderr)
        return SerialExecutor()
    return ProcessExecutor(workers)
