"""Great-circle geometry on a spherical Earth, vectorized with numpy.

Positions become 3-D unit vectors: straight-line (chord) distances between them are exact
great-circle distances in disguise (d = 2R asin(chord / 2)), with no special case at the
antimeridian or the poles, where latitude/longitude degrees mislead every planar shortcut.
"""

from __future__ import annotations

import math

import numpy as np

EARTH_RADIUS_KM = 6371.0088  # the IUGG mean radius


def unit_vectors(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """(n, 3) unit vectors for latitudes and longitudes in degrees."""
    la, lo = np.radians(np.asarray(lat, dtype=float)), np.radians(np.asarray(lon, dtype=float))
    cos_la = np.cos(la)
    return np.column_stack((cos_la * np.cos(lo), cos_la * np.sin(lo), np.sin(la)))


def chord_to_km(chord: np.ndarray | float) -> np.ndarray | float:
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.clip(np.asarray(chord) / 2, 0, 1))


def km_to_chord(km: float) -> float:
    """The chord length between two unit vectors `km` apart on the surface (capped at antipodes)."""
    return 2 * math.sin(min(km / EARTH_RADIUS_KM, math.pi) / 2)


def distance_km(lat1: float, lon1: float, lat2: np.ndarray | float, lon2: np.ndarray | float) -> np.ndarray:
    """Haversine great-circle distance from one point to one or many."""
    p1, l1 = math.radians(lat1), math.radians(lon1)
    p2, l2 = np.radians(lat2), np.radians(lon2)
    h = np.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * np.cos(p2) * np.sin((l2 - l1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0, 1)))


def bounding_box(lat: float, lon: float, km: float) -> tuple[float, float, list[tuple[float, float]]]:
    """Latitude range and longitude ranges (one, or two across the antimeridian) that hold every
    point within `km` of (lat, lon): a cheap index prefilter before the exact test. Near a pole the
    circle covers every longitude."""
    dlat = math.degrees(km / EARTH_RADIUS_KM)
    south, north = lat - dlat, lat + dlat
    if north >= 90 or south <= -90:
        return max(south, -90.0), min(north, 90.0), [(-180.0, 180.0)]
    # the widest longitude span of the circle (at the latitude where it touches its meridians)
    ratio = math.sin(km / EARTH_RADIUS_KM) / math.cos(math.radians(lat))
    dlon = 180.0 if ratio >= 1 else math.degrees(math.asin(ratio))
    west, east = lon - dlon, lon + dlon
    if dlon >= 180:
        return south, north, [(-180.0, 180.0)]
    if west < -180:
        return south, north, [(west + 360, 180.0), (-180.0, east)]
    if east > 180:
        return south, north, [(west, 180.0), (-180.0, east - 360)]
    return south, north, [(west, east)]
