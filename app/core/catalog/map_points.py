"""The positions the map shows: the geotagged photos of a Filter, as numpy arrays."""

from __future__ import annotations

import numpy as np

from app.core.catalog.models import Photo
from app.core.catalog.queries import Filter, conditions


def positions(f: Filter) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ids, lat, lon) of the photos `f` matches that have a GPS position, ignoring `f.area` (the
    map's own selection: the map keeps showing what is around it)."""
    where = [*conditions(f.with_(area=None)), Photo.gps_lat.is_null(False), Photo.gps_lon.is_null(False)]
    sql, params = Photo.select(Photo.id, Photo.gps_lat, Photo.gps_lon).where(*where).sql()
    rows = np.array(Photo._meta.database.execute_sql(sql, params).fetchall(), dtype=float).reshape(-1, 3)
    return rows[:, 0].astype(np.int64), rows[:, 1], rows[:, 2]
