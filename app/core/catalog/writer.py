"""The one writer: every change to the catalog runs here, on one thread, in batched transactions.

Workers and the GUI submit operations (plain callables doing peewee writes). Batching makes an
import of 100k photos a few hundred commits instead of 100k; a savepoint per operation means one
failing write never takes the rest of its batch with it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

from peewee import Database

try:
    import fcntl
except ImportError:  # Windows: SQLite's own locking still serialises writers, just without the notice
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)
T = TypeVar("T")
_STOP = object()
_NOW = object()  # someone waits for the batch: commit it without waiting for more operations


class WriterLock:
    """An advisory lock beside the catalog, held while a batch commits. SQLite would make a second
    writer wait silently; this lets it say who it is waiting for ("tessera import, pid 4242")."""

    def __init__(self, path: Path, on_wait: Callable[[str], None] | None) -> None:
        self._path = path
        self._on_wait = on_wait
        self._me = f"{os.path.basename(sys.argv[0]) or 'tessera'} {' '.join(sys.argv[1:2])} (pid {os.getpid()})"
        self._fh: Any = None

    def __enter__(self) -> WriterLock:
        if fcntl is None:
            return self
        self._fh = open(self._path, "a+")  # held across the batch, closed in __exit__
        try:
            fcntl.flock(self._fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._fh.seek(0)
            holder = self._fh.read().strip() or "another Tessera process"
            if self._on_wait:
                self._on_wait(f"waiting for {holder} to finish writing to the catalog")
            fcntl.flock(self._fh, fcntl.LOCK_EX)
        self._fh.seek(0)
        self._fh.truncate()
        self._fh.write(self._me)
        self._fh.flush()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fh is not None:
            fcntl.flock(self._fh, fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None


class CatalogWriter:
    def __init__(
        self,
        database: Database,
        batch_size: int = 256,
        max_delay: float = 0.25,
        on_wait: Callable[[str], None] | None = None,
    ) -> None:
        self._db = database
        self._lock = WriterLock(Path(database.database + ".writer.lock"), on_wait)
        self._batch_size = batch_size
        self._max_delay = max_delay
        self._queue: queue.Queue[Any] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="catalog-writer", daemon=True)
        self._closed = False
        self._thread.start()

    def submit(self, op: Callable[[], T]) -> Future[T]:
        if self._closed:
            raise RuntimeError("catalog writer is closed")
        future: Future[T] = Future()
        self._queue.put((op, future))
        return future

    def call(self, op: Callable[[], T], timeout: float | None = None) -> T:
        """Run `op` on the writer thread and wait for its committed result: committed at once, not
        after the batching delay (an edit in the GUI waits for it)."""
        future = self.submit(op)
        self._queue.put(_NOW)
        return future.result(timeout)

    def flush(self, timeout: float | None = None) -> None:
        """Wait until everything submitted so far is committed."""
        self.submit(lambda: None).result(timeout)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._queue.put(_STOP)
        self._thread.join()

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is _STOP:
                break
            if first is _NOW:  # its batch was committed already
                continue
            batch = [first]
            deadline = time.monotonic() + self._max_delay
            while len(batch) < self._batch_size:
                try:
                    item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if item is _STOP:
                    stopping = True
                    break
                if item is _NOW:
                    break
                batch.append(item)
            self._commit(batch)
        # fresh statistics for the query planner where the tables changed a lot (SQLite's advice: on
        # closing a connection that wrote); a failure here must never lose a close
        with contextlib.suppress(Exception):
            self._db.execute_sql("PRAGMA optimize")
        self._db.close()

    def _commit(self, batch: list[tuple[Callable[[], Any], Future[Any]]]) -> None:
        results: list[tuple[Future[Any], Any, BaseException | None]] = []
        try:
            with self._lock, self._db.atomic("IMMEDIATE"):
                for op, future in batch:
                    try:
                        with self._db.atomic():  # savepoint: a failing op rolls back alone
                            results.append((future, op(), None))
                    except Exception as exc:  # reported to the submitter, never fatal here
                        log.exception("catalog write failed")
                        results.append((future, None, exc))
        except Exception as exc:  # the commit itself failed: nothing in the batch is stored
            log.exception("catalog commit failed")
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for future, value, error in results:
            if error is None:
                future.set_result(value)
            else:
                future.set_exception(error)
