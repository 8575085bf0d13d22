"""Import end to end on the real corpus: formats, bad files, incremental rescans, moves, resume."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest

from app.core.catalog.models import ERROR, MISSING, OK, Photo, PhotoTag, Tag
from app.core.library import Library
from app.core.tags import add_user_tag


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def lib(tmp_path: Path):
    with Library.open(tmp_path / "lib") as library:
        yield library


def _copy(src: Path, dst: Path, names: list[str] | None = None) -> Path:
    dst.mkdir(parents=True, exist_ok=True)
    for p in sorted(src.iterdir()):
        if p.is_file() and (names is None or p.name in names):
            shutil.copy2(p, dst / p.name)
    return dst


@pytest.fixture
def any_lib(tmp_path: Path, catalog_url: str | None):
    """A new library on SQLite and on PostgreSQL."""
    with Library.open(tmp_path / "lib") as library:
        yield library


def test_formats_import_with_right_format_and_size(any_lib: Library, corpus: Path) -> None:
    lib = any_lib
    folder = corpus / "formats"
    report = lib.import_folders([folder], analyze=False)
    assert not report.failed, report.failed
    with open(folder / "expected.csv", newline="") as fh:
        expected = list(csv.DictReader(fh))
    for row in expected:
        photo = Photo.get(Photo.path == str(folder / row["file"]))
        assert photo.status == OK, (row["file"], photo.error)
        assert (photo.width, photo.height) == (int(row["width"]), int(row["height"])), row["file"]
        assert photo.frames == int(row["frames"]), row["file"]
    jpeg_named_png = Photo.get(Photo.filename == "png_named_as.jpg")
    assert jpeg_named_png.format == "PNG"  # by content, not extension


@pytest.mark.parametrize("analyze_later", [False, True], ids=["import", "import-no-analyze-then-analyze"])
def test_bad_files_become_error_rows_or_photos(lib: Library, corpus: Path, analyze_later: bool) -> None:
    """An import reads headers only: a file whose headers are sound but whose pixels are not
    (tiff_tiled_jpeg_oob_read) is an error row once analysis decodes it, in the same run for a plain
    import, at `analyze` after `import --no-analyze`."""
    folder = corpus / "bad"
    report = lib.import_folders([folder], analyze=not analyze_later)
    failed_paths = {p for p, _ in report.failed}
    if analyze_later:
        failed_paths |= {p for p, _ in lib.analyze().failed}
    with open(folder / "expected.csv", newline="") as fh:
        expected = list(csv.DictReader(fh))
    for row in expected:
        path = str(folder / row["file"])
        photo = Photo.get_or_none(Photo.path == path)
        assert photo is not None, f"{row['file']} neither imported nor reported"
        if row["expect"] == "error":
            assert photo.status == ERROR, row["file"]
            assert photo.error and len(photo.error) > 8, row["file"]
            assert path in failed_paths
        elif row["expect"] == "imported":
            assert photo.status == OK, (row["file"], photo.error)
        else:
            assert photo.status in (OK, ERROR)
            assert photo.status == OK or photo.error
    # the bookkeeping files beside them are not photos and are not reported
    assert Photo.get_or_none(Photo.filename == "MANIFEST.md") is None
    # found out at analysis: the error row keeps what the headers said
    damaged = Photo.get(Photo.filename == "tiff_tiled_jpeg_oob_read.tif")
    assert "damaged TIFF" in damaged.error
    if analyze_later:
        assert damaged.format == "TIFF" and damaged.width > 0


def test_originals_are_never_modified(lib: Library, corpus: Path) -> None:
    folder = corpus / "exif"
    before = {p: (_sha(p), p.stat().st_mtime_ns) for p in folder.iterdir() if p.is_file()}
    lib.import_folders([folder], analyze=True)
    after = {p: (_sha(p), p.stat().st_mtime_ns) for p in folder.iterdir() if p.is_file()}
    assert before == after
    photo = Photo.get(Photo.filename == "gps_sydney.jpg")
    assert photo.sha256 == before[folder / "gps_sydney.jpg"][0]


def test_exif_facts_in_catalog_match_exiftool(lib: Library, corpus: Path) -> None:
    folder = corpus / "exif"
    lib.import_folders([folder], analyze=False)
    expected = json.loads((folder / "expected.json").read_text())
    for name, facts in expected.items():
        photo = Photo.get(Photo.path == str(folder / name))
        assert photo.status == OK, (name, photo.error)
        assert (photo.width, photo.height) == (facts["width"], facts["height"]), name
        assert (photo.make or None) == (facts["make"] or None), name
        assert photo.model == facts["model"], name
        if facts["datetime_original"]:
            assert photo.taken_at == facts["datetime_original"].replace(":", "-", 2).replace(" ", "T"), name
        if facts["gps"]:
            assert photo.gps_lat == pytest.approx(facts["gps"][0], abs=1e-5), name
            assert photo.gps_lon == pytest.approx(facts["gps"][1], abs=1e-5), name
        else:
            assert photo.gps_lat is None, name


def test_incremental_rescan_modify_delete_move(any_lib: Library, corpus: Path, tmp_path: Path) -> None:
    lib = any_lib
    names = ["gps_sydney.jpg", "gps_nyc.jpg", "gps_rio.jpg", "flower.jpg", "iptc.jpg"]
    folder = _copy(corpus / "exif", tmp_path / "photos", names)
    first = lib.import_folders([folder], analyze=False)
    assert first.count("new") == 5 and not first.failed
    ids = {p.filename: p.id for p in Photo.select()}

    again = lib.import_folders([folder], analyze=False)
    assert again.unchanged == 5 and again.run.done == 0  # no file was read

    # modified content at the same path: re-read, same id
    shutil.copy2(corpus / "exif" / "flower2.jpg", folder / "flower.jpg")
    os.utime(folder / "flower.jpg", ns=(1, 1_000_000_000))
    changed = lib.import_folders([folder], analyze=False)
    assert changed.count("changed") == 1 and changed.run.done == 1
    flower = Photo.get(Photo.path == str(folder / "flower.jpg"))
    assert flower.id == ids["flower.jpg"] and flower.sha256 == _sha(folder / "flower.jpg")

    # a tagged photo is moved and renamed: it keeps its id and tags
    add_user_tag(lib, [ids["gps_rio.jpg"]], "carnival")
    (folder / "trips").mkdir()
    os.rename(folder / "gps_rio.jpg", folder / "trips" / "rio 2024.jpg")
    # another one is deleted: marked missing, not dropped
    os.remove(folder / "gps_nyc.jpg")
    moved = lib.import_folders([folder], analyze=False)
    assert moved.count("moved") == 1 and moved.missing == 2  # nyc gone; rio's old path gone
    rio = Photo.get(Photo.id == ids["gps_rio.jpg"])
    assert rio.path == str(folder / "trips" / "rio 2024.jpg") and rio.status == OK
    tags = [t.tag.name for t in PhotoTag.select().join(Tag).where(PhotoTag.photo == rio.id)]
    assert "carnival" in tags
    nyc = Photo.get(Photo.id == ids["gps_nyc.jpg"])
    assert nyc.status == MISSING
    assert Photo.select().count() == 5


def test_cancelled_import_resumes(lib: Library, corpus: Path) -> None:
    folder = corpus / "dupes"
    total = len([p for p in folder.iterdir() if p.suffix.lower() in {".jpg", ".png", ".webp"}])
    seen = []

    def progress(p: object) -> None:
        seen.append(p)

    # stopped once the progress shows 10 files read: an import that decodes no pixels reads the
    # whole folder before the writer's first batch of rows is visible, so their count came too late
    stop_after = 10
    report = lib.import_folders(
        [folder],
        analyze=False,
        progress=progress,
        cancelled=lambda: bool(seen) and seen[-1].done >= stop_after,
        processes=1,
    )
    assert report.cancelled
    partial = Photo.select().count()
    assert stop_after <= partial < total
    rest = lib.import_folders([folder], analyze=False)
    assert not rest.cancelled
    assert rest.unchanged >= partial
    assert Photo.select().where(Photo.status == OK).count() == total


def test_library_folder_and_hidden_folders_are_skipped(tmp_path: Path, corpus: Path) -> None:
    photos = _copy(corpus / "exif", tmp_path / "photos", ["flower.jpg"])
    _copy(corpus / "exif", photos / ".hidden", ["flower2.jpg"])
    (photos / "loop").symlink_to(photos, target_is_directory=True)  # a link cycle must end
    with Library.open(photos / "my library") as lib:  # library inside the imported tree
        report = lib.import_folders([photos], analyze=False)
        assert report.scanned == 1
        assert [p.filename for p in Photo.select()] == ["flower.jpg"]


def test_phash_is_imagehash_of_the_oriented_photo(lib: Library, corpus: Path) -> None:
    """The stored pHash is `str(imagehash.phash(img))` of the photo as shown (EXIF orientation
    applied), although it is computed on the shrunk working image (JPEG draft() included): real
    camera files, portrait-oriented phones among them."""
    import imagehash
    from PIL import Image, ImageOps

    from app.core.analysis.hashing import to_hex
    from app.core.catalog.models import to_unsigned

    folder = corpus / "exif"
    lib.import_folders([folder], analyze=False)
    lib.analyze(("hashes",))
    photos = list(Photo.select().where(Photo.status == OK))
    assert len(photos) >= 40
    assert any(p.orientation not in (None, 1) for p in photos)  # rotated ones are covered
    for photo in photos:
        with Image.open(photo.path) as im:
            expected = str(imagehash.phash(ImageOps.exif_transpose(im).convert("RGB")))
        assert to_hex(to_unsigned(photo.phash)) == expected, photo.filename
