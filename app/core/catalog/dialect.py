"""What differs between the catalog's two engines: SQLite (embedded, the default) and PostgreSQL (a
studio's shared server). Engine-specific SQL in the catalog package comes from here; everything else
writes peewee queries, which peewee renders for either engine."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from peewee import SQL, Database, Field, Model, Node, NodeList, PostgresqlDatabase

from app.core.catalog.models import db

# SQLSTATEs after which a whole transaction is run again: serialization_failure, deadlock_detected
RETRY_SQLSTATES = frozenset({"40001", "40P01"})


def current() -> Database:
    database = db.obj
    if database is None:
        raise RuntimeError("no catalog is open")
    return database


def is_postgres(database: Database | None = None) -> bool:
    return isinstance(database or current(), PostgresqlDatabase)


def write_transaction(database: Database):  # -> peewee context manager
    """A writing transaction. SQLite's BEGIN IMMEDIATE takes the write lock up front, so a batch never
    fails half way on a lock; PostgreSQL locks rows as it goes (READ COMMITTED), and a batch that
    deadlocks with another workstation's is run again (see `is_retryable`)."""
    return database.atomic() if is_postgres(database) else database.atomic("IMMEDIATE")


def is_retryable(exc: BaseException) -> bool:
    """A serialization failure or deadlock: the transaction lost a race and can simply run again."""
    code = getattr(getattr(exc, "orig", None), "pgcode", None) or getattr(exc, "pgcode", None)
    return code in RETRY_SQLSTATES


_NOW = {True: "EXTRACT(EPOCH FROM clock_timestamp())::float8", False: "((julianday('now') - 2440587.5) * 86400.0)"}


def server_seconds() -> Node:
    """The database server's clock in Unix seconds, in a query: leases and the change log compare
    times from one clock, not each workstation's."""
    return SQL(_NOW[is_postgres()])


def server_now() -> float:
    return float(current().execute_sql(f"SELECT {_NOW[is_postgres()]}").fetchone()[0])


def unindexed(node: Node) -> Node:
    """`+x` on SQLite: the same value, but the planner will not use an index for it. PostgreSQL plans
    by statistics and has no unary plus on text: the node is returned as is."""
    if is_postgres():
        return node
    return NodeList((SQL("+"), node), glue="")


def json_array_rows(column: str, alias: str) -> str:
    """FROM-clause item that unpacks a TEXT column holding a JSON array into rows `alias.value`."""
    if is_postgres():
        return f"jsonb_array_elements({column}::jsonb) {alias}"
    return f"json_each({column}) {alias}"


def json_text(value: str, key: str) -> str:
    return f"({value} ->> '{key}')" if is_postgres() else f"json_extract({value}, '$.{key}')"


def json_number(value: str, key: str) -> str:
    return f"({value} ->> '{key}')::float8" if is_postgres() else f"json_extract({value}, '$.{key}')"


def param() -> str:
    """The driver's placeholder for raw SQL (`?` for sqlite3, `%s` for psycopg)."""
    return current().param


def upsert(model: type[Model], conflict: Sequence[Field], /, **row: Any) -> None:
    """Insert `row`, or update the row with the same `conflict` columns to it: INSERT ... ON CONFLICT
    DO UPDATE, which both engines run (SQLite's INSERT OR REPLACE is not portable)."""
    keys = {f.name for f in conflict}  # by name: `field in fields` would compare with SQL's ==
    fields = [getattr(model, name) for name in row if name not in keys]
    query = model.insert(**row)
    query = query.on_conflict(conflict_target=list(conflict), preserve=fields) if fields else query.on_conflict_ignore()
    query.execute()
