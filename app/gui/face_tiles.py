"""Face tiles: square crops of faces cut from the photos' 1024 px thumbnails, off the GUI thread
(see image_loader). A loader thread keeps the last few thumbnails decoded: a group photo's faces
come together."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from pathlib import Path

from PySide6.QtCore import QObject, QRect, Qt, Signal
from PySide6.QtGui import QImage, QPixmap

from app.core.analysis.thumbnails import LARGE, thumb_path
from app.core.catalog.people import FaceInfo
from app.gui.image_loader import BackgroundImages

TILE = 112
MARGIN = 0.3  # of the face's size, around it: hair and chin make a face recognisable
CACHE_SIZE = 2000  # ~100 MB of 112 px tiles
MAX_PENDING = 800
_DECODED = 6  # thumbnails kept decoded by each loader thread


def crop_rect(box: tuple[int, int, int, int], photo_width: int, image: QImage) -> QRect:
    """The square around a face (box in the photo's displayed pixels) in `image`'s pixels, moved
    inside the image where the face is near an edge: a clipped square would be a narrow tile."""
    scale = image.width() / max(1, photo_width)
    x, y, w, h = (v * scale for v in box)
    side = max(1, round(min(max(w, h) * (1 + 2 * MARGIN), image.width(), image.height())))
    left = min(max(0, round(x + w / 2 - side / 2)), image.width() - side)
    top = min(max(0, round(y + h / 2 - side / 2)), image.height() - side)
    return QRect(left, top, side, side).intersected(image.rect())


class FaceCrops(BackgroundImages):
    ready = Signal(int)  # face id whose tile is now cached

    def __init__(self, thumbs_dir: Path, size: int = TILE, threads: int = 2, parent: QObject | None = None) -> None:
        self.thumbs_dir = thumbs_dir
        self.size = size
        self._local = threading.local()  # each loader thread's decoded thumbnails
        super().__init__(threads, CACHE_SIZE, MAX_PENDING, parent)

    def get(self, face: FaceInfo) -> QPixmap | None:
        """The cached tile, or None after queueing it (`ready` fires when it is there)."""
        return self.cached(face.id, face) if face.thumb_key else None

    def _thumbnail(self, key: str) -> QImage:
        decoded: OrderedDict[str, QImage] = self._local.__dict__.setdefault("decoded", OrderedDict())
        image = decoded.get(key)
        if image is None:
            image = decoded[key] = QImage(str(thumb_path(self.thumbs_dir, key, LARGE)))
            while len(decoded) > _DECODED:
                decoded.popitem(last=False)
        return image

    def load(self, request: FaceInfo) -> QImage:
        image = self._thumbnail(request.thumb_key or "")
        if image.isNull():
            return image
        tile = image.copy(crop_rect(request.box, request.width or image.width(), image))
        return tile.scaled(self.size, self.size, Qt.AspectRatioMode.KeepAspectRatio,
                           Qt.TransformationMode.SmoothTransformation)  # fmt: skip

    def loaded(self, key: Hashable) -> None:
        self.ready.emit(key)
