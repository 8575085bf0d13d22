"""The land the offline map draws: Natural Earth's country rings (borders.py) in Web Mercator,
simplified for each scale so that no frame draws more detail than its pixels show.

Level k is simplified to a quarter of a pixel at zoom 2k+1 (256 * 2^z pixels around the world):
the world view draws ~15k points instead of 550k; past zoom 9 the full 1:10m data. Each ring keeps
its bounding box so a frame draws only the rings on screen.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import shapely

from app.core.places.borders import borders
from app.core.places.mercator import to_world

TILE = 256  # world pixels at zoom 0
LEVELS = 5  # simplified levels; the last is the full data
FINEST_ZOOM = 2 * (LEVELS - 1)  # from this zoom on, no simplification


@dataclass(frozen=True)
class Level:
    rings: list[np.ndarray]  # (m, 2) world x, y in 0..1
    boxes: np.ndarray  # (rings, 4) min x, min y, max x, max y


def level_for(zoom: float) -> int:
    return int(min(LEVELS - 1, max(0, zoom) // 2))


@cache
def world_rings() -> list[np.ndarray]:
    out = []
    for ring in borders().rings:
        x, y = to_world(ring[:, 1], ring[:, 0])
        out.append(np.column_stack((x, y)))
    return out


@cache
def level(index: int) -> Level:
    rings = world_rings()
    if index < LEVELS - 1:
        tolerance = 0.25 / (TILE * 2 ** (2 * index + 1))
        # an island smaller than a pixel is gone from this level
        rings = [r for r in rings if np.ptp(r[:, 0]) + np.ptp(r[:, 1]) > 4 * tolerance]
        lines = shapely.simplify([shapely.linestrings(r) for r in rings], tolerance, preserve_topology=False)
        rings = [r for r in (shapely.get_coordinates(line) for line in lines) if len(r) >= 4]
    boxes = np.array([(r[:, 0].min(), r[:, 1].min(), r[:, 0].max(), r[:, 1].max()) for r in rings])
    return Level(rings, boxes)
