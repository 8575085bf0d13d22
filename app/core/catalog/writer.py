"""The one writer: every change to the catalog runs here, on one thread, in batched transactions.

Workers and the GUI submit operations (plain callables doing peewee writes). Batching makes an
import of 100k photos a few hundred commits instead of 100k; a savepoint per operation means one
failing write never takes the rest of its batch with it.

On PostgreSQL other workstations write at the same time, each through its own writer. A batch that
loses a race (deadlock, serialization failure) is rolled back and run again as a whole, so no edit is
lost and no lock error reaches the user: operations must therefore only touch the database (they may
run more than once), and write fields, not whole rows, so that the later edit of a field wins.
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

from app.core.catalog import changes, dialect

try:
    import fcntl
except ImportError:  # Windows: SQLite's own locking still serialises writers, just without the notice
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)
T = TypeVar("T")
_STOP = object()
RETRIES = 8  # a batch that keeps losing races this often is failed (each retry waits a little longer)


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
        # SQLite: the lock file names who holds the catalog; PostgreSQL locks rows, not the catalog
        self._lock: Any = (
            contextlib.nullcontext()
            if dialect.is_postgres(database)
            else WriterLock(Path(database.database + ".writer.lock"), on_wait)
        )
        self._batch_size = batch_size
        self._max_delay = max_delay
        self._queue: queue.Queue[Any] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="catalog-writer", daemon=True)
        self._closed = False
        self._thread.start()

    def submit(self, op: Callable[[], T], *, waited: bool = False) -> Future[T]:
        """Queue `op`; it commits with the next batch. `waited`: someone waits for it (an edit, a
        claim), so its batch commits at once instead of gathering more work first."""
        if self._closed:
            raise RuntimeError("catalog writer is closed")
        future: Future[T] = Future()
        self._queue.put((op, future, waited))
        return future

    def call(self, op: Callable[[], T], timeout: float | None = None) -> T:
        """Run `op` on the writer thread and wait for its committed result."""
        return self.submit(op, waited=True).result(timeout)

    def flush(self, timeout: float | None = None) -> None:
        """Wait until everything submitted so far is committed."""
        self.submit(lambda: None, waited=True).result(timeout)

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
            batch = [first[:2]]
            waited = first[2]
            deadline = time.monotonic() + self._max_delay
            while len(batch) < self._batch_size:
                try:  # what is queued already joins the batch; more is waited for unless someone waits
                    item = self._queue.get(timeout=0 if waited else max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if item is _STOP:
                    stopping = True
                    break
                batch.append(item[:2])
                waited = waited or item[2]
            self._commit(batch)
        # fresh statistics for the query planner where the tables changed a lot (SQLite's advice: on
        # closing a connection that wrote); a failure here must never lose a close
        if not dialect.is_postgres(self._db):  # PostgreSQL's autovacuum keeps its statistics
            with contextlib.suppress(Exception):
                self._db.execute_sql("PRAGMA optimize")
        self._db.close()

    def _commit(self, batch: list[tuple[Callable[[], Any], Future[Any]]]) -> None:
        for attempt in range(RETRIES + 1):
            try:
                results = self._run_batch(batch)
                break
            except Exception as exc:
                if dialect.is_retryable(exc) and attempt < RETRIES:
                    log.info("catalog batch lost a race with another writer; running it again")
                    time.sleep(0.01 * 2**attempt)
                    continue
                log.exception("catalog commit failed")  # nothing in the batch is stored
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                return
        for future, value, error in results:
            if error is None:
                future.set_result(value)
            else:
                future.set_exception(error)

    def _run_batch(
        self, batch: list[tuple[Callable[[], Any], Future[Any]]]
    ) -> list[tuple[Future[Any], Any, BaseException | None]]:
        results: list[tuple[Future[Any], Any, BaseException | None]] = []
        with self._lock, dialect.write_transaction(self._db):
            changes.reset_batch()
            for op, future in batch:
                try:
                    with self._db.atomic():  # savepoint: a failing op rolls back alone
                        results.append((future, op(), None))
                except Exception as exc:  # reported to the submitter, never fatal here
                    if dialect.is_retryable(exc):
                        raise  # the whole transaction is void: run the batch again
                    log.exception("catalog write failed")
                    results.append((future, None, exc))
            changes.record_batch()
        return results
