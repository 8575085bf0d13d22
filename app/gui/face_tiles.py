"""Face tiles: square crops of faces cut from the photos' 1024 px thumbnails, off the GUI thread.
Loader threads build QImages (safe outside the GUI thread), the GUI thread keeps the pixmaps in an
LRU; a photo's thumbnail is decoded once for all its faces. Requests are served newest first, so
the tiles on screen after a scroll come first."""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from pathlib import Path

from PySide6.QtCore import QObject, QRect, Qt, Signal
from PySide6.QtGui import QImage, QPixmap

from app.core.analysis.thumbnails import LARGE, thumb_path
from app.core.catalog.people import FaceInfo

TILE = 112
MARGIN = 0.3  # of the face's size, around it: hair and chin make a face recognisable
CACHE_SIZE = 2000  # ~100 MB of 112 px tiles
MAX_PENDING = 800
_DECODED = 6  # thumbnails kept decoded in each loader: a group photo's faces come together


def crop_rect(box: tuple[int, int, int, int], photo_width: int, image: QImage) -> QRect:
    """The square around a face (box in the photo's displayed pixels) in `image`'s pixels."""
    scale = image.width() / max(1, photo_width)
    x, y, w, h = (v * scale for v in box)
    side = max(w, h) * (1 + 2 * MARGIN)
    cx, cy = x + w / 2, y + h / 2
    rect = QRect(round(cx - side / 2), round(cy - side / 2), max(1, round(side)), max(1, round(side)))
    return rect.intersected(image.rect())


class FaceCrops(QObject):
    ready = Signal(int)  # face id whose tile is now cached
    _loaded = Signal(int, QImage)

    def __init__(self, thumbs_dir: Path, size: int = TILE, threads: int = 2, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.thumbs_dir = thumbs_dir
        self.size = size
        self._cache: OrderedDict[int, QPixmap] = OrderedDict()
        self._pending: deque[FaceInfo] = deque()
        self._queued: set[int] = set()
        self._cond = threading.Condition()
        self._stop = False
        self._loaded.connect(self._store, Qt.ConnectionType.QueuedConnection)
        self._threads = [threading.Thread(target=self._work, name=f"faces-{i}", daemon=True) for i in range(threads)]
        for t in self._threads:
            t.start()

    def get(self, face: FaceInfo) -> QPixmap | None:
        """The cached tile, or None after queueing it (`ready` fires when it is there)."""
        pixmap = self._cache.get(face.id)
        if pixmap is not None:
            self._cache.move_to_end(face.id)
            return pixmap
        if face.thumb_key and face.id not in self._queued:
            with self._cond:
                self._queued.add(face.id)
                self._pending.append(face)
                while len(self._pending) > MAX_PENDING:
                    self._queued.discard(self._pending.popleft().id)
                self._cond.notify()
        return None

    def close(self) -> None:
        with self._cond:
            self._stop = True
            self._pending.clear()
            self._cond.notify_all()
        for t in self._threads:
            t.join(timeout=2)

    def _work(self) -> None:
        decoded: OrderedDict[str, QImage] = OrderedDict()
        while True:
            with self._cond:
                while not self._pending and not self._stop:
                    self._cond.wait()
                if self._stop:
                    return
                face = self._pending.pop()  # newest first
            key = face.thumb_key or ""
            image = decoded.get(key)
            if image is None:
                image = QImage(str(thumb_path(self.thumbs_dir, key, LARGE)))
                decoded[key] = image
                while len(decoded) > _DECODED:
                    decoded.popitem(last=False)
            tile = QImage()
            if not image.isNull():
                tile = image.copy(crop_rect(face.box, face.width or image.width(), image)).scaled(
                    self.size, self.size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
                )
            try:
                self._loaded.emit(face.id, tile)
            except RuntimeError:  # the window closed while this tile was cut
                return

    def _store(self, face_id: int, image: QImage) -> None:
        self._queued.discard(face_id)
        if image.isNull():
            return
        self._cache[face_id] = QPixmap.fromImage(image)
        while len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        self.ready.emit(face_id)
