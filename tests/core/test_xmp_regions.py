"""XMP face regions both ways, with exiftool as the other app: names it writes as MWG or Microsoft
Photo regions (embedded or in a sidecar) become confirmed persons on import, and the MWG regions
export-xmp writes read back in exiftool with the same names and areas, other content kept."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image, ImageOps

from app.core.catalog.models import CONFIRMED, Face, Photo
from app.core.library import Library
from app.core.people import persons
from app.core.xmp.export import ExportReport, export_sidecars
from tests.core.test_sidecars import LIGHTROOM

KPA = "people/kphotoalbum"
# identities.csv: displayed-pixel boxes of two faces in bar55.jpg and one in wayne.jpg (stored sideways)
JESPER = (354, 175, 109, 109)
ANNE = (270, 247, 109, 109)
WAYNE = (170, 276, 44, 44)
NOBODY = (600, 420, 90, 90)  # a region where the detector finds no face (the table)


def copy_photo(tmp_path: Path, corpus: Path, name: str = "bar55.jpg") -> tuple[Path, Path]:
    """(folder, photo): a corpus photo copied where the test may write XMP into it."""
    folder = tmp_path / "photos"
    folder.mkdir()
    photo = folder / name
    shutil.copy2(corpus / KPA / name, photo)
    return folder, photo


def exiftool(*args: str) -> str:
    if shutil.which("exiftool") is None:
        pytest.fail("exiftool is not installed (apt-get install libimage-exiftool-perl; packaging/install.sh --test)")
    done = subprocess.run(["exiftool", *args], capture_output=True, text=True, check=True)
    return done.stdout


def displayed_size(path: Path) -> tuple[int, int]:
    with Image.open(path) as im:
        return ImageOps.exif_transpose(im).size


def mwg(regions: list[tuple[str, tuple[float, float, float, float]]], size: tuple[int, int]) -> str:
    """exiftool's struct syntax for MWG face regions; boxes in pixels of `size`, written as MWG's
    normalized centre and size."""
    w, h = size
    items = ",".join(
        f"{{Area={{X={(x + bw / 2) / w:.5f},Y={(y + bh / 2) / h:.5f},W={bw / w:.5f},H={bh / h:.5f},Unit=normalized}},"
        f"Name={name},Type=Face}}"
        for name, (x, y, bw, bh) in regions
    )
    return f"-XMP-mwg-rs:RegionInfo={{AppliedToDimensions={{W={w},H={h},Unit=pixel}},RegionList=[{items}]}}"


def lightroom_sidecar_with_a_pet(folder: Path) -> Path:
    """bar55.xmp as Lightroom writes it (rating 3, label Red, develop settings), plus a pet region."""
    sidecar = folder / "bar55.xmp"
    sidecar.write_text(LIGHTROOM, encoding="utf-8")
    pet = ("-XMP-mwg-rs:RegionInfo={AppliedToDimensions={W=800,H=600,Unit=pixel},RegionList=[{Area={X=0.1,Y=0.9,"
           "W=0.1,H=0.1,Unit=normalized},Name=Rex,Type=Pet}]}")  # fmt: skip
    exiftool("-q", "-overwrite_original", pet, str(sidecar))
    return sidecar


def named_faces(filename: str) -> dict[str, Face]:
    rows = Face.select().join(Photo).where((Photo.filename == filename) & (Face.person_state == CONFIRMED))
    return {f.person.name: f for f in rows}


def covers(face: Face, box: tuple[float, float, float, float]) -> bool:
    """The face row frames the listed face: its centre is inside the listed box."""
    cx, cy = face.x + face.w / 2, face.y + face.h / 2
    return box[0] <= cx <= box[0] + box[2] and box[1] <= cy <= box[1] + box[3]


def test_embedded_mwg_regions_name_the_faces_found(tmp_path: Path, corpus: Path) -> None:
    folder, photo = copy_photo(tmp_path, corpus)
    size = displayed_size(photo)
    exiftool("-q", "-overwrite_original", mwg([("Jesper", JESPER), ("Anne Helene", ANNE), ("Bob", NOBODY)], size),
             str(photo))  # fmt: skip
    with Library.open(tmp_path / "lib") as lib:
        lib.import_folders([folder], processes=1)
        named = named_faces("bar55.jpg")
        assert set(named) == {"Jesper", "Anne Helene", "Bob"}
        assert named["Jesper"].source == "detected" and covers(named["Jesper"], JESPER)
        assert named["Anne Helene"].source == "detected" and covers(named["Anne Helene"], ANNE)
        # nothing detected there: a face of its own, where the region is
        bob = named["Bob"]
        assert bob.source == "xmp:mwg" and abs(bob.x - NOBODY[0]) <= 1 and abs(bob.w - NOBODY[2]) <= 1
        assert Photo.get(Photo.filename == "bar55.jpg").face_count == Face.select().count()
        # names are kept through a re-run of detection, and the XMP face stays
        lib.analyze(["faces", "descriptors"], force=True, processes=1)
        assert set(named_faces("bar55.jpg")) == {"Jesper", "Anne Helene", "Bob"}
        assert {f.id for f in named_faces("bar55.jpg").values()} == {f.id for f in named.values()}


def test_microsoft_photo_regions_in_a_sidecar_written_later_are_read_on_rescan(tmp_path: Path, corpus: Path) -> None:
    folder, photo = copy_photo(tmp_path, corpus)
    with Library.open(tmp_path / "lib") as lib:
        lib.import_folders([folder], processes=1)
        assert named_faces("bar55.jpg") == {}
        # Windows Photo Gallery / Picasa style: MP:RegionInfo, "left, top, width, height" normalized
        w, h = displayed_size(photo)
        x, y, bw, bh = ANNE
        rect = f"{x / w:.5f}|, {y / h:.5f}|, {bw / w:.5f}|, {bh / h:.5f}"
        exiftool("-q", f"-XMP-MP:RegionInfoMP={{Regions=[{{PersonDisplayName=Anne Helene,Rectangle={rect}}}]}}",
                 "-o", str(folder / "bar55.xmp"), str(photo))  # fmt: skip
        report = lib.import_folders([folder], processes=1)
        assert report.sidecars_reread == 1
        named = named_faces("bar55.jpg")
        assert set(named) == {"Anne Helene"} and named["Anne Helene"].source == "detected"
        assert covers(named["Anne Helene"], ANNE)


def _stored_frame(box: tuple[float, float, float, float], size: tuple[int, int]) -> tuple[float, ...]:
    """A displayed box of an EXIF orientation 6 photo (stored 90° counter-clockwise) in stored pixels."""
    x, y, w, h = box
    width, _ = size  # displayed
    return (y, width - x - w, h, w)


@pytest.mark.parametrize("frame", ["displayed", "stored"])
def test_regions_on_a_photo_stored_sideways(tmp_path: Path, corpus: Path, frame: str) -> None:
    """wayne.jpg stores its pixels sideways (Orientation 6). MWG regions are in the displayed frame;
    a writer that used the stored frame says so with AppliedToDimensions, and is turned upright."""
    folder, photo = copy_photo(tmp_path, corpus, "wayne.jpg")
    size = displayed_size(photo)
    assert size[0] < size[1]
    if frame == "stored":
        region = mwg([("Wayne", _stored_frame(WAYNE, size))], (size[1], size[0]))
    else:
        region = mwg([("Wayne", WAYNE)], size)
    exiftool("-q", "-overwrite_original", region, str(photo))
    with Library.open(tmp_path / "lib") as lib:
        lib.import_folders([folder], processes=1)
        named = named_faces("wayne.jpg")
        assert set(named) == {"Wayne"} and named["Wayne"].source == "detected"
        assert covers(named["Wayne"], WAYNE)


def test_export_writes_mwg_regions_that_exiftool_reads_back(tmp_path: Path, corpus: Path) -> None:
    folder, photo = copy_photo(tmp_path, corpus)
    sidecar = lightroom_sidecar_with_a_pet(folder)  # both must survive our export
    with Library.open(tmp_path / "lib") as lib:
        lib.import_folders([folder], processes=1)
        faces = {f.id: f for f in Face.select()}
        jesper = next(f for f in faces.values() if covers(f, JESPER))
        anne = next(f for f in faces.values() if covers(f, ANNE))
        persons.name_faces(lib, [jesper.id], "Jesper")
        persons.name_faces(lib, [anne.id], "Anne Helene")
        report = export_sidecars(lib, None)
        assert report.written == [str(sidecar)] and not report.failed
        width, height = displayed_size(photo)
    info = json.loads(exiftool("-j", "-struct", "-RegionInfo", "-Rating", "-Label", "-XMP-crs:all", str(sidecar)))[0]
    assert info["Rating"] == 3 and info["Label"] == "Red" and info["Exposure2012"] == "+0.35"
    regions = {r["Name"]: r for r in info["RegionInfo"]["RegionList"]}
    assert info["RegionInfo"]["AppliedToDimensions"] == {"W": width, "H": height, "Unit": "pixel"}
    assert regions["Rex"]["Type"] == "Pet"
    for name, face in (("Jesper", jesper), ("Anne Helene", anne)):
        area = regions[name]["Area"]
        assert regions[name]["Type"] == "Face" and area["Unit"] == "normalized"
        assert area["X"] == pytest.approx((face.x + face.w / 2) / width, abs=1e-5)
        assert area["Y"] == pytest.approx((face.y + face.h / 2) / height, abs=1e-5)
        assert area["W"] == pytest.approx(face.w / width, abs=1e-5)
        assert area["H"] == pytest.approx(face.h / height, abs=1e-5)
    # and another library reading that folder finds the same names on the same faces
    with Library.open(tmp_path / "other") as other:
        other.import_folders([folder], processes=1)
        again = named_faces("bar55.jpg")
        assert {n: (f.x, f.y, f.w, f.h) for n, f in again.items()} == {
            "Jesper": (jesper.x, jesper.y, jesper.w, jesper.h),
            "Anne Helene": (anne.x, anne.y, anne.w, anne.h),
        }


def test_a_name_given_in_tessera_wins_over_the_sidecar(tmp_path: Path, corpus: Path) -> None:
    folder, photo = copy_photo(tmp_path, corpus)
    with Library.open(tmp_path / "lib") as lib:
        lib.import_folders([folder], processes=1)
        jesper = next(f for f in Face.select() if covers(f, JESPER))
        persons.name_faces(lib, [jesper.id], "Jesper Pedersen")
        exiftool("-q", mwg([("J.", JESPER)], displayed_size(photo)), "-o", str(folder / "bar55.xmp"), str(photo))
        lib.import_folders([folder], processes=1)
        assert Face.get_by_id(jesper.id).person.name == "Jesper Pedersen"


def _sidecar_names(sidecar: Path) -> dict[str, str]:
    """Region name -> type, as exiftool reads the sidecar."""
    info = json.loads(exiftool("-j", "-struct", "-RegionInfo", str(sidecar)))[0]
    return {r["Name"]: r["Type"] for r in info.get("RegionInfo", {}).get("RegionList", [])}


def test_people_decisions_write_sidecars_where_the_library_writes_them_as_you_edit(
    tmp_path: Path, corpus: Path
) -> None:
    folder, _ = copy_photo(tmp_path, corpus)
    sidecar = lightroom_sidecar_with_a_pet(folder)
    with Library.open(tmp_path / "lib") as lib:
        lib.import_folders([folder], processes=1)
        faces = list(Face.select())
        jesper = next(f for f in faces if covers(f, JESPER))
        anne = next(f for f in faces if covers(f, ANNE))
        # the setting off (the default): a name stays in the catalog until export-xmp
        persons.name_faces(lib, [anne.id], "Anne Helene")
        assert _sidecar_names(sidecar) == {"Rex": "Pet"}
        lib.set_auto_write_sidecars(True)
        report = ExportReport()
        persons.name_faces(lib, [jesper.id], "Jesper", sidecars=report)
        assert report.written == [str(sidecar)] and not report.failed
        assert _sidecar_names(sidecar) == {"Rex": "Pet", "Jesper": "Face", "Anne Helene": "Face"}
        person = Face.get_by_id(jesper.id).person_id
        persons.name(lib, person, "Jesper Pedersen")  # a new name replaces the old one
        assert _sidecar_names(sidecar) == {"Rex": "Pet", "Jesper Pedersen": "Face", "Anne Helene": "Face"}
        persons.reject(lib, person, [jesper.id])  # not him after all: his region goes, the rest stays
        assert _sidecar_names(sidecar) == {"Rex": "Pet", "Anne Helene": "Face"}
    info = json.loads(exiftool("-j", "-Rating", "-Label", "-XMP-crs:all", str(sidecar)))[0]
    assert info["Rating"] == 3 and info["Label"] == "Red" and info["Exposure2012"] == "+0.35"  # Lightroom's kept
