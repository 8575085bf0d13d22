"""Storing a photo's faces, their descriptors and the face regions of its XMP. Runs on the writer thread.

Names are user data: a re-run of detection keeps every face row whose face is still there, matched
by box, with its id, person, state and "not this person" decisions; a confirmed face the detector no
longer finds stays too (someone said who it is). Names read from XMP fill faces nobody named yet and
never replace a name given in Tessera.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from app.core.catalog.models import CONFIRMED, DETECTED, Face, FaceRejection, FaceVector, Photo
from app.core.catalog.people import bump_generation, find_person, person_named
from app.core.records import FaceRegion, FaceVectors
from app.core.xmp.regions import displayed

# Two boxes are the same face at this IoU or more (one detector's run to the next moves a box by a
# few pixels: IoU > 0.8). Other apps frame faces their own way (Lightroom's boxes are looser than
# ours): there the centres of each box inside the other also count. Two people's faces never do both.
SAME_FACE_IOU = 0.3
Box = tuple[int, int, int, int]


def iou(a: Sequence[float], b: Sequence[float]) -> float:
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def _centre_inside(a: Sequence[float], b: Sequence[float]) -> bool:
    cx, cy = a[0] + a[2] / 2, a[1] + a[3] / 2
    return b[0] <= cx <= b[0] + b[2] and b[1] <= cy <= b[1] + b[3]


def match_score(a: Sequence[float], b: Sequence[float]) -> float:
    """How surely two boxes frame the same face: their IoU, or 0 when they are not the same face."""
    overlap = iou(a, b)
    if overlap >= SAME_FACE_IOU:
        return overlap
    if _centre_inside(a, b) and _centre_inside(b, a):
        return max(overlap, 1e-3)
    return 0.0


def match_boxes(new: Sequence[Sequence[float]], old: Sequence[Sequence[float]]) -> dict[int, int]:
    """new index -> old index, one to one, best pairs first."""
    pairs = sorted(((match_score(a, b), i, j) for i, a in enumerate(new) for j, b in enumerate(old)), reverse=True)
    matched: dict[int, int] = {}
    taken: set[int] = set()
    for score, i, j in pairs:
        if score <= 0:
            break
        if i not in matched and j not in taken:
            matched[i] = j
            taken.add(j)
    return matched


def _landmarks(points: Iterable[Sequence[int]] | None) -> str | None:
    return json.dumps([list(p) for p in points]) if points else None


def store_faces(photo_id: int, faces: Sequence[Any]) -> list[int]:
    """Store the detector's faces (objects with x, y, w, h, score, landmarks) and return their row
    ids in the same order. Rows whose face is found again keep their id and all that hangs on it;
    a moved box loses its descriptor (computed on the old box) and, unless confirmed, its place."""
    old = list(Face.select(Face.id, Face.x, Face.y, Face.w, Face.h, Face.person_state).where(Face.photo == photo_id))
    boxes = [(f.x, f.y, f.w, f.h) for f in faces]
    matched = match_boxes(boxes, [(o.x, o.y, o.w, o.h) for o in old])
    ids: list[int] = []
    unplaced = False  # a placed face lost its place: placers kept in memory are out of date
    for i, f in enumerate(faces):
        columns = {"x": f.x, "y": f.y, "w": f.w, "h": f.h, "score": f.score, "source": DETECTED,
                   "landmarks_json": _landmarks(f.landmarks)}  # fmt: skip
        if i not in matched:
            ids.append(Face.insert(photo=photo_id, **columns).execute())
            continue
        row = old[matched[i]]
        if (row.x, row.y, row.w, row.h) != boxes[i]:
            FaceVector.delete().where(FaceVector.face == row.id).execute()
            if row.person_state != CONFIRMED:
                columns.update(person=None, person_state=None, suggest_distance=None)
                unplaced = unplaced or row.person_state is not None
        Face.update(**columns).where(Face.id == row.id).execute()
        ids.append(row.id)
    kept = set(matched.values())
    gone = [o.id for j, o in enumerate(old) if j not in kept and o.person_state != CONFIRMED]
    if gone:
        Face.delete().where(Face.id.in_(gone)).execute()
    if unplaced or any(o.person_state is not None for o in old if o.id in gone):
        bump_generation()
    _count_faces(photo_id)
    return ids


def _count_faces(photo_id: int) -> None:
    n = Face.select().where(Face.photo == photo_id).count()
    Photo.update(face_count=n).where(Photo.id == photo_id).execute()


def forget_faces(photo_id: int) -> None:
    """The photo's pixels changed: faces nobody named go with the old analysis; named ones stay (the
    next detection matches them by box) but lose their descriptors, computed from the old pixels."""
    named = Face.select(Face.id).where((Face.photo == photo_id) & (Face.person_state == CONFIRMED))
    FaceVector.delete().where(FaceVector.face.in_(named)).execute()
    unnamed = (Face.person_state != CONFIRMED) | Face.person_state.is_null()
    if Face.delete().where((Face.photo == photo_id) & unnamed).execute():
        bump_generation()


def store_vectors(face_ids: Sequence[int], vectors: FaceVectors) -> None:
    """The descriptors stage's result: `vectors.detected` pairs with `face_ids` (this run's faces as
    stored), `vectors.known` names its faces itself. Faces deleted meanwhile are skipped."""
    by_face = dict(zip(face_ids, vectors.detected, strict=True))
    by_face.update(vectors.known)
    existing = {fid for (fid,) in Face.select(Face.id).where(Face.id.in_(list(by_face))).tuples()}
    rows = []
    for fid, (vector, points) in by_face.items():
        if fid not in existing:
            continue
        rows.append({"face": fid, "engine": vectors.engine, "vector": vector})
        if points:
            Face.update(landmarks_json=_landmarks(points)).where(Face.id == fid).execute()
    if rows:  # INSERT ... ON CONFLICT DO UPDATE: both engines run it
        FaceVector.insert_many(rows).on_conflict(
            conflict_target=[FaceVector.face], preserve=[FaceVector.engine, FaceVector.vector]
        ).execute()


def region_box(region: FaceRegion, width: int, height: int, orientation: int | None) -> Box:
    """The region in the photo's displayed pixels."""
    x, y, w, h = displayed(region, width, height, orientation)
    return round(x * width), round(y * height), round(w * width), round(h * height)


def apply_regions(
    photo_id: int, regions: Sequence[FaceRegion], width: int | None, height: int | None, orientation: int | None
) -> int:
    """Names from XMP face regions (Lightroom, digiKam, Picasa) become confirmed persons on the face
    each region frames, or on a face of its own where Tessera has none. A face already confirmed in
    Tessera keeps its name, and a face the user said is not that person stays so. Returns how many
    faces got a name."""
    named = [r for r in regions if r.name]
    if not named or not width or not height:
        return 0
    faces = list(Face.select(Face.id, Face.x, Face.y, Face.w, Face.h, Face.person_state).where(Face.photo == photo_id))
    boxes = [region_box(r, width, height, orientation) for r in named]
    matched = match_boxes(boxes, [(f.x, f.y, f.w, f.h) for f in faces])
    changed = 0
    for i, region in enumerate(named):
        name = region.name or ""
        if i not in matched:
            x, y, w, h = boxes[i]
            Face.insert(photo=photo_id, x=x, y=y, w=w, h=h, score=0.0, source=f"xmp:{region.scheme}",
                        person=person_named(name).id, person_state=CONFIRMED).execute()  # fmt: skip
            changed += 1
            continue
        face = faces[matched[i]]
        known = find_person(name)
        rejected = known is not None and (
            FaceRejection.select().where((FaceRejection.face == face.id) & (FaceRejection.person == known.id)).exists()
        )
        if face.person_state == CONFIRMED or rejected:
            continue
        person = known or person_named(name)
        Face.update(person=person.id, person_state=CONFIRMED, suggest_distance=None).where(Face.id == face.id).execute()
        changed += 1
    if changed:
        _count_faces(photo_id)
        bump_generation()  # names from XMP: placers kept in memory do not know them
    return changed
