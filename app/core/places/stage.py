"""The "places" stage: names every photo's place from its GPS position, or from the names its file
or sidecar carries where it has no GPS. It needs no decode, so it runs as one batch in the calling
process after each import or analyze (no worker), and writes through the catalog writer.

A photo needs it when its row is missing, was computed by another VERSION, was marked stale by the
writer (new names from IPTC/XMP: version 0), or was computed from another position than the
photo's GPS now has. 100k photos: a few seconds (bench/places_bench.py).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
from peewee import JOIN

from app.core.catalog.models import OK, Photo, PhotoPlace
from app.core.catalog.places import PLACE_FIELDS
from app.core.catalog.writer import CatalogWriter
from app.core.places.geocoder import VERSION, Place, locate
from app.core.places.sphere import unit_vectors

CHUNK = 5000  # rows per writer operation: one transaction each, the GUI's writes interleave


Pending = tuple[int, float | None, float | None, str | None]  # photo id, lat, lon, named_json


def pending(force: bool = False, photo_ids: Sequence[int] | None = None) -> list[Pending]:
    """(photo id, lat, lon, named_json) of the photos whose place must be computed (again)."""
    q = (
        Photo.select(Photo.id, Photo.gps_lat, Photo.gps_lon, PhotoPlace.named_json, PhotoPlace.lat, PhotoPlace.lon,
                     PhotoPlace.version, PhotoPlace.photo)
        .join(PhotoPlace, JOIN.LEFT_OUTER, on=(PhotoPlace.photo == Photo.id))
        .where((Photo.status == OK) & (Photo.gps_lat.is_null(False) | PhotoPlace.photo.is_null(False)))
    )  # fmt: skip
    if photo_ids is not None:
        q = q.where(Photo.id.in_(list(photo_ids)))
    sql, params = q.sql()
    out = []
    for pid, lat, lon, named, done_lat, done_lon, version, has_row in Photo._meta.database.execute_sql(sql, params):
        if lat is None or lon is None:
            lat = lon = None
        if force or has_row is None or version != VERSION or (lat, lon) != (done_lat, done_lon):
            out.append((pid, lat, lon, named))
    return out


def _named_place(named: str | None) -> Place | None:
    names = json.loads(named) if named else {}
    if not any(names.get(f) for f in PLACE_FIELDS):
        return None
    code = (names.get("country_code") or "").upper() or None
    country = names.get("country")
    if country is None and code is not None:
        from app.core.places.gazetteer import gazetteer

        country = gazetteer().country_names.get(code)
    return Place(country, code, names.get("region"), names.get("city"))


def compute(rows: list[Pending]) -> list[dict]:
    """The photo_place rows for `pending` rows (a row without GPS nor names: removed)."""
    gps = [i for i, r in enumerate(rows) if r[1] is not None]
    lat = np.array([rows[i][1] for i in gps], float)
    lon = np.array([rows[i][2] for i in gps], float)
    located = dict(zip(gps, locate(lat, lon), strict=True))
    vectors = dict(zip(gps, unit_vectors(lat, lon).tolist(), strict=True)) if gps else {}
    out = []
    for i, (pid, la, lo, named) in enumerate(rows):
        # the GPS position names the place; the file's own names only where it has none (or at sea)
        place = located.get(i) or _named_place(named)
        x, y, z = vectors.get(i, (None, None, None))
        out.append({
            "photo": pid, "lat": la, "lon": lo, "x": x, "y": y, "z": z, "named_json": named, "version": VERSION,
            **(place.as_dict() if place else dict.fromkeys(PLACE_FIELDS)),
        })  # fmt: skip
    return out


def _store(rows: list[dict]) -> None:
    keep = [r for r in rows if r["lat"] is not None or r["named_json"] is not None]
    gone = [r["photo"] for r in rows if r["lat"] is None and r["named_json"] is None]
    if gone:
        PhotoPlace.delete().where(PhotoPlace.photo.in_(gone)).execute()
    if keep:
        # one prepared upsert run for every row: peewee's insert_many builds SQL in Python at ~0.5 ms
        # a row, 50 s for 100k photos on its own. ON CONFLICT ... EXCLUDED is SQLite's and PostgreSQL's.
        database = PhotoPlace._meta.database
        fields = [f for f in keep[0] if f != "named_json"]  # the writer's names stay as they are
        columns = [PhotoPlace._meta.fields[f].column_name for f in fields]
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns[1:])
        sql = (
            f"INSERT INTO {PhotoPlace._meta.table_name} ({', '.join(columns)}) "
            f"VALUES ({', '.join([database.param] * len(columns))}) "
            f"ON CONFLICT ({columns[0]}) DO UPDATE SET {updates}"
        )
        database.cursor().executemany(sql, [[r[f] for f in fields] for r in keep])


def locate_photos(writer: CatalogWriter, *, force: bool = False, photo_ids: Sequence[int] | None = None) -> int:
    """Run the stage on every photo that needs it; returns how many it named (or un-named)."""
    rows = pending(force, photo_ids)
    for start in range(0, len(rows), CHUNK):
        chunk = compute(rows[start : start + CHUNK])
        writer.submit(lambda c=chunk: _store(c))
    writer.flush()
    return len(rows)
