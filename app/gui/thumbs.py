"""Thumbnails for the grid, loaded off the GUI thread (see image_loader), the most recent kept."""

from __future__ import annotations

from collections.abc import Hashable
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage, QPixmap

from app.core.analysis.thumbnails import thumb_path
from app.gui.image_loader import BackgroundImages

SMALL, LARGE = 320, 1024
MAX_PENDING = 600  # requests beyond this are rows long scrolled past
CACHE_SIZE = 600  # ~160 MB of 320 px pixmaps: several screens of the largest grid


class ThumbnailCache(BackgroundImages):
    ready = Signal(int)  # photo id whose thumbnail is now cached

    def __init__(self, thumbs_dir: Path, threads: int = 2, parent: QObject | None = None) -> None:
        super().__init__(threads, CACHE_SIZE, MAX_PENDING, parent)
        self.thumbs_dir = thumbs_dir

    def get(self, photo_id: int, thumb_key: str | None, size: int = SMALL) -> QPixmap | None:
        """The cached pixmap, or None after queueing a load (`ready` fires when it is there)."""
        if not thumb_key:
            return self._cache.get((photo_id, size))
        return self.cached((photo_id, size), (thumb_key, size))

    def forget(self, photo_id: int) -> None:
        for size in (SMALL, LARGE):
            self.drop((photo_id, size))

    def load(self, request: tuple[str, int]) -> QImage:
        thumb_key, size = request
        return QImage(str(thumb_path(self.thumbs_dir, thumb_key, size)))

    def loaded(self, key: Hashable) -> None:
        self.ready.emit(key[0])  # type: ignore[index]
