"""Where a catalog lives: a SQLite file (the embedded default) or a PostgreSQL database named by a URL
(`postgresql://user@host:port/db`), and opening a peewee database on it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from peewee import Database, PostgresqlDatabase

from app.core.errors import UsageError

PG_SCHEMES = ("postgresql", "postgres")
CONNECT_TIMEOUT_S = 10


@dataclass(frozen=True)
class CatalogLocation:
    url: str  # postgresql://... or the SQLite file's path

    @property
    def is_postgres(self) -> bool:
        return urlsplit(self.url).scheme in PG_SCHEMES

    @property
    def sqlite_path(self) -> Path:
        if self.is_postgres:
            raise ValueError(f"{self.display} is not a SQLite catalog")
        return Path(self.url)

    @property
    def display(self) -> str:
        """The URL without its password, for messages and window titles."""
        return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", self.url)


def parse_location(value: str) -> CatalogLocation:
    """A catalog URL or path from the command line, the environment or a library's settings."""
    value = value.strip()
    scheme = urlsplit(value).scheme
    if scheme in PG_SCHEMES:
        if not urlsplit(value).path.strip("/"):
            raise UsageError(f"name the database in the catalog URL: {value}/DBNAME")
        return CatalogLocation(value)
    if scheme == "sqlite":
        value = value.removeprefix("sqlite://")
    elif "://" in value:
        raise UsageError(f"a catalog is a postgresql:// URL or a SQLite file, not {value!r}")
    return CatalogLocation(str(Path(value).expanduser().resolve()))


def postgres_database(location: CatalogLocation) -> PostgresqlDatabase:
    """Unconnected; connections are per thread (the writer's, the GUI's, a job's), autocommit
    outside explicit transactions, as peewee runs psycopg2."""
    return PostgresqlDatabase(
        location.url,
        connect_timeout=CONNECT_TIMEOUT_S,
        application_name="tessera",
    )


def describe(database: Database) -> str:
    return "PostgreSQL" if isinstance(database, PostgresqlDatabase) else "SQLite"
