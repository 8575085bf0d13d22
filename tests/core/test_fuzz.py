"""Bounded fuzz of sniff + decode + metadata on mutated real corpus files, and imports of awkward
paths through the public Library API. The mutations live in bench/fuzz.py, which runs the same
cases at scale (`python -m bench.fuzz --cases 2000`)."""

from __future__ import annotations

import io
import os
import shutil
import struct
import subprocess
import sys
import warnings
from pathlib import Path

import piexif
import pytest

from app.core.analysis.decode import WORKING_LONG_SIDE, DecodeError, decode_image
from app.core.analysis.metadata import extract_metadata
from app.core.catalog.models import ERROR, MISSING, OK, Photo
from app.core.ingest import importer
from app.core.library import Library
from bench.fuzz import (
    current_rss_mb,
    deflate_bomb_png,
    make_case,
    peak_rss_mb,
    reset_peak_rss,
    run_case,
)

SEED = 20240611
CASES = 150
MEMORY_BOUND_MB = 500


@pytest.fixture
def quiet() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pillow warns about every corrupt tag it skips
        yield


@pytest.fixture
def rss() -> None:
    if not reset_peak_rss():
        pytest.skip("peak RSS cannot be reset on this platform (/proc/self/clear_refs)")


def _growth_mb(run) -> float:
    """Peak resident memory added while `run()` executes."""
    reset_peak_rss()
    before = current_rss_mb()
    run()
    return peak_rss_mb() - before


# -- decode + metadata fuzz ---------------------------------------------------------------------
@pytest.mark.timeout(120)
def test_fuzzed_files_decode_or_fail_with_a_reason(corpus: Path, quiet: None, rss: None) -> None:
    failures: list[str] = []
    outcomes: dict[str, int] = {}
    worst = (0.0, "")
    for index in range(CASES):
        case = make_case(SEED, index)
        if case.known_bug:  # reproduced once below (test_exif_count_bomb_stays_bounded), not at GBs here
            continue
        label = f"case {index} [{case.kind}] {case.detail}"
        seen: list[str] = []
        try:
            growth = _growth_mb(lambda case=case, seen=seen: seen.append(run_case(case.data)))
        except Exception as exc:  # anything but DecodeError (handled in run_case) is a bug
            failures.append(f"{label}: {type(exc).__name__}: {exc}")
            continue
        outcomes[seen[0]] = outcomes.get(seen[0], 0) + 1
        if growth > worst[0]:
            worst = (growth, label)
    assert not failures, "\n".join(failures)
    assert worst[0] < MEMORY_BOUND_MB, f"{worst[0]:.0f} MB for {worst[1]}"
    # the fuzz must exercise both sides
    assert sum(n for o, n in outcomes.items() if o.startswith("ok")) > 20, outcomes
    assert sum(n for o, n in outcomes.items() if o.startswith("DecodeError")) > 20, outcomes


@pytest.mark.parametrize(
    ("width", "height"),
    [(100_000, 100_000), (65_535, 65_535), (1, 1 << 30)],
)
def test_deflate_bomb_over_the_limit_is_refused_without_allocating(
    width: int, height: int, quiet: None, rss: None
) -> None:
    data = deflate_bomb_png(width, height, rows=64)
    assert len(data) < 10_000
    reset_peak_rss()
    before = current_rss_mb()
    with pytest.raises(DecodeError) as err:
        decode_image(data, "PNG")
    assert "too large" in err.value.reason
    assert peak_rss_mb() - before < 100  # refused from the header, before any pixel memory


# Decodes in a child process: its peak RSS covers the whole decode and nothing else the test
# session allocated or freed before, and it owns no memory another test could have left behind.
_BOMB_CHILD = """
import warnings
warnings.simplefilter("ignore")
from app.core.analysis.decode import decode_image
from app.core.analysis.metadata import extract_metadata
from bench.fuzz import deflate_bomb_png, peak_rss_mb
data = deflate_bomb_png(14_000, 14_000)
assert len(data) < 30_000
before = peak_rss_mb()
decoded = decode_image(data, "PNG")
extract_metadata(data, decoded.source, decoded.format)
print(decoded.width, decoded.height, *decoded.image.size, before, peak_rss_mb())
"""
# Measured (Pillow 13, Linux): 14000x14000 1-bit = 196 MP, under MAX_PIXELS. Pillow has no draft
# for PNG, so the native "1" buffer (1 byte a pixel, 187 MiB) is the floor; the rest is band- and
# working-size: the child peaks at ~250 MB over ~37 MB of imports (was ~1230 MB when the RGB
# conversion ran at full size). 400 MB keeps ~150 MB of headroom for allocator and platform
# differences and still fails on any single extra full-size copy (>= 187 MiB) coming back.
BOMB_PEAK_MB = 400


@pytest.mark.timeout(120)
def test_deflate_bomb_under_the_limit_stays_bounded() -> None:
    if sys.platform != "linux":
        pytest.skip("peak RSS is read from /proc/self/status")
    run = subprocess.run(
        [sys.executable, "-c", _BOMB_CHILD],
        cwd=Path(__file__).parents[2],
        capture_output=True,
        text=True,
        timeout=100,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    width, height, work_w, work_h, before, peak = (float(v) for v in run.stdout.split())
    assert (width, height, work_w, work_h) == (14_000, 14_000, WORKING_LONG_SIDE, WORKING_LONG_SIDE)
    assert peak < BOMB_PEAK_MB, f"decode peaked at {peak:.0f} MB (imports {before:.0f} MB)"


def _jpeg_with_exif_count(count: int) -> bytes:
    """A real JPEG whose Exif ISOSpeedRatings (type SHORT) claims `count` values."""
    block = bytearray(
        piexif.dump({"0th": {piexif.ImageIFD.Make: b"Fuzz"}, "Exif": {piexif.ExifIFD.ISOSpeedRatings: 200}})
    )
    tiff = 6  # after "Exif\0\0"; piexif writes big-endian
    ifd0 = struct.unpack_from(">I", block, tiff + 4)[0]
    entries = struct.unpack_from(">H", block, tiff + ifd0)[0]
    pointers = [struct.unpack_from(">HHII", block, tiff + ifd0 + 2 + 12 * i) for i in range(entries)]
    exif_ifd = next(value for tag, _t, _n, value in pointers if tag == piexif.ImageIFD.ExifTag)
    first = tiff + exif_ifd + 2
    assert struct.unpack_from(">HH", block, first) == (piexif.ExifIFD.ISOSpeedRatings, 3)
    struct.pack_into(">I", block, first + 4, count)
    out = io.BytesIO()
    piexif.insert(
        bytes(block), (Path(__file__).parents[3] / "shared/corpus/formats/jpeg_baseline.jpg").read_bytes(), out
    )
    return out.getvalue()


def test_exif_with_a_huge_count_is_survived(quiet: None) -> None:
    # 65536 values: piexif copes, the cost is small; metadata still never raises
    data = _jpeg_with_exif_count(65_536)
    decoded = decode_image(data, "JPEG")
    md = extract_metadata(data, decoded.source, decoded.format)
    assert md.make == "Fuzz"


def test_exif_count_bomb_stays_bounded(quiet: None, rss: None) -> None:
    data = _jpeg_with_exif_count(1 << 24)  # a 6 KB JPEG claiming 16 M ISO values: ~550 MB in piexif
    decoded = decode_image(data, "JPEG")
    assert _growth_mb(lambda: extract_metadata(data, decoded.source, decoded.format)) < 256


# -- awkward paths through the Library -----------------------------------------------------------
@pytest.fixture
def lib(tmp_path: Path):
    with Library.open(tmp_path / "lib") as library:
        yield library


def _import_named(lib: Library, corpus: Path, folder: Path, names: list[str]) -> dict[str, Photo]:
    folder.mkdir()
    source = corpus / "formats" / "jpeg_baseline.jpg"
    for i, name in enumerate(names):
        data = bytearray(source.read_bytes())
        data[-3] ^= i + 1  # distinct bytes: not copies of one photo
        (folder / name).write_bytes(bytes(data))
    report = lib.import_folders([folder], analyze=False, processes=1)
    assert report.scanned == len(names), report.summary()
    return {Path(p.path).name: p for p in Photo.select()}


@pytest.mark.parametrize(
    "name",
    ["with spaces in it.jpg", "sunset 🌅 at the 🏖.jpg", "p" * 196 + ".jpg", "Ünïcødé – ñame.jpg"],
    ids=["spaces", "emoji", "200-chars", "accents"],
)
def test_awkward_names_are_imported(lib: Library, corpus: Path, tmp_path: Path, name: str) -> None:
    rows = _import_named(lib, corpus, tmp_path / "photos with spaces 📷", [name, "plain.jpg"])
    assert set(rows) == {name, "plain.jpg"}
    assert rows[name].status == OK, rows[name].error
    assert rows[name].width > 0


def test_non_utf8_name_is_reported_not_dropped(lib: Library, corpus: Path, tmp_path: Path) -> None:
    name = os.fsdecode(b"caf\xff\xfe photo.jpg")  # a Latin-1 name from an old camera card
    folder = tmp_path / "latin1"
    folder.mkdir()
    for n in (name, "plain.jpg"):
        shutil.copy(corpus / "formats" / "jpeg_baseline.jpg", folder / n)
    report = lib.import_folders([folder], analyze=False, processes=1)
    assert [Path(p.path).name for p in Photo.select()] == ["plain.jpg"]
    assert len(report.failed) == 1
    path, reason = report.failed[0]
    assert path.endswith("caf\\xff\\xfe photo.jpg") and "not valid UTF-8" in reason
    assert "1 failed" in report.summary()


def test_read_only_folder_is_imported_without_writing(lib: Library, corpus: Path, tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    shutil.copy2(corpus / "formats" / "jpeg_baseline.jpg", folder / "a.jpg")
    shutil.copy2(corpus / "formats" / "png_rgb.png", folder / "b.png")
    folder.chmod(0o555)
    try:
        report = lib.import_folders([folder], analyze=False, processes=1)
        assert not report.failed, report.failed
        assert sorted(os.listdir(folder)) == ["a.jpg", "b.png"]  # nothing written beside the photos
        assert {p.status for p in Photo.select()} == {OK}
        if os.geteuid() == 0:
            pytest.skip("running as root: a 0o555 folder is still writable, so read-only is not really tested")
        with pytest.raises(PermissionError):
            (folder / "probe").write_bytes(b"")
    finally:
        folder.chmod(0o755)


def test_file_vanishing_between_scan_and_read(
    lib: Library, corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "vanish"
    folder.mkdir()
    shutil.copy2(corpus / "formats" / "jpeg_baseline.jpg", folder / "stays.jpg")
    shutil.copy2(corpus / "formats" / "png_rgb.png", folder / "goes.png")
    real_plan = importer.plan_import

    def plan_then_delete(*args, **kwargs):
        planned = real_plan(*args, **kwargs)
        (folder / "goes.png").unlink()  # scanned, not yet read: the worker finds nothing
        return planned

    monkeypatch.setattr(importer, "plan_import", plan_then_delete)
    report = lib.import_folders([folder], analyze=False, processes=1)

    rows = {Path(p.path).name: p for p in Photo.select()}
    assert rows["stays.jpg"].status == OK
    assert rows["goes.png"].status in (ERROR, MISSING)
    assert "cannot read" in rows["goes.png"].error
    assert [Path(path).name for path, _reason in report.failed] == ["goes.png"]
