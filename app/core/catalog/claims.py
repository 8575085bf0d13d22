"""Analysis work claimed from the catalog, so that analysers on several workstations (or several on
one) split a library between them: no photo analysed twice, none skipped.

A claim is a lease row per photo (AnalysisClaim) with an expiry on the database server's clock. An
analyser claims a few photos at a time, one chunk ahead of its workers, with one upsert that only
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
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future

from peewee import EXCLUDED, Value

from app.core.catalog import dialect
from app.core.catalog.models import AnalysisClaim, Photo
from app.core.catalog.workstation import process_origin
from app.core.records import Task

LEASE_S = 60.0  # a killed analyser's photos wait this long before others take them
WAIT_POLL_S = 0.25  # how often an analyser with nothing left looks whether others' photos came free
WINDOW = 64  # photos of the plan one claim looks through for free ones


def _claim(worker: str, window: list[int], want: int, lease_s: float) -> tuple[list[int], list[int]]:
    """Runs on the writer thread: claim up to `want` of the photos in `window` that no live lease of
    another analyser holds, in id order; returns (ids now ours, ids others hold). Photos others hold
    are skipped in the same round trip: two analysers walking one plan do not try each other's photos
    one chunk at a time."""
    now = dialect.server_seconds()
    others = AnalysisClaim.select(AnalysisClaim.photo).where(
        AnalysisClaim.photo.in_(window) & (AnalysisClaim.worker != worker) & (AnalysisClaim.expires_at >= now)
    )
    free = (
        Photo.select(Photo.id, Value(worker), now + lease_s)
        .where(Photo.id.in_(window) & Photo.id.not_in(others))
        .order_by(Photo.id)  # one lock order for every analyser: no deadlocks between them
        .limit(want)
    )
    (
        AnalysisClaim.insert_from(free, fields=[AnalysisClaim.photo, AnalysisClaim.worker, AnalysisClaim.expires_at])
        .on_conflict(
            conflict_target=[AnalysisClaim.photo],
            update={AnalysisClaim.worker: EXCLUDED.worker, AnalysisClaim.expires_at: EXCLUDED.expires_at},
            where=(AnalysisClaim.expires_at < now) | (AnalysisClaim.worker == worker),
        )
        .execute()
    )
    rows = AnalysisClaim.select(AnalysisClaim.photo, AnalysisClaim.worker).where(
        AnalysisClaim.photo.in_(window) & ((AnalysisClaim.worker == worker) | (AnalysisClaim.expires_at >= now))
    )
    mine, held = [], []
    for pid, holder in rows.tuples():
        (mine if holder == worker else held).append(pid)
    return sorted(mine), sorted(held)


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

    def claim(
        self, window: Sequence[int], want: int, then: Callable[[Sequence[int]], list[Task]]
    ) -> Future[tuple[list[Task], list[int], list[int]]]:
        """Claim up to `want` photos of `window` on the writer thread and run `then` (the replan: it
        only reads) on those won, there too. A future of (then's answer, ids won, ids others hold)."""

        def claim_and_plan() -> tuple[list[Task], list[int], list[int]]:
            won, held = _claim(self.worker, sorted(set(window)), want, self.lease_s)
            return (then(won) if won else []), won, held

        return self._writer.submit(claim_and_plan, waited=True)

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
    takes them; iterated lazily, so claims are made just before a worker needs one. The next chunk
    is claimed while the workers run this one: they never wait for a round trip to the catalog.

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
        self._window = max(WINDOW, 4 * self._chunk)
        self._cancelled = cancelled
        self.done_by_others = 0

    def __len__(self) -> int:
        return len(self._tasks) - self.done_by_others

    @property
    def planned(self) -> list[Task]:
        """The tasks as planned, before any is claimed (for counting, not for running)."""
        return self._tasks

    def _claim_next(self, todo: deque[int]) -> tuple[list[int], Future[tuple[list[Task], list[int], list[int]]]] | None:
        if not todo or self._cancelled():
            return None
        window = [todo.popleft() for _ in range(min(self._window, len(todo)))]
        return window, self._claims.claim(window, self._chunk, self._replan)

    def __iter__(self) -> Iterator[Task]:
        todo = deque(t.photo_id for t in self._tasks if t.photo_id is not None)
        while todo:
            held: list[int] = []  # photos other analysers hold now
            ahead = self._claim_next(todo)
            while ahead is not None:
                window, future = ahead
                due, won, others = future.result()
                held += others
                if len(won) == self._chunk:  # free photos may be left in the window: they come next
                    taken = set(won) | set(others)
                    todo.extendleft(reversed([pid for pid in window if pid not in taken]))
                ahead = self._claim_next(todo)
                self.done_by_others += len(won) - len(due)
                yield from due
            if not held or self._cancelled():
                return
            still = self._replan(held)
            self.done_by_others += len(held) - len(still)
            todo = deque(t.photo_id for t in still if t.photo_id is not None)
            if todo:  # wait for their analysers to finish, or for their leases to run out
                time.sleep(WAIT_POLL_S)
