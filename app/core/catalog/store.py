"""Writing analysis outcomes into the catalog. Runs on the writer thread only."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from app.core.catalog import changes, dialect
from app.core.catalog.faces_store import apply_regions, forget_faces, store_faces, store_vectors
from app.core.catalog.models import (
    AUTO,
    DETAIL_COLUMNS,
    ERROR,
    MISSING,
    OK,
    XMP,
    Categorization,
    Feature,
    Photo,
    PhotoColor,
    PhotoDetail,
    PhotoTag,
    StageState,
    Tag,
    db,
    to_signed,
)
from app.core.catalog.places import store_place_names
from app.core.catalog.roots import stored_path
from app.core.records import SIDECAR_FIELDS, TAG_ENGINE, Metadata, Outcome, SidecarData, SidecarState
from app.core.xmp.sidecars import apply_sidecar

# The default auto_tagging threshold, from bench/tagging_thresholds.py (19 corpus photos labelled by
# eye): at 0.3, 46 tags applied, 93 % right, 17 photos with a right tag; at 0.2, 55 tags, 91 %, 17;
# at 0.35, 93 % but only 15 photos; at 0.5, 97 % and 13. 0.3 keeps the precision of the strict
# settings and the coverage of the loose ones. (The reference documents' 0.6-0.9 suit cloud taggers
# whose per-label scores are calibrated differently from one softmax over 1000 classes.)
DEFAULT_AUTO_TAGGING = 0.3


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
        exif_json=json.dumps(md.groups, ensure_ascii=False),
        flat_exif_json=json.dumps(md.flat, ensure_ascii=False),
        own_facts_json=json.dumps(outcome.own_facts, ensure_ascii=False),
        **_sidecar_fields(md),
        **_sidecar_columns(outcome.sidecar),
    )
    return cols


def _sidecar_fields(md: Metadata) -> dict[str, Any]:
    """The photo columns a sidecar can override (its keywords are tags: see _store_keywords)."""
    return {name: getattr(md, name) for name in SIDECAR_FIELDS if name not in ("keywords", "place")}


def _sidecar_columns(state: SidecarState | None) -> dict[str, Any]:
    if state is None:
        return {"sidecar_path": None, "sidecar_size": None, "sidecar_mtime_ns": None}
    return {"sidecar_path": stored_path(state.path), "sidecar_size": state.size, "sidecar_mtime_ns": state.mtime_ns}


def _store_keywords(photo_id: int, keywords: list[str]) -> None:
    """Embedded and sidecar keywords are the photo's xmp-source tags; user and auto tags stay."""
    _replace_tags(photo_id, XMP, [(k, None) for k in keywords])


def _forget_analysis(photo_id: int) -> None:
    """The file's content changed: results computed from the old pixels are void (named faces stay)."""
    for model in (StageState, PhotoColor, Categorization, Feature):
        model.delete().where(model.photo == photo_id).execute()
    forget_faces(photo_id)
    PhotoTag.delete().where((PhotoTag.photo == photo_id) & (PhotoTag.source == AUTO)).execute()


def upsert_photo(outcome: Outcome) -> tuple[int, str]:
    """Insert or update the photo row; returns its id and what happened: new, moved, changed,
    unchanged (re-read, same content) or failed."""
    now = now_iso()
    path = stored_path(outcome.path)  # workers read the file where this workstation mounts it
    photo = Photo.get_or_none(Photo.path == path)
    kind = "unchanged" if photo is not None else "new"
    if photo is None and outcome.error is None:
        photo = _find_moved(outcome.sha256)
        kind = "moved" if photo is not None else kind
    base = {**_split(path), "size": outcome.size, "mtime_ns": outcome.mtime_ns, "updated_at": now}
    base["sha256"] = outcome.sha256
    if outcome.error is not None:
        fields = {**base, "status": ERROR, "error": outcome.error}
        kind = "failed"
    else:
        fields = {**base, **_metadata_columns(outcome), "status": OK, "error": None}
    detail = {c: fields.pop(c) for c in DETAIL_COLUMNS if c in fields}
    if photo is None:
        photo = Photo.create(imported_at=now, **fields)
    else:
        if photo.sha256 and photo.sha256 != outcome.sha256:
            _forget_analysis(photo.id)
            kind = "changed" if kind == "unchanged" else kind
        Photo.update(**fields).where(Photo.id == photo.id).execute()
    _store_detail(photo.id, **detail)
    if outcome.metadata is not None:
        _store_keywords(photo.id, outcome.metadata.keywords)
        store_place_names(photo.id, outcome.metadata.place)
    changes.note([photo.id], "import")
    return photo.id, kind


def _store_detail(photo_id: int, **columns: str) -> None:
    if columns:
        PhotoDetail.insert(photo=photo_id, **columns).on_conflict(
            conflict_target=[PhotoDetail.photo], update=columns
        ).execute()


def store_sidecar(photo_id: int, state: SidecarState | None, data: SidecarData | None) -> None:
    """The photo's own file is unchanged but its sidecar appeared, changed or went (`state` None):
    merge what the sidecar says now with the facts the photo carries itself, as an import would.
    `data` None while `state` is set: the sidecar is unreadable, only its state is remembered (so it
    is reported once, not on every rescan) and the photo keeps what it had. A sidecar that went
    takes its keywords along, but rating, label and title stay: they share one column with the
    user's own edits in Tessera, and which of the two set the current value is not known."""
    row = Photo.select(Photo.own_facts_json).where(Photo.id == photo_id).get()
    if row.own_facts_json is None:
        raise ValueError(f"photo {photo_id} has no stored facts of its own: re-read the photo instead")
    columns = {**_sidecar_columns(state), "updated_at": now_iso()}
    if state is None or data is not None:
        md = Metadata(**json.loads(row.own_facts_json))
        if data is not None:
            apply_sidecar(data, md)
            columns.update(_sidecar_fields(md))
            shape = Photo.select(Photo.width, Photo.height, Photo.orientation).where(Photo.id == photo_id).get()
            apply_regions(photo_id, data.face_regions, shape.width, shape.height, shape.orientation)
        _store_keywords(photo_id, md.keywords)
        store_place_names(photo_id, md.place)
    Photo.update(**columns).where(Photo.id == photo_id).execute()
    changes.note([photo_id], "import")


def _replace_tags(photo_id: int, source: str, tags: Iterable[tuple[str, float | None]]) -> None:
    PhotoTag.delete().where((PhotoTag.photo == photo_id) & (PhotoTag.source == source)).execute()
    rows = {}
    for name, confidence in tags:
        name = name.strip()
        if name:
            rows[name] = {"photo": photo_id, "tag": tag_id(name), "source": source, "confidence": confidence}
    if rows:
        PhotoTag.insert_many(list(rows.values())).execute()


def _set_categorization(photo_id: int, engine: str, tags: list[tuple[str, float]] | None) -> None:
    """The engine's record for the photo: complete with its matches, or failed (tags None)."""
    data = None if tags is None else json.dumps([{"tag": t, "confidence": c} for t, c in tags])
    dialect.upsert(
        Categorization,
        (Categorization.photo, Categorization.engine),
        photo=photo_id,
        engine=engine,
        status="failed" if tags is None else "complete",
        data_json=data,
    )


# Re-tagging unpacks the stored matches with the engine's JSON functions: a 100k-photo library is then
# a few statements per chunk of photos instead of millions of Python-level rows.
def _matches_sql(ids: int, join: str) -> str:
    p = dialect.param()
    return (
        f"FROM categorization c, {dialect.json_array_rows('c.data_json', 'm')} {join}"
        f" WHERE c.photo_id IN ({','.join([p] * ids)}) AND c.status = 'complete'"
        f" AND {dialect.json_number('m.value', 'confidence')} >= {p}"
    )


def apply_auto_tags(photo_ids: Sequence[int], threshold: float, chunk: int = 5000) -> None:
    """Matches at or above the auto_tagging threshold, from every engine's categorization, become the
    photos' auto tags, except those the user rejected. The user's own tags and sidecar keywords are
    never touched."""
    changes.note(photo_ids, "tags")
    tag, confidence = dialect.json_text("m.value", "tag"), dialect.json_number("m.value", "confidence")
    for start in range(0, len(photo_ids), chunk):
        ids = [int(i) for i in photo_ids[start : start + chunk]]
        new_tags = f"INSERT INTO tag (name) SELECT DISTINCT {tag} {_matches_sql(len(ids), '')} ON CONFLICT DO NOTHING"
        db.execute_sql(new_tags, [*ids, threshold])
        PhotoTag.delete().where(PhotoTag.photo.in_(ids) & (PhotoTag.source == AUTO)).execute()
        apply = (
            f"INSERT INTO photo_tag (photo_id, tag_id, source, confidence)"
            f" SELECT c.photo_id, t.id, {dialect.param()}, MAX({confidence}) "
            + _matches_sql(len(ids), f"JOIN tag t ON t.name = {tag}")
            + " AND NOT EXISTS (SELECT 1 FROM rejected_tag r WHERE r.photo_id = c.photo_id AND r.tag_id = t.id)"
            " GROUP BY c.photo_id, t.id"
        )
        db.execute_sql(apply, [AUTO, *ids, threshold])


def _store_stage(photo_id: int, stage: str, result: Any) -> None:
    if stage == "thumbnails":
        Photo.update(thumb_key=result).where(Photo.id == photo_id).execute()
    elif stage == "colors":
        _store_detail(photo_id, colors_json=json.dumps(result.colors), predominant_json=json.dumps(result.predominant))
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
    elif stage == "tags":
        dialect.upsert(Feature, (Feature.photo,), photo=photo_id, engine=TAG_ENGINE, vector=result.feature)


def _mark_stages(photo_id: int, marks: list[tuple[str, int, str | None]]) -> None:
    """(stage, version, error) of one photo's stages, as one statement: peewee builds each in Python
    (~0.2 ms), and a photo has seven."""
    if not marks:
        return
    now = now_iso()
    rows = [
        {"photo": photo_id, "stage": stage, "version": version, "status": "failed" if error else "done",
         "error": error, "updated_at": now}
        for stage, version, error in marks
    ]  # fmt: skip
    updated = [StageState.version, StageState.status, StageState.error, StageState.updated_at]
    StageState.insert_many(rows).on_conflict(
        conflict_target=[StageState.photo, StageState.stage], preserve=updated
    ).execute()


def _analyzed_photo(outcome: Outcome) -> tuple[int | None, str]:
    """The photo an analysis outcome belongs to, and what happened: analyzed, failed (its pixels could
    not be decoded: an error row that keeps its metadata) or stale (the photo changed or went since
    the analysis was planned: nothing is stored)."""
    path = stored_path(outcome.path)  # workers read the file where this workstation mounts it
    row = Photo.select(Photo.id, Photo.sha256, Photo.status).where(Photo.path == path).first()
    if row is None:  # never imported: a worker that crashed or timed out on a new file
        return upsert_photo(outcome)
    if outcome.error is not None:
        Photo.update(status=ERROR, error=outcome.error, updated_at=now_iso()).where(Photo.id == row.id).execute()
        changes.note([row.id], "import")
        return row.id, "failed"
    if row.sha256 != outcome.sha256 or row.status != OK:
        return None, "stale"
    if outcome.decoded.get("truncated"):
        Photo.update(truncated=True).where(Photo.id == row.id).execute()
    return row.id, "analyzed"


def store_outcome(outcome: Outcome, auto_tagging: float = DEFAULT_AUTO_TAGGING) -> tuple[int | None, str]:
    photo_id, kind = upsert_photo(outcome) if outcome.imported else _analyzed_photo(outcome)
    if outcome.error is not None or photo_id is None:
        return photo_id, kind
    marks: list[tuple[str, int, str | None]] = []
    if outcome.metadata is not None:
        marks.append(("metadata", outcome.versions["metadata"], None))
    face_ids: list[int] = []  # this run's faces as stored: the descriptors stage's results pair with them
    for stage, result in outcome.results.items():
        if stage == "faces":
            face_ids = store_faces(photo_id, result)
        elif stage == "descriptors":
            store_vectors(face_ids, result)
        else:
            _store_stage(photo_id, stage, result)
        marks.append((stage, outcome.versions[stage], None))
    if outcome.metadata is not None:  # after the faces: names from XMP go on the faces found
        shape = (outcome.decoded.get(k) for k in ("width", "height", "orientation"))
        apply_regions(photo_id, outcome.metadata.face_regions, *shape)
    marks += [(stage, outcome.versions[stage], error) for stage, error in outcome.stage_errors.items()]
    _mark_stages(photo_id, marks)
    if outcome.results or outcome.stage_errors:
        changes.note([photo_id], "analysis")
    for engine, matches in outcome.categorizations.items():
        _set_categorization(photo_id, engine, matches)
    if outcome.categorizations:
        apply_auto_tags([photo_id], auto_tagging)
    return photo_id, kind


def mark_missing(photo_ids: list[int]) -> None:
    for start in range(0, len(photo_ids), 500):
        chunk = photo_ids[start : start + 500]
        Photo.update(status=MISSING, updated_at=now_iso()).where(
            Photo.id.in_(chunk) & (Photo.status != MISSING)
        ).execute()
    changes.note(photo_ids, "import")
