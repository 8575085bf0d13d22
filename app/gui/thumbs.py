"""Thumbnails for the grid, loaded off the GUI thread (see image_loader), the most recent kept."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage, QPixmap

from app.core.analysis.thumbnails import thumb_path
from app.core.local_thumbnails import ensure_thumbnails
from app.gui.image_loader import BackgroundImages

SMALL, LARGE = 320, 1024
MAX_PENDING = 600  # requests beyond this are rows long scrolled past
CACHE_SIZE = 600  # ~160 MB of 320 px pixmaps: several screens of the largest grid


class ThumbnailCache(BackgroundImages):
    ready = Signal(int)  # photo id whose thumbnail is now cached

    def __init__(
        self,
        thumbs_dir: Path,
        threads: int = 2,
        parent: QObject | None = None,
        locate: Callable[[int], str | None] | None = None,
    ) -> None:
        self.thumbs_dir = thumbs_dir
        # photo id -> its file here: a thumbnail missing from this workstation's cache (another one
        # analysed the photo) is made from it, in the loader thread
        self._locate = locate
        super().__init__(threads, CACHE_SIZE, MAX_PENDING, parent)

    def get(self, photo_id: int, thumb_key: str | None, size: int = SMALL) -> QPixmap | None:
        """The cached pixmap, or None after queueing a load (`ready` fires when it is there)."""
        if not thumb_key:
            return self._cache.get((photo_id, size))
        return self.cached((photo_id, size), (photo_id, thumb_key, size))

    def forget(self, photo_id: int) -> None:
        for size in (SMALL, LARGE):
            self.drop((photo_id, size))

    def load(self, request: tuple[int, str, int]) -> QImage:
        photo_id, thumb_key, size = request
        path = thumb_path(self.thumbs_dir, thumb_key, size)
        if not path.is_file() and self._locate is not None and (photo := self._locate(photo_id)):
            ensure_thumbnails(self.thumbs_dir, thumb_key, photo)
        return QImage(str(path))

    def loaded(self, key: Hashable) -> None:
        self.ready.emit(key[0])  # type: ignore[index]
