"""Counts for the sidebar: folders, cameras, dates and face buckets of the photos that are OK."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from peewee import fn

from app.core.catalog.models import OK, Photo, PhotoColor

# (label, min_faces, max_faces): the People section of the sidebar
FACE_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("1 face", 1, 1),
    ("2–5 faces", 2, 5),
    ("6+ faces", 6, None),
)


@dataclass
class FolderNode:
    path: str
    name: str
    own: int = 0  # photos directly in this folder
    total: int = 0  # photos in it and below
    children: dict[str, FolderNode] = field(default_factory=dict)


def folder_tree() -> list[FolderNode]:
    """Folders as a tree rooted at the top-most folders that hold photos (chains of single
    sub-folders without photos are collapsed so /home/me/Pictures shows as one node)."""
    counts = dict(
        Photo.select(Photo.folder, fn.COUNT(Photo.id)).where(Photo.status == OK).group_by(Photo.folder).tuples()
    )
    root = FolderNode("", "")
    for folder, n in counts.items():
        parts = [p for p in folder.split(os.sep) if p]
        node = root
        for i, part in enumerate(parts):
            path = os.sep + os.sep.join(parts[: i + 1])
            node = node.children.setdefault(part, FolderNode(path, part))
            node.total += n
        node.own += n
    tops = list(root.children.values())
    collapsed = []
    for top in tops:
        while top.own == 0 and len(top.children) == 1:
            top = next(iter(top.children.values()))
        top.name = top.path
        collapsed.append(top)
    return collapsed


def camera_counts() -> list[tuple[str, int]]:
    rows = (
        Photo.select(Photo.make, Photo.model, fn.COUNT(Photo.id))
        .where((Photo.status == OK) & Photo.model.is_null(False))
        .group_by(Photo.make, Photo.model)
        .order_by(fn.COUNT(Photo.id).desc())
        .tuples()
    )
    return [(camera_name(make, model), n) for make, model, n in rows]


def camera_name(make: str | None, model: str | None) -> str:
    """'Canon EOS 5D', not 'Canon Canon EOS 5D': many cameras repeat the make in the model."""
    make, model = (make or "").strip(), (model or "").strip()
    if make and model.lower().startswith(make.split()[0].lower()):
        return model
    return f"{make} {model}".strip()


def date_counts() -> dict[str, list[tuple[str, int]]]:
    """{year: [(YYYY-MM, n), ...]} newest first; photos without a date are left out."""
    month = fn.SUBSTR(Photo.taken_at, 1, 7)
    rows = (
        Photo.select(month, fn.COUNT(Photo.id))
        .where((Photo.status == OK) & Photo.taken_at.is_null(False))
        .group_by(month)
        .order_by(month.desc())
        .tuples()
    )
    years: dict[str, list[tuple[str, int]]] = {}
    for ym, n in rows:
        years.setdefault(ym[:4], []).append((ym, n))
    return years


def face_bucket_counts() -> list[tuple[str, int, int | None, int]]:
    out = []
    for label, low, high in FACE_BUCKETS:
        q = Photo.select().where((Photo.status == OK) & (Photo.face_count >= low))
        if high is not None:
            q = q.where(Photo.face_count <= high)
        out.append((label, low, high, q.count()))
    return out


def color_counts(min_share: float) -> dict[str, int]:
    rows = (
        PhotoColor.select(PhotoColor.name, fn.COUNT(PhotoColor.photo))
        .join(Photo)
        .where((Photo.status == OK) & (PhotoColor.share >= min_share))
        .group_by(PhotoColor.name)
        .tuples()
    )
    return dict(rows)
