"""The `tessera` command line: commands, JSON shapes, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def libdir(tmp_path: Path) -> Path:
    return tmp_path / "lib"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse usage errors
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_every_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    names = list(sub.choices)  # type: ignore[union-attr]
    assert {"import", "list", "search", "show", "stats", "check", "backup", "restore", "phash-distance"} <= set(names)
    for name in names:
        code, out, _ = run(capsys, name, "--help")
        assert code == 0 and "usage: tessera" in out, name


def test_phash_distance_matches_reference_document(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "phash-distance", "63433b3ccf8e1ebe", "f5d2226cd9d32b16", "--json")
    assert code == 0 and json.loads(out) == {"distance": 27, "similarity": 1 - 27 / 64}
    code, out, _ = run(capsys, "phash-distance", "63433b3ccf8e1ebe", "61433b3fcf8f9faf")
    assert code == 0 and "distance 8" in out and "similarity 0.875" in out


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], libdir: Path) -> None:
    assert run(capsys, "phash-distance", "xyz", "63433b3ccf8e1ebe")[0] == 2
    assert run(capsys, "--library", str(libdir), "import", str(libdir / "nope"))[0] == 2
    assert run(capsys, "--library", str(libdir), "list", "--since", "last week")[0] == 2
    assert run(capsys, "--library", str(libdir), "search", "--color", "beige:20")[0] == 2
    assert run(capsys, "--library", str(libdir), "search", "--faces", "lots")[0] == 2
    assert run(capsys, "no-such-command")[0] == 2


def test_import_list_show_stats_check_backup(
    capsys: pytest.CaptureFixture[str], libdir: Path, corpus: Path, catalog_url: str | None
) -> None:
    exif = corpus / "exif"
    code, out, err = run(capsys, "--library", str(libdir), "import", "--no-analyze", "--quiet", str(exif))
    assert code == 0, err
    assert "new" in out

    code, out, _ = run(capsys, "--library", str(libdir), "list", "--json", "--has-gps")
    rows = json.loads(out)
    names = {Path(r["path"]).name for r in rows}
    assert {"gps_sydney.jpg", "gps_rio.jpg", "phone_xiaomi_mia3_gps_sw.jpg"} <= names
    assert all(r["gps"] is not None for r in rows)

    code, out, _ = run(capsys, "--library", str(libdir), "list", "--json", "--camera", "Canon")
    assert {Path(r["path"]).name for r in json.loads(out)} >= {"camera_canon_sx530hs.jpg", "camera_r_canon.jpg"}

    code, out, _ = run(capsys, "--library", str(libdir), "list", "--json", "--since", "2020", "--until", "2020")
    dates = [r["taken_at"] for r in json.loads(out)]
    assert dates and all(d.startswith("2020") for d in dates)

    code, out, _ = run(capsys, "--library", str(libdir), "show", str(exif / "camera_canon_sx530hs.jpg"), "--json")
    info = json.loads(out)
    assert code == 0
    assert info["width"] == 1280 and info["height"] == 960 and info["format"] == "jpg"
    assert info["bytes"] == (exif / "camera_canon_sx530hs.jpg").stat().st_size
    assert info["metadata"]["exif"]["image"]["Make"] == "Canon"
    assert info["image_metadata"]["Model"] == "Canon PowerShot SX530 HS"

    assert run(capsys, "--library", str(libdir), "show", "999999")[0] == 1

    code, out, _ = run(capsys, "--library", str(libdir), "stats", "--json")
    assert json.loads(out)["photos"] == len([p for p in exif.iterdir() if p.suffix != ".xmp"]) - 3  # json, md

    code, out, _ = run(capsys, "--library", str(libdir), "check")
    assert code == 0 and "integrity: ok" in out

    code, out, _ = run(capsys, "--library", str(libdir), "backup")
    assert code == 0 and Path(out.strip()).is_file()


def test_import_of_bad_files_exits_1_and_lists_them(
    capsys: pytest.CaptureFixture[str], libdir: Path, corpus: Path
) -> None:
    code, _, err = run(capsys, "--library", str(libdir), "import", "--no-analyze", "--quiet", str(corpus / "bad"))
    assert code == 1
    assert "failed: " in err and "zero_bytes.jpg" in err and "random_bytes.jpg" in err


def test_module_entry_point_runs(libdir: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "app", "--library", str(libdir), "stats"], cwd=ROOT, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert "photos" in out.stdout


# -- export-xmp ------------------------------------------------------------------------------------
def _sidecar_folder(corpus: Path, tmp_path: Path) -> Path:
    """Copies of the corpus photos that have real exiftool sidecars, writable like a user's folder."""
    import shutil

    folder = tmp_path / "photos"
    folder.mkdir()
    names = ("flower_sidecar.jpg", "flower_sidecar.xmp", "camera_canon_sx530hs.jpg", "camera_canon_sx530hs.jpg.xmp")
    for name in names:
        shutil.copy(corpus / "exif" / name, folder / name)
        (folder / name).chmod(0o644)
    return folder


def test_export_xmp_merges_user_tags_into_real_sidecars(
    capsys: pytest.CaptureFixture[str], libdir: Path, corpus: Path, tmp_path: Path
) -> None:
    import hashlib

    from app.core import tags
    from app.core.library import Library
    from app.core.xmp.sidecars import read_sidecar

    folder = _sidecar_folder(corpus, tmp_path)
    photo = folder / "flower_sidecar.jpg"
    before = hashlib.sha256(photo.read_bytes()).hexdigest()
    assert run(capsys, "--library", str(libdir), "import", "--no-analyze", "--quiet", str(folder))[0] == 0
    with Library.open(libdir) as lib:
        pid = lib.resolve_photo(str(photo)).id
        tags.add_user_tag(lib, [pid], "tulips")
    code, out, err = run(capsys, "--library", str(libdir), "export-xmp", str(pid), "--json")
    assert code == 0, err
    assert json.loads(out) == {"written": [str(folder / "flower_sidecar.xmp")], "failed": []}
    data = read_sidecar(folder / "flower_sidecar.xmp")
    assert "tulips" in data.keywords and data.tessera_tags == ["tulips"]
    # what Lightroom/digiKam put there survives: keywords, hierarchy, rating, label, title, unknown fields
    assert {"flower", "garden"} <= set(data.keywords) and "Nature|Plants|flower" in data.hierarchical
    assert (data.rating, data.label, data.title) == (4, "Green", "Flower in the garden")
    text = (folder / "flower_sidecar.xmp").read_text(encoding="utf-8")
    assert "<aux:Lens>7.1 - 21.3 mm</aux:Lens>" in text and "Andreas Huggel" in text
    assert hashlib.sha256(photo.read_bytes()).hexdigest() == before  # the photo is never written

    # removing the tag in Tessera takes out only what Tessera had put in
    with Library.open(libdir) as lib:
        tags.remove_tag(lib, [pid], "tulips")
    assert run(capsys, "--library", str(libdir), "export-xmp", "--all", "--quiet")[0] == 0
    data = read_sidecar(folder / "flower_sidecar.xmp")
    assert "tulips" not in data.keywords and {"flower", "garden"} <= set(data.keywords)
    other = read_sidecar(folder / "camera_canon_sx530hs.jpg.xmp")
    assert other.keywords == ["Brasilia", "family", "birthday party"] and other.rating == 2


def test_export_xmp_reports_read_only_folder_and_bad_sidecar(
    capsys: pytest.CaptureFixture[str], libdir: Path, corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno
    import os

    from app.core.xmp import sidecars

    folder = _sidecar_folder(corpus, tmp_path)
    bad = folder / "camera_canon_sx530hs.jpg.xmp"
    bad.write_text("<x:xmpmeta xmlns:x='adobe:ns:meta/'><unclosed>", encoding="utf-8")
    assert run(capsys, "--library", str(libdir), "import", "--no-analyze", "--quiet", str(folder))[0] == 0
    code, out, err = run(capsys, "--library", str(libdir), "export-xmp", "--all", "--json")
    assert code == 1
    report = json.loads(out)
    assert report["written"] == [str(folder / "flower_sidecar.xmp")]
    assert [f["path"] for f in report["failed"]] == [str(folder / "camera_canon_sx530hs.jpg")]
    assert "left untouched" in report["failed"][0]["reason"] and "camera_canon_sx530hs.jpg" in err
    assert bad.read_text(encoding="utf-8") == "<x:xmpmeta xmlns:x='adobe:ns:meta/'><unclosed>"

    bad.unlink()
    (folder / "flower_sidecar.xmp").unlink()
    folder.chmod(0o555)
    if os.access(folder, os.W_OK):  # root writes into read-only folders: make the OS refuse as it would
        refuse = OSError(errno.EACCES, os.strerror(errno.EACCES), str(folder))
        monkeypatch.setattr(sidecars.tempfile, "mkstemp", lambda **_: (_ for _ in ()).throw(refuse))
    try:
        code, out, err = run(capsys, "--library", str(libdir), "export-xmp", "--all", "--json")
    finally:
        folder.chmod(0o755)
    assert code == 1 and json.loads(out)["written"] == []
    assert len(json.loads(out)["failed"]) == 2 and "cannot write sidecar" in err
    assert not list(folder.glob("*.xmp")) and not list(folder.glob(".*.tmp"))


def test_export_xmp_usage(capsys: pytest.CaptureFixture[str], libdir: Path) -> None:
    assert run(capsys, "--library", str(libdir), "export-xmp")[0] == 2
    assert run(capsys, "--library", str(libdir), "export-xmp", "1", "--all")[0] == 2
    assert run(capsys, "--library", str(libdir), "export-xmp", "/no/such/photo.jpg")[0] == 1


def test_auto_write_setting_updates_sidecar_on_edits(libdir: Path, corpus: Path, tmp_path: Path) -> None:
    from app.core import tags
    from app.core.library import Library
    from app.core.xmp.sidecars import read_sidecar

    folder = _sidecar_folder(corpus, tmp_path)
    sidecar = folder / "camera_canon_sx530hs.jpg.xmp"
    with Library.open(libdir) as lib:
        lib.import_folders([folder], analyze=False)
        pid = lib.resolve_photo(str(folder / "camera_canon_sx530hs.jpg")).id
        assert tags.add_user_tag(lib, [pid], "off") is None  # setting off: sidecars untouched
        assert "off" not in read_sidecar(sidecar).keywords
        lib.set_auto_write_sidecars(True)
        report = tags.add_user_tag(lib, [pid], "Brasilia trip")
        assert report is not None and report.written == [str(sidecar)] and not report.failed
        data = read_sidecar(sidecar)
        assert {"Brasilia", "family", "birthday party", "Brasilia trip", "off"} <= set(data.keywords)
        tags.set_rating(lib, [pid], 5)
        tags.remove_tag(lib, [pid], "off")
        data = read_sidecar(sidecar)
        assert data.rating == 5 and "off" not in data.keywords and "Brasilia trip" in data.keywords
    with Library.open(libdir) as lib:
        assert lib.auto_write_sidecars  # a library setting: it stays on


def test_rate_and_tag_photos(
    capsys: pytest.CaptureFixture[str], libdir: Path, corpus: Path, catalog_url: str | None
) -> None:
    from app.core.catalog.models import USER, Photo, PhotoTag, Tag
    from app.core.library import Library

    folder = corpus / "exif"
    code, _, _ = run(capsys, "--library", str(libdir), "import", str(folder), "--no-analyze", "--quiet")
    assert code == 0
    with Library.open(libdir, auto_backup=False):
        a, b = (Photo.get(Photo.filename == n) for n in ("flower.jpg", "gps_nyc.jpg"))
    lib = ("--library", str(libdir))
    assert run(capsys, *lib, "rate", "4", str(a.id), b.path)[0] == 0  # by id and by path
    assert run(capsys, *lib, "rate", "X", str(b.id))[0] == 0
    assert run(capsys, *lib, "tag", str(a.id), "--add", "election", "--add", "press")[0] == 0
    assert run(capsys, *lib, "tag", str(a.id), "--remove", "press")[0] == 0
    with Library.open(libdir, auto_backup=False):
        assert (Photo.get_by_id(a.id).rating, Photo.get_by_id(b.id).rating) == (4, -1)
        mine = PhotoTag.select(Tag.name).join(Tag).where((PhotoTag.photo == a.id) & (PhotoTag.source == USER))
        assert {n for (n,) in mine.tuples()} == {"election"}
    assert run(capsys, *lib, "rate", "none", str(a.id))[0] == 0
    with Library.open(libdir, auto_backup=False):
        assert Photo.get_by_id(a.id).rating is None

    code, _, err = run(capsys, *lib, "rate", "7", str(a.id))
    assert code == 2 and "a rating is 1-5" in err
    code, _, err = run(capsys, *lib, "tag", str(a.id))
    assert code == 2 and "--add TAG" in err
    code, _, err = run(capsys, *lib, "rate", "3", "/no/such/photo.jpg")
    assert code == 1 and "photo.jpg" in err
