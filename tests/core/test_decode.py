"""Decoding: every container in the corpus, bad files, orientation, memory bounds, colors."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from app.core.analysis import decode
from app.core.analysis.decode import DRAFT_FLOOR, WORKING_LONG_SIDE, DecodeError, decode_image
from app.core.ingest.filetypes import SNIFF_BYTES, describe_non_image, sniff_format

# exiftool FileType -> our container names (we do not split WebP "Extended" or HEIF sequences)
FORMAT_NAMES = {"Extended WEBP": "WEBP", "HEIFS": "HEIC", "HEIF": "HEIC"}


REPO = Path(__file__).resolve().parents[2]


def _decode(path: Path):
    data = path.read_bytes()
    fmt = sniff_format(data[:SNIFF_BYTES])
    if fmt is None:
        raise DecodeError(describe_non_image(data[:SNIFF_BYTES]))
    return decode_image(data, fmt)


def _rows(corpus: Path, folder: str) -> list[dict[str, str]]:
    with open(corpus / folder / "expected.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def test_every_format_decodes_with_right_size_and_frames(corpus: Path) -> None:
    for row in _rows(corpus, "formats"):
        d = _decode(corpus / "formats" / row["file"])
        assert d.image.mode == "RGB" and max(d.image.size) <= WORKING_LONG_SIDE
        assert (d.width, d.height) == (int(row["width"]), int(row["height"])), row["file"]
        assert d.frames == int(row["frames"]), row["file"]
        expected = FORMAT_NAMES.get(row["format"], row["format"])
        got = FORMAT_NAMES.get(d.format, d.format)
        assert got == expected, (row["file"], d.format, row["format"])


@pytest.mark.timeout(120)
def test_bad_files_fail_cleanly_and_bombs_allocate_nothing(corpus: Path) -> None:
    for row in _rows(corpus, "bad"):
        path = corpus / "bad" / row["file"]
        try:
            d = _decode(path)
            outcome = "imported"
        except DecodeError as exc:
            assert len(exc.reason) > 8, row["file"]
            outcome = "error"
        if row["expect"] != "either":
            assert outcome == row["expect"], (row["file"], outcome)
        else:
            assert outcome in ("imported", "error")
        if outcome == "imported":
            assert d.image.size[0] > 0


BOMBS = ("png_100k_x_100k.png", "jpeg_65500_x_65500.jpg", "decompression_bomb.gif")


def test_bombs_are_refused_before_allocating_pixels(corpus: Path) -> None:
    # a fresh process, its peak from VmHWM: earlier tests load models, and ru_maxrss would also
    # count the pytest process it was forked from
    script = (
        "import re, sys\n"
        "from pathlib import Path\n"
        "from tests.core.test_decode import _decode\n"
        "for name in sys.argv[1:]:\n"
        "    try:\n"
        "        _decode(Path(name))\n"
        "    except Exception as exc:\n"
        "        print(type(exc).__name__)\n"
        "print(int(re.search(r'VmHWM:\\s+(\\d+)', Path('/proc/self/status').read_text())[1]) // 1024)\n"
    )
    paths = [str(corpus / "bad" / name) for name in BOMBS]
    out = subprocess.run(
        [sys.executable, "-c", script, *paths], capture_output=True, text=True, check=True, cwd=REPO
    ).stdout.split()
    assert out[:-1] == ["DecodeError"] * len(BOMBS)
    assert int(out[-1]) < 800  # MB


def test_orientations_all_show_the_same_upright_picture(corpus: Path) -> None:
    ref = np.asarray(_decode(corpus / "exif" / "orient_f1.jpg").image.convert("L"), dtype=np.float32)
    for n in range(2, 9):
        d = _decode(corpus / "exif" / f"orient_f{n}.jpg")
        assert d.orientation == n
        got = np.asarray(d.image.convert("L").resize(ref.shape[::-1]), dtype=np.float32)
        assert np.abs(got - ref).mean() < 12, n  # the letter F the right way up


def test_large_jpeg_uses_draft_and_reports_full_size(corpus: Path) -> None:
    d = _decode(corpus / "exif" / "phone_xiaomi_mia3_gps_sw.jpg")
    assert (d.width, d.height) == (4000, 3000)
    # draft() at 1/2 scale: 2000 px, the smallest scale not below DRAFT_FLOOR of the working size
    assert d.image.size == (2000, 1500)
    assert WORKING_LONG_SIDE * DRAFT_FLOOR <= max(d.image.size) <= WORKING_LONG_SIDE


def test_16bit_and_cmyk_colors_are_right(corpus: Path) -> None:
    target = np.asarray(Image.open(corpus / "formats" / "png_rgb_target.png").convert("RGB"), dtype=np.float32)
    sixteen = np.asarray(_decode(corpus / "formats" / "tiff_16bit_rgb.tiff").image, dtype=np.float32)
    assert np.abs(sixteen - target).mean() < 3
    # the CMYK sample is red lettering on black: red must come out red, black black (not inverted)
    cmyk = np.asarray(_decode(corpus / "formats" / "jpeg_cmyk.jpg").image, dtype=np.float32)
    redness = cmyk[..., 0] - (cmyk[..., 1] + cmyk[..., 2]) / 2
    assert (redness > 150).mean() > 0.05 and (cmyk.max(axis=2) < 40).mean() > 0.5
    gray16 = np.asarray(_decode(corpus / "formats" / "png_gray16.png").image, dtype=np.float32)
    assert 20 < gray16.mean() < 235 and gray16.std() > 10  # scaled, not clipped to white


def test_raw_without_preview_is_demosaiced(corpus: Path) -> None:
    d = _decode(corpus / "formats" / "dng_bayer_no_preview.dng")
    assert d.format == "DNG" and (d.width, d.height) == (640, 426)
    assert np.asarray(d.image).std() > 10


def test_alpha_is_kept_separately(corpus: Path) -> None:
    d = _decode(corpus / "formats" / "webp_alpha.webp")
    assert d.has_alpha and d.alpha is not None and d.alpha.size == d.image.size
    assert d.alpha.getextrema()[0] < 255


def _png(im: Image.Image, **params: object) -> bytes:
    out = io.BytesIO()
    im.save(out, "PNG", compress_level=1, **params)
    return out.getvalue()


def _sample(mode: str) -> tuple[bytes, Image.Image]:
    """(a PNG in `mode`, the same picture as the RGBA or RGB image the old full-size path made)."""
    rng = np.random.default_rng(7)
    yy, xx = np.mgrid[0:613, 0:947]  # odd sizes: partial reduce blocks and a partial last band
    gray = (np.sin(xx / 9.0) * np.cos(yy / 13.0) * 100 + 128 + rng.integers(0, 24, xx.shape)).astype(np.uint8)
    rgb = Image.fromarray(np.dstack([gray, np.roll(gray, 5, 1), 255 - gray]))
    if mode == "I;16":
        return _png(Image.fromarray(gray.astype(np.uint16) * 257)), Image.fromarray(gray).convert("RGB")
    if mode == "P+tRNS":
        im = rgb.quantize(48)
        im.info["transparency"] = 3
        return _png(im, transparency=3), im.convert("RGBA")
    im = {
        "1": lambda: Image.fromarray(gray > 128),
        "P": lambda: rgb.quantize(48),
        "RGBA": lambda: Image.merge("RGBA", (*rgb.split(), Image.fromarray(255 - gray))),
        "LA": lambda: Image.merge("LA", (Image.fromarray(gray), Image.fromarray(255 - gray))),
    }.get(mode, lambda: rgb.convert(mode))()
    return _png(im), im.convert("RGBA")


@pytest.mark.parametrize("long_side", [100, 400], ids=["reduce-3x3", "no-reduce"])
@pytest.mark.parametrize("mode", ["1", "L", "P", "P+tRNS", "RGB", "RGBA", "LA", "I;16"])
def test_banded_shrink_gives_the_pixels_of_a_whole_image_conversion(
    mode: str, long_side: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    data, full = _sample(mode)
    # the old path: convert the whole image, then thumbnail (box-reduce + Lanczos); alpha bicubic
    ref = full.convert("RGB")
    ref.thumbnail((long_side, long_side), Image.Resampling.LANCZOS, reducing_gap=3.0)
    ref_alpha = full.getchannel("A").resize(ref.size) if full.mode == "RGBA" else None
    for band_pixels in (10**9, 20_000):  # one band, then 30 of 21 rows
        monkeypatch.setattr(decode, "BAND_PIXELS", band_pixels)
        d = decode_image(data, "PNG", long_side=long_side)
        assert np.array_equal(np.asarray(d.image), np.asarray(ref)), (mode, band_pixels)
        if ref_alpha is None or ref_alpha.getextrema() == (255, 255):
            assert d.alpha is None
        else:
            assert d.alpha is not None and d.alpha.size == ref.size
            diff = np.abs(np.asarray(d.alpha, dtype=np.float32) - np.asarray(ref_alpha, dtype=np.float32))
            # the same bicubic from full size; after a box-reduce, a hair apart at edges
            assert diff.max() == 0 if long_side == 400 else diff.mean() < 1.5, (mode, band_pixels)


def test_working_size_rounds_like_thumbnail() -> None:
    rng = np.random.default_rng(3)
    for w, h in [(947, 613), (613, 947), (65, 1), (1, 65), (640, 640), *rng.integers(1, 900, (40, 2))]:
        im = Image.new("L", (int(w), int(h)), 90)
        expected = im.copy()
        expected.thumbnail((64, 64))
        assert decode_image(_png(im), "PNG", long_side=64).image.size == expected.size, (w, h)
