"""A small process pool that survives hostile files.

concurrent.futures cannot stop a task that hangs or kills its process (a decoder stuck in a crafted
file, a segfault in a native library). Here each worker has its own inbox, so the parent knows which
file each one is on: a worker past the per-file time limit is killed and replaced, and its file is
reported as an error; a worker that dies does the same. Processes (not threads) because decoding and
numpy-light Python code would serialise on the GIL.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

from app.core.analysis.work import process
from app.core.records import Outcome, Task

DEFAULT_TIMEOUT_S = 120.0
_POLL_S = 0.05


def default_processes() -> int:
    return max(1, os.cpu_count() or 1)


def _worker_main(inbox: Any, outbox: Any, worker_id: int) -> None:
    # Decoders warn about damaged files on stderr ("Corrupt EXIF data"); what is wrong with a file is
    # reported as its error row or decode warnings instead, not as noise in the user's terminal.
    warnings.simplefilter("ignore")
    try:
        import cv2

        cv2.setNumThreads(1)  # parallelism comes from the processes
    except ImportError:
        pass
    parent = os.getppid()
    while True:
        try:
            task = inbox.get(timeout=1.0)
        except queue.Empty:
            if os.getppid() != parent:  # the app was killed: don't linger as an orphan
                return
            continue
        if task is None:
            return
        try:
            result = process(task)
        except BaseException as exc:  # never let one file end the worker silently
            result = Outcome(path=task.path, error=f"analysis failed: {type(exc).__name__}: {exc}")
        outbox.put((worker_id, result))


@dataclass
class _Worker:
    proc: Any
    inbox: Any
    task: Task | None = None
    started: float = 0.0


class WorkerPool:
    def __init__(self, processes: int | None = None, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self._ctx = mp.get_context("spawn")  # safe beside Qt and threads; same on every platform
        self._outbox = self._ctx.Queue()
        self._timeout = timeout_s
        self._workers = [self._spawn(i) for i in range(processes or default_processes())]

    def _spawn(self, worker_id: int) -> _Worker:
        inbox = self._ctx.Queue()
        proc = self._ctx.Process(
            target=_worker_main, args=(inbox, self._outbox, worker_id), name=f"tessera-worker-{worker_id}"
        )
        proc.daemon = True
        proc.start()
        return _Worker(proc, inbox)

    def _replace(self, worker_id: int) -> None:
        old = self._workers[worker_id]
        if old.proc.is_alive():
            old.proc.kill()
        old.proc.join(5)
        self._workers[worker_id] = self._spawn(worker_id)

    def run(
        self, tasks: Iterable[Task] | Callable[[], Task | None], cancelled: Callable[[], bool] = lambda: False
    ) -> Iterator[Outcome]:
        """Yield one Outcome per task, in completion order. `tasks` is a sequence or a function giving
        the next task (None: nothing to do now; asked again after each outcome, as finished work may
        bring more). On cancel, stops handing out work and returns after the files in progress
        finish (or time out)."""
        take = tasks if callable(tasks) else partial(next, iter(tasks), None)
        busy = 0
        while True:
            if not cancelled():
                for worker in self._workers:
                    if worker.task is None:
                        task = take()
                        if task is None:
                            break
                        worker.task, worker.started = task, time.monotonic()
                        worker.inbox.put(task)
                        busy += 1
            if busy == 0:
                return
            try:
                wid, outcome = self._outbox.get(timeout=_POLL_S)
            except queue.Empty:
                for outcome in self._reap():
                    busy -= 1
                    yield outcome
                continue
            worker = self._workers[wid]
            if worker.task is None or worker.task.path != outcome.path:
                continue  # a late answer from a worker we already gave up on
            worker.task = None
            busy -= 1
            yield outcome

    def _reap(self) -> Iterator[Outcome]:
        now = time.monotonic()
        for wid, worker in enumerate(self._workers):
            task = worker.task
            if task is None:
                continue
            if not worker.proc.is_alive():
                reason = f"the decoder crashed on this file (exit code {worker.proc.exitcode})"
            elif now - worker.started > self._timeout:
                reason = f"analysis took longer than {self._timeout:.0f} s and was stopped"
            else:
                continue
            worker.task = None
            self._replace(wid)
            yield Outcome(path=task.path, error=reason)

    def close(self) -> None:
        for worker in self._workers:
            if worker.proc.is_alive():
                worker.inbox.put(None)
        for worker in self._workers:
            worker.proc.join(5)
            if worker.proc.is_alive():
                worker.proc.kill()
                worker.proc.join()

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SharedWorkers:
    """One worker pool for runs that follow each other (an import, then the analysis it left):
    the workers start when the first run needs them (each pays ~1 s of CPU for its imports and
    models) and stop when the block ends."""

    def __init__(self, processes: int | None = None) -> None:
        self.processes = processes
        self._pool: WorkerPool | None = None

    def pool(self) -> WorkerPool:
        if self._pool is None:
            self._pool = WorkerPool(self.processes)
        return self._pool

    def __enter__(self) -> SharedWorkers:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.close()
