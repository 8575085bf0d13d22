"""Opening the catalog: pragmas, integrity check, schema migrations (after a backup). One migration
path for both engines: the functions in MIGRATIONS take the peewee database and write portable SQL
(peewee's create_tables / playhouse.migrate, or dialect.py where the engines differ)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import peewee
from peewee import Database, SqliteDatabase
from playhouse.migrate import SchemaMigrator, migrate

from app.core.catalog import backups, dialect
from app.core.catalog.engine import CatalogLocation, postgres_database
from app.core.catalog.models import (
    ALL_MODELS,
    DETAIL_COLUMNS,
    STUDIO_MODELS,
    Collection,
    CollectionPhoto,
    EditCheck,
    Face,
    FaceRejection,
    FaceVector,
    Person,
    Photo,
    PhotoDetail,
    PhotoPlace,
    SchemaVersion,
    db,
)
from app.core.errors import CatalogCorruptError, CatalogLockedError, CatalogUnavailableError

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


def _migration_1(database: Database) -> None:
    database.create_tables(ALL_MODELS)


def _migration_2(database: Database) -> None:
    """Duplicate-finder guards computed with the hashes (a new catalog already has them: migration
    1 creates tables from the current models)."""
    have = {c.name for c in database.get_columns("photo")}
    for column in ("detail", "lightness"):
        if column not in have:
            database.execute_sql(f"ALTER TABLE photo ADD COLUMN {column} REAL")


def _migration_3(database: Database) -> None:
    """Covering indexes in the grid's sort orders (queries.order_by writes ORDER BY to match): the
    whole library in date order comes off one index in ~30 ms at 100k photos, instead of a sort of
    every row (~120 ms). Status is in each, so filtering on it needs no table row. Name and size
    and import-order sorts walk theirs backwards for descending; date and rating keep NULLs last both ways.
    PostgreSQL wants an expression in an index in parentheses; SQLite keeps the text it always had."""
    pg = dialect.is_postgres(database)
    dates, ratings = ("(taken_at IS NULL)", "(rating IS NULL)") if pg else ("taken_at IS NULL", "rating IS NULL")
    last = " NULLS LAST" if pg else ""  # queries.order_by: a later key's NULL is smallest on both engines
    for name, columns in (
        ("photo_sort_date", f"{dates}, taken_at, filename, id, status"),
        ("photo_sort_date_desc", f"{dates}, taken_at DESC, filename DESC, id DESC, status"),
        ("photo_sort_name", "filename, id, status"),
        ("photo_sort_size", "size, id, status"),
        ("photo_sort_rating_desc", f"{ratings}, rating DESC, taken_at DESC{last}, id DESC, status"),
        ("photo_sort_imported", "id, status"),  # not the table: its rows are wide (EXIF JSON)
    ):
        database.execute_sql(f"CREATE INDEX IF NOT EXISTS {name} ON photo ({columns})")
    database.execute_sql("ANALYZE")  # so the planner knows the new indexes are worth it


def _migration_4(database: Database) -> None:
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


def _migration_5(database: Database) -> None:
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


def _migration_6(database: Database) -> None:
    """Flags, colour labels and collections: the pick flag beside the rating (a reject stays rating -1,
    as X has always stored it) and the collection tables. A new catalog has them from migration 1."""
    have = {c.name for c in database.get_columns("photo")}
    if "picked" not in have:
        # A plain ADD COLUMN: playhouse's add_column rebuilds the table for a NOT NULL column on SQLite,
        # and dropping the old `photo` cascades into every table that references it (tags, analysis).
        ctx = database.get_sql_context()
        column, _ = ctx.sql(Photo.picked.ddl(ctx)).query()
        database.execute_sql(f"ALTER TABLE photo ADD COLUMN {column} DEFAULT FALSE")
    for name, column in (("photo_picked", "picked"), ("photo_label", "label")):  # peewee's names for them
        database.execute_sql(f"CREATE INDEX IF NOT EXISTS {name} ON photo ({column})")
    database.create_tables([Collection, CollectionPhoto])


def _migration_7(database: Database) -> None:
    """Studio catalog: the change log other workstations poll, analysis claims, library roots and
    each workstation's mount of them."""
    database.create_tables(STUDIO_MODELS)


def _migration_8(database: Database) -> None:
    """Places: names and great-circle positions per photo (models.PhotoPlace), filled by the places
    stage after the next import or analyze."""
    database.create_tables([PhotoPlace])


def _migration_9(database: Database) -> None:
    """The edited tier's cache of geometric checks per pair of files (a new catalog already has it)."""
    database.create_tables([EditCheck])


def _migration_10(database: Database) -> None:
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
MIGRATIONS: list[Callable[[Database], None]] = [
    _migration_1, _migration_2, _migration_3, _migration_4, _migration_5, _migration_6, _migration_7,
    _migration_8, _migration_9, _migration_10,
]  # fmt: skip
SCHEMA_VERSION = len(MIGRATIONS)
MIGRATION_LOCK = 0x7E55E4A  # PostgreSQL advisory lock key: one migrating workstation at a time


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


def current_version(database: Database) -> int:
    if not database.table_exists(SchemaVersion._meta.table_name):
        return 0
    row = SchemaVersion.select().order_by(SchemaVersion.version.desc()).first()
    return row.version if row else 0


def open_catalog(location: CatalogLocation | Path, backups_dir: Path) -> Database:
    """Open (creating if new) and bind the catalog to the models, migrating its schema. A Path is a
    SQLite file."""
    if isinstance(location, Path):
        location = CatalogLocation(str(location))
    if location.is_postgres:
        return _open_postgres(location, backups_dir)
    return _open_sqlite(location.sqlite_path, backups_dir)


def _open_sqlite(path: Path, backups_dir: Path) -> SqliteDatabase:
    """Raises CatalogCorruptError when SQLite's quick_check fails: we never silently recreate a
    damaged catalog."""
    exists = path.exists() and path.stat().st_size > 0
    if exists:
        problem = quick_check(path)
        if problem != "ok":
            raise _corrupt(path, backups_dir, problem)
    database = SqliteDatabase(str(path), pragmas=PRAGMAS, timeout=BUSY_TIMEOUT_MS / 1000)
    db.initialize(database)
    try:
        database.connect(reuse_if_open=True)
        backup = (lambda reason: backups.make_backup(path, backups_dir, reason)) if exists else None
        _migrate(database, backup, str(path))
    except sqlite3.OperationalError as exc:
        database.close()
        if "locked" in str(exc) or "busy" in str(exc):
            raise CatalogLockedError(path) from exc
        raise
    except sqlite3.DatabaseError as exc:
        database.close()
        raise _corrupt(path, backups_dir, str(exc)) from exc
    return database


def _open_postgres(location: CatalogLocation, backups_dir: Path) -> Database:
    database = postgres_database(location)
    db.initialize(database)
    try:
        database.connect(reuse_if_open=True)
    except peewee.DatabaseError as exc:  # psycopg2's, wrapped: server down, wrong password, no such database
        raise CatalogUnavailableError(location.display, str(exc)) from exc
    _migrate(database, lambda reason: backups.backup_postgres(location, backups_dir, reason), location.display)
    return database


def _migrate(database: Database, backup: Callable[[str], object] | None, where: str) -> None:
    """Upgrade to SCHEMA_VERSION in one transaction. Two processes may open a catalog at once (two
    workstations on PostgreSQL): the version is read again once the transaction holds the lock, so
    the second finds the work done."""
    version = current_version(database)
    _refuse_newer(version, where)
    if version == SCHEMA_VERSION:
        return
    if version > 0 and backup is not None:
        backup(f"before-migration-{version}")
    with dialect.write_transaction(database):
        if dialect.is_postgres(database):
            database.execute_sql("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        version = current_version(database)
        _refuse_newer(version, where)
        for step in range(version, SCHEMA_VERSION):
            MIGRATIONS[step](database)
        SchemaVersion.delete().execute()
        SchemaVersion.create(version=SCHEMA_VERSION)


def _refuse_newer(version: int, where: str) -> None:
    if version > SCHEMA_VERSION:
        raise RuntimeError(
            f"catalog {where} has schema version {version}, newer than this Tessera ({SCHEMA_VERSION}); update Tessera"
        )
