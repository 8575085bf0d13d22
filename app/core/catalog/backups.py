"""Catalog backups with SQLite's online backup API: consistent even while the catalog is in use."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from pathlib import Path

KEEP_BACKUPS = 10
_PREFIX = "catalog-"
_SUFFIX = ".sqlite"


def list_backups(backups_dir: Path) -> list[Path]:
    """Backups, newest first."""
    if not backups_dir.is_dir():
        return []
    found = [p for p in backups_dir.iterdir() if p.name.startswith(_PREFIX) and p.name.endswith(_SUFFIX)]
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
