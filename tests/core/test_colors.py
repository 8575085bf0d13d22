"""Color stage: palette naming on flat patches, shapes and sums, alpha, real photos."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, ImageOps

from app.core.analysis.colors import HISTOGRAM_COLORS, analyze_colors
from app.core.palette import PALETTE, palette_name

NAMED = {
    "black": [(0, 0, 0), (20, 20, 25), (10, 10, 40)],
    "white": [(255, 255, 255), (245, 245, 240), (250, 248, 235)],
    "gray": [(128, 128, 128), (90, 92, 95), (180, 180, 175)],
    "red": [(255, 0, 0), (200, 20, 30), (139, 0, 0), (220, 20, 60)],
    "orange": [(255, 165, 0), (255, 140, 0), (240, 120, 20)],
    "yellow": [(255, 255, 0), (255, 215, 0), (240, 230, 80)],
    "green": [(0, 128, 0), (0, 255, 0), (34, 139, 34), (120, 200, 80), (128, 128, 0)],  # olive -> green
    "teal": [(0, 128, 128), (0, 200, 200), (64, 224, 208)],
    "blue": [(0, 0, 255), (0, 0, 128), (135, 206, 235), (65, 105, 225), (30, 144, 255)],  # navy is blue
    "purple": [(128, 0, 128), (75, 0, 130), (148, 0, 211)],
    "pink": [(255, 192, 203), (255, 105, 180), (255, 20, 147), (250, 180, 190)],
    "brown": [(139, 69, 19), (160, 82, 45), (210, 180, 140), (101, 67, 33), (224, 172, 105), (198, 134, 66)],
}


@pytest.mark.parametrize("name", PALETTE)
def test_flat_patches_get_the_name_a_person_gives(name: str) -> None:
    for rgb in NAMED[name]:
        assert palette_name(rgb) == name, rgb
        result = analyze_colors(Image.new("RGB", (64, 48), rgb))
        assert result.predominant == [(name, 100.0)]
        hex_color, share = result.colors[0]
        assert share == 100.0
        assert all(abs(int(hex_color[1 + 2 * i : 3 + 2 * i], 16) - rgb[i]) <= 2 for i in range(3))


def test_transparent_pixels_do_not_count() -> None:
    image = Image.new("RGB", (100, 100), (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, 50, 100))
    alpha = Image.new("L", (100, 100), 0)
    alpha.paste(255, (50, 0, 100, 100))  # only the blue half is opaque
    assert analyze_colors(image, alpha).predominant == [("blue", 100.0)]
    assert sorted(analyze_colors(image).predominant) == [("blue", 50.0), ("red", 50.0)]


def _photo(corpus: Path, rel: str) -> Image.Image:
    image = ImageOps.exif_transpose(Image.open(corpus / rel)).convert("RGB")
    image.thumbnail((2048, 2048))
    return image


@pytest.mark.parametrize(
    ("rel", "top", "min_share"),
    [
        ("dupes/f03_blue_sky.jpg", "blue", 90),
        ("dupes/f00_white.png", "white", 99),
        ("dupes/f01_black.png", "black", 99),
        ("dupes/g01_chelsea.jpg", "brown", 60),  # a tabby cat
        ("dupes/g02_coffee.jpg", "brown", 40),
        ("dupes/g03_rocket.jpg", "blue", 40),  # the sky around the launch tower
    ],
)
def test_real_photos_dominant_color(corpus: Path, rel: str, top: str, min_share: float) -> None:
    result = analyze_colors(_photo(corpus, rel))
    assert result.predominant[0][0] == top and result.predominant[0][1] >= min_share
    assert abs(sum(s for _, s in result.predominant) - 100) < 2
    assert 0 < len(result.colors) <= HISTOGRAM_COLORS
    assert abs(sum(s for _, s in result.colors) - 100) < 1


def test_skin_is_brown_pink_or_orange_not_red_or_purple(corpus: Path) -> None:
    face = _photo(corpus, "faces/obama.jpg").crop((400, 150, 560, 380))  # cheek and forehead
    names = dict(analyze_colors(face).predominant)
    skin = sum(names.get(n, 0) for n in ("brown", "pink", "orange"))
    assert skin >= 60 and names.get("purple", 0) < 5
