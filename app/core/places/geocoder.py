"""Reverse geocoding, offline: GPS position -> country, region (admin1) and city, or no place.

The country is the Natural Earth polygon the point is in (borders.py): exact at a border town, where
the nearest GeoNames place is often across the border. Region and city come from the nearest
GeoNames place *of that country* (gazetteer.py), when it is near enough to name the spot, where a
town's reach grows with its size: the Eiffel Tower is in Paris, not in Neuilly-sur-Seine, the
suburb whose centre is nearer (see `_best`). A point
in no polygon is at sea: it gets the place of a town on the shore within COAST_KM (a pier, a
beach, a harbour the 1:10m coastline cuts off), otherwise no place at all, never the nearest town
hundreds of kilometres away.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from app.core.places.borders import borders
from app.core.places.gazetteer import Gazetteer, gazetteer

VERSION = 1  # bump when the rules or the data change: every place is computed again
CITY_KM = 20.0  # farther from every town of the country: no city (the countryside, a national park)
REGION_KM = 150.0  # farther: no region either (the Sahara, Antarctica)
COAST_KM = 5.0  # at sea, a town on the shore this close still names the spot
CANDIDATES = 32  # nearest places looked at for one of the right country
# A town's reach in km: REACH_KM * sqrt(population): Paris (2.1 M) 14.6 km, Nice (340 k) 5.8 km, a
# village of 1000 0.3 km. The spot goes to the town within CITY_KM it is deepest inside, relative
# to that reach, so a city's landmark keeps the city's name over the suburb next to it.
REACH_KM = 0.01


@dataclass(frozen=True)
class Place:
    country: str | None
    country_code: str | None
    region: str | None
    city: str | None

    def as_dict(self) -> dict[str, str | None]:
        return asdict(self)

    def label(self) -> str:
        """ "Nice, Provence-Alpes-Côte d'Azur, France": most precise first, unknown parts left out."""
        return ", ".join(part for part in (self.city, self.region, self.country) if part)


def locate(lat: np.ndarray, lon: np.ndarray) -> list[Place | None]:
    """The place of each position (degrees), None at sea. Vectorized over the positions."""
    lat, lon = np.asarray(lat, float), np.asarray(lon, float)
    if not len(lat):
        return []
    shapes, places = borders(), gazetteer()
    # a pole lies on the edge of Antarctica's polygon: nudge it inside (the cm do not matter)
    country = shapes.country_at(np.clip(lat, -89.9999, 89.9999), lon)
    near, km = places.nearest(lat, lon, CANDIDATES, REGION_KM)
    found = near < len(places.city)  # the K-D tree's "no neighbour" is an index past the end
    near = np.where(found, near, 0)
    codes = np.array([c or "" for c in shapes.codes], dtype="<U2")
    polygon_code = np.where(country >= 0, codes[np.maximum(country, 0)], "")
    at_sea = country < 0
    same = found & (places.country_code[near] == polygon_code[:, None])
    # at sea: a town on the shore; on land: a town of the country, else (an overseas part under its
    # sovereign's polygon: French Guiana in France's) the nearest town, whose country GeoNames knows
    allowed = np.where(at_sea[:, None], found & (km <= COAST_KM), np.where(same.any(1)[:, None], same, found))
    best = _best(places.population[near], km, allowed)
    has_town = allowed.any(1)
    result: list[Place | None] = []
    for i in range(len(lat)):
        if has_town[i]:
            b = best[i]
            polygon_name = shapes.names[country[i]] if same[i, b] else None
            result.append(_from_place(places, int(near[i, b]), float(km[i, b]), polygon_name))
        elif at_sea[i]:
            result.append(None)
        else:  # in a country, far from any town
            code = shapes.codes[country[i]]
            result.append(Place(places.country_names.get(code or "", shapes.names[country[i]]), code, None, None))
    return result


def _best(population: np.ndarray, km: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """Per row, the allowed candidate the spot is deepest inside (distance / reach) among those
    within CITY_KM; the nearest allowed one when none is that close (it then names the region)."""
    close = allowed & (km <= CITY_KM)
    reach = REACH_KM * np.sqrt(np.maximum(population, 1000))
    deepest = np.argmin(np.where(close, km / reach, np.inf), axis=1)
    nearest = np.argmax(allowed, axis=1)  # candidates come nearest first
    return np.where(close.any(1), deepest, nearest)


def _from_place(places: Gazetteer, index: int, km: float, polygon_name: str | None) -> Place:
    code = str(places.country_code[index])
    return Place(
        country=places.country_names.get(code) or polygon_name,
        country_code=code,
        region=places.region[index],
        city=places.city[index] if km <= CITY_KM else None,
    )
