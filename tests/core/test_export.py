"""Export of real corpus photos, checked with exiftool as a real client: stripped metadata is gone,
kept metadata is still there; sizes, formats, names that never overwrite, originals untouched."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from app.core import export, tags
from app.core.catalog.models import Photo
from app.core.export import ExportSettings, export_photos
from app.core.library import Library
from tests.core.test_organize import _id, open_copies

PHOTOS = ("gps_nyc.jpg", "iptc.jpg", "camera_fuji_s2pro.jpg", "hopper_orientation_6.jpg", "exif.png")
EXIFTOOL = shutil.which("exiftool")
needs_exiftool = pytest.mark.skipif(EXIFTOOL is None, reason="exiftool (libimage-exiftool-perl) is not installed")


@pytest.fixture
def lib(tmp_path: Path, corpus: Path):
    with open_copies(tmp_path, corpus, PHOTOS) as library:
        yield library


def exiftool(path: str | Path) -> dict[str, object]:
    out = subprocess.run([EXIFTOOL, "-j", "-G", "-a", "-n", str(path)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)[0]


def _keys(meta: dict[str, object], *starts: str) -> list[str]:
    """Tags whose group ("EXIF:") or name ("GPSLatitude" for "GPS") starts with one of `starts`."""
    return [k for k in meta if any(k.startswith(s) or k.split(":")[-1].startswith(s) for s in starts)]


def _digest(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@needs_exiftool
def test_without_location_the_location_is_gone_and_the_rest_stays(lib: Library, tmp_path: Path) -> None:
    nyc, budapest = _id("gps_nyc.jpg"), _id("iptc.jpg")
    tags.add_user_tag(lib, [nyc], "harbour")
    tags.set_label(lib, [nyc], "Green")
    before = {p: _digest(Photo.get_by_id(p).path) for p in (nyc, budapest)}
    settings = ExportSettings(long_edge=300, metadata="no-location", template="{date:%Y%m%d}_{name}_{seq:03}")
    report = export_photos([nyc, budapest], tmp_path / "out", settings)
    assert not report.failed and len(report.written) == 2
    first = Path(report.written[0])
    assert first.name == "20210613_gps_nyc_001.jpg"
    meta = exiftool(first)
    assert _keys(meta, "GPS", "City", "Country", "Location") == []
    assert meta["EXIF:Make"] == "Tessera Test" and meta["EXIF:Model"] == "GPS nyc"  # kept
    assert "harbour" in str(meta["XMP:Subject"]) and meta["XMP:Label"] == "Green"  # the catalog's, merged in
    assert max(meta["File:ImageWidth"], meta["File:ImageHeight"]) == 300
    assert "sRGB" in str(meta.get("ICC_Profile:ProfileDescription"))
    iptc_copy = exiftool(report.written[1])
    assert _keys(iptc_copy, "City", "Country", "GPS") == [] and iptc_copy["EXIF:Model"] == "N70-1"
    assert {p: _digest(Photo.get_by_id(p).path) for p in (nyc, budapest)} == before  # originals only read


@needs_exiftool
def test_all_keeps_location_none_keeps_nothing_copyright_keeps_the_owner(lib: Library, tmp_path: Path) -> None:
    nyc, budapest, fuji = _id("gps_nyc.jpg"), _id("iptc.jpg"), _id("camera_fuji_s2pro.jpg")
    everything = export_photos([nyc, budapest], tmp_path / "all", ExportSettings(metadata="all"))
    meta = exiftool(everything.written[0])
    assert abs(float(meta["Composite:GPSLatitude"]) - 40.689) < 0.01
    assert exiftool(everything.written[1])["IPTC:City"] == "Budapest"
    nothing = export_photos([nyc, fuji], tmp_path / "none", ExportSettings(metadata="none", format="webp"))
    for path in nothing.written:
        assert _keys(exiftool(path), "EXIF:", "XMP:", "IPTC:", "GPS") == []
    owner = export_photos([fuji], tmp_path / "owner", ExportSettings(metadata="copyright", format="png"))
    meta = exiftool(owner.written[0])
    assert "FreeFoto.com" in str(meta["EXIF:Copyright"]) and meta["EXIF:Artist"] == "Ian Britton"
    assert "FreeFoto.com" in str(meta["XMP:Rights"]) and meta["XMP:Creator"] == "Ian Britton"
    assert _keys(meta, "Make", "Model", "DateTimeOriginal", "ExposureTime", "Credit") == []


@needs_exiftool
def test_original_format_strips_losslessly_and_never_overwrites(lib: Library, tmp_path: Path) -> None:
    nyc = _id("gps_nyc.jpg")
    source = Photo.get_by_id(nyc).path
    out = tmp_path / "out"
    first = export_photos([nyc], out, ExportSettings(format="original", metadata="no-location"))
    second = export_photos([nyc], out, ExportSettings(format="original", metadata="no-location"))
    assert [Path(p).name for p in first.written + second.written] == ["gps_nyc.jpg", "gps_nyc-2.jpg"]
    assert _keys(exiftool(first.written[0]), "GPS") == []
    with Image.open(source) as a, Image.open(first.written[0]) as b:
        assert a.tobytes() == b.tobytes()  # the same compressed pixels: decoded identically
    untouched = export_photos([nyc], out, ExportSettings(format="original"))
    assert _digest(untouched.written[0]) == _digest(source)


def test_sizes_orientation_formats_and_errors(lib: Library, tmp_path: Path) -> None:
    turned, png = _id("hopper_orientation_6.jpg"), _id("exif.png")
    photo = Photo.get_by_id(turned)
    report = export_photos([turned, png], tmp_path / "o", ExportSettings(format="webp", megapixels=0.05, sharpen="low"))
    assert not report.failed
    with Image.open(report.written[0]) as im:
        assert im.format == "WEBP" and im.width * im.height <= 50_000 * 1.01
        assert (im.width > im.height) == (photo.width > photo.height)  # upright, as the catalog has it
    stripped = export_photos([png], tmp_path / "p", ExportSettings(format="original", metadata="none"))
    assert stripped.written == [] and "export as jpeg, png or webp" in stripped.failed[0][1]
    Path(Photo.get_by_id(turned).path).unlink()
    gone = export_photos([turned], tmp_path / "q", ExportSettings())
    assert gone.written == [] and "No such file" in gone.failed[0][1]
    with pytest.raises(ValueError, match="unknown field"):
        ExportSettings(template="{nope}").check()
    with pytest.raises(ValueError):
        ExportSettings(format="original", long_edge=100).check()


def test_cancel_and_progress(lib: Library, tmp_path: Path) -> None:
    ids = [p.id for p in Photo.select()]
    seen: list[tuple[int, int, float | None]] = []
    report = export_photos(ids, tmp_path / "c", ExportSettings(long_edge=200), processes=1,
                           progress=lambda p: seen.append((p.done, p.total, p.eta_s)),
                           cancelled=lambda: len(seen) >= 1)  # fmt: skip
    assert report.cancelled and 1 <= len(report.written) < len(ids)
    assert seen[0][1] == len(ids) and seen[0][2] is not None


def test_presets_are_kept_by_name(lib: Library) -> None:
    settings = ExportSettings(format="webp", long_edge=1600, quality=70, metadata="no-location", template="{seq:04}")
    export.save_preset(lib, "Client web", settings)
    assert export.load_preset(lib, "Client web") == settings
    assert export.settings_from_options(settings, {"strip": "all", "megapixels": 2.0}) == ExportSettings(
        format="webp", megapixels=2.0, quality=70, metadata="none", template="{seq:04}"
    )
    with pytest.raises(ValueError, match="no export preset"):
        export.load_preset(lib, "nope")
