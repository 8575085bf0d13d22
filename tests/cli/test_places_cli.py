"""Places from the command line: search by place and distance, place in show/list JSON, and place
names in XMP sidecars as exiftool (a real client) reads them."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.cli.test_cli import run

GPS = ("gps_nyc.jpg", "gps_rio.jpg", "gps_sydney.jpg", "phone_xiaomi_mia3_gps_sw.jpg",
       "phone_xiaomi_mia3_orient3_gps_sw.jpg", "iptc.jpg", "flower.jpg")  # fmt: skip


@pytest.fixture
def photos(corpus: Path, tmp_path: Path) -> Path:
    """Writable copies (export-xmp writes sidecars beside them)."""
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in GPS:
        shutil.copy(corpus / "exif" / name, folder / name)
        (folder / name).chmod(0o644)
    return folder


@pytest.fixture
def lib(capsys: pytest.CaptureFixture[str], tmp_path: Path, photos: Path, catalog_url: str | None) -> str:
    """A library of the copies, on SQLite and on PostgreSQL (catalog_url)."""
    libdir = str(tmp_path / "lib")
    code, _, err = run(capsys, "--library", libdir, "import", "--no-analyze", "--quiet", str(photos))
    assert code == 0, err
    return libdir


def _names(capsys: pytest.CaptureFixture[str], lib: str, *args: str) -> set[str]:
    code, out, err = run(capsys, "--library", lib, "search", *args, "--json")
    assert code == 0, err
    return {Path(r["path"]).name for r in json.loads(out)}


def test_search_place_near_and_within(capsys: pytest.CaptureFixture[str], lib: str) -> None:
    assert _names(capsys, lib, "--place", "brazil") == {"gps_rio.jpg", "phone_xiaomi_mia3_gps_sw.jpg",
                                                        "phone_xiaomi_mia3_orient3_gps_sw.jpg"}  # fmt: skip
    assert _names(capsys, lib, "--place", "New York City") == {"gps_nyc.jpg"}
    assert _names(capsys, lib, "sydney") == {"gps_sydney.jpg"}  # free text matches place names
    # the Statue of Liberty: the photo is 9 m away; Times Square is 9.1 km
    assert _names(capsys, lib, "--near", "40.6892,-74.0445") == {"gps_nyc.jpg"}
    assert _names(capsys, lib, "--near", "40.758,-73.9855", "--within", "9.1") == set()
    assert _names(capsys, lib, "--near", "40.758,-73.9855", "--within", "9.2") == {"gps_nyc.jpg"}
    # Rio to Brasília is 938 km
    assert _names(capsys, lib, "--near", "-22.95,-43.21", "--within", "900") == {"gps_rio.jpg"}
    assert len(_names(capsys, lib, "--near", "-22.95,-43.21", "--within", "950")) == 3
    shot = str(Path(lib).parent / "photos" / "phone_xiaomi_mia3_gps_sw.jpg")
    xiaomi = _names(capsys, lib, "--near-photo", shot, "--within", "0.1")
    assert xiaomi == {"phone_xiaomi_mia3_gps_sw.jpg", "phone_xiaomi_mia3_orient3_gps_sw.jpg"}


def test_place_usage_errors(capsys: pytest.CaptureFixture[str], lib: str, photos: Path) -> None:
    for args in (["--near", "forty,two"], ["--near", "91,0"], ["--within", "3"], ["--near", "1,2", "--within", "0"],
                 ["--near-photo", str(photos / "flower.jpg")], ["--near", "1,2", "--near-photo", "1"]):  # fmt: skip
        code, _, err = run(capsys, "--library", lib, "search", *args)
        assert code == 2, (args, err)
    code, _, err = run(capsys, "--library", lib, "search", "--near-photo", str(photos / "flower.jpg"))
    assert "has no GPS position" in err


def test_show_and_list_json_carry_the_place(capsys: pytest.CaptureFixture[str], lib: str, photos: Path) -> None:
    code, out, _ = run(capsys, "--library", lib, "show", str(photos / "gps_sydney.jpg"), "--json")
    assert code == 0
    assert json.loads(out)["place"] == {"country": "Australia", "country_code": "AU", "region": "New South Wales",
                                        "city": "Sydney"}  # fmt: skip
    code, out, _ = run(capsys, "--library", lib, "show", str(photos / "flower.jpg"), "--json")
    assert json.loads(out)["place"] is None
    code, out, _ = run(capsys, "--library", lib, "list", "--json")
    rows = {Path(r["path"]).name: r for r in json.loads(out)}
    assert rows["gps_rio.jpg"]["place"]["city"] == "Rio de Janeiro"
    assert rows["iptc.jpg"]["place"] == {"country": "Hungary", "country_code": None, "region": None,
                                         "city": "Budapest"}  # fmt: skip
    assert rows["flower.jpg"]["place"] is None
    code, out, _ = run(capsys, "--library", lib, "show", str(photos / "gps_rio.jpg"))
    assert "Rio de Janeiro, Rio de Janeiro, Brazil" in out


def _exiftool(path: Path) -> dict:
    exiftool = shutil.which("exiftool")
    assert exiftool, "exiftool is missing: packaging/install.sh --test installs libimage-exiftool-perl"
    out = subprocess.run([exiftool, "-json", "-XMP:all", str(path)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)[0]


def test_export_xmp_writes_place_names_exiftool_reads(
    capsys: pytest.CaptureFixture[str], lib: str, photos: Path
) -> None:
    # a sidecar another app wrote with its own place: it must survive
    mine = photos / "gps_nyc.jpg.xmp"
    mine.write_text(
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/" '
        'photoshop:City="Liberty Island"/></rdf:RDF></x:xmpmeta>'
    )
    code, _out, err = run(capsys, "--library", lib, "export-xmp", "--all", "--json")
    assert code == 0, err
    rio = _exiftool(photos / "gps_rio.jpg.xmp")
    assert (rio["City"], rio["State"], rio["Country"], rio["CountryCode"]) == (
        "Rio de Janeiro", "Rio de Janeiro", "Brazil", "BR")  # fmt: skip
    nyc = _exiftool(mine)
    assert nyc["City"] == "Liberty Island" and "Country" not in nyc and "State" not in nyc
    budapest = _exiftool(photos / "iptc.jpg.xmp")  # its own IPTC names the place: nothing added
    assert "City" not in budapest and "Country" not in budapest
    assert "City" not in _exiftool(photos / "flower.jpg.xmp")  # no GPS, no names


def test_place_from_a_sidecar_where_the_photo_has_no_gps(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, photos: Path
) -> None:
    exiftool = shutil.which("exiftool")
    assert exiftool
    sidecar = photos / "flower.xmp"
    subprocess.run([exiftool, "-q", "-o", str(sidecar), "-XMP-photoshop:City=Kyoto", "-XMP-photoshop:Country=Japan",
                    "-XMP-iptcCore:CountryCode=JP", "-XMP-photoshop:State=Kyoto"], check=True)  # fmt: skip
    libdir = str(tmp_path / "lib2")
    assert run(capsys, "--library", libdir, "import", "--no-analyze", "--quiet", str(photos))[0] == 0
    _code, out, _ = run(capsys, "--library", libdir, "show", str(photos / "flower.jpg"), "--json")
    assert json.loads(out)["place"] == {"country": "Japan", "country_code": "JP", "region": "Kyoto", "city": "Kyoto"}
    assert _names(capsys, libdir, "--place", "japan") == {"flower.jpg"}


def test_analyze_runs_the_places_stage_alone(capsys: pytest.CaptureFixture[str], lib: str, photos: Path) -> None:
    from app.core.catalog.models import PhotoPlace
    from app.core.library import Library

    with Library.open(Path(lib)) as opened:  # forget every place: the stage must bring them back
        opened.writer.call(lambda: PhotoPlace.delete().where(PhotoPlace.named_json.is_null()).execute())
    assert _names(capsys, lib, "--place", "brazil") == set()
    code, _, err = run(capsys, "--library", lib, "analyze", "--stages", "places", "--quiet")
    assert code == 0, err
    assert len(_names(capsys, lib, "--place", "brazil")) == 3
    assert run(capsys, "--library", lib, "analyze", "--stages", "places,bogus")[0] == 2
