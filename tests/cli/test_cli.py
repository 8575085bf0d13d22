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


def test_import_list_show_stats_check_backup(capsys: pytest.CaptureFixture[str], libdir: Path, corpus: Path) -> None:
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
