"""Incremental import of folders into the catalog.

A rescan compares size + mtime with the catalog and reads no file whose stat() is unchanged. Files
under the scanned roots that vanished are marked missing (never dropped: their tags and decisions
stay, and a moved copy found later takes its row back by content hash). An unchanged photo whose
.xmp sidecar appeared, changed or went (Lightroom rewrites only the sidecar) has just the sidecar
read again and merged with the photo's own facts kept in the catalog: no decode, no analysis.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import NamedTuple, Unpack

from app.core.analysis.pipeline import Cancelled, Progress, ProgressCallback, RunControls, RunStats, run_tasks
from app.core.analysis.work import load_sidecar
from app.core.catalog.models import MISSING, OK, Photo
from app.core.catalog.roots import local_path, stored_path
from app.core.catalog.store import mark_missing, store_sidecar
from app.core.catalog.writer import CatalogWriter
from app.core.ingest.scanner import ScanEntry, ScanSummary, scan
from app.core.records import STAGES, SidecarState, Task


@dataclass
class ImportReport:
    scanned: int = 0
    unchanged: int = 0
    missing: int = 0
    skipped_media: int = 0
    sidecars_reread: int = 0  # unchanged photos whose changed sidecar was merged again
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    run: RunStats = field(default_factory=RunStats)
    cancelled: bool = False
    photo_ids: list[int] = field(default_factory=list)  # readable photos under the roots, once imported

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
        if self.sidecars_reread:
            parts.append(f"{self.sidecars_reread} sidecars re-read")
        if self.skipped_media:
            parts.append(f"{self.skipped_media} videos/audio skipped")
        if self.run.paused:
            parts.append("analysis paused")
        if self.cancelled:
            parts.append("cancelled (run again to resume)")
        return ", ".join(parts)


def _under(path: str, roots: Sequence[str]) -> bool:
    return any(path == r or path.startswith(r.rstrip(os.sep) + os.sep) for r in roots)


class Known(NamedTuple):
    """A catalog row under the scanned roots, as much of it as a rescan compares."""

    id: int
    size: int
    mtime_ns: int
    status: str
    sidecar: SidecarState | None
    has_own_facts: bool  # False for photos imported before their facts were kept (schema < 4)


def _known_photos(roots: Sequence[str]) -> dict[str, Known]:
    """Catalog rows under the roots (local paths), by local path."""
    query = Photo.select(
        Photo.id, Photo.path, Photo.size, Photo.mtime_ns, Photo.status, Photo.sidecar_path,
        Photo.sidecar_size, Photo.sidecar_mtime_ns, Photo.own_facts_json.is_null(False),
    )  # fmt: skip
    known: dict[str, Known] = {}
    for root in map(stored_path, roots):
        prefix = root.rstrip(os.sep) + os.sep
        rows = query.where((Photo.path == root) | Photo.path.startswith(prefix)).tuples()
        for pid, path, size, mtime_ns, status, sc_path, sc_size, sc_mtime_ns, has_facts in rows:
            sidecar = None if sc_path is None else SidecarState(local_path(sc_path), sc_size, sc_mtime_ns)
            known[local_path(path)] = Known(pid, size, mtime_ns, status, sidecar, bool(has_facts))
    return known


@dataclass
class ImportPlan:
    to_read: list[ScanEntry] = field(default_factory=list)  # new or changed: read, decode, analyze
    sidecars: list[tuple[int, ScanEntry]] = field(default_factory=list)  # (photo id, entry): merge again
    # unchanged photos from before schema 4 whose sidecar state differs: read again, not analyzed
    refresh: list[ScanEntry] = field(default_factory=list)
    gone: list[int] = field(default_factory=list)  # ids of photos now missing


def _sort_entry(entry: ScanEntry, row: Known | None, plan: ImportPlan, report: ImportReport) -> None:
    """Put one scanned file in the plan by what the catalog knows of it."""
    if row is None or row.size != entry.size or row.mtime_ns != entry.mtime_ns or row.status == MISSING:
        plan.to_read.append(entry)
        return
    report.unchanged += 1
    if row.status != OK or row.sidecar == entry.sidecar:
        return
    if row.has_own_facts:
        plan.sidecars.append((row.id, entry))
    else:  # its embedded keywords are mixed with the old sidecar's in the catalog: read the photo
        plan.refresh.append(entry)


def plan_import(
    roots: Sequence[Path], exclude: Sequence[Path], cancelled: Cancelled, progress: ProgressCallback | None
) -> tuple[ImportPlan, ImportReport]:
    """Scan and compare with the catalog: files to (re)read, sidecars to merge again, and photos
    now missing."""
    report = ImportReport()
    plan = ImportPlan()
    summary = ScanSummary()
    root_strs = [os.path.abspath(r) for r in roots]
    known = _known_photos(root_strs)
    seen: set[str] = set()
    for entry in scan(roots, exclude=exclude, summary=summary, cancelled=cancelled):
        report.scanned += 1
        seen.add(entry.path)
        _sort_entry(entry, known.get(entry.path), plan, report)
        if progress and report.scanned % 500 == 0:
            progress(Progress(phase="scanning", done=report.scanned, current=entry.path))
    report.skipped_media = summary.skipped_media
    report.unreadable = summary.unreadable
    unreachable_roots = {p for p, _ in summary.unreadable if p in root_strs}
    if not cancelled():  # a partial scan proves nothing about missing files
        for path, row in known.items():
            if path not in seen and row.status != MISSING and not _under(path, list(unreachable_roots)):
                plan.gone.append(row.id)
    report.missing = len(plan.gone)
    return plan, report


def reread_sidecars(
    changed: Sequence[tuple[int, ScanEntry]],
    writer: CatalogWriter,
    failures: list[tuple[str, str, str]],
    cancelled: Cancelled,
) -> int:
    """Read the changed sidecars here and merge them on the writer thread; returns how many were
    merged. An unreadable one is reported in `failures` like at import, and the photo keeps what it
    had. Stops early when cancelled: the sidecar states not stored make the next run pick them up."""
    pending = []
    for photo_id, entry in changed:
        if cancelled():
            break
        data, problem = load_sidecar(entry.sidecar)
        if problem is not None:
            failures.append((entry.path, "sidecar", problem))
        future = writer.submit(partial(store_sidecar, photo_id, entry.sidecar, data))
        pending.append((entry.path, problem is None, future))
    merged = 0
    for path, readable, future in pending:
        try:
            future.result()
        except Exception as exc:  # one photo's failed write must not lose the others
            failures.append((path, "sidecar", f"{type(exc).__name__}: {exc}"))
        else:
            merged += readable
    return merged


def _task(entry: ScanEntry, stages: tuple[str, ...], thumbs_dir: Path) -> Task:
    return Task(
        entry.path, stages, thumbs_dir=str(thumbs_dir), sidecar_scanned=True, sidecar=entry.sidecar, defer_slow=True
    )


def import_paths(
    roots: Sequence[Path],
    writer: CatalogWriter,
    thumbs_dir: Path,
    *,
    exclude: Sequence[Path] = (),
    analyze: bool = True,
    auto_tagging: float,
    **controls: Unpack[RunControls],
) -> ImportReport:
    """Import new and changed files, with `analyze` in one decode with their quick stages and the slow
    stages of photos that are costly to decode again. The slow stages left for later, and the analysis
    the unchanged photos under the roots still lack (an earlier import without it, a run that was
    stopped), stay due in the catalog: Library.import_folders claims them like `tessera analyze`, so
    another workstation's analyser shares them and none is done twice."""
    cancelled = controls.get("cancelled") or (lambda: False)
    plan, report = plan_import(roots, exclude, cancelled, controls.get("progress"))
    if plan.gone:
        writer.call(lambda: mark_missing(plan.gone))
    stages = STAGES if analyze else ()
    tasks = [_task(e, stages, thumbs_dir) for e in plan.to_read]
    tasks += [_task(e, (), thumbs_dir) for e in plan.refresh]
    report.run = run_tasks(tasks, writer, phase="importing", auto_tagging=auto_tagging, run_deferred=False, **controls)
    failures = report.run.stage_failures
    report.sidecars_reread = len(plan.refresh) + reread_sidecars(plan.sidecars, writer, failures, cancelled)
    report.cancelled = cancelled()
    if analyze and not report.cancelled:
        writer.flush()
        report.photo_ids = [k.id for k in _known_photos([os.path.abspath(r) for r in roots]).values() if k.status == OK]
    return report
