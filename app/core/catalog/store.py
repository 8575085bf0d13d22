"""Writing analysis outcomes into the catalog. Runs on the writer thread only."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterable
from typing import Any

import numpy as np

from app.core.analysis.work import Outcome, stage_versions
from app.core.catalog.models import (
    AUTO,
    ERROR,
    MISSING,
    OK,
    XMP,
    Face,
    Photo,
    PhotoColor,
    PhotoTag,
    RejectedTag,
    StageState,
    Tag,
    to_signed,
)

DEFAULT_AUTO_TAGGING = 0.35  # see app/core/analysis/tagging for how it was chosen


def now_iso() -> str:
    return dt.datetime.now().isoformat(timespec="seconds")


def tag_id(name: str) -> int:
    tag, _ = Tag.get_or_create(name=name)
    return tag.id


def _split(path: str) -> dict[str, str]:
    return {"path": path, "folder": os.path.dirname(path), "filename": os.path.basename(path)}


def _find_moved(sha256: str | None) -> Photo | None:
    """A file at a new path whose content matches a photo whose file went missing: the same photo,
    moved or renamed. It keeps its id, tags and decisions."""
    if not sha256:
        return None
    return Photo.select().where((Photo.sha256 == sha256) & (Photo.status == MISSING)).first()


def _metadata_columns(outcome: Outcome) -> dict[str, Any]:
    md = outcome.metadata
    cols: dict[str, Any] = {k: outcome.decoded.get(k) for k in ("format", "width", "height", "frames")}
    cols.update(has_alpha=outcome.decoded.get("has_alpha"), truncated=bool(outcome.decoded.get("truncated")))
    if md is None:
        return cols
    cols.update(
        has_icc=md.has_icc or bool(outcome.decoded.get("has_icc")),
        taken_at=md.taken_at,
        make=md.make,
        model=md.model,
        lens=md.lens,
        iso=md.iso,
        exposure_time=md.exposure_time,
        f_number=md.f_number,
        focal_length=md.focal_length,
        gps_lat=md.gps_lat,
        gps_lon=md.gps_lon,
        gps_alt=md.gps_alt,
        orientation=md.orientation,
        jpeg_quality=md.jpeg_quality,
        density=md.density,
        title=md.title,
        rating=md.rating,
        label=md.label,
        exif_json=json.dumps(md.groups, ensure_ascii=False),
        flat_exif_json=json.dumps(md.flat, ensure_ascii=False),
    )
    return cols


def _forget_analysis(photo_id: int) -> None:
    """The file's content changed: results computed from the old pixels are void."""
    StageState.delete().where(StageState.photo == photo_id).execute()
    Face.delete().where(Face.photo == photo_id).execute()
    PhotoColor.delete().where(PhotoColor.photo == photo_id).execute()


def upsert_photo(outcome: Outcome) -> tuple[int, str]:
    """Insert or update the photo row; returns its id and what happened: new, moved, changed,
    unchanged (re-read, same content) or failed."""
    now = now_iso()
    photo = Photo.get_or_none(Photo.path == outcome.path)
    kind = "unchanged" if photo is not None else "new"
    if photo is None and outcome.error is None:
        photo = _find_moved(outcome.sha256)
        kind = "moved" if photo is not None else kind
    base = {**_split(outcome.path), "size": outcome.size, "mtime_ns": outcome.mtime_ns, "updated_at": now}
    base["sha256"] = outcome.sha256
    if outcome.error is not None:
        fields = {**base, "status": ERROR, "error": outcome.error}
        kind = "failed"
    else:
        fields = {**base, **_metadata_columns(outcome), "status": OK, "error": None}
    if photo is None:
        photo = Photo.create(imported_at=now, **fields)
    else:
        if photo.sha256 and photo.sha256 != outcome.sha256:
            _forget_analysis(photo.id)
            kind = "changed" if kind == "unchanged" else kind
        Photo.update(**fields).where(Photo.id == photo.id).execute()
    if outcome.metadata is not None:
        _replace_tags(photo.id, XMP, [(k, None) for k in outcome.metadata.keywords])
    return photo.id, kind


def _replace_tags(photo_id: int, source: str, tags: Iterable[tuple[str, float | None]]) -> None:
    PhotoTag.delete().where((PhotoTag.photo == photo_id) & (PhotoTag.source == source)).execute()
    rows = {}
    for name, confidence in tags:
        name = name.strip()
        if name:
            rows[name] = {"photo": photo_id, "tag": tag_id(name), "source": source, "confidence": confidence}
    if rows:
        PhotoTag.insert_many(list(rows.values())).execute()


def apply_auto_tags(photo_id: int, matches: list[tuple[str, float]], threshold: float) -> None:
    """Tags at or above the auto_tagging threshold become the photo's auto tags, except those the
    user rejected. The user's own tags (source=user) are never touched."""
    rejected = {r.tag.name for r in RejectedTag.select(RejectedTag, Tag).join(Tag).where(RejectedTag.photo == photo_id)}
    keep = [(t, c) for t, c in matches if c >= threshold and t not in rejected]
    _replace_tags(photo_id, AUTO, keep)


def _store_stage(photo_id: int, stage: str, result: Any, outcome: Outcome, threshold: float) -> None:
    if stage == "thumbnails":
        Photo.update(thumb_key=result).where(Photo.id == photo_id).execute()
    elif stage == "colors":
        Photo.update(
            colors_json=json.dumps(result.colors), predominant_json=json.dumps(result.predominant)
        ).where(Photo.id == photo_id).execute()
        PhotoColor.delete().where(PhotoColor.photo == photo_id).execute()
        if result.predominant:
            PhotoColor.insert_many(
                [{"photo": photo_id, "name": n, "share": s} for n, s in result.predominant]
            ).execute()
    elif stage == "hashes":
        orient = np.array(result.orientation_phashes, dtype=">u8").tobytes()
        Photo.update(
            phash=to_signed(result.phash),
            dhash=to_signed(result.dhash),
            orientation_phashes=orient,
            detail=result.detail,
            lightness=result.lightness,
        ).where(Photo.id == photo_id).execute()
    elif stage == "faces":
        Face.delete().where(Face.photo == photo_id).execute()
        rows = [
            {
                "photo": photo_id, "x": f.x, "y": f.y, "w": f.w, "h": f.h, "score": f.score,
                "landmarks_json": json.dumps(f.landmarks) if f.landmarks else None,
            }
            for f in result
        ]
        if rows:
            Face.insert_many(rows).execute()
        Photo.update(face_count=len(rows)).where(Photo.id == photo_id).execute()


def _mark_stage(photo_id: int, stage: str, error: str | None) -> None:
    StageState.insert(
        photo=photo_id,
        stage=stage,
        version=stage_versions()[stage],
        status="failed" if error else "done",
        error=error,
        updated_at=now_iso(),
    ).on_conflict_replace().execute()


def store_outcome(outcome: Outcome, auto_tagging: float = DEFAULT_AUTO_TAGGING) -> tuple[int, str]:
    photo_id, kind = upsert_photo(outcome)
    if outcome.error is not None:
        return photo_id, kind
    if outcome.metadata is not None:
        _mark_stage(photo_id, "metadata", None)
    for stage, result in outcome.results.items():
        _store_stage(photo_id, stage, result, outcome, auto_tagging)
        _mark_stage(photo_id, stage, None)
    for stage, error in outcome.stage_errors.items():
        _mark_stage(photo_id, stage, error)
    return photo_id, kind


def mark_missing(photo_ids: list[int]) -> None:
    for start in range(0, len(photo_ids), 500):
        chunk = photo_ids[start : start + 500]
        Photo.update(status=MISSING, updated_at=now_iso()).where(
            Photo.id.in_(chunk) & (Photo.status != MISSING)
        ).execute()
