"""Runs tasks through the worker pool and hands every outcome to the single catalog writer.

Progress goes to a callback (done, total, current file, rate, ETA), at most ~10 times a second so a
GUI never repaints more than that. Cancellation is cooperative: no new file is started, files in
progress finish, and everything finished so far is committed, so a later run resumes.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from app.core.analysis.workers import WorkerPool
from app.core.catalog.store import store_outcome
from app.core.catalog.writer import CatalogWriter
from app.core.records import Outcome, Task

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

    def describe(self) -> str:
        eta = f", about {format_duration(self.eta_s)} left" if self.eta_s is not None else ""
        return f"{self.phase}: {self.done}/{self.total} ({self.rate:.1f}/s{eta})"


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


class TaskSource(Protocol):
    """A list of tasks, or catalog.claims.ClaimedTasks (whose length shrinks as others take work)."""

    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[Task]: ...


def run_tasks(
    tasks: TaskSource,
    writer: CatalogWriter,
    *,
    phase: str,
    auto_tagging: float,
    progress: ProgressCallback | None = None,
    cancelled: Cancelled = lambda: False,
    processes: int | None = None,
) -> RunStats:
    stats = RunStats()
    if not tasks:
        return stats
    start = last_report = time.monotonic()
    report = Progress(phase=phase, total=len(tasks))
    if progress:
        progress(report)

    def on_stored(outcome: Outcome, kind: str) -> None:
        stats.kinds[kind] += 1

    with WorkerPool(processes) as pool:
        for outcome in pool.run(tasks, cancelled):
            stats.done += 1
            if outcome.error is not None:
                stats.failed.append((outcome.path, outcome.error))
            for stage, reason in outcome.stage_errors.items():
                stats.stage_failures.append((outcome.path, stage, reason))
            if outcome.sidecar_error:
                stats.stage_failures.append((outcome.path, "sidecar", outcome.sidecar_error))
            for stage, ms in outcome.timings_ms.items():
                stats.stage_ms[stage] += ms
            future = writer.submit(lambda o=outcome: store_outcome(o, auto_tagging))
            future.add_done_callback(lambda f, o=outcome: f.exception() or on_stored(o, f.result()[1]))
            now = time.monotonic()
            if progress and (now - last_report >= PROGRESS_INTERVAL_S or stats.done == len(tasks)):
                last_report = now
                elapsed = now - start
                report.total = len(tasks)  # claimed tasks shrink as other analysers take photos
                report.done, report.current, report.failed = stats.done, outcome.path, len(stats.failed)
                report.rate = stats.done / elapsed if elapsed > 0 else 0.0
                remaining = len(tasks) - stats.done
                report.eta_s = remaining / report.rate if report.rate > 0 else None
                progress(report)
    writer.flush()
    stats.cancelled = cancelled() and stats.done < len(tasks)
    stats.seconds = time.monotonic() - start
    return stats
