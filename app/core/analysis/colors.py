"""Colors: the 32 colors that best represent a photo (median cut) and its predominant colors on a
12-name palette, both with percentages, in the reference documents' shapes.

Names are given in CIE LCh (lightness, chroma, hue angle of CIELAB), not by RGB distance: RGB
Euclid calls dark navy "black" and skin "red". The rules below were set on flat patches of named
colors (tests/core/test_colors.py) and checked on real photos.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from app.core.palette import PALETTE, name_indices

# 2: sampled from the reduced decode (256-2047 px) instead of a 2048 px Lanczos image, and the 32
#    colours from a half-size sample (median cut took 7 ms on 12k pixels, 1.7 on 3k): shares move ~0.1-1 %
VERSION = 2
SAMPLE_SIDE = 128  # ~16k pixels: palette shares to a tenth of a percent at a few ms per photo
HISTOGRAM_REDUCE = 2  # the 32 colours from a 64 px sample (~3k pixels)
HISTOGRAM_COLORS = 32
MIN_SHARE = 1.0  # palette names under 1% are noise


@dataclass
class ColorResult:
    colors: list[tuple[str, float]]  # ("#RRGGBB", percent), desc
    predominant: list[tuple[str, float]]  # (palette name, percent), desc


def _opaque(image: Image.Image, alpha: Image.Image | None) -> np.ndarray:
    """The image's pixels as an (n, 3) array, less those transparent in `alpha` (same size)."""
    pixels = np.asarray(image.convert("RGB"), dtype=np.uint8).reshape(-1, 3)
    return pixels if alpha is None else pixels[np.asarray(alpha).reshape(-1) >= 128]


def _samples(image: Image.Image, alpha: Image.Image | None) -> tuple[np.ndarray, np.ndarray]:
    """Opaque pixels of the SAMPLE_SIDE sample (palette names) and of its HISTOGRAM_REDUCE reduction
    (the 32 colours)."""
    small = image.copy()
    small.thumbnail((SAMPLE_SIDE, SAMPLE_SIDE), Image.Resampling.BOX)
    mask = None if alpha is None else alpha.resize(small.size, Image.Resampling.BOX)
    smaller = small.reduce(HISTOGRAM_REDUCE)
    return _opaque(small, mask), _opaque(smaller, None if mask is None else mask.reduce(HISTOGRAM_REDUCE))


def _percentages(counts: np.ndarray, total: int) -> list[float]:
    return [round(100.0 * float(c) / total, 1) for c in counts]


def analyze_colors(image: Image.Image, alpha: Image.Image | None = None) -> ColorResult:
    pixels, few = _samples(image, alpha)
    if len(pixels) == 0 or len(few) == 0:  # fully transparent
        return ColorResult([], [])
    names = np.bincount(name_indices(pixels), minlength=len(PALETTE))
    order = np.argsort(-names, kind="stable")
    shares = _percentages(names[order], len(pixels))
    predominant = [(PALETTE[i], s) for i, s in zip(order, shares, strict=True) if s >= MIN_SHARE]
    total = len(few)
    strip = Image.fromarray(few.reshape(1, -1, 3), "RGB")
    quantized = strip.quantize(HISTOGRAM_COLORS, method=Image.Quantize.MEDIANCUT)
    palette = np.array(quantized.getpalette()[: 3 * HISTOGRAM_COLORS], dtype=np.int32).reshape(-1, 3)
    counts = np.bincount(np.asarray(quantized).reshape(-1), minlength=len(palette))
    order = np.argsort(-counts, kind="stable")
    colors = [
        ("#{:02X}{:02X}{:02X}".format(*palette[i]), share)
        for i, share in zip(order, _percentages(counts[order], total), strict=True)
        if counts[i] > 0
    ]
    return ColorResult(colors=colors[:HISTOGRAM_COLORS], predominant=predominant)
