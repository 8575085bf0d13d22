"""Removing photos: only ever to the system trash (send2trash), recorded in the catalog so the user
can see what was trashed and put it back. Nothing here unlinks a photo."""

from __future__ import annotations

import os
import sys
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from send2trash import send2trash

from app.core.catalog import changes
from app.core.catalog.models import OK, TRASHED, Photo, TrashRecord
from app.core.catalog.roots import local_path
from app.core.catalog.store import now_iso


@dataclass
class TrashResult:
    photo_id: int
    path: str
    error: str | None = None


def trash_photos(lib: Any, photo_ids: list[int]) -> list[TrashResult]:
    results = []
    for photo in Photo.select().where(Photo.id.in_(photo_ids)):
        path = local_path(photo.path)
        try:
            send2trash(path)
        except Exception as exc:  # permission, vanished file, no trash on that volume
            results.append(TrashResult(photo.id, path, f"could not move to the trash: {exc}"))
            continue

        def record(p: Photo = photo) -> None:
            Photo.update(status=TRASHED, updated_at=now_iso()).where(Photo.id == p.id).execute()
            TrashRecord.create(photo=p.id, path=p.path, sha256=p.sha256, trashed_at=now_iso())
            changes.note([p.id], "trash")

        lib.writer.call(record)
        results.append(TrashResult(photo.id, path))
    return results


def trashed(lib: Any) -> list[TrashRecord]:
    """What Tessera sent to the trash and has not restored, newest first."""
    return list(TrashRecord.select().where(TrashRecord.restored_at.is_null()).order_by(TrashRecord.trashed_at.desc()))


def _xdg_trash_dirs(original: str) -> list[tuple[Path, Path | None]]:
    """(trash dir, topdir its .trashinfo paths are relative to) per the freedesktop.org spec, in the
    order send2trash uses them."""
    from send2trash import plat_other

    dirs: list[tuple[Path, Path | None]] = [(Path(plat_other.HOMETRASH), None)]
    mount = Path(plat_other.find_mount_point(os.fsencode(os.path.dirname(original))).decode())
    uid = os.getuid()
    dirs += [(mount / ".Trash" / str(uid), mount), (mount / f".Trash-{uid}", mount)]
    return dirs


def _find_in_trash(original: str) -> Path | None:
    best: tuple[str, Path] | None = None
    for trash_dir, topdir in _xdg_trash_dirs(original):
        info_dir = trash_dir / "info"
        if not info_dir.is_dir():
            continue
        for info in info_dir.glob("*.trashinfo"):
            fields = dict(line.split("=", 1) for line in info.read_text(errors="replace").splitlines() if "=" in line)
            stored = urllib.parse.unquote(fields.get("Path", ""))
            full = stored if stored.startswith("/") or topdir is None else str(topdir / stored)
            candidate = trash_dir / "files" / info.name.removesuffix(".trashinfo")
            if full == original and candidate.exists():
                date = fields.get("DeletionDate", "")
                if best is None or date > best[0]:
                    best = (date, candidate)
    return best[1] if best else None


def restore(lib: Any, record_id: int) -> str:
    """Put a trashed photo back where it was. Returns the path; raises ValueError with a reason."""
    record = TrashRecord.get_or_none(TrashRecord.id == record_id)
    if record is None or record.restored_at is not None:
        raise ValueError(f"no trashed photo with record id {record_id}")
    path = local_path(record.path)
    if os.path.exists(path):
        raise ValueError(f"{path} exists again; not overwriting it")
    if not sys.platform.startswith("linux"):
        raise ValueError("restore it from the system trash with your file manager (automatic restore is Linux-only)")
    found = _find_in_trash(path)
    if found is None:
        raise ValueError(f"{path} is no longer in the trash (emptied?)")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    # Its .trashinfo stays: Tessera deletes nothing outside its own caches, and trash views (and
    # _find_in_trash) pass over an info file whose file is gone, as the freedesktop spec asks.
    os.rename(found, path)

    def mark() -> None:
        TrashRecord.update(restored_at=now_iso()).where(TrashRecord.id == record.id).execute()
        Photo.update(status=OK, updated_at=now_iso()).where(Photo.id == record.photo_id).execute()
        changes.note([record.photo_id], "trash")

    lib.writer.call(mark)
    return path
