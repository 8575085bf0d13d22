"""Library statistics for `tessera stats` and the GUI status bar."""

from __future__ import annotations

from typing import Any

from peewee import fn

from app.core.analysis.stages import stage_versions
from app.core.catalog.models import OK, Photo, StageState
from app.core.records import STAGES


def library_stats(lib: Any) -> dict[str, Any]:
    by_status = dict(Photo.select(Photo.status, fn.COUNT(Photo.id)).group_by(Photo.status).tuples())
    ok_photos = by_status.get(OK, 0)
    formats = dict(
        Photo.select(Photo.format, fn.COUNT(Photo.id))
        .where(Photo.status == OK)
        .group_by(Photo.format)
        .order_by(fn.COUNT(Photo.id).desc())
        .tuples()
    )
    cameras = {
        f"{make or ''} {model or ''}".strip(): n
        for make, model, n in Photo.select(Photo.make, Photo.model, fn.COUNT(Photo.id))
        .where((Photo.status == OK) & Photo.model.is_null(False))
        .group_by(Photo.make, Photo.model)
        .order_by(fn.COUNT(Photo.id).desc())
        .limit(10)
        .tuples()
    }
    versions = stage_versions()
    analyzed = {}
    for stage in STAGES:
        done = (
            StageState.select()
            .join(Photo)
            .where(
                (StageState.stage == stage)
                & (StageState.version == versions[stage])
                & (StageState.status == "done")
                & (Photo.status == OK)
            )
            .count()
        )
        analyzed[stage] = f"{done}/{ok_photos}"
    total_bytes = int(Photo.select(fn.SUM(Photo.size)).where(Photo.status == OK).scalar() or 0)  # numeric on PostgreSQL
    return {
        "library": str(lib.root),
        "photos": ok_photos,
        "failed": by_status.get("error", 0),
        "missing": by_status.get("missing", 0),
        "trashed": by_status.get("trashed", 0),
        "total_size_mb": round(total_bytes / 1e6, 1),
        "formats": formats,
        "top_cameras": cameras,
        "analyzed": analyzed,
    }
