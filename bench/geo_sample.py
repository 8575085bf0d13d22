"""Synthetic geotagged photos for the places benches: positions drawn around GeoNames towns in
proportion to their population (photos are taken where people are), a few km of scatter."""

from __future__ import annotations

import numpy as np

from app.core.places.gazetteer import gazetteer


def sample_positions(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    places = gazetteer()
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(places.lat), n, p=places.population / places.population.sum())
    lat = np.clip(places.lat[pick] + rng.normal(0, 0.03, n), -90, 90)
    lon = (places.lon[pick] + rng.normal(0, 0.04, n) + 180) % 360 - 180
    return lat, lon
