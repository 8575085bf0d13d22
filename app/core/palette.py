"""The 12-name palette people filter by (black, white, gray, red, orange, yellow, green, teal, blue,
purple, pink, brown): naming a colour, the chips' swatches, and how coloured a stored histogram is.

Names are given in CIE LCh (lightness, chroma, hue angle of CIELAB), not by RGB distance: RGB
Euclid calls dark navy "black" and skin "red". The rules below were set on flat patches of named
colors (tests/core/test_colors.py) and checked on real photos. Shared by the colour analysis, the
duplicate finder and the GUI, so it lives outside the analysis package.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np

PALETTE: tuple[str, ...] = (
    "black", "white", "gray", "red", "orange", "yellow", "green", "teal", "blue", "purple", "pink", "brown",
)  # fmt: skip
# how each palette name is drawn as a chip (the GUI's sidebar and filter bar)
SWATCHES: dict[str, str] = {
    "black": "#111111", "white": "#F5F5F5", "gray": "#8C8C8C", "red": "#D62828", "orange": "#F28C28",
    "yellow": "#F2D22E", "green": "#3A9D3A", "teal": "#1E9E9E", "blue": "#2F6FD6", "purple": "#7E3FBF",
    "pink": "#F06EAA", "brown": "#8B5A2B",
}  # fmt: skip


def _lch(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """uint8 RGB (n, 3) -> L (0-100), C, h (degrees 0-360)."""
    lab = cv2.cvtColor(rgb.reshape(-1, 1, 3).astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab).reshape(-1, 3)
    lightness, a, b = lab[:, 0], lab[:, 1], lab[:, 2]
    return lightness, np.hypot(a, b), np.degrees(np.arctan2(b, a)) % 360.0


def name_indices(rgb: np.ndarray) -> np.ndarray:
    """Palette index of each uint8 RGB color in an (n, 3) array."""
    lightness, chroma, hue = _lch(rgb)
    idx = np.empty(len(rgb), dtype=np.int8)
    p = PALETTE.index
    # chromatic colors by hue angle (sRGB red sits at ~40 deg, orange ~70, yellow ~100, green ~135,
    # cyan ~195, blue ~305, magenta ~330 in CIELAB)
    idx[:] = p("pink")
    idx[(hue >= 15) & (hue < 50)] = p("red")
    warm = (hue >= 50) & (hue < 85)
    idx[warm] = p("orange")
    idx[warm & ((lightness < 60) | (chroma < 50))] = p("brown")  # dark or muted orange: brown, tan, skin
    yellow = (hue >= 85) & (hue < 115)
    idx[yellow] = p("yellow")
    idx[yellow & (lightness < 60)] = p("green")  # olive
    idx[yellow & (lightness >= 60) & (chroma < 35)] = p("brown")  # khaki, sand
    idx[(hue >= 115) & (hue < 170)] = p("green")
    idx[(hue >= 170) & (hue < 215)] = p("teal")
    idx[(hue >= 215) & (hue < 312)] = p("blue")
    idx[(hue >= 312) & (hue < 345)] = p("purple")
    reddish = (hue >= 345) | (hue < 15)
    idx[reddish & (lightness < 55)] = p("red")  # deep crimson; light ones stay pink
    idx[(hue >= 15) & (hue < 50) & (chroma < 45)] = p("brown")
    idx[(hue >= 15) & (hue < 50) & (chroma < 45) & (lightness >= 65)] = p("pink")  # rosy light skin
    # achromatic: low chroma is white/gray/black whatever its hue; very dark is black
    idx[chroma < 12] = p("gray")
    idx[(lightness > 85) & (chroma < 18)] = p("white")
    idx[(lightness < 12) | ((lightness < 25) & (chroma < 20))] = p("black")
    return idx


def palette_name(rgb: tuple[int, int, int]) -> str:
    return PALETTE[int(name_indices(np.array([rgb], dtype=np.uint8))[0])]


# A colour counts as coloured from this CIELAB chroma: JPEG noise in a gray picture stays under ~6
# (and a grayscale JPEG is exactly neutral); skin, sky and foliage are 15 and more.
MIN_CHROMA = 8.0


def chroma_share(histogram: Sequence[Sequence[Any]]) -> float:
    """Percent of the picture in coloured tones, from its stored 32-colour histogram
    ([["#RRGGBB", percent], ...], `ColorResult.colors`): near 0 for grayscale, cheap (no decode)."""
    if not histogram:
        return 0.0
    rgb = np.array([[int(h[i : i + 2], 16) for i in (1, 3, 5)] for h, _ in histogram], dtype=np.uint8)
    _, chroma, _ = _lch(rgb)
    shares = np.array([float(s) for _, s in histogram])
    return round(float(shares[chroma >= MIN_CHROMA].sum()), 1)
