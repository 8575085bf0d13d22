"""Library: a folder holding the catalog, the thumbnail cache and backups. The facade the CLI, the
GUI and scripts use; photos themselves stay where they are."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import platformdirs
from peewee import SqliteDatabase

from app.core.analysis.pipeline import Cancelled, Progress, ProgressCallback, RunStats, run_tasks
from app.core.analysis.planning import pending_tasks, validate_stages
from app.core.catalog import backups
from app.core.catalog.connection import open_catalog, quick_check
from app.core.catalog.models import Photo, Setting
from app.core.catalog.store import DEFAULT_AUTO_TAGGING
from app.core.catalog.writer import CatalogWriter
from app.core.errors import PhotoNotFoundError
from app.core.ingest.importer import ImportReport, import_paths

ENV_VAR = "TESSERA_LIBRARY"
CATALOG = "catalog.sqlite"
AUTO_WRITE_SIDECARS = "auto_write_sidecars"  # setting: "1" writes XMP sidecars as the user edits


def default_library_path() -> Path:
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("Tessera", appauthor=False)) / "Library"


class Library:
    def __init__(self, root: Path, database: SqliteDatabase) -> None:
        self.root = root
        self.db = database
        self._writer: CatalogWriter | None = None
        # told when our writes wait for another process's (the GUI shows it, the CLI prints it)
        self.on_writer_wait: Callable[[str], None] | None = None

    # -- opening ---------------------------------------------------------------------------------
    @classmethod
    def open(cls, root: Path | None = None, *, auto_backup: bool = True) -> Library:
        root = (root or default_library_path()).expanduser().resolve()
        root.mkdir(parents=True, exist_ok=True)
        (root / "thumbnails").mkdir(exist_ok=True)
        (root / "backups").mkdir(exist_ok=True)
        catalog = root / CATALOG
        database = open_catalog(catalog, root / "backups")
        lib = cls(root, database)
        if auto_backup and lib.photo_count() > 0 and backups.backup_is_due(lib.backups_dir):
            backups.make_backup(catalog, lib.backups_dir, reason="daily")
        return lib

    @property
    def catalog_path(self) -> Path:
        return self.root / CATALOG

    @property
    def thumbs_dir(self) -> Path:
        return self.root / "thumbnails"

    @property
    def backups_dir(self) -> Path:
        return self.root / "backups"

    @property
    def writer(self) -> CatalogWriter:
        if self._writer is None:
            self._writer = CatalogWriter(self.db, on_wait=lambda msg: self.on_writer_wait and self.on_writer_wait(msg))
        return self._writer

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        self.db.close()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- settings ---------------------------------------------------------------------------------
    def setting(self, key: str, default: str | None = None) -> str | None:
        row = Setting.get_or_none(Setting.key == key)
        return row.value if row else default

    def set_setting(self, key: str, value: str) -> None:
        self.writer.call(lambda: Setting.insert(key=key, value=value).on_conflict_replace().execute())

    @property
    def auto_tagging(self) -> float:
        return float(self.setting("auto_tagging", str(DEFAULT_AUTO_TAGGING)) or DEFAULT_AUTO_TAGGING)

    @property
    def auto_write_sidecars(self) -> bool:
        return self.setting(AUTO_WRITE_SIDECARS, "0") == "1"

    def set_auto_write_sidecars(self, on: bool) -> None:
        self.set_setting(AUTO_WRITE_SIDECARS, "1" if on else "0")

    # -- work -------------------------------------------------------------------------------------
    def import_folders(
        self,
        paths: Sequence[Path],
        *,
        analyze: bool = True,
        progress: ProgressCallback | None = None,
        cancelled: Cancelled = lambda: False,
        processes: int | None = None,
    ) -> ImportReport:
        report = import_paths(
            paths,
            self.writer,
            self.thumbs_dir,
            exclude=[self.root],
            analyze=analyze,
            auto_tagging=self.auto_tagging,
            progress=progress,
            cancelled=cancelled,
            processes=processes,
        )
        if analyze and not report.cancelled:
            # photos imported earlier without analysis, or by a run that was killed half way
            ids = [p.id for p in self.photos_under(paths)]
            rest = self.analyze(photo_ids=ids, progress=progress, cancelled=cancelled, processes=processes)
            report.run.stage_failures.extend(rest.stage_failures)
        return report

    def analyze(
        self,
        stages: Sequence[str] | None = None,
        *,
        force: bool = False,
        photo_ids: Sequence[int] | None = None,
        progress: ProgressCallback | None = None,
        cancelled: Cancelled = lambda: False,
        processes: int | None = None,
    ) -> RunStats:
        tasks = pending_tasks(self.thumbs_dir, validate_stages(stages), force=force, photo_ids=photo_ids)
        stats = run_tasks(
            tasks,
            self.writer,
            phase="analyzing",
            auto_tagging=self.auto_tagging,
            progress=progress,
            cancelled=cancelled,
            processes=processes,
        )
        self.place_new_faces(progress)
        return stats

    def place_new_faces(self, progress: ProgressCallback | None = None) -> None:
        """New faces join the people: suggestions for named persons, groups for the rest."""
        from app.core.catalog.people import unplaced_count
        from app.core.people.persons import update_people

        waiting = unplaced_count()
        if waiting:
            if progress:
                progress(Progress(phase="grouping faces", total=waiting))
            update_people(self)

    # -- reading ----------------------------------------------------------------------------------
    def photo_count(self) -> int:
        return Photo.select().count()

    def photos_under(self, paths: Sequence[Path]) -> list[Photo]:
        result: list[Photo] = []
        for p in paths:
            root = os.path.abspath(p)
            prefix = root.rstrip(os.sep) + os.sep
            result.extend(Photo.select().where((Photo.path == root) | Photo.path.startswith(prefix)))
        return result

    def resolve_photo(self, ref: str) -> Photo:
        """A photo by catalog id or by file path."""
        photo = None
        if ref.isdigit():
            photo = Photo.get_or_none(Photo.id == int(ref))
        if photo is None:
            photo = Photo.get_or_none(Photo.path == os.path.abspath(os.path.expanduser(ref)))
        if photo is None:
            raise PhotoNotFoundError(f"no photo {ref!r} in the library {self.root} (give an id or a path)")
        return photo

    def check(self) -> dict[str, object]:
        problem = quick_check(self.catalog_path)
        integrity = self.db.execute_sql("PRAGMA integrity_check").fetchone()[0]
        missing_files = [
            p.path
            for p in Photo.select(Photo.path).where(Photo.status.in_(["ok", "error"]))
            if not os.path.exists(p.path)
        ]
        return {"quick_check": problem, "integrity_check": integrity, "files_not_found": missing_files}

    def backup(self, reason: str = "manual") -> Path:
        if self._writer is not None:
            self._writer.flush()
        return backups.make_backup(self.catalog_path, self.backups_dir, reason=reason)
