"""Places: offline reverse geocoding on the corpus' GPS photos and on spots whose place we know,
great-circle distance search, and the places stage in the catalog."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from app.core.catalog import queries
from app.core.catalog.models import Photo, PhotoPlace
from app.core.catalog.places import place_of, place_tree
from app.core.library import Library
from app.core.places.gazetteer import gazetteer
from app.core.places.geocoder import locate
from app.core.places.sphere import bounding_box, distance_km

# (lat, lon) -> (country code, region, city); None: no place. Why each is here:
KNOWN = [
    # a border town: Basel's St. Johann, where the nearest GeoNames place is Saint-Louis, France
    ((47.5766, 7.5655), ("CH", "Basel-City", "Basel")),
    ((48.5728, 7.8150), ("DE", "Baden-Wurttemberg", "Kehl")),  # across the Rhine from Strasbourg
    ((48.5734, 7.7521), ("FR", "Grand Est", "Strasbourg")),
    ((32.5300, -117.0290), ("MX", "Baja California", "Tijuana")),  # a few hundred metres from the US
    ((-29.5, 28.2), ("LS", "Thaba-Tseka", "Mantsonyane")),  # Lesotho: a hole in South Africa
    # coasts: the Promenade des Anglais, 2.8 km out in the Baie des Anges, 33 km out at sea
    ((43.695, 7.27), ("FR", "Provence-Alpes-Côte d'Azur", "Nice")),
    ((43.67, 7.27), ("FR", "Provence-Alpes-Côte d'Azur", "Nice")),
    ((43.4, 7.3), None),
    # a city's landmark gets the city, not the suburb whose centre is nearer (Neuilly-sur-Seine)
    ((48.8584, 2.2945), ("FR", "Île-de-France", "Paris")),
    # the antimeridian: Taveuni/Vanua Levu east of 180° is Fiji's Northern division (a degree K-D
    # tree finds Tubou, Eastern division, 200 km away); Egvekinot, Chukotka, at 179.1°W
    ((-16.8, -179.97), ("FJ", "Northern", None)),
    ((66.32, -179.15), ("RU", "Chukotka", "Egvekinot")),
    # the poles: the South Pole is in Antarctica, the North Pole in the Arctic Ocean
    ((-90.0, 0.0), ("AQ", None, None)),
    ((90.0, 0.0), None),
    ((78.2, 15.5), ("SJ", "Svalbard", "Longyearbyen")),
    # the open ocean
    ((30.0, -40.0), None),
    ((0.0, 0.0), None),
    ((-50.0, -120.0), None),
]


@pytest.mark.parametrize(("position", "expected"), KNOWN, ids=[f"{p[0]},{p[1]}" for p, _ in KNOWN])
def test_known_places(position: tuple[float, float], expected: tuple[str, str | None, str | None] | None) -> None:
    (place,) = locate(np.array([position[0]]), np.array([position[1]]))
    if expected is None:
        assert place is None
    else:
        assert place is not None
        assert (place.country_code, place.region, place.city) == expected


def test_border_town_is_not_the_nearest_place() -> None:
    """The table's Basel spot is a real border case: the nearest place is French."""
    places = gazetteer()
    index, _ = places.nearest(np.array([47.5766]), np.array([7.5655]), 1, 50)
    assert str(places.country_code[index[0, 0]]) == "FR"


def test_nearest_place_is_the_great_circle_nearest_everywhere() -> None:
    """Around the antimeridian and the poles, the index's nearest place is the one with the least
    haversine distance over all 155k places."""
    places = gazetteer()
    spots = [(-16.5, 179.99), (-16.5, -179.99), (66.3, 179.9), (66.3, -179.9), (-18.2, 180.0), (89.0, 0.0),
             (80.0, 170.0), (-85.0, 10.0), (78.0, -179.0), (-8.5, -179.9)]  # fmt: skip
    lat, lon = np.array([s[0] for s in spots]), np.array([s[1] for s in spots])
    index, km = places.nearest(lat, lon, 1, 20_000)
    for i, (la, lo) in enumerate(spots):
        truth = distance_km(la, lo, places.lat, places.lon)
        assert index[i, 0] == int(np.argmin(truth)), (la, lo)
        assert km[i, 0] == pytest.approx(truth.min(), abs=1e-6)


def test_bounding_box_holds_every_point_within_the_distance() -> None:
    rng = np.random.default_rng(7)
    for lat, lon, radius in [(0, 179.9, 50), (0, -179.9, 50), (89.9, 0, 30), (-89.5, 45, 100), (45, 7, 1),
                             (60, 179, 500), (10, -170, 3000), (-33.9, 151.2, 20_000)]:  # fmt: skip
        la = np.degrees(np.arcsin(rng.uniform(-1, 1, 200_000)))
        lo = rng.uniform(-180, 180, 200_000)
        inside = distance_km(lat, lon, la, lo) <= radius
        south, north, spans = bounding_box(lat, lon, radius)
        boxed = (la >= south) & (la <= north) & np.any([(lo >= w) & (lo <= e) for w, e in spans], axis=0)
        assert not (inside & ~boxed).any(), (lat, lon, radius)


# -- the corpus, through the catalog ----------------------------------------------------------------
CORPUS_PLACES = {
    "gps_nyc.jpg": ("United States", "US", "New York", "New York City"),
    "gps_rio.jpg": ("Brazil", "BR", "Rio de Janeiro", "Rio de Janeiro"),
    "gps_sydney.jpg": ("Australia", "AU", "New South Wales", "Sydney"),
    "camera_nikon_d2h_gps.jpg": ("China", "CN", "Beijing", "Beijing"),
    "phone_iphone4s_gps_orient6.jpg": ("Sweden", "SE", "Stockholm", "Stockholm"),
    "phone_xiaomi_mia3_gps_sw.jpg": ("Brazil", "BR", "Federal District", "Brasília"),
    "phone_xiaomi_mia3_orient3_gps_sw.jpg": ("Brazil", "BR", "Federal District", "Brasília"),
    "phone_htc_m8_gps_strings.jpg": ("Germany", "DE", "Saxony-Anhalt", "Halberstadt"),
    "phone_kddi_a5301t_gps.jpg": ("Japan", "JP", "Tokyo", "Ebara"),
    # the Dead Sea, 430 m below sea level: on the Jordanian side of the border through it
    "gps_deadsea.jpg": ("Jordan", "JO", "Madaba", "Al ‘Arīḑ"),
}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def exif_lib(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, corpus: Path) -> Library:
    """The exif corpus imported once per engine: the places SQL (names, tree, distances) runs on both."""
    server = request.getfixturevalue("pg_server") if request.param == "postgresql" else None
    database = server.create_database() if server else None
    lib = Library.open(tmp_path_factory.mktemp("places") / "lib", catalog=server.url(database) if server else None)
    lib.import_folders([corpus / "exif"], analyze=False, processes=1)
    yield lib
    lib.close()
    if server:
        server.drop_database(database)


def _by_name(name: str) -> Photo:
    return Photo.get(Photo.filename == name)


def test_every_corpus_gps_photo_gets_its_place(exif_lib: Library, corpus: Path) -> None:
    expected = json.loads((corpus / "exif" / "expected.json").read_text())
    gps = {name for name, facts in expected.items() if facts["gps"]}
    assert gps == set(CORPUS_PLACES)  # all four hemispheres
    for name, (country, code, region, city) in CORPUS_PLACES.items():
        photo = _by_name(name)
        assert place_of(photo.id) == {"country": country, "country_code": code, "region": region, "city": city}, name


def test_names_from_embedded_iptc_where_there_is_no_gps(exif_lib: Library) -> None:
    photo = _by_name("iptc.jpg")  # IPTC City Budapest, Country Hungary, no GPS
    assert photo.gps_lat is None
    assert place_of(photo.id) == {"country": "Hungary", "country_code": None, "region": None, "city": "Budapest"}


def test_no_place_without_gps_or_names(exif_lib: Library) -> None:
    photo = _by_name("exif_gps.jpg")  # its GPS block is malformed
    assert photo.gps_lat is None and place_of(photo.id) is None


def test_stage_is_resumable_and_versioned(exif_lib: Library) -> None:
    assert exif_lib.locate_places() == 0  # everything current: nothing to do
    photo = _by_name("gps_rio.jpg")
    # the photo's GPS changed (a re-import of an edited file): only it is computed again
    exif_lib.writer.call(lambda: Photo.update(gps_lat=48.8584, gps_lon=2.2945).where(Photo.id == photo.id).execute())
    assert exif_lib.locate_places() == 1
    assert place_of(photo.id)["city"] == "Paris"
    facts = CORPUS_PLACES["gps_rio.jpg"]
    exif_lib.writer.call(
        lambda: Photo.update(gps_lat=-22.9519161, gps_lon=-43.2104869).where(Photo.id == photo.id).execute()
    )
    exif_lib.locate_places()
    assert place_of(photo.id)["city"] == facts[3]
    assert exif_lib.locate_places(force=True) == PhotoPlace.select().count() == len(CORPUS_PLACES) + 1


def _search(**changes: object) -> set[str]:
    ids = queries.search_ids(queries.Filter(**changes))
    return {p.filename for p in Photo.select(Photo.filename).where(Photo.id.in_(ids))}


def test_search_by_place_name_any_level(exif_lib: Library) -> None:
    assert _search(place="brazil") == {"gps_rio.jpg", "phone_xiaomi_mia3_gps_sw.jpg",
                                       "phone_xiaomi_mia3_orient3_gps_sw.jpg"}  # fmt: skip
    assert _search(place="BR") == _search(place="Brazil")
    assert _search(place="Rio de Janeiro") == {"gps_rio.jpg"}  # the city and the state
    assert _search(place="New South Wales") == {"gps_sydney.jpg"}
    assert _search(place="Budapest") == {"iptc.jpg"}
    assert _search(place="Syd") == set()  # a name, not a prefix (free text does substrings)
    assert _search(text="sydney") == {"gps_sydney.jpg"}
    assert _search(text="brasília") == {"phone_xiaomi_mia3_gps_sw.jpg", "phone_xiaomi_mia3_orient3_gps_sw.jpg"}
    assert _search(place_path=("Brazil", "Federal District")) == _search(place="Brasília")


def test_search_near_is_exactly_the_photos_within_the_distance(exif_lib: Library) -> None:
    rows = list(Photo.select(Photo.filename, Photo.gps_lat, Photo.gps_lon).where(Photo.gps_lat.is_null(False)).tuples())
    for lat, lon in [(40.6892, -74.0445), (-22.95, -43.21), (-15.8356, -48.0157), (0.0, 179.9), (89.0, 0.0)]:
        distances = {name: float(distance_km(lat, lon, la, lo)) for name, la, lo in rows}
        # radii just around each photo's distance: exactly the photos on the near side
        for radius in sorted({*distances.values(), 1.0, 0.05, 1000.0, 20_016.0}):
            for km in (radius * 0.999, radius * 1.001):
                expected = {n for n, d in distances.items() if d <= km}
                assert _search(near=(lat, lon, km)) == expected, (lat, lon, km)


def test_near_the_two_xiaomi_shots(exif_lib: Library) -> None:
    a, b = _by_name("phone_xiaomi_mia3_gps_sw.jpg"), _by_name("phone_xiaomi_mia3_orient3_gps_sw.jpg")
    apart = float(distance_km(a.gps_lat, a.gps_lon, b.gps_lat, b.gps_lon))
    assert 0.02 < apart < 0.04  # 27 m
    assert _search(near=(a.gps_lat, a.gps_lon, 0.02)) == {a.filename}
    assert _search(near=(a.gps_lat, a.gps_lon, 1)) == {a.filename, b.filename}
    with pytest.raises(ValueError):
        _search(near=(91.0, 0.0, 1.0))


def test_place_tree_counts(exif_lib: Library) -> None:
    tree = {c.name: c for c in place_tree()}
    assert tree["Brazil"].count == 3
    assert {r.name: r.count for r in tree["Brazil"].children.values()} == {"Rio de Janeiro": 1, "Federal District": 2}
    assert tree["Hungary"].children[None].children["Budapest"].count == 1  # no region known
    assert sum(c.count for c in tree.values()) == len(CORPUS_PLACES) + 1
