"""Face tiles: the square around a face stays square at the photo's edges."""

from __future__ import annotations

from PySide6.QtGui import QImage

from app.gui.face_tiles import MARGIN, crop_rect


def test_face_at_the_edge_gives_a_square_tile(qapp: object) -> None:
    image = QImage(1024, 683, QImage.Format.Format_RGB32)
    centre = crop_rect((1500, 500, 200, 200), 2048, image)  # displayed pixels, twice the thumbnail's
    side = round(100 * (1 + 2 * MARGIN))
    assert (centre.width(), centre.height()) == (side, side)
    assert centre.center().x() in range(797, 803) and centre.center().y() in range(297, 303)
    for box in ((0, 0, 120, 160), (1940, 1250, 100, 110), (1990, 600, 58, 80)):
        rect = crop_rect(box, 2048, image)
        assert rect.width() == rect.height() > 0, box
        assert image.rect().contains(rect), box
        x, y, w, h = (v / 2 for v in box)
        assert rect.contains(round(x + w / 2), round(y + h / 2)), box  # the face is still in it
    huge = crop_rect((0, 0, 2048, 1366), 2048, image)  # a face filling the photo: as big as fits
    assert (huge.width(), huge.height()) == (683, 683)
