"""Analysis work claimed from the catalog, so that analysers on several workstations (or several on
one) split a library between them: no photo analysed twice, none skipped.

A claim is a lease row per photo (AnalysisClaim) with an expiry on the database server's clock. An
analyser claims a few photos at a time just before its workers need them, with one upsert that only
takes rows nobody holds or whose lease ran out; the conflict check runs on the committed row, so two
analysers racing for a photo cannot both win (on PostgreSQL the loser waits for the winner's row and
then sees it). A heartbeat renews the leases while the analyser lives; when it stops they are
released. A killed analyser's leases simply expire and its photos return to the pool. After winning a
photo the analyser plans it again: another may have finished it since the first plan.

On SQLite the same code runs: there the writer's lock makes every claim wait its turn.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence

from peewee import EXCLUDED, Value

from app.core.catalog import dialect
from app.core.catalog.models import AnalysisClaim, Photo
from app.core.catalog.workstation import process_origin
from app.core.records import Task

LEASE_S = 60.0  # a killed analyser's photos wait this long before others take them
WAIT_POLL_S = 1.0  # how often an analyser with nothing left looks whether others' photos came free


def _claim(worker: str, photo_ids: list[int], lease_s: float) -> list[int]:
    """Runs on the writer thread: claim what is free among `photo_ids`; returns the ids now ours."""
    now = dialect.server_seconds()
    candidates = Photo.select(Photo.id, Value(worker), now + lease_s).where(Photo.id.in_(photo_ids))
    (
        AnalysisClaim.insert_from(
            candidates, fields=[AnalysisClaim.photo, AnalysisClaim.worker, AnalysisClaim.expires_at]
        )
        .on_conflict(
            conflict_target=[AnalysisClaim.photo],
            update={AnalysisClaim.worker: EXCLUDED.worker, AnalysisClaim.expires_at: EXCLUDED.expires_at},
            where=(AnalysisClaim.expires_at < now) | (AnalysisClaim.worker == worker),
        )
        .execute()
    )
    mine = AnalysisClaim.select(AnalysisClaim.photo).where(
        (AnalysisClaim.worker == worker) & AnalysisClaim.photo.in_(photo_ids)
    )
    return sorted(pid for (pid,) in mine.tuples())


def _renew(worker: str, lease_s: float) -> None:
    AnalysisClaim.update(expires_at=dialect.server_seconds() + lease_s).where(AnalysisClaim.worker == worker).execute()


def _release(worker: str) -> None:
    """Ours, and leases that ran out (a killed analyser's; an expired lease is no claim at all)."""
    expired = AnalysisClaim.expires_at < dialect.server_seconds()
    AnalysisClaim.delete().where((AnalysisClaim.worker == worker) | expired).execute()


class Claims:
    """One analyser's claims, written through its process's catalog writer."""

    def __init__(self, writer: object, lease_s: float = LEASE_S) -> None:
        self.worker = f"{process_origin()}/{uuid.uuid4().hex[:8]}"
        self.lease_s = lease_s
        self._writer = writer
        self._stop = threading.Event()
        self._heartbeat = threading.Thread(target=self._renew_until_stopped, name="claims-heartbeat", daemon=True)
        self._heartbeat.start()

    def claim(self, photo_ids: Sequence[int]) -> list[int]:
        ids = sorted(set(photo_ids))  # one lock order for every analyser: no deadlocks between them
        return self._writer.call(lambda: _claim(self.worker, ids, self.lease_s)) if ids else []

    def _renew_until_stopped(self) -> None:
        while not self._stop.wait(self.lease_s / 3):
            self._writer.submit(lambda: _renew(self.worker, self.lease_s), waited=True)

    def close(self) -> None:
        """Release every claim (the photos are analysed and stored by now, or go back to the pool)."""
        self._stop.set()
        self._heartbeat.join()
        self._writer.call(lambda: _release(self.worker))

    def __enter__(self) -> Claims:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ClaimedTasks:
    """The planned tasks, handed out only as this analyser wins their photos. Sized (the number
    still counted as ours: planned, less what others turned out to do) and iterable, as run_tasks
    takes them; iterated lazily, so claims are made just before a worker needs one.

    `replan(photo_ids)` returns the tasks still due for those photos now."""

    def __init__(
        self,
        tasks: Sequence[Task],
        replan: Callable[[Sequence[int]], list[Task]],
        claims: Claims,
        *,
        chunk: int = 8,
        cancelled: Callable[[], bool] = lambda: False,
    ) -> None:
        missing = [t.path for t in tasks if t.photo_id is None]
        if missing:
            raise ValueError(f"claimed analysis needs photo ids; none for {missing[0]}")
        self._tasks = list(tasks)
        self._replan = replan
        self._claims = claims
        self._chunk = max(1, chunk)
        self._cancelled = cancelled
        self.done_by_others = 0

    def __len__(self) -> int:
        return len(self._tasks) - self.done_by_others

    @property
    def planned(self) -> list[Task]:
        """The tasks as planned, before any is claimed (for counting, not for running)."""
        return self._tasks

    def __iter__(self) -> Iterator[Task]:
        queue = self._tasks
        while queue and not self._cancelled():
            held: list[int] = []  # photos other analysers hold now
            for start in range(0, len(queue), self._chunk):
                if self._cancelled():
                    return
                wanted = [t.photo_id for t in queue[start : start + self._chunk]]
                won = self._claims.claim(wanted)  # type: ignore[arg-type]
                held += sorted(set(wanted) - set(won))  # type: ignore[arg-type]
                due = self._replan(won) if won else []
                self.done_by_others += len(won) - len(due)
                yield from due
            if not held:
                return
            queue = self._replan(held)
            self.done_by_others += len(held) - len(queue)
            if queue:  # wait for their analysers to finish, or for their leases to run out
                time.sleep(WAIT_POLL_S)
