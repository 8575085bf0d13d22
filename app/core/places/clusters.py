"""Photo markers for the map, clustered on a grid per zoom level, so 100k geotagged photos are a
few hundred markers at any scale.

At zoom z the world is TILE * 2^z pixels wide; a cluster is every photo in one CELL-pixel square
of it. A cell is also a latitude/longitude rectangle (Mercator keeps meridians and parallels
straight), so "the photos of this cluster" is an exact area query on the catalog.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from app.core.places.mercator import to_lat_lon, to_world
from app.core.places.outlines import TILE

CELL = 64  # cluster cell, in screen pixels
MAX_ZOOM = 19


@dataclass(frozen=True)
class Clusters:
    zoom: int
    x: np.ndarray  # mean world position of each cluster's photos
    y: np.ndarray
    count: np.ndarray
    cell: np.ndarray  # (n, 2) cell column and row
    member: np.ndarray  # per photo (in Markers order): its cluster

    def cell_area(self, index: int) -> tuple[float, float, float, float]:
        """(south, west, north, east) of a cluster's cell, in degrees."""
        size = CELL / (TILE * 2**self.zoom)
        col, row = self.cell[index]
        north, west = to_lat_lon(col * size, row * size)
        south, east = to_lat_lon((col + 1) * size, (row + 1) * size)
        return float(south), float(west), float(north), float(east)


class Markers:
    """The geotagged photos the map shows, clustered lazily per zoom level."""

    def __init__(self, ids: np.ndarray, lat: np.ndarray, lon: np.ndarray) -> None:
        self.ids = np.asarray(ids, np.int64)
        self.lat, self.lon = np.asarray(lat, float), np.asarray(lon, float)
        self.x, self.y = to_world(self.lat, self.lon)
        self._levels: dict[int, Clusters] = {}

    def __len__(self) -> int:
        return len(self.ids)

    def at(self, zoom: float) -> Clusters:
        z = int(min(MAX_ZOOM, max(0, zoom)))
        if z not in self._levels:
            self._levels[z] = self._cluster(z)
        return self._levels[z]

    def _cluster(self, z: int) -> Clusters:
        cells = TILE * 2**z / CELL  # cells around the world
        col = np.minimum((self.x * cells).astype(np.int64), int(cells) - 1)
        row = np.minimum((self.y * cells).astype(np.int64), int(cells) - 1)
        keys, member, count = np.unique(col * (1 << 32) + row, return_inverse=True, return_counts=True)
        x = np.bincount(member, self.x, len(keys)) / count
        y = np.bincount(member, self.y, len(keys)) / count
        return Clusters(z, x, y, count, np.column_stack((keys >> 32, keys & 0xFFFFFFFF)), member)

    @cached_property
    def bounds(self) -> tuple[float, float, float, float] | None:
        """World (min x, min y, max x, max y) of all photos, None without any."""
        if not len(self.ids):
            return None
        return float(self.x.min()), float(self.y.min()), float(self.x.max()), float(self.y.max())

    def in_area(self, south: float, west: float, north: float, east: float) -> np.ndarray:
        """Ids of the photos in a latitude/longitude rectangle (west > east: across 180°)."""
        lat_ok = (self.lat >= south) & (self.lat <= north)
        lon_ok = (self.lon >= west) & (self.lon <= east) if west <= east else (self.lon >= west) | (self.lon <= east)
        return self.ids[lat_ok & lon_ok]
