"""Draws the app icon: resources/icons/io.github.tessera.Tessera.svg and a 256 px PNG of it.

The motif is a mosaic of tesserae laid as a small landscape photo (sky, sun, hills, earth) on a dark
tile. Our own drawing, no third-party artwork. Run after changing the design and commit both files:

    .venv/bin/python scripts/make_icon.py
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ICONS = ROOT / "resources" / "icons"
APP_ID = "io.github.tessera.Tessera"
SIZE = 256
MARGIN, GAP, TILES = 28, 8, 4
TILE = (SIZE - 2 * MARGIN - (TILES - 1) * GAP) / TILES

# One colour per tessera, row by row: sky with the sun, hills, earth.
GRID = (
    ("#7fc8f8", "#a5d8ff", "#ffc145", "#a5d8ff"),
    ("#5aa9e6", "#7fc8f8", "#a5d8ff", "#7fc8f8"),
    ("#3f9e5a", "#6bbf59", "#3f9e5a", "#2d7d46"),
    ("#c9844d", "#a86232", "#d99b62", "#8c4f24"),
)
# A few tesserae sit slightly askew, as hand-laid stones do (row, column) -> degrees.
ASKEW = {(0, 2): -8.0, (2, 1): 6.0, (3, 3): -5.0}


def svg() -> str:
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{SIZE}" height="{SIZE}" viewBox="0 0 {SIZE} {SIZE}">',
        "  <title>Tessera</title>",
        f'  <rect x="8" y="8" width="{SIZE - 16}" height="{SIZE - 16}" rx="44" fill="#263238"/>',
        f'  <rect x="8" y="8" width="{SIZE - 16}" height="{SIZE - 16}" rx="44" fill="none" '
        'stroke="#37474f" stroke-width="4"/>',
    ]
    for r, row in enumerate(GRID):
        for c, color in enumerate(row):
            x = MARGIN + c * (TILE + GAP)
            y = MARGIN + r * (TILE + GAP)
            turn = ASKEW.get((r, c))
            transform = f' transform="rotate({turn:g} {x + TILE / 2:g} {y + TILE / 2:g})"' if turn else ""
            parts.append(
                f'  <rect x="{x:g}" y="{y:g}" width="{TILE:g}" height="{TILE:g}" rx="7" fill="{color}"{transform}/>'
            )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def render_png(svg_path: Path, png_path: Path, size: int = SIZE) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication(sys.argv)
    renderer = QSvgRenderer(str(svg_path))
    if not renderer.isValid():
        raise SystemExit(f"not a valid SVG: {svg_path}")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    if not image.save(str(png_path)):
        raise SystemExit(f"could not write {png_path}")


def main() -> int:
    ICONS.mkdir(parents=True, exist_ok=True)
    svg_path = ICONS / f"{APP_ID}.svg"
    png_path = ICONS / f"{APP_ID}.png"
    svg_path.write_text(svg(), encoding="utf-8")
    render_png(svg_path, png_path)
    print(f"wrote {svg_path.relative_to(ROOT)} and {png_path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
