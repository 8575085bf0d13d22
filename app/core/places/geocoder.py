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
from app.core.places.gazetteer import gazetteer

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
    """The place of each position (degrees), None at sea."""
    lat, lon = np.asarray(lat, float), np.asarray(lon, float)
    if not len(lat):
        return []
    shapes, places = borders(), gazetteer()
    # a pole lies on the edge of Antarctica's polygon: nudge it inside (the cm do not matter)
    country = shapes.country_at(np.clip(lat, -89.9999, 89.9999), lon)
    index, km = places.nearest(lat, lon, CANDIDATES, REGION_KM)
    missing = len(places.city)  # the index a K-D tree gives for "no neighbour"
    result: list[Place | None] = []
    for i in range(len(lat)):
        near, dist = index[i], km[i]
        found = near != missing
        if country[i] < 0:  # at sea
            shore = found & (dist <= COAST_KM)
            best = _best(places, near, dist, shore) if shore.any() else -1
            result.append(_from_place(places, near[best], dist[best], None) if best >= 0 else None)
            continue
        code = shapes.codes[country[i]]
        same = found & (places.country_code[np.minimum(near, missing - 1)] == code)
        if same.any():
            best = _best(places, near, dist, same)
            result.append(_from_place(places, near[best], dist[best], shapes.names[country[i]]))
        elif found[0]:
            # an overseas part under its sovereign's polygon (French Guiana in France's): GeoNames
            # gives it its own code, and its towns are the only ones around
            best = _best(places, near, dist, found)
            result.append(_from_place(places, near[best], dist[best], None))
        else:  # in a country, far from any town
            name = places.country_names.get(code or "", shapes.names[country[i]])
            result.append(Place(name, code, None, None))
    return result


def _best(places, near: np.ndarray, dist: np.ndarray, allowed: np.ndarray) -> int:
    """Of the allowed candidates, the one the spot is deepest inside (distance / reach); the nearest
    when none of them is within CITY_KM (it then names the region only)."""
    candidates = np.flatnonzero(allowed)
    close = candidates[dist[candidates] <= CITY_KM]
    if not len(close):
        return int(candidates[0])
    reach = REACH_KM * np.sqrt(np.maximum(places.population[near[close]], 1000))
    return int(close[np.argmin(dist[close] / reach)])


def _from_place(places, index: int, km: float, polygon_name: str | None) -> Place:
    code = str(places.country_code[index])
    return Place(
        country=places.country_names.get(code) or polygon_name,
        country_code=code,
        region=places.region[index],
        city=places.city[index] if km <= CITY_KM else None,
    )
