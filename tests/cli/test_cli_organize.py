"""`tessera flag`, `label`, `collection` and `export` on real corpus photos: exit codes, JSON shapes,
values read back through the same commands."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.cli.test_cli import run

PHOTOS = ("flower.jpg", "flower2.jpg", "gps_nyc.jpg", "gps_rio.jpg")


@pytest.fixture
def lib(capsys: pytest.CaptureFixture[str], tmp_path: Path, corpus: Path, catalog_url: str | None) -> list[str]:
    """A library of the copies, on SQLite and on PostgreSQL (catalog_url)."""
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in PHOTOS:
        shutil.copy(corpus / "exif" / name, folder / name)
    base = ["--library", str(tmp_path / "lib")]
    assert run(capsys, *base, "import", "--no-analyze", "--quiet", str(folder))[0] == 0
    return base


def _ids(capsys: pytest.CaptureFixture[str], base: list[str], *args: str) -> list[int]:
    code, out, err = run(capsys, *base, *args, "--json")
    assert code == 0, err
    return [row["id"] for row in json.loads(out)]


def test_flag_and_label_like_rate(capsys: pytest.CaptureFixture[str], lib: list[str]) -> None:
    everything = _ids(capsys, lib, "search")
    a, b, c = everything[:3]
    assert run(capsys, *lib, "flag", "pick", str(a), str(b))[0] == 0
    assert run(capsys, *lib, "flag", "reject", str(c))[0] == 0
    assert run(capsys, *lib, "label", "green", str(a), str(c))[0] == 0
    assert _ids(capsys, lib, "search", "--flag", "pick") == [a, b]
    assert _ids(capsys, lib, "search", "--flag", "reject") == [c]
    assert _ids(capsys, lib, "search", "--flag", "none") == everything[3:]
    assert _ids(capsys, lib, "search", "--label", "GREEN", "--flag", "pick") == [a]
    assert _ids(capsys, lib, "search", "--label", "none") == [b, *everything[3:]]
    assert run(capsys, *lib, "rate", "x", str(b))[0] == 0  # x still rejects
    assert _ids(capsys, lib, "search", "--flag", "reject") == [b, c]
    assert run(capsys, *lib, "flag", "none", str(b), str(c))[0] == 0
    assert run(capsys, *lib, "label", "none", str(a))[0] == 0
    assert _ids(capsys, lib, "search", "--label", "green") == [c]
    assert run(capsys, *lib, "flag", "maybe", str(a))[0] == 2
    assert run(capsys, *lib, "label", "orange", str(a))[0] == 2
    assert run(capsys, *lib, "search", "--flag", "maybe")[0] == 2


def test_collections_on_the_command_line(capsys: pytest.CaptureFixture[str], lib: list[str]) -> None:
    a, b, c, d = _ids(capsys, lib, "search")
    assert run(capsys, *lib, "collection", "create", "Clients", "--set")[0] == 0
    assert run(capsys, *lib, "collection", "create", "Budapest", "--in", "Clients")[0] == 0
    assert run(capsys, *lib, "collection", "add", "Budapest", str(c), str(a), str(d))[0] == 0
    assert run(capsys, *lib, "collection", "remove", "Clients/Budapest", str(d))[0] == 0
    code, out, _ = run(capsys, *lib, "collection", "show", "Budapest", "--json")
    shown = json.loads(out)
    assert code == 0 and [row["id"] for row in shown] == [c, a]  # in the order they were put in
    _, search_out, _ = run(capsys, *lib, "search", "--collection", "Budapest", "--sort", "imported", "--json")
    assert set(shown[0]) == set(json.loads(search_out)[0])  # the same JSON as tessera search --json
    code, out, _ = run(capsys, *lib, "collection", "list", "--json")
    listed = {row["path"]: row for row in json.loads(out)}
    assert listed["Clients"]["kind"] == "set" and listed["Clients/Budapest"]["photos"] == 2
    assert run(capsys, *lib, "flag", "pick", str(a), str(b))[0] == 0
    assert run(capsys, *lib, "rate", "4", str(b))[0] == 0
    code, _, err = run(capsys, *lib, "collection", "create", "Good picks", "--smart", "--", "--flag", "pick",
                       "--rating", "4")  # fmt: skip
    assert code == 0, err
    assert _ids(capsys, lib, "collection", "show", "Good picks") == [b]
    assert run(capsys, *lib, "rate", "5", str(a))[0] == 0
    assert _ids(capsys, lib, "collection", "show", "Good picks") == sorted([a, b], key=[a, b, c, d].index)  # live
    code, out, _ = run(capsys, *lib, "collection", "list")
    assert "Good picks  (2)" in out and "Budapest  (2)" in out
    assert run(capsys, *lib, "collection", "show", "Nope")[0] == 1
    assert run(capsys, *lib, "collection", "add", "Clients", str(a))[0] == 1  # a set holds no photos


def test_export_command(capsys: pytest.CaptureFixture[str], lib: list[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, *lib, "search", "--json")
    (a, b, c, _), stems = [r["id"] for r in json.loads(out)], {r["id"]: Path(r["path"]).stem for r in json.loads(out)}
    assert run(capsys, *lib, "collection", "create", "Send")[0] == 0
    assert run(capsys, *lib, "collection", "add", "Send", str(c), str(a))[0] == 0
    out_dir = tmp_path / "client"
    code, out, err = run(capsys, *lib, "export", "--collection", "Send", "--to", str(out_dir), "--long-edge", "200",
                         "--strip", "location", "--template", "{seq:02}_{name}", "--quiet", "--json")  # fmt: skip
    assert code == 0, err
    report = json.loads(out)
    names = [Path(p).name for p in report["written"]]
    assert names == [f"01_{stems[c]}.jpg", f"02_{stems[a]}.jpg"] and report["failed"] == []  # the collection's order
    code, out, _ = run(capsys, *lib, "export", "--search", "--tag nothing-has-this", "--to", str(out_dir), "--json")
    assert code == 0 and json.loads(out)["written"] == []
    code, out, _ = run(capsys, *lib, "export", str(b), "--to", str(out_dir), "--format", "png", "--save-preset",
                       "png", "--quiet", "--json")  # fmt: skip
    assert code == 0 and json.loads(out)["written"][0].endswith(f"{stems[b]}.png")
    code, out, _ = run(capsys, *lib, "export", str(b), "--to", str(out_dir), "--preset", "png", "--quiet", "--json")
    assert json.loads(out)["written"][0].endswith(f"{stems[b]}-2.png")  # never overwritten
    assert run(capsys, *lib, "export", "--to", str(out_dir))[0] == 2  # nothing to export named
    assert run(capsys, *lib, "export", str(a), "--to", str(out_dir), "--template", "{bogus}")[0] == 2
