"""Opening the catalog: pragmas, integrity check, schema migrations (after a backup)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from peewee import SqliteDatabase
from playhouse.migrate import SchemaMigrator, migrate

from app.core.catalog import backups
from app.core.catalog.models import (
    ALL_MODELS,
    DETAIL_COLUMNS,
    Collection,
    CollectionPhoto,
    Face,
    FaceRejection,
    FaceVector,
    Person,
    Photo,
    PhotoDetail,
    SchemaVersion,
    db,
)
from app.core.errors import CatalogCorruptError, CatalogLockedError

# WAL lets readers (the GUI) run while one writer commits. A generous busy timeout makes a second
# writer (e.g. the CLI while the GUI imports) wait for the lock instead of failing.
BUSY_TIMEOUT_MS = 60_000
PRAGMAS = {
    "journal_mode": "wal",
    "synchronous": "normal",
    "foreign_keys": 1,
    "busy_timeout": BUSY_TIMEOUT_MS,
    "cache_size": -32_000,
    "temp_store": "memory",
}


def _migration_1(database: SqliteDatabase) -> None:
    database.create_tables(ALL_MODELS)


def _migration_2(database: SqliteDatabase) -> None:
    """Duplicate-finder guards computed with the hashes (a new catalog already has them: migration
    1 creates tables from the current models)."""
    have = {c.name for c in database.get_columns("photo")}
    for column in ("detail", "lightness"):
        if column not in have:
            database.execute_sql(f"ALTER TABLE photo ADD COLUMN {column} REAL")


def _migration_3(database: SqliteDatabase) -> None:
    """Covering indexes in the grid's sort orders (queries.order_by writes ORDER BY to match): the
    whole library in date order comes off one index in ~30 ms at 100k photos, instead of a sort of
    every row (~120 ms). Status is in each, so filtering on it needs no table row. Name and size
    and import-order sorts walk theirs backwards for descending; date and rating keep NULLs last both ways."""
    for name, columns in (
        ("photo_sort_date", "taken_at IS NULL, taken_at, filename, id, status"),
        ("photo_sort_date_desc", "taken_at IS NULL, taken_at DESC, filename DESC, id DESC, status"),
        ("photo_sort_name", "filename, id, status"),
        ("photo_sort_size", "size, id, status"),
        ("photo_sort_rating_desc", "rating IS NULL, rating DESC, taken_at DESC, id DESC, status"),
        ("photo_sort_imported", "id, status"),  # not the table: its rows are wide (EXIF JSON)
    ):
        database.execute_sql(f"CREATE INDEX IF NOT EXISTS {name} ON photo ({columns})")
    database.execute_sql("ANALYZE")  # so the planner knows the new indexes are worth it


def _migration_4(database: SqliteDatabase) -> None:
    """Sidecar state, so a rescan notices a sidecar edited by Lightroom & co. while the photo is
    unchanged (a new catalog already has the columns: migration 1 creates tables from the models).
    Rows imported before stay NULL (unknown): a rescan reads those that have a sidecar once more."""
    have = {c.name for c in database.get_columns("photo")}
    for column, kind in (
        ("sidecar_path", "TEXT"),
        ("sidecar_size", "INTEGER"),
        ("sidecar_mtime_ns", "INTEGER"),
        ("own_facts_json", "TEXT"),
    ):
        if column not in have:
            database.execute_sql(f"ALTER TABLE photo ADD COLUMN {column} {kind}")


def _migration_5(database: SqliteDatabase) -> None:
    """EXIF and colour JSON move from `photo` to `photo_detail` (see models.PhotoDetail): at 100k
    photos a text search went from ~125 ms to ~35 ms. A new catalog has the table and not the columns."""
    database.create_tables([PhotoDetail])
    have = {c.name for c in database.get_columns("photo")}
    moved = [c for c in DETAIL_COLUMNS if c in have]
    if not moved:
        return
    columns, stored = ", ".join(moved), " OR ".join(f"{c} IS NOT NULL" for c in moved)
    database.execute_sql(
        f"INSERT INTO photo_detail (photo_id, {columns}) SELECT id, {columns} FROM photo WHERE {stored}"
    )
    for column in moved:
        try:
            database.execute_sql(f"ALTER TABLE photo DROP COLUMN {column}")
        except sqlite3.OperationalError:  # SQLite before 3.35: keep the column, empty (the data moved)
            database.execute_sql(f"UPDATE photo SET {column} = NULL")


def _migration_6(database: SqliteDatabase) -> None:
    """Flags, colour labels and collections: the pick flag beside the rating (a reject stays rating -1,
    as X has always stored it) and the collection tables. A new catalog has them from migration 1."""
    have = {c.name for c in database.get_columns("photo")}
    if "picked" not in have:
        migrator = SchemaMigrator.from_database(database)
        migrate(migrator.add_column("photo", "picked", Photo.picked))  # with its index, as the model has it
    database.execute_sql("CREATE INDEX IF NOT EXISTS photo_label ON photo (label)")  # peewee's name for it
    database.create_tables([Collection, CollectionPhoto])


def _migration_7(database: SqliteDatabase) -> None:
    """People: persons and unnamed groups, each face's person and state, its descriptor, and "not
    this person" per face (a new catalog already has them: migration 1 creates tables from the models)."""
    database.create_tables([Person, FaceVector, FaceRejection])
    have = {c.name for c in database.get_columns("face")}
    fields = [Face.person, Face.person_state, Face.suggest_distance, Face.source]
    missing = [f for f in fields if f.column_name not in have]
    if missing:
        migrator = SchemaMigrator.from_database(database)
        migrate(*(migrator.add_column("face", f.column_name, f) for f in missing))
    database.execute_sql("CREATE INDEX IF NOT EXISTS face_person_id_person_state ON face (person_id, person_state)")


# Each entry upgrades the schema from version i to i + 1. Append; never edit a released one.
MIGRATIONS: list[Callable[[SqliteDatabase], None]] = [
    _migration_1, _migration_2, _migration_3, _migration_4, _migration_5, _migration_6, _migration_7,
]  # fmt: skip
SCHEMA_VERSION = len(MIGRATIONS)


def quick_check(path: Path) -> str:
    """'ok' or the first problem SQLite reports."""
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
        try:
            row = con.execute("PRAGMA quick_check").fetchone()
            return str(row[0]) if row else "no answer from quick_check"
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        return str(exc)


def _corrupt(path: Path, backups_dir: Path, problem: str) -> CatalogCorruptError:
    newest = backups.newest_backup(backups_dir)
    return CatalogCorruptError(path, problem, newest)


def current_version(database: SqliteDatabase) -> int:
    if not database.table_exists(SchemaVersion._meta.table_name):
        return 0
    row = SchemaVersion.select().order_by(SchemaVersion.version.desc()).first()
    return row.version if row else 0


def open_catalog(path: Path, backups_dir: Path) -> SqliteDatabase:
    """Open (creating if new) and bind the catalog to the models. Raises CatalogCorruptError when
    SQLite's quick_check fails: we never silently recreate a damaged catalog."""
    exists = path.exists() and path.stat().st_size > 0
    if exists:
        problem = quick_check(path)
        if problem != "ok":
            raise _corrupt(path, backups_dir, problem)
    database = SqliteDatabase(str(path), pragmas=PRAGMAS, timeout=BUSY_TIMEOUT_MS / 1000)
    db.initialize(database)
    try:
        database.connect(reuse_if_open=True)
        _migrate(database, path, backups_dir, exists)
    except sqlite3.OperationalError as exc:
        database.close()
        if "locked" in str(exc) or "busy" in str(exc):
            raise CatalogLockedError(path) from exc
        raise
    except sqlite3.DatabaseError as exc:
        database.close()
        raise _corrupt(path, backups_dir, str(exc)) from exc
    return database


def _migrate(database: SqliteDatabase, path: Path, backups_dir: Path, existed: bool) -> None:
    version = current_version(database)
    if version > SCHEMA_VERSION:
        raise RuntimeError(
            f"catalog {path} has schema version {version}, newer than this Tessera ({SCHEMA_VERSION}); update Tessera"
        )
    if version == SCHEMA_VERSION:
        return
    if existed and version > 0:
        backups.make_backup(path, backups_dir, reason=f"before-migration-{version}")
    with database.atomic("IMMEDIATE"):
        for step in range(version, SCHEMA_VERSION):
            MIGRATIONS[step](database)
        SchemaVersion.delete().execute()
        SchemaVersion.create(version=SCHEMA_VERSION)
