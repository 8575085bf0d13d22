"""Web Mercator, the projection of every web map: the world as a unit square, x east from 180°W,
y south from 85.05°N (beyond which the square would be infinite). The map draws in it."""

from __future__ import annotations

import numpy as np

MAX_LAT = 85.05112878  # where the projected world is square


def to_world(lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lat = np.clip(np.asarray(lat, float), -MAX_LAT, MAX_LAT)
    x = (np.asarray(lon, float) + 180.0) / 360.0
    y = 0.5 - np.log(np.tan(np.pi / 4 + np.radians(lat) / 2)) / (2 * np.pi)
    return x, y


def to_lat_lon(x: np.ndarray | float, y: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    lon = np.asarray(x, float) * 360.0 - 180.0
    lat = np.degrees(2 * np.arctan(np.exp((0.5 - np.asarray(y, float)) * 2 * np.pi)) - np.pi / 2)
    return lat, lon
