"""Runs tasks through the worker pool and hands every outcome to the single catalog writer.

Work goes out quick first (see Schedule): imports and the quick stages of every photo before the
slow stages of any, so that on a large import the grid, colour filters and duplicates are usable
long before faces and tags are done. Pausing holds the analysis back (imports still register their
files); what was held waits in the catalog for the next run.

Progress goes to a callback (done, total, current file, rate, ETA, and each tier's count), at most
~10 times a second so a GUI never repaints more than that. Cancellation is cooperative: no new file
is started, files in progress finish, and everything finished so far is committed, so a later run
resumes.
"""

from __future__ import annotations

import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from typing import Protocol, TypedDict

from app.core.analysis.stages import QUICK, SLOW, TIER_NAMES, tiers
from app.core.analysis.workers import SharedWorkers
from app.core.catalog.claims import ClaimedTasks
from app.core.catalog.store import store_outcome
from app.core.catalog.writer import CatalogWriter
from app.core.records import KnownFile, Outcome, Task

PROGRESS_INTERVAL_S = 0.1


@dataclass
class Progress:
    phase: str  # scanning | importing | analyzing | done
    done: int = 0
    total: int = 0
    current: str = ""
    rate: float = 0.0  # photos per second
    eta_s: float | None = None
    failed: int = 0
    # photos whose quick / slow stages are done, of those that had them to do
    quick_done: int = 0
    quick_total: int = 0
    slow_done: int = 0
    slow_total: int = 0

    def tiers(self) -> str:
        """ "Quick analysis 340/1000 · Faces & tags 120/1000" (empty when nothing is analyzed)."""
        counts = ((QUICK, self.quick_done, self.quick_total), (SLOW, self.slow_done, self.slow_total))
        return " · ".join(f"{TIER_NAMES[tier]} {done:,}/{total:,}" for tier, done, total in counts if total)

    def describe(self) -> str:
        eta = f", about {format_duration(self.eta_s)} left" if self.eta_s is not None else ""
        tiers = f" [{self.tiers()}]" if self.quick_total or self.slow_total else ""
        return f"{self.phase}: {self.done}/{self.total} ({self.rate:.1f}/s{eta}){tiers}"


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


ProgressCallback = Callable[[Progress], None]
Cancelled = Callable[[], bool]


@dataclass
class RunStats:
    done: int = 0
    kinds: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # new, moved, changed, ...
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    stage_failures: list[tuple[str, str, str]] = field(default_factory=list)  # (path, stage, reason)
    stage_ms: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    seconds: float = 0.0
    cancelled: bool = False
    paused: bool = False  # analysis was held back by a pause: it waits in the catalog


Paused = Callable[[], bool]


class Schedule:
    """The order the workers get their tasks: imports and quick stages first, slow stages after (a
    photo's slow stages only once its quick ones are back: they are what its worker deferred, see
    Task.defer_slow). Tasks are taken from `tasks` as they are needed (claimed analysis claims its
    photos then). While paused, imports go out without their stages and analysis waits in the
    catalog; a claimed source is not read any further."""

    def __init__(self, tasks: Iterable[Task], paused: Paused, claimed: bool) -> None:
        self._source = iter(tasks)
        self._later: deque[Task] = deque()
        self._paused = paused
        self._claimed = claimed
        self.held = False  # some analysis was held back by a pause

    def _next_first(self) -> Task | None:
        """The next import or quick task; slow-only ones met on the way wait in _later."""
        for task in self._source:
            if task.read_metadata or QUICK in tiers(task.stages):
                return task
            self._later.append(task)
        return None

    def take(self) -> Task | None:
        if not self._paused():
            task = self._next_first()
            return task if task is not None else self._later.popleft() if self._later else None
        self.held = self.held or bool(self._later) or self._claimed
        self._later.clear()
        if self._claimed:
            return None
        for task in self._source:
            self.held = self.held or bool(task.stages)
            if task.read_metadata:
                return replace(task, stages=())  # registered now, analyzed on resume
        return None

    def defer(self, task: Task) -> None:
        self._later.append(task)


def deferred_task(task: Task, outcome: Outcome) -> Task:
    """The slow stages a worker left for later, as a task of their own on the same file content."""
    known = KnownFile(outcome.size, outcome.mtime_ns, outcome.sha256 or "")
    return replace(task, stages=outcome.deferred, read_metadata=False, known=known, defer_slow=False)


@dataclass
class _Tally:
    """Per-photo tier counts for the progress report."""

    report: Progress
    tasks: dict[str, Task]

    def count(self, task: Task, outcome: Outcome) -> None:
        ran = set(outcome.results) | set(outcome.stage_errors)
        finished = tiers(task.stages) if outcome.error else tiers(tuple(ran))
        self.report.quick_done += QUICK in finished
        self.report.slow_done += SLOW in finished


class TaskSource(Protocol):
    """A list of tasks, or catalog.claims.ClaimedTasks (whose length shrinks as others take work)."""

    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[Task]: ...


class RunControls(TypedDict, total=False):
    """How a run reports and is steered, passed on unchanged through the import and the analysis."""

    progress: ProgressCallback | None
    cancelled: Cancelled
    paused: Paused
    processes: int | None
    workers: SharedWorkers | None


def run_tasks(
    tasks: TaskSource,
    writer: CatalogWriter,
    *,
    phase: str,
    auto_tagging: float,
    progress: ProgressCallback | None = None,
    cancelled: Cancelled = lambda: False,
    paused: Paused = lambda: False,
    processes: int | None = None,
    run_deferred: bool = True,
    workers: SharedWorkers | None = None,
) -> RunStats:
    """`run_deferred=False`: the slow stages workers leave for later are not run here; they stay due
    in the catalog (an import leaves them to claimed analysis, see Library.import_folders).
    `workers`: a pool shared with the runs before and after this one (else one of its own)."""
    stats = RunStats()
    if not tasks:
        return stats
    start = last_report = time.monotonic()
    claimed = isinstance(tasks, ClaimedTasks)
    planned = tasks.planned if isinstance(tasks, ClaimedTasks) else list(tasks)  # counted without claiming
    report = Progress(phase=phase, total=len(tasks))
    report.quick_total = sum(QUICK in tiers(t.stages) for t in planned)
    report.slow_total = sum(SLOW in tiers(t.stages) for t in planned)
    tally = _Tally(report, {t.path: t for t in planned})
    schedule = Schedule(planned if not claimed else tasks, paused, claimed)
    deferred = 0
    if progress:
        progress(report)

    def on_stored(outcome: Outcome, kind: str) -> None:
        stats.kinds[kind] += 1

    with nullcontext(workers) if workers else SharedWorkers(processes) as shared:
        for outcome in shared.pool().run(schedule.take, cancelled):
            stats.done += 1
            task = tally.tasks.get(outcome.path) or Task(outcome.path, ())
            if outcome.deferred and run_deferred:
                tally.tasks[outcome.path] = later = deferred_task(task, outcome)
                schedule.defer(later)
                deferred += 1
            _record(stats, outcome)
            tally.count(task, outcome)
            future = writer.submit(lambda o=outcome: store_outcome(o, auto_tagging))
            future.add_done_callback(lambda f, o=outcome: f.exception() or on_stored(o, f.result()[1]))
            now = time.monotonic()
            report.total = len(tasks) + deferred  # claimed tasks shrink as other analysers take photos
            if progress and (now - last_report >= PROGRESS_INTERVAL_S or stats.done == report.total):
                last_report = now
                elapsed = now - start
                report.done, report.current, report.failed = stats.done, outcome.path, len(stats.failed)
                report.rate = stats.done / elapsed if elapsed > 0 else 0.0
                remaining = report.total - stats.done
                report.eta_s = remaining / report.rate if report.rate > 0 else None
                progress(report)
    writer.flush()
    stats.paused = schedule.held
    stats.cancelled = cancelled() and stats.done < report.total and not stats.paused
    stats.seconds = time.monotonic() - start
    return stats


def combined(first: RunStats, then: RunStats) -> RunStats:
    """Two runs one after the other (an import, then the analysis it left) as one."""
    kinds = defaultdict(int, first.kinds)
    stage_ms = defaultdict(float, first.stage_ms)
    for kind, n in then.kinds.items():
        kinds[kind] += n
    for stage, ms in then.stage_ms.items():
        stage_ms[stage] += ms
    return RunStats(
        done=first.done + then.done,
        kinds=kinds,
        failed=[*first.failed, *then.failed],
        stage_failures=[*first.stage_failures, *then.stage_failures],
        stage_ms=stage_ms,
        seconds=first.seconds + then.seconds,
        cancelled=first.cancelled or then.cancelled,
        paused=first.paused or then.paused,
    )


def _record(stats: RunStats, outcome: Outcome) -> None:
    if outcome.error is not None:
        stats.failed.append((outcome.path, outcome.error))
    for stage, reason in outcome.stage_errors.items():
        stats.stage_failures.append((outcome.path, stage, reason))
    if outcome.sidecar_error:
        stats.stage_failures.append((outcome.path, "sidecar", outcome.sidecar_error))
    for stage, ms in outcome.timings_ms.items():
        stats.stage_ms[stage] += ms
