"""A photo as JSON, in the shapes of the hosted-API reference documents (Cloudinary's resource with
colors/predominant/faces/image_metadata/info.categorization, ImageKit's grouped metadata with pHash)."""

from __future__ import annotations

import json
from typing import Any

from app.core.catalog.models import OK, Categorization, Face, Photo, PhotoDetail, PhotoTag, Tag, to_unsigned
from app.core.catalog.people import PhotoFace, photo_faces
from app.core.catalog.places import place_of
from app.core.catalog.roots import local_path
from app.core.records import FACE_ENGINE, TAG_ENGINE

# Reference documents spell formats as file extensions.
_FORMAT_NAMES = {"JPEG": "jpg", "TIFF": "tiff", "BTF": "tiff", "MPO": "jpg"}


def format_name(fmt: str | None) -> str | None:
    return None if fmt is None else _FORMAT_NAMES.get(fmt, fmt.lower())


def _loads(text: str | None, default: Any) -> Any:
    return json.loads(text) if text else default


def photo_tags(photo_id: int) -> list[dict[str, Any]]:
    rows = (
        PhotoTag.select(PhotoTag.source, PhotoTag.confidence, Tag.name)
        .join(Tag)
        .where(PhotoTag.photo == photo_id)
        .order_by(Tag.name)
    )
    return [{"tag": r.tag.name, "source": r.source, "confidence": r.confidence} for r in rows]


def faces_of(photo_id: int) -> list[Face]:
    return list(Face.select().where(Face.photo == photo_id).order_by(Face.score.desc()))


def face_json(face: PhotoFace) -> dict[str, Any]:
    """A face with who it is: confirmed, suggested (a question for the user) or unnamed."""
    return {"face_id": face.id, "box": list(face.box), "score": round(face.score, 4), "person_id": face.person_id,
            "person": face.person, "state": face.state}  # fmt: skip


def categorization(photo: Photo) -> dict[str, Any]:
    """Every engine's record; an engine that has not run on a readable photo yet is pending."""
    out: dict[str, Any] = {}
    if photo.status == OK:
        out = {engine: {"status": "pending", "data": []} for engine in (TAG_ENGINE, FACE_ENGINE)}
    for row in Categorization.select().where(Categorization.photo == photo.id):
        out[row.engine] = {"status": row.status, "data": _loads(row.data_json, [])}
    return out


def photo_json(photo: Photo) -> dict[str, Any]:
    detail = PhotoDetail.get_or_none(PhotoDetail.photo == photo.id) or PhotoDetail()
    phash = f"{to_unsigned(photo.phash):016x}" if photo.phash is not None else None
    faces = faces_of(photo.id)
    tags = photo_tags(photo.id)
    metadata = {
        "width": photo.width,
        "height": photo.height,
        "size": photo.size,
        "format": format_name(photo.format),
        "hasColorProfile": bool(photo.has_icc),
        "quality": photo.jpeg_quality,
        "density": photo.density,
        "hasTransparency": bool(photo.has_alpha),
        "pHash": phash,
        "exif": _loads(detail.exif_json, {}),
    }
    return {
        "public_id": str(photo.id),
        "path": local_path(photo.path),  # where this workstation finds it
        "status": photo.status,
        "error": photo.error,
        "width": photo.width,
        "height": photo.height,
        "format": format_name(photo.format),
        "bytes": photo.size,
        "created_at": photo.taken_at,
        "camera": {"make": photo.make, "model": photo.model, "lens": photo.lens},
        "gps": (
            {"latitude": photo.gps_lat, "longitude": photo.gps_lon, "altitude": photo.gps_alt}
            if photo.gps_lat is not None
            else None
        ),
        "place": place_of(photo.id),
        "colors": _loads(detail.colors_json, []),
        "predominant": {"google": _loads(detail.predominant_json, [])},
        "faces": [[f.x, f.y, f.w, f.h] for f in faces],
        "face_scores": [round(f.score, 4) for f in faces],
        "people": [face_json(f) for f in photo_faces(photo.id)],
        "phash": phash,
        "image_metadata": _loads(detail.flat_exif_json, {}),
        "metadata": metadata,
        "info": {"categorization": categorization(photo)},
        "tags": sorted({t["tag"] for t in tags}),
        "tag_sources": tags,
        "rating": photo.rating,
        "label": photo.label,
        "title": photo.title,
    }
