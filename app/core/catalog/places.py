"""Places in the catalog: the place names a photo's file or sidecar carries (stored by the writer
at import), the Filter's place and distance conditions, and the counts the sidebar's Places tree
shows. The names themselves are computed by the places stage (app/core/places/stage.py)."""

from __future__ import annotations

import json
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import reduce

from peewee import Expression, fn

from app.core.catalog.models import OK, Photo, PhotoPlace
from app.core.places.sphere import bounding_box, km_to_chord, unit_vectors

PLACE_FIELDS = ("country", "country_code", "region", "city")
NAMED_FIELDS = (*PLACE_FIELDS, "location")  # what IPTC/XMP can name (location: a sublocation)


def store_place_names(photo_id: int, names: dict[str, str] | None) -> None:
    """Writer side: the place names the photo or its sidecar carry; the places stage then decides
    what the photo's place is (version 0: compute again)."""
    names = {k: v for k, v in (names or {}).items() if k in NAMED_FIELDS and v}
    named = json.dumps(names, ensure_ascii=False, sort_keys=True) if names else None
    row = PhotoPlace.get_or_none(PhotoPlace.photo == photo_id)
    if row is None:
        if named is not None:
            PhotoPlace.create(photo=photo_id, named_json=named, version=0)
    elif row.named_json != named:
        PhotoPlace.update(named_json=named, version=0).where(PhotoPlace.photo == photo_id).execute()


def named_places(photo_id: int) -> dict[str, str]:
    row = PhotoPlace.select(PhotoPlace.named_json).where(PhotoPlace.photo == photo_id).first()
    return json.loads(row.named_json) if row and row.named_json else {}


def place_of(photo_id: int) -> dict[str, str | None] | None:
    """{"country", "country_code", "region", "city"} as `show --json` prints it; None: no place."""
    row = PhotoPlace.get_or_none(PhotoPlace.photo == photo_id)
    if row is None or not any(getattr(row, f) for f in PLACE_FIELDS):
        return None
    return {f: getattr(row, f) for f in PLACE_FIELDS}


def places_of(photo_ids: list[int]) -> dict[int, dict[str, str | None]]:
    """place_of for many photos in one query (`tessera list --json`)."""
    out: dict[int, dict[str, str | None]] = {}
    fields = [getattr(PhotoPlace, f) for f in PLACE_FIELDS]
    for start in range(0, len(photo_ids), 500):
        chunk = photo_ids[start : start + 500]
        for pid, *values in PhotoPlace.select(PhotoPlace.photo, *fields).where(PhotoPlace.photo.in_(chunk)).tuples():
            if any(values):
                out[pid] = dict(zip(PLACE_FIELDS, values, strict=True))
    return out


# -- Filter conditions -------------------------------------------------------------------------
def _names_where(keep: Callable[[str], bool]) -> Expression:
    """Photos with a country, code, region or city name that `keep` accepts. The few thousand
    distinct names come off the columns' indexes and are matched in Python, then the photos are
    found by exact name on the same indexes: a fraction of the cost of LOWER() or LIKE on every
    row (at 100k photos ~15 ms instead of ~50 ms), with Unicode case folding SQL's LIKE lacks."""
    match = []
    for column in (PhotoPlace.country, PhotoPlace.country_code, PhotoPlace.region, PhotoPlace.city):
        sql, params = PhotoPlace.select(column).where(column.is_null(False)).distinct().sql()
        # a plain cursor: peewee rows would cost more than the index scan
        names = [v for (v,) in PhotoPlace._meta.database.execute_sql(sql, params) if keep(v)]
        if names:
            match.append(column.in_(names))
    if not match:
        return Photo.id.in_([])
    return Photo.id.in_(PhotoPlace.select(PhotoPlace.photo).where(reduce(operator.or_, match)))


def name_clause(name: str) -> Expression:
    """Photos whose country, country code, region or city is `name` (any case)."""
    wanted = name.strip().casefold()
    return _names_where(lambda v: v.casefold() == wanted)


def path_clause(path: tuple[str | None, ...]) -> Expression:
    """Photos at a node of the Places tree: (country,), (country, region) or (country, region,
    city); None stands for "unknown" at that level."""
    where = []
    for column, value in zip((PhotoPlace.country, PhotoPlace.region, PhotoPlace.city), path, strict=False):
        where.append(column.is_null() if value is None else column == value)
    return Photo.id.in_(PhotoPlace.select(PhotoPlace.photo).where(*where))


def text_clause(word: str) -> Expression:
    """Free-text search: a word in the city, region or country name (not the two-letter code)."""
    wanted = word.strip("%").casefold()
    return _names_where(lambda v: len(v) > 2 and wanted in v.casefold())


def near_clause(lat: float, lon: float, km: float) -> Expression:
    """Photos within `km` (great-circle) of (lat, lon): a bounding box on the (lat, lon) index
    narrows the rows, then the chord between unit vectors decides exactly, in arithmetic any SQL
    engine has (no trigonometry in SQL)."""
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValueError(f"a position is latitude -90..90 and longitude -180..180, not {lat}, {lon}")
    if km <= 0:
        raise ValueError(f"a distance must be more than 0 km, not {km}")
    south, north, spans = bounding_box(lat, lon, km)
    x, y, z = unit_vectors([lat], [lon])[0]
    lons = [(PhotoPlace.lon >= west) & (PhotoPlace.lon <= east) for west, east in spans]
    box = (PhotoPlace.lat >= south) & (PhotoPlace.lat <= north) & (lons[0] if len(lons) == 1 else lons[0] | lons[1])
    chord2 = (PhotoPlace.x - x) * (PhotoPlace.x - x) + (PhotoPlace.y - y) * (PhotoPlace.y - y)
    chord2 = chord2 + (PhotoPlace.z - z) * (PhotoPlace.z - z)
    return Photo.id.in_(PhotoPlace.select(PhotoPlace.photo).where(box & (chord2 <= km_to_chord(km) ** 2)))


def area_clause(south: float, west: float, north: float, east: float) -> Expression:
    """Photos whose GPS position is in a latitude/longitude rectangle (a map cluster's cell, or a
    rectangle dragged on the map); west > east crosses the antimeridian. Edges count as inside."""
    eps = 1e-9  # a photo on a cell's edge belongs to the cell it was clustered in, whatever the rounding
    lat = (Photo.gps_lat >= south - eps) & (Photo.gps_lat <= north + eps)
    west, east = west - eps, east + eps
    lon = Photo.gps_lon.between(west, east) if west <= east else (Photo.gps_lon >= west) | (Photo.gps_lon <= east)
    return lat & lon


# -- the sidebar -------------------------------------------------------------------------------
@dataclass
class PlaceNode:
    name: str | None  # None: not known at this level ("Unknown region")
    path: tuple[str | None, ...]
    count: int = 0
    children: dict[str | None, PlaceNode] = field(default_factory=dict)


def place_tree() -> list[PlaceNode]:
    """Countries > regions > cities with photo counts, countries by count, the rest by name."""
    rows = (
        PhotoPlace.select(PhotoPlace.country, PhotoPlace.region, PhotoPlace.city, fn.COUNT(PhotoPlace.photo))
        .join(Photo, on=(PhotoPlace.photo == Photo.id))
        .where((Photo.status == OK) & PhotoPlace.country.is_null(False))
        .group_by(PhotoPlace.country, PhotoPlace.region, PhotoPlace.city)
        .tuples()
    )
    roots: dict[str | None, PlaceNode] = {}
    for country, region, city, n in rows:
        node = roots.setdefault(country, PlaceNode(country, (country,)))
        node.count += n
        node = node.children.setdefault(region, PlaceNode(region, (country, region)))
        node.count += n
        node = node.children.setdefault(city, PlaceNode(city, (country, region, city)))
        node.count += n
    return sorted(roots.values(), key=lambda c: (-c.count, c.name or ""))


def place_names() -> list[str]:
    """Every country, region and city name in the catalog, for the filter bar's completer."""
    names: set[str] = set()
    for column in (PhotoPlace.country, PhotoPlace.region, PhotoPlace.city):
        names.update(v for (v,) in PhotoPlace.select(column).where(column.is_null(False)).distinct().tuples())
    return sorted(names, key=str.lower)


def children_sorted(node: PlaceNode) -> list[PlaceNode]:
    return sorted(node.children.values(), key=lambda c: (c.name is None, (c.name or "").lower()))
