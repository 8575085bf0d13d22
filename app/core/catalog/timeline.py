"""Photo counts over time: the sidebar's Timeline (year > month > day) and the grid header's strip."""

from __future__ import annotations

from collections.abc import Iterable

from peewee import fn

from app.core.catalog.models import OK, Photo
from app.core.catalog.queries import Filter, conditions


def day_counts(f: Filter | None = None) -> list[tuple[str, int]]:
    """(YYYY-MM-DD, photos) oldest first, for the photos of `f` (default: every readable photo)
    whatever their dates: the strip shows the dates around the chosen range too."""
    day = fn.SUBSTR(Photo.taken_at, 1, 10)
    where = [Photo.taken_at.is_null(False)]
    where += conditions(f.with_(since="", until="")) if f is not None else [Photo.status == OK]
    rows = Photo.select(day, fn.COUNT(Photo.id)).where(*where).group_by(day).order_by(day).tuples()
    return [(d, n) for d, n in rows if d and len(d) == 10]


def nested(days: Iterable[tuple[str, int]]) -> dict[str, dict[str, list[tuple[str, int]]]]:
    """{year: {YYYY-MM: [(YYYY-MM-DD, n), ...]}} newest first at every level."""
    out: dict[str, dict[str, list[tuple[str, int]]]] = {}
    for day, n in sorted(days, reverse=True):
        out.setdefault(day[:4], {}).setdefault(day[:7], []).append((day, n))
    return out
