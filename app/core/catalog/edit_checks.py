"""The edited tier's cache in the catalog: the geometric check of each pair of files, by the SHA-256
of both (EditCheck), so that a decision is never made twice unless a file changed."""

from __future__ import annotations

import json
from typing import Any

from app.core import edit_match
from app.core.catalog.models import EditCheck, Photo
from app.core.catalog.store import now_iso
from app.core.edit_match import PairKey

_IN_CHUNK = 900  # ids per IN (...) query: below SQLite's variable limit


def cached_decisions() -> dict[PairKey, edit_match.PairResult]:
    """Every decision of the current check version."""
    rows = EditCheck.select(
        EditCheck.sha_a, EditCheck.sha_b, EditCheck.matched, EditCheck.inliers, EditCheck.matrix_json, EditCheck.edits
    ).where(EditCheck.version == edit_match.VERSION)
    return {
        (a, b): edit_match.PairResult(
            bool(matched), inliers, tuple(json.loads(matrix)) if matrix else None, tuple(filter(None, edits.split(",")))
        )
        for a, b, matched, inliers, matrix, edits in rows.tuples()
    }


def store_decisions(lib: Any, decisions: list[tuple[PairKey, edit_match.PairResult]]) -> None:
    """Queued on the library's writer (the caller flushes when it needs them committed)."""
    stamp = now_iso()
    rows = [
        {"sha_a": a, "sha_b": b, "version": edit_match.VERSION, "matched": r.matched, "inliers": r.inliers,
         "matrix_json": json.dumps(r.matrix) if r.matrix else None, "edits": ",".join(r.edits), "checked_at": stamp}
        for (a, b), r in decisions
    ]  # fmt: skip
    kept = [EditCheck.version, EditCheck.matched, EditCheck.inliers, EditCheck.matrix_json, EditCheck.edits,
            EditCheck.checked_at]  # fmt: skip
    upsert = EditCheck.insert_many(rows).on_conflict(conflict_target=[EditCheck.sha_a, EditCheck.sha_b], preserve=kept)
    lib.writer.submit(upsert.execute)


def thumbnail_keys(ids: list[int]) -> dict[int, str | None]:
    found: dict[int, str | None] = {}
    for lo in range(0, len(ids), _IN_CHUNK):
        chunk = ids[lo : lo + _IN_CHUNK]
        found.update(Photo.select(Photo.id, Photo.thumb_key).where(Photo.id.in_(chunk)).tuples())
    return found
