"""`tessera catalog copy SRC DST`: a whole catalog from one engine to the other (or the same), every
table and row with its ids, so a library moves to a studio server and back with nothing lost.

Both catalogs are opened (and so migrated) to this Tessera's schema; DST must hold no photos. Rows go
table by table in dependency order, streamed in chunks, all in one transaction on DST: a copy is
complete or absent. PostgreSQL's id sequences are moved past the copied ids afterwards, and the row
counts of both sides are compared before the copy commits."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from peewee import AutoField, Database, sort_models

from app.core.catalog import dialect
from app.core.catalog.connection import open_catalog
from app.core.catalog.engine import CatalogLocation
from app.core.catalog.models import ALL_MODELS, BaseModel, Photo, SchemaVersion
from app.core.errors import TesseraError

CHUNK_ROWS = 2000
SQLITE_MAX_VARIABLES = 32_000  # per statement (SQLite 3.32+ allows 32766)


def copy_catalog(
    src: CatalogLocation, dst: CatalogLocation, backups_dir: Path, progress: Callable[[str, int], None] | None = None
) -> dict[str, int]:
    """Copy every table of `src` into the empty catalog `dst`; returns rows copied per table."""
    if src.url == dst.url:
        raise TesseraError("the source and the destination are the same catalog")
    dst_db = open_catalog(dst, backups_dir)
    src_db = open_catalog(src, backups_dir)  # bound last: the models read from it
    try:
        with dst_db.bind_ctx([Photo]):
            if Photo.select().exists():
                raise TesseraError(f"the destination {dst.display} already holds photos; copy into an empty catalog")
        counts: dict[str, int] = {}
        with dst_db.atomic():
            for model in sort_models(ALL_MODELS):
                if model is SchemaVersion:  # both are at this Tessera's version already
                    continue
                counts[model._meta.table_name] = _copy_table(model, src_db, dst_db)
                if progress:
                    progress(model._meta.table_name, counts[model._meta.table_name])
            _check_counts(counts, dst_db)
            if dialect.is_postgres(dst_db):
                _advance_sequences(dst_db)
        return counts
    finally:
        src_db.close()
        dst_db.close()


def _copy_table(model: type[BaseModel], src_db: Database, dst_db: Database) -> int:
    fields = model._meta.sorted_fields
    keys = model._meta.get_primary_keys()
    query = model.select(*fields).order_by(*keys)
    per_chunk = min(CHUNK_ROWS, SQLITE_MAX_VARIABLES // len(fields))
    copied = 0
    with dst_db.bind_ctx([model]):
        for rows in _stream(src_db, *query.sql(), per_chunk):
            model.insert_many(rows, fields=fields).execute()  # each field converts its value for DST
            copied += len(rows)
    return copied


def _stream(database: Database, sql: str, params: Any, size: int) -> Iterator[list[tuple[Any, ...]]]:
    """Rows in chunks without holding the table in memory (a named, server-side cursor on PostgreSQL)."""
    with database.atomic():
        pg = dialect.is_postgres(database)  # psycopg2 sees autocommit (peewee BEGINs itself): withhold
        cursor = database.connection().cursor("tessera_copy", withhold=True) if pg else database.cursor()
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(size):
            yield rows
        cursor.close()


def _check_counts(counts: dict[str, int], dst_db: Database) -> None:
    with dst_db.bind_ctx(list(ALL_MODELS)):
        for model in ALL_MODELS:
            name = model._meta.table_name
            if name in counts and model.select().count() != counts[name]:
                raise TesseraError(f"copy of {name}: {counts[name]} rows read but {model.select().count()} stored")


def _advance_sequences(dst_db: Database) -> None:
    """Rows came with their ids: the next id a SERIAL column hands out must come after them."""
    for model in ALL_MODELS:
        pk = model._meta.primary_key
        if isinstance(pk, AutoField):
            table, column = model._meta.table_name, pk.column_name
            dst_db.execute_sql(
                f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), COALESCE(MAX({column}), 1),"
                f" MAX({column}) IS NOT NULL) FROM {table}"
            )
