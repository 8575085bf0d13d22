"""Library: a folder holding the catalog, the thumbnail cache and backups. The facade the CLI, the
GUI and scripts use; photos themselves stay where they are.

The catalog is `catalog.sqlite` in the folder unless a studio catalog on PostgreSQL is named: by
`--catalog URL` (the `catalog` argument), by TESSERA_CATALOG, or by the folder's own setting
(library.json, written by `tessera catalog use URL`). The folder then keeps the thumbnails and backups:
shared by the workstations where it is on the shared drive, local to each otherwise."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import platformdirs
from peewee import Database

from app.core.analysis.pipeline import (
    Cancelled,
    Paused,
    Progress,
    ProgressCallback,
    RunControls,
    RunStats,
    combined,
    run_tasks,
)
from app.core.analysis.planning import count_unfinished, pending_tasks, validate_stages
from app.core.analysis.workers import SharedWorkers, default_processes
from app.core.catalog import backups, dialect, roots
from app.core.catalog.claims import LEASE_S, ClaimedTasks, Claims
from app.core.catalog.connection import open_catalog, quick_check
from app.core.catalog.engine import CatalogLocation, parse_location
from app.core.catalog.models import Photo, Setting
from app.core.catalog.store import DEFAULT_AUTO_TAGGING
from app.core.catalog.writer import CatalogWriter
from app.core.errors import PhotoNotFoundError, TesseraError
from app.core.ingest.importer import ImportReport, import_paths
from app.core.records import STAGES, Task

ENV_VAR = "TESSERA_LIBRARY"
CATALOG_ENV_VAR = "TESSERA_CATALOG"
CLAIM_CHUNK = 8
PLACES_STAGE = "places"  # not a worker stage: run by Library.locate_places after the workers
CATALOG = "catalog.sqlite"
SETTINGS_FILE = "library.json"  # settings of the folder itself (where its catalog is), not in the catalog
AUTO_WRITE_SIDECARS = "auto_write_sidecars"  # setting: "1" writes XMP sidecars as the user edits
ANALYSIS_PAUSED = "analysis_paused"  # setting: "1" while the user has paused analysis (kept across restarts)


def default_library_path() -> Path:
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("Tessera", appauthor=False)) / "Library"


def catalog_setting(root: Path) -> str | None:
    """The catalog the library folder names in its settings file (None: its own catalog.sqlite)."""
    try:
        return json.loads((root / SETTINGS_FILE).read_text(encoding="utf-8")).get("catalog") or None
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise TesseraError(f"cannot read {root / SETTINGS_FILE}: {exc}") from exc


def set_catalog_setting(root: Path, url: str | None) -> None:
    """Name the catalog this library folder opens by default (None: back to its catalog.sqlite)."""
    path = root / SETTINGS_FILE
    settings = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    settings["catalog"] = parse_location(url).url if url else None
    root.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def resolve_location(root: Path, catalog: str | None = None) -> CatalogLocation:
    """--catalog, then TESSERA_CATALOG, then the folder's setting, then its catalog.sqlite."""
    named = catalog or os.environ.get(CATALOG_ENV_VAR) or catalog_setting(root)
    return parse_location(named) if named else CatalogLocation(str(root / CATALOG))


class Library:
    def __init__(self, root: Path, database: Database, location: CatalogLocation | None = None) -> None:
        self.root = root
        self.db = database
        self.location = location or CatalogLocation(str(root / CATALOG))
        self._writer: CatalogWriter | None = None
        # told when our writes wait for another process's (the GUI shows it, the CLI prints it)
        self.on_writer_wait: Callable[[str], None] | None = None

    # -- opening ---------------------------------------------------------------------------------
    @classmethod
    def open(cls, root: Path | None = None, *, catalog: str | None = None, auto_backup: bool = True) -> Library:
        root = (root or default_library_path()).expanduser().resolve()
        root.mkdir(parents=True, exist_ok=True)
        (root / "thumbnails").mkdir(exist_ok=True)
        (root / "backups").mkdir(exist_ok=True)
        location = resolve_location(root, catalog)
        database = open_catalog(location, root / "backups")
        lib = cls(root, database, location)
        roots.activate(roots.load_path_map())
        # daily backups of a SQLite catalog; a studio server's are its administrator's (pg_dump, or
        # `tessera backup` on one workstation)
        daily = auto_backup and not location.is_postgres and backups.backup_is_due(lib.backups_dir)
        if daily and lib.photo_count() > 0:
            backups.make_backup(location.sqlite_path, lib.backups_dir, reason="daily")
        return lib

    @property
    def is_studio(self) -> bool:
        """The catalog is on a PostgreSQL server, shared with other workstations."""
        return self.location.is_postgres

    @property
    def catalog_path(self) -> Path:
        return self.location.sqlite_path

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
        self.writer.call(lambda: dialect.upsert(Setting, (Setting.key,), key=key, value=value))

    @property
    def auto_tagging(self) -> float:
        return float(self.setting("auto_tagging", str(DEFAULT_AUTO_TAGGING)) or DEFAULT_AUTO_TAGGING)

    @property
    def auto_write_sidecars(self) -> bool:
        return self.setting(AUTO_WRITE_SIDECARS, "0") == "1"

    def set_auto_write_sidecars(self, on: bool) -> None:
        self.set_setting(AUTO_WRITE_SIDECARS, "1" if on else "0")

    @property
    def analysis_paused(self) -> bool:
        return self.setting(ANALYSIS_PAUSED, "0") == "1"

    def set_analysis_paused(self, paused: bool) -> None:
        self.set_setting(ANALYSIS_PAUSED, "1" if paused else "0")

    # -- work -------------------------------------------------------------------------------------
    def import_folders(
        self,
        paths: Sequence[Path],
        *,
        analyze: bool = True,
        progress: ProgressCallback | None = None,
        cancelled: Cancelled = lambda: False,
        paused: Paused = lambda: False,
        processes: int | None = None,
    ) -> ImportReport:
        """Import `paths`; with `analyze`, analyze what they hold that is not analyzed yet (photos
        imported earlier without analysis, or by a run that was stopped) in the same run: the new
        files' quick stages in the import's own decode, the rest claimed from the catalog as
        `analyze` claims it, so an analyser on another workstation shares it. While `paused()`,
        files are imported and their analysis waits (see pipeline.Schedule)."""
        self.writer.call(lambda: roots.register_roots([os.path.abspath(p) for p in paths if os.path.isdir(p)]))
        with SharedWorkers(processes) as workers:  # one pool for both steps: workers are slow to start
            controls = RunControls(
                progress=progress, cancelled=cancelled, paused=paused, processes=processes, workers=workers
            )
            report = import_paths(
                paths, self.writer, self.thumbs_dir, exclude=[self.root], analyze=analyze,
                auto_tagging=self.auto_tagging, **controls,
            )  # fmt: skip
            if report.photo_ids:  # what the import's own decode left: claimed, as `tessera analyze` does
                run = self._analyze_claimed(STAGES, report.photo_ids, False, controls)
                report.run = combined(report.run, run)
                report.cancelled = report.cancelled or run.cancelled
        if not report.cancelled:
            self.locate_places()  # needs no decode: even an import without analysis names places
        self.place_new_faces(progress)
        return report

    def analyze(
        self,
        stages: Sequence[str] | None = None,
        *,
        force: bool = False,
        photo_ids: Sequence[int] | None = None,
        progress: ProgressCallback | None = None,
        cancelled: Cancelled = lambda: False,
        paused: Paused = lambda: False,
        processes: int | None = None,
        lease_s: float = LEASE_S,
    ) -> RunStats:
        """Analyse what is due, quick stages first, claiming photos from the catalog as the workers
        need them, so that analysers on other workstations (or other processes) split the work (see
        catalog/claims.py); then the places stage, which needs no worker (`locate_places`). While
        `paused()`, nothing more is handed out."""
        places = stages is None or PLACES_STAGE in stages
        stages = None if stages is None else [s for s in stages if s != PLACES_STAGE]
        chosen = validate_stages(stages) if stages != [] else ()
        controls = RunControls(progress=progress, cancelled=cancelled, paused=paused, processes=processes)
        stats = self._analyze_claimed(chosen, photo_ids, force, controls, lease_s)
        if places and not stats.cancelled:
            self.locate_places(force=force, photo_ids=photo_ids)
        self.place_new_faces(progress)
        return stats

    def _analyze_claimed(
        self,
        stages: Sequence[str],
        photo_ids: Sequence[int] | None,
        force: bool,
        controls: RunControls,
        lease_s: float = LEASE_S,
    ) -> RunStats:
        """The worker stages due for these photos (None: the whole library), each photo claimed from
        the catalog as the workers need it (see catalog/claims.py)."""

        def plan(ids: Sequence[int] | None) -> list[Task]:
            return pending_tasks(self.thumbs_dir, stages, force=force, photo_ids=ids) if stages else []

        with Claims(self.writer, lease_s) as claims:
            # a claim every CLAIM_CHUNK photos a worker: fewer round trips and forced commits, while an
            # analyser holds at most two chunks ahead of what it has done
            chunk = CLAIM_CHUNK * (controls.get("processes") or default_processes())
            cancelled = controls.get("cancelled", lambda: False)
            tasks = ClaimedTasks(plan(photo_ids), plan, claims, chunk=chunk, cancelled=cancelled)
            return run_tasks(tasks, self.writer, phase="analyzing", auto_tagging=self.auto_tagging, **controls)

    def locate_places(self, *, force: bool = False, photo_ids: Sequence[int] | None = None) -> int:
        """The places stage (app/core/places/stage.py): a batch in this process, no decode."""
        from app.core.places.stage import locate_photos

        return locate_photos(self.writer, force=force, photo_ids=photo_ids)

    def place_new_faces(self, progress: ProgressCallback | None = None) -> None:
        """New faces join the people: suggestions for named persons, groups for the rest."""
        from app.core.catalog.people import unplaced_count
        from app.core.people.persons import update_people

        waiting = unplaced_count()
        if waiting:
            if progress:
                progress(Progress(phase="grouping faces", total=waiting))
            update_people(self)

    def unfinished_analysis(self) -> int:
        """How many photos still lack a stage at its current version (what a resume would analyze)."""
        return count_unfinished()

    # -- reading ----------------------------------------------------------------------------------
    def photo_count(self) -> int:
        return Photo.select().count()

    def resolve_photo(self, ref: str) -> Photo:
        """A photo by catalog id or by file path."""
        photo = None
        if ref.isdigit():
            photo = Photo.get_or_none(Photo.id == int(ref))
        if photo is None:
            photo = Photo.get_or_none(Photo.path == roots.stored_path(os.path.abspath(os.path.expanduser(ref))))
        if photo is None:
            raise PhotoNotFoundError(f"no photo {ref!r} in the library {self.root} (give an id or a path)")
        return photo

    def check(self) -> dict[str, object]:
        if self.is_studio:  # the server checks its own pages (pg_amcheck); we check that it answers
            problem = integrity = "ok" if self.db.execute_sql("SELECT 1").fetchone()[0] == 1 else "no answer"
        else:
            problem = quick_check(self.catalog_path)
            integrity = self.db.execute_sql("PRAGMA integrity_check").fetchone()[0]
        missing_files = [
            path
            for p in Photo.select(Photo.path).where(Photo.status.in_(["ok", "error"]))
            if not os.path.exists(path := roots.local_path(p.path))
        ]
        return {"quick_check": problem, "integrity_check": integrity, "files_not_found": missing_files}

    def backup(self, reason: str = "manual") -> Path:
        if self._writer is not None:
            self._writer.flush()
        if not self.is_studio:
            return backups.make_backup(self.catalog_path, self.backups_dir, reason=reason)
        path = backups.backup_postgres(self.location, self.backups_dir, reason=reason)
        if path is None:
            raise TesseraError(
                "pg_dump is not installed on this workstation (apt-get install postgresql-client); "
                f"or copy the catalog into a file: tessera catalog copy {self.location.display} BACKUP.sqlite"
            )
        return path
