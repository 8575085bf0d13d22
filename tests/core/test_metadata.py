"""Metadata against exiftool's facts for every file in corpus/exif, and robustness on bad EXIF."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image

from app.core.analysis.metadata import extract_metadata
from app.core.records import EXIF_GROUPS

try:
    import pillow_heif

    pillow_heif.register_heif_opener()
except ImportError:
    pass


def _md(path: Path, fmt: str = "JPEG"):
    data = path.read_bytes()
    try:
        image = Image.open(io.BytesIO(data))
    except Exception:
        image = None
    return extract_metadata(data, image, fmt)


def test_every_exif_file_matches_exiftool(corpus: Path) -> None:
    folder = corpus / "exif"
    expected = json.loads((folder / "expected.json").read_text())
    assert len(expected) >= 50
    for name, facts in expected.items():
        md = _md(folder / name, facts["format"])
        assert (md.make or None) == (facts["make"] or None), name
        assert md.model == facts["model"], name
        dto = facts["datetime_original"]
        if dto:
            assert md.taken_at == dto.replace(":", "-", 2).replace(" ", "T"), name
        assert md.orientation == (facts["orientation"] or 1), name
        if facts["gps"]:
            assert md.gps_lat == pytest.approx(facts["gps"][0], abs=1e-5), name
            assert md.gps_lon == pytest.approx(facts["gps"][1], abs=1e-5), name
        else:
            assert md.gps_lat is None and md.gps_lon is None, name
        if facts["gps_altitude"] is not None:
            assert md.gps_alt == pytest.approx(facts["gps_altitude"], abs=1e-2), name
        assert sorted(md.keywords) == sorted(facts["keywords"]), name
        assert (md.rating or 0) == (facts["rating"] or 0), name  # XMP/EXIF rating 0 means "unrated"
        json.dumps(md.groups)
        assert set(md.groups) == set(EXIF_GROUPS)


def test_groups_have_numbers_as_numbers(corpus: Path) -> None:
    md = _md(corpus / "exif" / "camera_canon_sx530hs.jpg")
    assert md.groups["image"]["Make"] == "Canon" and md.groups["image"]["Orientation"] == 1
    exif = md.groups["exif"]
    assert isinstance(exif["ExposureTime"], float) and isinstance(exif["FNumber"], int | float)
    assert isinstance(exif["ISO"], int) and exif["DateTimeOriginal"] == "2020:09:12 11:49:38"
    assert md.flat["Model"] == "Canon PowerShot SX530 HS"
    assert md.iso == exif["ISO"] and md.f_number == pytest.approx(exif["FNumber"])


def test_southern_western_gps_and_altitude_below_sea_level(corpus: Path) -> None:
    md = _md(corpus / "exif" / "phone_xiaomi_mia3_gps_sw.jpg")
    assert md.gps_lat < 0 and md.gps_lon < 0
    assert _md(corpus / "exif" / "gps_deadsea.jpg").gps_alt == pytest.approx(-430.5, abs=0.01)


def test_hostile_exif_never_raises(corpus: Path) -> None:
    for path in sorted((corpus / "bad").iterdir()):
        data = path.read_bytes()
        extract_metadata(data, None, "JPEG")
        try:
            image = Image.open(io.BytesIO(data))
        except Exception:
            continue
        md = extract_metadata(data, image, image.format or "JPEG")
        json.dumps(md.groups)


@pytest.mark.parametrize("quality", [40, 75, 92])
def test_jpeg_quality_estimate(corpus: Path, tmp_path: Path, quality: int) -> None:
    out = tmp_path / f"q{quality}.jpg"
    Image.open(corpus / "dupes" / "g00_astronaut.jpg").save(out, quality=quality)
    assert abs(_md(out).jpeg_quality - quality) <= 3


def test_density_in_dpi(corpus: Path) -> None:
    assert _md(corpus / "exif" / "photoshop-200dpi.jpg").density == pytest.approx(200)
    assert _md(corpus / "exif" / "exif-200dpcm.jpg").density == pytest.approx(508)


def test_iptc_and_xmp_keywords(corpus: Path) -> None:
    md = _md(corpus / "exif" / "iptc.jpg")
    assert {"Budapest", "Hungary", "summer"} <= set(md.keywords)
