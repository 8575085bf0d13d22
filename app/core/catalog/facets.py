"""Counts for the sidebar: folders, tags, cameras and face buckets of the photos that are OK, and the
settings dialog's auto-tagging preview."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

import numpy as np
from peewee import Case, fn

from app.core.catalog.models import AUTO, OK, Categorization, Photo, PhotoColor, PhotoTag, RejectedTag, Tag
from app.core.taxonomy import imagenet_labels, tag_parents

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


@dataclass
class TagSummary:
    """One tag of the sidebar: how many photos have it, from whom, and how sure the tagger was."""

    name: str
    photos: int
    auto: int = 0  # photos where it is an auto tag
    mine: int = 0  # photos where the user or a keyword in the file gave it
    mean_confidence: float | None = None  # over the auto tags
    min_confidence: float | None = None
    max_confidence: float | None = None

    @property
    def auto_only(self) -> bool:
        return self.auto > 0 and self.mine == 0


def tag_summaries() -> list[TagSummary]:
    """Every tag on a readable photo, by name, in one grouped query."""
    is_auto = PhotoTag.source == AUTO
    auto_conf = Case(None, [(is_auto, PhotoTag.confidence)], None)
    rows = (
        Tag.select(
            Tag.name,
            fn.COUNT(fn.DISTINCT(PhotoTag.photo)),
            fn.COUNT(fn.DISTINCT(Case(None, [(is_auto, PhotoTag.photo)], None))),
            fn.COUNT(fn.DISTINCT(Case(None, [(~is_auto, PhotoTag.photo)], None))),
            fn.AVG(auto_conf),
            fn.MIN(auto_conf),
            fn.MAX(auto_conf),
        )
        .join(PhotoTag)
        .join(Photo, on=(PhotoTag.photo == Photo.id))
        .where(Photo.status == OK)
        .group_by(Tag.name)
        .order_by(fn.LOWER(Tag.name))
        .tuples()
    )
    return [TagSummary(*row) for row in rows]


def tag_tree(names: list[str]) -> dict[str, str]:
    """child -> parent among `names`, from the tagger's parent map (resources/tag_parents.json):
    an ImageNet class sits under the narrowest parent tag holding it, a parent tag under the
    narrowest parent tag holding all its classes ("dog" under "animal")."""
    parents = {name: frozenset(idx.tolist()) for name, idx in tag_parents().items()}
    classes: dict[str, set[int]] = {}
    for i, label in enumerate(imagenet_labels()):
        classes.setdefault(label, set()).add(i)
    present = [p for p in names if p in parents]
    out: dict[str, str] = {}
    for name in names:
        own = parents.get(name) or classes.get(name)
        if not own:
            continue  # the user's own words have no place in the map
        holders = [p for p in present if p != name and own <= parents[p] and own != parents[p]]
        if holders:
            out[name] = min(holders, key=lambda p: len(parents[p]))
    return out


class AutoTagPreview:
    """How many auto tags and photos a threshold would give, as apply_auto_tags would apply them
    (best match per photo and tag over the engines, rejected tags left out), for the settings
    dialog's live preview. Reads the categorizations once; each `at()` is a numpy comparison."""

    def __init__(self) -> None:
        rejected = set(
            RejectedTag.select(RejectedTag.photo, Tag.name).join(Tag, on=(RejectedTag.tag == Tag.id)).tuples()
        )
        best: dict[tuple[int, str], float] = {}
        rows = Categorization.select(Categorization.photo, Categorization.data_json).where(
            Categorization.status == "complete"
        )
        for pid, data in rows.tuples():
            for match in json.loads(data or "[]"):
                key = (pid, match["tag"])
                if key not in rejected:
                    best[key] = max(best.get(key, -1.0), float(match["confidence"]))
        self.photos = np.fromiter((pid for pid, _ in best), np.int64, len(best))
        self.confidences = np.fromiter(best.values(), np.float64, len(best))

    def at(self, threshold: float) -> tuple[int, int]:
        """(auto tags, photos with at least one) at `threshold`."""
        hit = self.confidences >= threshold
        return int(hit.sum()), int(np.unique(self.photos[hit]).size)
