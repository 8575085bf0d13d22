"""The duplicate finder over the catalog: loads hashes and facts, remembers "not duplicates"."""

from __future__ import annotations

from typing import Any

import numpy as np
from peewee import JOIN

from app.core import dupes
from app.core.catalog import changes
from app.core.catalog.models import OK, NotDuplicate, Photo, PhotoDetail, to_unsigned
from app.core.catalog.store import now_iso


def load(photo_ids: list[int] | None = None) -> tuple[dupes.HashSet, dict[int, dupes.PhotoFacts], dict[int, str]]:
    q = (
        Photo.select(
            Photo.id, Photo.path, Photo.width, Photo.height, Photo.format, Photo.size, PhotoDetail.exif_json,
            Photo.gps_lat, Photo.taken_at, Photo.sha256, Photo.phash, Photo.orientation_phashes, Photo.detail,
            Photo.lightness, Photo.jpeg_quality, PhotoDetail.colors_json,
        )
        .join(PhotoDetail, JOIN.LEFT_OUTER, on=(PhotoDetail.photo == Photo.id))
        .where((Photo.status == OK) & Photo.phash.is_null(False))
    )  # fmt: skip
    if photo_ids is not None:
        q = q.where(Photo.id.in_(photo_ids))
    ids, orient, detail, lightness = [], [], [], []
    facts: dict[int, dupes.PhotoFacts] = {}
    sha: dict[int, str] = {}
    for p in q.namedtuples():
        ids.append(p.id)
        if p.orientation_phashes and len(p.orientation_phashes) == 64:
            orient.append(np.frombuffer(p.orientation_phashes, dtype=">u8").astype(np.uint64))
        else:  # analyzed before orientation hashes existed: upright only
            orient.append(np.full(8, to_unsigned(p.phash), dtype=np.uint64))
        detail.append(np.nan if p.detail is None else p.detail)
        lightness.append(np.nan if p.lightness is None else p.lightness)
        facts[p.id] = dupes.PhotoFacts(
            p.id, p.path, p.width or 0, p.height or 0, p.format or "", p.size or 0,
            has_exif=bool(p.exif_json and p.exif_json not in ("{}", "null") and '"exif": {}' not in p.exif_json),
            has_gps=p.gps_lat is not None, taken_at=p.taken_at, jpeg_quality=p.jpeg_quality,
            colors=p.colors_json,  # raw text: parsed only for cluster members
        )  # fmt: skip
        if p.sha256:
            sha[p.id] = p.sha256
    hashes = dupes.HashSet(
        ids=np.array(ids, dtype=np.int64),
        orient=np.array(orient, dtype=np.uint64).reshape(-1, 8),
        detail=np.array(detail, dtype=np.float64),
        lightness=np.array(lightness, dtype=np.float64),
    )
    return hashes, facts, sha


def not_duplicate_pairs() -> list[tuple[int, int]]:
    return list(NotDuplicate.select(NotDuplicate.a, NotDuplicate.b).tuples())


def library_clusters(
    *, tier: str = dupes.SIMILAR, threshold: int = dupes.DEFAULT_THRESHOLD, rotations: bool = True
) -> list[dupes.Cluster]:
    hashes, facts, sha = load()
    return dupes.find_clusters(
        hashes, facts, sha, tier=tier, threshold=threshold, rotations=rotations, not_duplicates=not_duplicate_pairs()
    )


def mark_not_duplicates(lib: Any, photo_ids: list[int]) -> int:
    """Remember every pair among `photo_ids` as different photos: never proposed together again."""
    pairs = [(min(a, b), max(a, b)) for i, a in enumerate(photo_ids) for b in photo_ids[i + 1 :] if a != b]

    def op() -> None:
        stamp = now_iso()
        for a, b in pairs:
            NotDuplicate.insert(a=a, b=b, decided_at=stamp).on_conflict_ignore().execute()
        changes.note(photo_ids, "dupes")

    lib.writer.call(op)
    return len(pairs)


def cluster_json(c: dupes.Cluster, facts: dict[int, dupes.PhotoFacts] | None = None) -> dict[str, Any]:
    paths = facts or {}
    return {
        "id": c.id,
        "tier": c.tier,
        "keeper": c.keeper,
        "keeper_reason": c.keeper_reason,
        "reclaimable_bytes": c.reclaimable_bytes,
        "members": [
            {
                "id": m.id,
                "path": paths[m.id].path if m.id in paths else None,
                "distance": m.distance,
                "similarity": m.similarity,
                "keep": m.id == c.keeper,
            }
            for m in c.members
        ],
    }
