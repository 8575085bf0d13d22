"""Thumbnails for the grid, loaded off the GUI thread. Worker threads only build QImages (safe
outside the GUI thread); the GUI thread turns them into pixmaps and keeps the most recent in an
LRU. Requests are served newest first, so the rows on screen after a fast scroll come first."""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QImage, QPixmap

from app.core.analysis.thumbnails import thumb_path
from app.core.local_thumbnails import ensure_thumbnails

SMALL, LARGE = 320, 1024
MAX_PENDING = 600  # requests beyond this are rows long scrolled past
CACHE_SIZE = 600  # ~160 MB of 320 px pixmaps: several screens of the largest grid


class ThumbnailCache(QObject):
    ready = Signal(int)  # photo id whose thumbnail is now cached
    _loaded = Signal(int, int, QImage)  # (photo id, size, image), from a loader thread

    def __init__(
        self,
        thumbs_dir: Path,
        threads: int = 2,
        parent: QObject | None = None,
        locate: Callable[[int], str | None] | None = None,
    ) -> None:
        super().__init__(parent)
        self.thumbs_dir = thumbs_dir
        # photo id -> its file here: a thumbnail missing from this workstation's cache (another one
        # analysed the photo) is made from it, in the loader thread
        self._locate = locate
        self._cache: OrderedDict[tuple[int, int], QPixmap] = OrderedDict()
        self._pending: deque[tuple[int, str, int]] = deque()
        self._queued: set[tuple[int, int]] = set()
        self._cond = threading.Condition()
        self._stop = False
        self._loaded.connect(self._store, Qt.ConnectionType.QueuedConnection)
        self._threads = [threading.Thread(target=self._work, name=f"thumbs-{i}", daemon=True) for i in range(threads)]
        for t in self._threads:
            t.start()

    def get(self, photo_id: int, thumb_key: str | None, size: int = SMALL) -> QPixmap | None:
        """The cached pixmap, or None after queueing a load (`ready` fires when it is there)."""
        key = (photo_id, size)
        pixmap = self._cache.get(key)
        if pixmap is not None:
            self._cache.move_to_end(key)
            return pixmap
        if thumb_key and key not in self._queued:
            with self._cond:
                self._queued.add(key)
                self._pending.append((photo_id, thumb_key, size))
                while len(self._pending) > MAX_PENDING:
                    old = self._pending.popleft()
                    self._queued.discard((old[0], old[2]))
                self._cond.notify()
        return None

    def forget(self, photo_id: int) -> None:
        for size in (SMALL, LARGE):
            self._cache.pop((photo_id, size), None)

    def close(self) -> None:
        with self._cond:
            self._stop = True
            self._pending.clear()
            self._cond.notify_all()
        for t in self._threads:
            t.join(timeout=2)

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._stop:
                    self._cond.wait()
                if self._stop:
                    return
                photo_id, thumb_key, size = self._pending.pop()  # newest first
            path = thumb_path(self.thumbs_dir, thumb_key, size)
            if not path.is_file() and self._locate is not None and (photo := self._locate(photo_id)):
                ensure_thumbnails(self.thumbs_dir, thumb_key, photo)
            image = QImage(str(path))
            try:
                self._loaded.emit(photo_id, size, image)
            except RuntimeError:  # the cache went with its window while this image loaded
                return

    def _store(self, photo_id: int, size: int, image: QImage) -> None:
        self._queued.discard((photo_id, size))
        if image.isNull():
            return  # thumbnail not written yet (analysis still running) or deleted: asked again later
        self._cache[(photo_id, size)] = QPixmap.fromImage(image)
        while len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        self.ready.emit(photo_id)
