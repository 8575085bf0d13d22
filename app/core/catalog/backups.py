"""Catalog backups: SQLite's online backup API (consistent even while the catalog is in use), and
pg_dump for a studio catalog on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import glob
import logging
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from app.core.catalog.engine import CatalogLocation

log = logging.getLogger(__name__)

KEEP_BACKUPS = 10
_PREFIX = "catalog-"
_SUFFIX = ".sqlite"


def list_backups(backups_dir: Path) -> list[Path]:
    """Backups, newest first."""
    if not backups_dir.is_dir():
        return []
    found = [p for p in backups_dir.iterdir() if p.name.startswith(_PREFIX) and p.name.endswith((_SUFFIX, PG_SUFFIX))]
    return sorted(found, key=lambda p: p.name, reverse=True)


def newest_backup(backups_dir: Path) -> Path | None:
    backups = list_backups(backups_dir)
    return backups[0] if backups else None


def make_backup(catalog: Path, backups_dir: Path, reason: str = "manual", keep: int = KEEP_BACKUPS) -> Path:
    backups_dir.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    target = backups_dir / f"{_PREFIX}{stamp}-{reason}{_SUFFIX}"
    partial = target.with_suffix(".partial")
    src = sqlite3.connect(f"file:{catalog}?mode=ro", uri=True, timeout=60)
    try:
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()
    os.replace(partial, target)  # a backup is either complete or absent
    prune_backups(backups_dir, keep)
    return target


def prune_backups(backups_dir: Path, keep: int = KEEP_BACKUPS) -> None:
    for old in list_backups(backups_dir)[keep:]:
        old.unlink(missing_ok=True)  # our own backup copies, never photos


def backup_is_due(backups_dir: Path, now: dt.datetime | None = None) -> bool:
    """Automatic backups on open: at most one a day."""
    newest = newest_backup(backups_dir)
    if newest is None:
        return True
    now = now or dt.datetime.now()
    age = now.timestamp() - newest.stat().st_mtime
    return age >= 24 * 3600


def is_sound(path: Path) -> bool:
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return con.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        finally:
            con.close()
    except sqlite3.DatabaseError:
        return False


def restore_backup(backup: Path, catalog: Path, backups_dir: Path) -> Path | None:
    """Replace the catalog with `backup`. The current catalog is kept aside first (if readable), so a
    restore can itself be undone. Returns the path of that safety copy, if one was made."""
    if not is_sound(backup):
        raise ValueError(f"backup {backup} is not a sound SQLite catalog")
    safety: Path | None = None
    if catalog.exists():
        backups_dir.mkdir(parents=True, exist_ok=True)
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        safety = backups_dir / f"replaced-{stamp}.sqlite"
        os.replace(catalog, safety)
        for side in ("-wal", "-shm"):
            leftover = catalog.with_name(catalog.name + side)
            if leftover.exists():
                os.replace(leftover, safety.with_name(safety.name + side))
    src = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    try:
        partial = catalog.with_suffix(".restoring")
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst)
        finally:
            dst.close()
        os.replace(partial, catalog)
    finally:
        src.close()
    return safety


# -- PostgreSQL: the server's own dump tool; a studio's administrator also backs up the server itself
PG_SUFFIX = ".pgdump"


def pg_tool(name: str) -> str | None:
    """pg_dump / pg_restore: on PATH, or in Debian's versioned folders (newest first: a dump tool must
    be as new as the server)."""
    found = shutil.which(name)
    if found:
        return found
    versioned = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4]), reverse=True)
    return versioned[0] if versioned else None


def backup_postgres(location: CatalogLocation, backups_dir: Path, reason: str = "manual") -> Path | None:
    """A pg_dump (custom format) of the catalog's database into the library's backups folder. Without
    pg_dump on this workstation nothing is written: the caller says so (returns None)."""
    tool = pg_tool("pg_dump")
    if tool is None:
        log.warning(
            "no backup of %s before %s: pg_dump is not installed (apt-get install postgresql-client)",
            location.display,
            reason,
        )
        return None
    backups_dir.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    target = backups_dir / f"{_PREFIX}{stamp}-{reason}{PG_SUFFIX}"
    partial_backup = target.with_suffix(".partial_backup")
    done = subprocess.run(
        [tool, "--format=custom", "--no-owner", f"--file={partial_backup}", f"--dbname={location.url}"],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        partial_backup.unlink(missing_ok=True)
        raise RuntimeError(f"pg_dump of {location.display} failed: {done.stderr.strip()}")
    os.replace(partial_backup, target)
    return target


def restore_postgres(backup: Path, location: CatalogLocation) -> None:
    """Replace the catalog's tables with a pg_dump's, in one transaction (all or nothing)."""
    tool = pg_tool("pg_restore")
    if tool is None:
        raise ValueError("pg_restore is not installed on this workstation (apt-get install postgresql-client)")
    done = subprocess.run(
        [tool, "--clean", "--if-exists", "--no-owner", "--single-transaction", f"--dbname={location.url}", str(backup)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise ValueError(f"pg_restore into {location.display} failed: {done.stderr.strip()}")
