"""Images loaded off the GUI thread, newest request first, kept as pixmaps in an LRU. Loader threads
only build QImages (safe outside the GUI thread); the GUI thread turns them into pixmaps. Requests
are served newest first, so what is on screen after a fast scroll comes first. Subclasses say how a
request becomes an image (`load`, on a loader thread) and whom to tell (`loaded`)."""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from collections.abc import Hashable
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QImage, QPixmap


class BackgroundImages(QObject):
    _arrived = Signal(object, QImage)  # (key, image), from a loader thread

    def __init__(self, threads: int, cache_size: int, max_pending: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._cache: OrderedDict[Hashable, QPixmap] = OrderedDict()
        self._cache_size = cache_size
        self._max_pending = max_pending
        self._pending: deque[tuple[Hashable, Any]] = deque()
        self._queued: set[Hashable] = set()
        self._cond = threading.Condition()
        self._stop = False
        self._arrived.connect(self._store, Qt.ConnectionType.QueuedConnection)
        self._threads = [threading.Thread(target=self._work, name=f"images-{i}", daemon=True) for i in range(threads)]
        for t in self._threads:
            t.start()

    def load(self, request: Any) -> QImage:
        """The image for a request (a loader thread; a null QImage when there is none)."""
        raise NotImplementedError

    def loaded(self, key: Hashable) -> None:
        """Called on the GUI thread when the pixmap for `key` is cached."""

    def cached(self, key: Hashable, request: Any) -> QPixmap | None:
        """The cached pixmap, or None after queueing `request` for it (unless already queued)."""
        pixmap = self._cache.get(key)
        if pixmap is not None:
            self._cache.move_to_end(key)
            return pixmap
        if key not in self._queued:
            with self._cond:
                self._queued.add(key)
                self._pending.append((key, request))
                while len(self._pending) > self._max_pending:  # those are rows long scrolled past
                    self._queued.discard(self._pending.popleft()[0])
                self._cond.notify()
        return None

    def drop(self, key: Hashable) -> None:
        self._cache.pop(key, None)

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
                key, request = self._pending.pop()  # newest first
            image = self.load(request)
            try:
                self._arrived.emit(key, image)
            except RuntimeError:  # the window went while this image loaded
                return

    def _store(self, key: Hashable, image: QImage) -> None:
        self._queued.discard(key)
        if image.isNull():
            return  # not there (yet): asked again later
        self._cache[key] = QPixmap.fromImage(image)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        self.loaded(key)
