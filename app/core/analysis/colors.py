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

VERSION = 1
SAMPLE_SIDE = 128  # ~16k pixels: percentages to a tenth of a percent at a few ms per photo
HISTOGRAM_COLORS = 32
MIN_SHARE = 1.0  # palette names under 1% are noise


@dataclass
class ColorResult:
    colors: list[tuple[str, float]]  # ("#RRGGBB", percent), desc
    predominant: list[tuple[str, float]]  # (palette name, percent), desc


def _sample(image: Image.Image, alpha: Image.Image | None) -> np.ndarray:
    small = image.copy()
    small.thumbnail((SAMPLE_SIDE, SAMPLE_SIDE), Image.Resampling.BOX)
    pixels = np.asarray(small.convert("RGB"), dtype=np.uint8).reshape(-1, 3)
    if alpha is not None:
        mask = np.asarray(alpha.resize(small.size, Image.Resampling.BOX)).reshape(-1) >= 128
        pixels = pixels[mask]
    return pixels


def _percentages(counts: np.ndarray, total: int) -> list[float]:
    return [round(100.0 * float(c) / total, 1) for c in counts]


def analyze_colors(image: Image.Image, alpha: Image.Image | None = None) -> ColorResult:
    pixels = _sample(image, alpha)
    if len(pixels) == 0:  # fully transparent
        return ColorResult([], [])
    total = len(pixels)
    names = np.bincount(name_indices(pixels), minlength=len(PALETTE))
    order = np.argsort(-names, kind="stable")
    shares = _percentages(names[order], total)
    predominant = [(PALETTE[i], s) for i, s in zip(order, shares, strict=True) if s >= MIN_SHARE]
    strip = Image.fromarray(pixels.reshape(1, -1, 3), "RGB")
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
