"""Flags, colour labels, collections and smart collections in the core: values read back from the
catalog and from the XMP written for real photos of the corpus."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from app.core import collections, tags
from app.core.catalog import queries
from app.core.catalog.filter_json import from_json, to_json
from app.core.catalog.models import Collection, CollectionPhoto, Photo
from app.core.catalog.queries import Filter
from app.core.library import Library
from app.core.xmp.export import export_sidecars
from app.core.xmp.sidecars import find_sidecar, read_sidecar

PHOTOS = ("flower.jpg", "flower2.jpg", "gps_nyc.jpg", "gps_rio.jpg", "camera_canon_sx530hs.jpg")


def open_copies(tmp_path: Path, corpus: Path, names: tuple[str, ...]) -> Library:
    """A new library of copies of these corpus/exif photos, imported without analysis."""
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in names:
        shutil.copy(corpus / "exif" / name, folder / name)
    library = Library.open(tmp_path / "lib")
    library.import_folders([folder], analyze=False)
    return library


@pytest.fixture
def lib(tmp_path: Path, corpus: Path, catalog_url: str | None):
    """On SQLite and on PostgreSQL (catalog_url): the raw SQL of flags, labels and collections runs on both."""
    with open_copies(tmp_path, corpus, PHOTOS) as library:
        yield library


def _id(name: str) -> int:
    return Photo.get(Photo.filename == name).id


def _ids(f: Filter) -> set[int]:
    return set(queries.search_ids(f))


def test_flags_and_labels_filter_and_stay_compatible_with_reject_ratings(lib: Library) -> None:
    a, b, c = _id("flower.jpg"), _id("flower2.jpg"), _id("gps_nyc.jpg")
    tags.set_flag(lib, [a, b], "pick")
    tags.set_rating(lib, [c], -1)  # X as it always was: a reject
    tags.set_label(lib, [a, c], "green")
    assert _ids(Filter(flags=("pick",))) == {a, b}
    assert _ids(Filter(flags=("reject",))) == {c}
    assert _ids(Filter(flags=("none",))) == set(queries.search_ids(Filter())) - {a, b, c}
    assert _ids(Filter(labels=("Green",))) == {a, c}
    assert _ids(Filter(labels=("none",))) == set(queries.search_ids(Filter())) - {a, c}
    # a reject takes back a pick; a pick takes back a reject (its stars went with the reject)
    tags.set_flag(lib, [a], "reject")
    assert (Photo.get_by_id(a).rating, Photo.get_by_id(a).picked) == (-1, False)
    tags.set_flag(lib, [a], "pick")
    assert (Photo.get_by_id(a).rating, Photo.get_by_id(a).picked) == (None, True)
    tags.set_flag(lib, [a, c], "none")
    assert [(Photo.get_by_id(p).rating, Photo.get_by_id(p).picked) for p in (a, c)] == [(None, False)] * 2
    tags.set_label(lib, [a], None)
    assert Photo.get_by_id(a).label is None
    with pytest.raises(ValueError):
        tags.set_label(lib, [a], "orange")


def test_flags_and_labels_go_to_xmp_and_come_back_from_it(lib: Library) -> None:
    a, b = _id("flower.jpg"), _id("flower2.jpg")
    tags.set_flag(lib, [a], "pick")
    tags.set_flag(lib, [b], "reject")
    tags.set_label(lib, [a], "Purple")
    report = export_sidecars(lib, [a, b])
    assert not report.failed
    text_a = find_sidecar(Path(Photo.get_by_id(a).path)).read_text()
    assert "<digiKam:PickLabel>3</digiKam:PickLabel>" in text_a and "<xmp:Label>Purple</xmp:Label>" in text_a
    back = read_sidecar(find_sidecar(Path(Photo.get_by_id(b).path)))
    assert back.rating == -1 and back.picked is False
    # cleared in Tessera after the catalog wrote the sidecar: cleared in the sidecar too
    tags.set_flag(lib, [a], "none")
    tags.set_label(lib, [a], None)
    export_sidecars(lib, [a])
    back = read_sidecar(find_sidecar(Path(Photo.get_by_id(a).path)))
    assert back.picked is False and back.label is None


def test_another_apps_sidecar_keeps_its_fields_and_its_flags_are_read(lib: Library, tmp_path: Path) -> None:
    photo = Path(Photo.get_by_id(_id("gps_rio.jpg")).path)
    sidecar = photo.with_suffix(".xmp")
    sidecar.write_text(
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:digiKam="http://www.digikam.org/ns/1.0/" '
        'xmlns:acdsee="http://ns.acdsee.com/iptc/1.0/" digiKam:PickLabel="3" digiKam:ColorLabel="5" '
        'acdsee:caption="kept"/></rdf:RDF></x:xmpmeta>'
    )
    lib.import_folders([photo.parent], analyze=False)  # the sidecar appeared: re-read
    row = Photo.get(Photo.path == str(photo))
    assert row.picked is True and row.label == "Blue"
    tags.set_label(lib, [row.id], "Yellow")
    export_sidecars(lib, [row.id])
    text = sidecar.read_text()
    assert 'acdsee:caption="kept"' in text  # what another app wrote survives
    assert read_sidecar(sidecar).label == "Yellow" and 'digiKam:ColorLabel="3"' in text  # digiKam's kept in step


def test_collections_sets_order_and_counts(lib: Library) -> None:
    a, b, c, d = (_id(n) for n in PHOTOS[:4])
    clients = collections.create(lib, "Clients", kind=collections.SET)
    budapest = collections.create(lib, "Budapest", parent="Clients")
    other = collections.create(lib, "Picks")
    assert collections.add(lib, budapest, [c, a, b]) == 3
    assert collections.add(lib, budapest, [a, d]) == 1  # a is in it already: stays where it is
    assert collections.add(lib, other, [a]) == 1  # a photo in any number of collections
    assert collections.photo_ids(collections.resolve("Clients/Budapest")) == [c, a, b, d]
    collections.move(lib, budapest, [d, b], before=c)  # a drag in the grid
    assert collections.photo_ids(collections.resolve(budapest)) == [b, d, c, a]
    collections.set_sort(lib, budapest, "name")
    names = [Photo.get_by_id(p).filename for p in collections.photo_ids(collections.resolve(budapest))]
    assert names == sorted(names)
    listing = {info.path: info for info in collections.listing()}
    assert listing["Clients"].count is None and listing["Clients/Budapest"].count == 4 and listing["Picks"].count == 1
    assert listing["Clients/Budapest"].parent_id == clients
    assert collections.remove(lib, budapest, [a]) == 1
    with pytest.raises(collections.CollectionError):
        collections.create(lib, "Budapest", parent="Clients")  # taken in that set
    with pytest.raises(collections.CollectionError):
        collections.add(lib, clients, [a])  # a set holds collections, not photos
    collections.delete(lib, clients)  # with what is in it; the photos stay
    assert not Collection.select().where(Collection.name == "Budapest").exists()
    assert not CollectionPhoto.select().where(CollectionPhoto.collection == budapest).exists()
    assert Photo.get_or_none(Photo.id == a) is not None


def test_missing_and_deleted_photos_leave_no_rows_and_moves_keep_membership(lib: Library, tmp_path: Path) -> None:
    a, b = _id("flower.jpg"), _id("gps_nyc.jpg")
    cid = collections.create(lib, "Trip")
    collections.add(lib, cid, [a, b])
    folder = Path(Photo.get_by_id(a).path).parent
    moved = tmp_path / "elsewhere"
    moved.mkdir()
    shutil.move(str(folder / "gps_nyc.jpg"), moved / "renamed.jpg")
    (folder / "flower.jpg").unlink()
    lib.import_folders([folder, moved], analyze=False)
    assert Photo.get_by_id(b).path == str(moved / "renamed.jpg")  # moved: same id
    assert Photo.get_by_id(a).status == "missing"
    assert collections.photo_ids(collections.resolve(cid)) == [b]  # the missing one is not shown
    assert collections.listing()[0].count == 1
    lib.writer.call(lambda: Photo.delete().where(Photo.id == a).execute())  # a photo row removed for good
    assert list(CollectionPhoto.select(CollectionPhoto.photo).tuples()) == [(b,)]


def test_smart_collection_is_live_and_its_filter_round_trips(lib: Library) -> None:
    a, b = _id("flower.jpg"), _id("gps_nyc.jpg")
    saved = Filter(flags=("pick",), min_rating=4, colors=(("green", 20.0),), text="flower", since="2000")
    assert from_json(to_json(saved)) == saved
    cid = collections.create(lib, "Good ones", kind=collections.SMART, saved=Filter(flags=("pick",), min_rating=4))
    smart = collections.resolve(cid)
    assert collections.photo_ids(smart) == []
    tags.set_flag(lib, [a, b], "pick")
    tags.set_rating(lib, [a], 5)
    assert collections.photo_ids(smart) == [a]  # live: no refresh step
    collections.save_filter(lib, cid, Filter(flags=("pick",)))
    assert set(collections.photo_ids(collections.resolve(cid))) == {a, b}
    collections.rename(lib, cid, "Picks")
    assert collections.resolve("Picks").id == cid


def test_filter_json_is_generic_over_fields_added_later() -> None:
    import dataclasses

    @dataclasses.dataclass(frozen=True)
    class Place:
        lat: float
        lon: float
        km: float

    # a Filter with the fields another helper might add (people, places): serialised from the fields
    Extended = dataclasses.make_dataclass(
        "Extended",
        [("people", tuple[str, ...], dataclasses.field(default=())), ("near", Place | None, None)],
        bases=(Filter,),
        frozen=True,
    )
    from app.core.catalog import filter_json

    value = Extended(people=("Ada", "Grace"), near=Place(47.5, 19.04, 10.0), min_rating=3)
    text = filter_json.to_json(value)
    original = filter_json.Filter
    filter_json.Filter = Extended  # what from_json reads when Filter itself has these fields
    try:
        Extended.__module__ = __name__
        globals()["Place"] = Place
        assert filter_json.from_json(text) == value
    finally:
        filter_json.Filter = original
    assert from_json('{"min_rating": 2, "field_from_a_newer_tessera": 1}') == Filter(min_rating=2)


def test_catalog_at_schema_5_upgrades_to_flags_and_collections(tmp_path: Path, corpus: Path) -> None:
    from app.core.catalog.connection import SCHEMA_VERSION

    with open_copies(tmp_path, corpus, PHOTOS[:2]) as library:
        tags.set_rating(library, [_id("flower.jpg")], -1)  # a reject as X stored it before flags
    catalog = tmp_path / "lib" / "catalog.sqlite"

    def schema(con: sqlite3.Connection) -> tuple[set[tuple[str, str]], set[str], set[str]]:
        columns = {(r[1], r[2]) for r in con.execute("PRAGMA table_info(photo)")}
        indexes = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        return columns, indexes, tables

    con = sqlite3.connect(catalog)
    expected = schema(con)
    children = ("stage_state", "photo_detail", "photo_tag", "photo_color")  # rows that point at photos

    def counts(con: sqlite3.Connection) -> dict[str, int]:
        return {t: con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in children}

    before = counts(con)
    assert before["stage_state"] > 0 and before["photo_detail"] > 0
    for index in ("photo_picked", "photo_label"):
        con.execute(f"DROP INDEX {index}")
    con.execute("ALTER TABLE photo DROP COLUMN picked")
    con.execute("DROP TABLE collection_photo")
    con.execute("DROP TABLE collection")
    con.execute("UPDATE schema_version SET version = 5")
    con.commit()
    con.close()
    with Library.open(tmp_path / "lib", auto_backup=False) as library:
        con = sqlite3.connect(catalog)
        assert schema(con) == expected  # the same as a new catalog's
        assert counts(con) == before  # nothing that points at a photo was lost on the way
        assert con.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]
        con.close()
        assert _ids(Filter(flags=("reject",))) == {_id("flower.jpg")}  # the old reject is a reject flag
        cid = collections.create(library, "After the upgrade")
        assert collections.add(library, cid, [_id("flower2.jpg")]) == 1
