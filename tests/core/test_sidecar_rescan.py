"""Rescans notice sidecars edited, added or deleted while the photo itself is unchanged (Lightroom
rewrites only the .xmp), and merge them again without reading or analyzing the photo."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.catalog.models import USER, XMP, Photo, PhotoTag, StageState, Tag
from app.core.ingest import importer
from app.core.library import Library
from app.core.xmp.sidecars import write_sidecar

IPTC_KEYWORDS = {"2006", "Budapest", "Hungary", "HvK", "July", "holiday", "summer"}  # embedded in iptc.jpg


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    folder.mkdir()
    return folder


@pytest.fixture
def lib(tmp_path: Path) -> Iterator[Library]:
    with Library.open(tmp_path / "lib") as library:
        yield library


@pytest.fixture
def read_paths(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every photo path the importer hands to the worker pool (read + decode + analysis)."""
    seen: list[str] = []
    real = importer.run_tasks

    def spy(tasks, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen.extend(t.path for t in tasks)
        return real(tasks, *args, **kwargs)

    monkeypatch.setattr(importer, "run_tasks", spy)
    return seen


def _copy(corpus: Path, folder: Path, *names: str) -> Path:
    for name in names:
        shutil.copy2(corpus / "exif" / name, folder / name)
    return folder / names[0]


def _tags(photo_id: int, source: str) -> set[str]:
    rows = PhotoTag.select(PhotoTag, Tag).join(Tag).where((PhotoTag.photo == photo_id) & (PhotoTag.source == source))
    return {r.tag.name for r in rows}


def _bump_mtime(path: Path) -> None:
    """Move the mtime on by a second: a rewrite within the same clock tick must still count."""
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))


def _import(lib: Library, folder: Path) -> importer.ImportReport:
    report = lib.import_folders([folder], analyze=False, processes=1)
    assert not report.failed, report.failed
    return report


def _imported(lib: Library, photos: Path, corpus: Path, *names: str) -> tuple[Path, Photo]:
    """Copies corpus files into `photos`, imports them; the first one's path and catalog row."""
    photo = _copy(corpus, photos, *names)
    _import(lib, photos)
    return photo, Photo.get(Photo.filename == photo.name)


def _stages(photo_id: int) -> list[tuple[str, str]]:
    return [(s.stage, s.updated_at) for s in StageState.select().where(StageState.photo == photo_id)]


def test_edited_sidecar_is_merged_without_reading_the_photo(
    lib: Library, photos: Path, corpus: Path, read_paths: list[str]
) -> None:
    from app.core.tags import add_user_tag

    photo, row = _imported(lib, photos, corpus, "flower_sidecar.jpg", "flower_sidecar.xmp")
    assert {"flower", "garden"} <= _tags(row.id, XMP) and row.rating == 4
    add_user_tag(lib, [row.id], "macro")
    stages_before, read_paths[:] = _stages(row.id), []

    # Lightroom: "garden" removed, "bee" added, two stars instead of four; the photo untouched
    write_sidecar(photo, ["flower", "bee"], 2, "Green")
    _bump_mtime(photos / "flower_sidecar.xmp")
    report = _import(lib, photos)

    row = Photo.get_by_id(row.id)
    assert _tags(row.id, XMP) == {"flower", "bee"}
    assert (row.rating, row.label, row.title) == (2, "Green", "Flower in the garden")
    assert _tags(row.id, USER) == {"macro"}
    assert read_paths == [] and _stages(row.id) == stages_before  # neither read nor analyzed
    assert (report.unchanged, report.sidecars_reread) == (1, 1)
    assert "1 sidecars re-read" in report.summary()

    again = _import(lib, photos)  # the new state is remembered: nothing to do
    assert (again.unchanged, again.sidecars_reread) == (1, 0) and "re-read" not in again.summary()


def test_deleted_sidecar_takes_its_keywords_only(
    lib: Library, photos: Path, corpus: Path, read_paths: list[str]
) -> None:
    photo, row = _imported(lib, photos, corpus, "iptc.jpg")
    assert _tags(row.id, XMP) == IPTC_KEYWORDS
    write_sidecar(photo, ["beach", "Budapest"], 5, "Red")  # one keyword also embedded
    report = _import(lib, photos)
    row = Photo.get_by_id(row.id)
    assert _tags(row.id, XMP) == IPTC_KEYWORDS | {"beach"}
    assert (row.rating, row.label, report.sidecars_reread) == (5, "Red", 1)

    (photos / "iptc.jpg.xmp").unlink()
    report = _import(lib, photos)
    row = Photo.get_by_id(row.id)
    assert _tags(row.id, XMP) == IPTC_KEYWORDS  # "Budapest" stays: the photo itself has it
    assert (row.rating, row.label) == (5, "Red")  # kept: may be the user's own edit in Tessera
    assert row.sidecar_path is None and report.sidecars_reread == 1
    assert read_paths == [str(photo)]  # the first import only


def test_sidecar_added_to_a_photo_without_one(lib: Library, photos: Path, corpus: Path, read_paths: list[str]) -> None:
    photo, row = _imported(lib, photos, corpus, "flower.jpg")
    assert _tags(row.id, XMP) == set() and row.sidecar_path is None
    sidecar = write_sidecar(photo, ["Places|France|Paris"], 3, None)
    report = _import(lib, photos)
    row = Photo.get_by_id(row.id)
    assert _tags(row.id, XMP) == {"Paris"} and row.rating == 3
    assert (row.sidecar_path, row.sidecar_mtime_ns) == (str(sidecar), sidecar.stat().st_mtime_ns)
    assert report.sidecars_reread == 1 and read_paths == [str(photo)]


def test_keywords_tessera_exported_stay_out_on_rescan(
    lib: Library, photos: Path, corpus: Path, read_paths: list[str]
) -> None:
    from app.core.tags import add_user_tag, remove_tag
    from app.core.xmp.export import export_sidecars

    photo, row = _imported(lib, photos, corpus, "flower_sidecar.jpg", "flower_sidecar.xmp")
    add_user_tag(lib, [row.id], "macro")
    export_sidecars(lib, [row.id])  # rewrites the sidecar: the rescan reads it again
    remove_tag(lib, [row.id], "macro")
    _bump_mtime(photos / "flower_sidecar.xmp")
    report = _import(lib, photos)
    assert report.sidecars_reread == 1
    assert "macro" not in _tags(row.id, XMP) | _tags(row.id, USER)
    assert {"flower", "garden"} <= _tags(row.id, XMP)
    assert read_paths == [str(photo)]


def test_broken_sidecar_on_rescan_loses_nothing(lib: Library, photos: Path, corpus: Path) -> None:
    photo, row = _imported(lib, photos, corpus, "flower_sidecar.jpg", "flower_sidecar.xmp")
    tags_before = _tags(row.id, XMP)
    sidecar = photos / "flower_sidecar.xmp"
    sidecar.write_text("<x:xmpmeta><not closed", encoding="utf-8")
    _bump_mtime(sidecar)
    report = _import(lib, photos)
    row = Photo.get_by_id(row.id)
    assert _tags(row.id, XMP) == tags_before and (row.rating, row.label) == (4, "Green")
    assert [(Path(p).name, stage) for p, stage, _ in report.run.stage_failures] == [(photo.name, "sidecar")]
    assert report.sidecars_reread == 0
    assert not _import(lib, photos).run.stage_failures  # reported once, not on every rescan

    shutil.copy2(corpus / "exif" / "flower_sidecar.xmp", sidecar)  # fixed: read again
    _bump_mtime(sidecar)
    assert _import(lib, photos).sidecars_reread == 1


def _schema(con: sqlite3.Connection) -> tuple[list[tuple[object, ...]], list[str]]:
    columns = con.execute("PRAGMA table_info(photo)").fetchall()
    query = "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'photo' ORDER BY name"
    indexes = [r[0] for r in con.execute(query)]
    return columns, indexes


def test_catalog_at_schema_3_upgrades_and_rescans(
    tmp_path: Path, photos: Path, corpus: Path, read_paths: list[str]
) -> None:
    from app.core.catalog.connection import SCHEMA_VERSION

    photo = _copy(corpus, photos, "flower_sidecar.jpg", "flower_sidecar.xmp")
    _copy(corpus, photos, "flower.jpg")
    lib_dir = tmp_path / "old"
    with Library.open(lib_dir) as lib:
        _import(lib, photos)
    catalog = lib_dir / "catalog.sqlite"
    fresh = sqlite3.connect(catalog)
    expected = _schema(fresh)
    # back to what a schema 3 catalog holds: no sidecar columns
    for column in ("sidecar_path", "sidecar_size", "sidecar_mtime_ns", "own_facts_json"):
        fresh.execute(f"ALTER TABLE photo DROP COLUMN {column}")
    fresh.execute("UPDATE schema_version SET version = 3")
    fresh.commit()
    fresh.close()

    read_paths.clear()
    with Library.open(lib_dir, auto_backup=False) as lib:
        upgraded = sqlite3.connect(catalog)
        assert _schema(upgraded) == expected  # the same as a new catalog
        assert upgraded.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]
        upgraded.close()
        report = _import(lib, photos)
        # the photo with a sidecar is read once more (its own keywords were not kept apart), not analyzed
        assert read_paths == [str(photo)] and report.sidecars_reread == 1
        row = Photo.get(Photo.filename == photo.name)
        assert row.own_facts_json is not None and row.sidecar_path == str(photos / "flower_sidecar.xmp")
        assert {"flower", "garden"} <= _tags(row.id, XMP)

        write_sidecar(photo, ["flower"], 1, None)  # from now on the cheap way
        _bump_mtime(photos / "flower_sidecar.xmp")
        report = _import(lib, photos)
        assert read_paths == [str(photo)] and report.sidecars_reread == 1
        assert _tags(row.id, XMP) == {"flower"} and Photo.get_by_id(row.id).rating == 1


def test_cli_import_reports_sidecars(
    tmp_path: Path, photos: Path, corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from app.cli import main

    photo = _copy(corpus, photos, "flower.jpg")
    lib_dir = str(tmp_path / "lib")
    assert main(["--library", lib_dir, "import", "--no-analyze", "--quiet", str(photos)]) == 0
    write_sidecar(photo, ["beach"], 5, None)
    capsys.readouterr()
    assert main(["--library", lib_dir, "import", "--no-analyze", "--quiet", "--json", str(photos)]) == 0
    assert json.loads(capsys.readouterr().out)["sidecars_reread"] == 1
    _bump_mtime(write_sidecar(photo, ["sea"], 4, None))
    assert main(["--library", lib_dir, "import", "--no-analyze", "--quiet", str(photos)]) == 0
    assert "1 sidecars re-read" in capsys.readouterr().out
