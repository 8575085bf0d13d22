"""`tessera people`, `search --person` and `show --json`'s faces on the KPhotoAlbum photos of
corpus/people, through the real pipeline."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.cli.test_cli import run

STATES = {"confirmed", "suggested", "unnamed"}


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory, corpus: Path) -> Path:
    from app.cli import main

    root = tmp_path_factory.mktemp("people-cli")
    photos = corpus / "people" / "kphotoalbum"
    assert main(["--library", str(root / "lib"), "import", "--quiet", "--jobs", "2", str(photos)]) == 0
    return root / "lib"


@pytest.fixture
def libdir(imported: Path, tmp_path: Path) -> Path:
    shutil.copytree(imported, tmp_path / "lib")
    return tmp_path / "lib"


def people(capsys: pytest.CaptureFixture[str], libdir: Path) -> list[dict]:
    code, out, err = run(capsys, "--library", str(libdir), "people", "--json")
    assert code == 0, err
    return json.loads(out)


def search(capsys: pytest.CaptureFixture[str], libdir: Path, *args: str) -> set[str]:
    code, out, err = run(capsys, "--library", str(libdir), "search", *args, "--json")
    assert code == 0, err
    return {row["path"] for row in json.loads(out)}


def test_people_json_lists_groups_with_their_faces(capsys: pytest.CaptureFixture[str], libdir: Path) -> None:
    listing = people(capsys, libdir)
    assert len(listing) >= 3
    for entry in listing:
        assert isinstance(entry["id"], int) and entry["name"] is None  # nobody named yet: groups
        assert len(entry["faces"]) >= 2
        for face in entry["faces"]:
            assert isinstance(face["face_id"], int) and face["state"] == "unnamed"
            assert Path(face["photo"]).is_absolute() and Path(face["photo"]).is_file()
            x, y, w, h = face["box"]
            assert all(isinstance(v, int) for v in (x, y, w, h)) and w > 0 and h > 0
    code, out, _ = run(capsys, "--library", str(libdir), "people")
    assert code == 0 and f"{listing[0]['id']:>6}  Unnamed group" in out


def test_name_search_and_show(capsys: pytest.CaptureFixture[str], libdir: Path) -> None:
    first, second = people(capsys, libdir)[:2]
    lib = ["--library", str(libdir)]
    assert run(capsys, *lib, "people", "name", str(first["id"]), "Jesper")[0] == 0
    assert run(capsys, *lib, "people", "name", str(second["id"]), "Anne Helene")[0] == 0
    listing = {p["name"]: p for p in people(capsys, libdir)}
    jesper, anne = listing["Jesper"], listing["Anne Helene"]
    # the group's faces are his, confirmed; faces of other groups close to him are only suggested
    confirmed = {f["face_id"] for f in jesper["faces"] if f["state"] == "confirmed"}
    assert confirmed == {f["face_id"] for f in first["faces"]}
    assert {f["state"] for f in jesper["faces"] + anne["faces"]} <= {"confirmed", "suggested"}
    his = {f["photo"] for f in jesper["faces"] if f["state"] == "confirmed"}
    hers = {f["photo"] for f in anne["faces"] if f["state"] == "confirmed"}
    assert search(capsys, libdir, "--person", "jesper") == his  # names match whatever the case
    assert search(capsys, libdir, "--person", "Jesper", "--person", "Anne Helene") == his & hers
    assert search(capsys, libdir, "--person", "Jesper", "--person", "Anne Helene", "--any-person") == his | hers
    # show --json: each face with its person and state
    photo = sorted(his)[0]
    code, out, _ = run(capsys, *lib, "show", photo, "--json")
    faces = json.loads(out)["people"]
    assert code == 0 and len(faces) == len(json.loads(out)["faces"])
    mine = [f for f in faces if f["face_id"] in confirmed]
    assert mine and all(f["person"] == "Jesper" and f["state"] == "confirmed" for f in mine)
    keys = {"face_id", "box", "score", "person_id", "person", "state"}
    assert all(set(f) == keys and f["state"] in STATES for f in faces)


def test_merge_reject_and_name_one_face(capsys: pytest.CaptureFixture[str], libdir: Path) -> None:
    lib = ["--library", str(libdir)]
    first, second, third = people(capsys, libdir)[:3]
    assert run(capsys, *lib, "people", "merge", str(first["id"]), str(second["id"]))[0] == 0
    merged = next(p for p in people(capsys, libdir) if p["id"] == first["id"])
    assert len(merged["faces"]) == len(first["faces"]) + len(second["faces"])
    assert all(p["id"] != second["id"] for p in people(capsys, libdir))
    # naming a merged group, then saying one of its faces is not him
    assert run(capsys, *lib, "people", "name", str(first["id"]), "Jesper")[0] == 0
    wrong = merged["faces"][-1]["face_id"]
    code, out, _ = run(capsys, *lib, "people", "reject", str(first["id"]), str(wrong))
    assert code == 0 and "1 face(s)" in out
    jesper = next(p for p in people(capsys, libdir) if p["name"] == "Jesper")
    assert wrong not in {f["face_id"] for f in jesper["faces"]}
    # one face named directly
    face = third["faces"][0]["face_id"]
    assert run(capsys, *lib, "people", "name-face", str(face), "Wayne")[0] == 0
    wayne = next(p for p in people(capsys, libdir) if p["name"] == "Wayne")
    assert [f["face_id"] for f in wayne["faces"] if f["state"] == "confirmed"] == [face]


def test_people_usage_errors(capsys: pytest.CaptureFixture[str], libdir: Path) -> None:
    lib = ["--library", str(libdir)]
    assert run(capsys, *lib, "people", "name", "99999", "Nobody")[0] == 2
    assert run(capsys, *lib, "people", "merge", "1")[0] == 2
    assert run(capsys, *lib, "people", "name-face", "99999", "Nobody")[0] == 2
    code, _, err = run(capsys, *lib, "search", "--person", "Nobody")
    assert code == 2 and "no person named 'Nobody'" in err
    assert run(capsys, *lib, "people", "regroup", "--threshold", "7")[0] == 2


def test_a_name_given_on_the_command_line_reaches_the_sidecar(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, corpus: Path
) -> None:
    """Where the library writes sidecars as the user edits, `people name-face` does too (exiftool reads it)."""
    from app.core.catalog.models import Face
    from app.core.library import Library
    from tests.core.test_xmp_regions import exiftool

    photos = tmp_path / "photos"
    photos.mkdir()
    shutil.copy2(corpus / "people" / "kphotoalbum" / "bar55.jpg", photos / "bar55.jpg")
    code, _, err = run(capsys, "--library", str(tmp_path / "lib"), "import", "--quiet", str(photos))
    assert code == 0, err
    with Library.open(tmp_path / "lib") as lib:
        lib.set_auto_write_sidecars(True)
        face = Face.select().order_by(Face.score.desc()).first().id
    code, out, err = run(capsys, "--library", str(tmp_path / "lib"), "people", "name-face", str(face), "Jesper")
    assert code == 0 and out.startswith(f"face {face}: person "), err
    (sidecar,) = photos.glob("*.xmp")  # a new one (bar55.jpg.xmp, as darktable names them)
    info = json.loads(exiftool("-j", "-struct", "-RegionInfo", str(sidecar)))[0]
    assert [(r["Name"], r["Type"]) for r in info["RegionInfo"]["RegionList"]] == [("Jesper", "Face")]
