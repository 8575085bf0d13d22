"""Incremental import of folders into the catalog.

A rescan compares size + mtime with the catalog and reads no file whose stat() is unchanged. Files
under the scanned roots that vanished are marked missing (never dropped: their tags and decisions
stay, and a moved copy found later takes its row back by content hash).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from app.core.analysis.pipeline import Cancelled, Progress, ProgressCallback, RunStats, run_tasks
from app.core.analysis.work import STAGES, Task
from app.core.catalog.models import MISSING, Photo
from app.core.catalog.store import mark_missing
from app.core.catalog.writer import CatalogWriter
from app.core.ingest.scanner import ScanEntry, ScanSummary, scan


@dataclass
class ImportReport:
    scanned: int = 0
    unchanged: int = 0
    missing: int = 0
    skipped_media: int = 0
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    run: RunStats = field(default_factory=RunStats)
    cancelled: bool = False

    @property
    def failed(self) -> list[tuple[str, str]]:
        return [*self.run.failed, *self.unreadable]

    def count(self, kind: str) -> int:
        return self.run.kinds.get(kind, 0)

    def summary(self) -> str:
        parts = [
            f"{self.scanned} files scanned",
            f"{self.count('new')} new",
            f"{self.count('changed')} changed",
            f"{self.count('moved')} moved",
            f"{self.unchanged} unchanged",
            f"{self.missing} missing",
            f"{len(self.failed)} failed",
        ]
        if self.skipped_media:
            parts.append(f"{self.skipped_media} videos/audio skipped")
        if self.cancelled:
            parts.append("cancelled (run again to resume)")
        return ", ".join(parts)


def _under(path: str, roots: Sequence[str]) -> bool:
    return any(path == r or path.startswith(r.rstrip(os.sep) + os.sep) for r in roots)


def _known_photos(roots: Sequence[str]) -> dict[str, tuple[int, int, int, str]]:
    """Catalog rows under the roots: path -> (id, size, mtime_ns, status)."""
    query = Photo.select(Photo.id, Photo.path, Photo.size, Photo.mtime_ns, Photo.status)
    known: dict[str, tuple[int, int, int, str]] = {}
    for root in roots:
        prefix = root.rstrip(os.sep) + os.sep
        rows = query.where((Photo.path == root) | Photo.path.startswith(prefix)).tuples()
        for pid, path, size, mtime_ns, status in rows:
            known[path] = (pid, size, mtime_ns, status)
    return known


def plan_import(
    roots: Sequence[Path], exclude: Sequence[Path], cancelled: Cancelled, progress: ProgressCallback | None
) -> tuple[list[ScanEntry], list[int], ImportReport]:
    """Scan and compare with the catalog: files to (re)read, and ids of photos now missing."""
    report = ImportReport()
    summary = ScanSummary()
    root_strs = [os.path.abspath(r) for r in roots]
    known = _known_photos(root_strs)
    to_read: list[ScanEntry] = []
    seen: set[str] = set()
    for entry in scan(roots, exclude=exclude, summary=summary, cancelled=cancelled):
        report.scanned += 1
        seen.add(entry.path)
        row = known.get(entry.path)
        if row is not None and row[1] == entry.size and row[2] == entry.mtime_ns and row[3] != MISSING:
            report.unchanged += 1
        else:
            to_read.append(entry)
        if progress and report.scanned % 500 == 0:
            progress(Progress(phase="scanning", done=report.scanned, current=entry.path))
    report.skipped_media = summary.skipped_media
    report.unreadable = summary.unreadable
    unreachable_roots = {p for p, _ in summary.unreadable if p in root_strs}
    gone: list[int] = []
    if not cancelled():  # a partial scan proves nothing about missing files
        for path, (pid, _size, _mtime, status) in known.items():
            if path not in seen and status != MISSING and not _under(path, list(unreachable_roots)):
                gone.append(pid)
    report.missing = len(gone)
    return to_read, gone, report


def import_paths(
    roots: Sequence[Path],
    writer: CatalogWriter,
    thumbs_dir: Path,
    *,
    exclude: Sequence[Path] = (),
    analyze: bool = True,
    auto_tagging: float,
    progress: ProgressCallback | None = None,
    cancelled: Cancelled = lambda: False,
    processes: int | None = None,
) -> ImportReport:
    to_read, gone, report = plan_import(roots, exclude, cancelled, progress)
    if gone:
        writer.call(lambda: mark_missing(gone))
    stages = STAGES if analyze else ()
    tasks = [Task(path=e.path, stages=stages, thumbs_dir=str(thumbs_dir)) for e in to_read]
    report.run = run_tasks(
        tasks,
        writer,
        phase="importing",
        auto_tagging=auto_tagging,
        progress=progress,
        cancelled=cancelled,
        processes=processes,
    )
    report.cancelled = cancelled()
    return report
