"""The desktop app on a studio catalog: other workstations' edits appear within a couple of seconds,
library roots missing on this workstation are asked for, and File > Open Studio Catalog… switches
the window to a catalog on PostgreSQL."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QFileDialog, QInputDialog, QLineEdit, QMessageBox, QWidget

from app.core.catalog import roots
from app.core.catalog.changes import ChangeFeed, Changes
from app.core.library import Library

log = logging.getLogger(__name__)
POLL_MS = 2000  # other workstations' changes show within this (one indexed query a poll)


class ChangeWatcher(QObject):
    """Polls the catalog's change log on the GUI thread; `changed` carries what others changed."""

    changed = Signal(object)  # Changes

    def __init__(self, parent: QObject | None = None, interval_ms: int = POLL_MS) -> None:
        super().__init__(parent)
        self._feed = ChangeFeed()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.poll)
        self._timer.start(interval_ms)

    def poll(self) -> Changes:
        try:
            news = self._feed.poll()
        except Exception:  # a server that went away for a moment: try again at the next tick
            log.warning("could not read the catalog's change log", exc_info=True)
            return Changes()
        if news:
            self.changed.emit(news)
        return news

    def stop(self) -> None:
        self._timer.stop()


def describe_changes(changes: Changes) -> str:
    if changes.everything:
        return "The library was changed elsewhere; the view is up to date again"
    n = len(changes.photo_ids)
    return f"{n:,} photo{'s' if n != 1 else ''} changed on another workstation or in another window"


def ask_for_missing_roots(parent: QWidget, lib: Library) -> int:
    """For each library root this workstation does not find, ask where it is mounted here and map
    it; returns how many were mapped."""
    mapped = 0
    for root in roots.list_roots():
        if root.found:
            continue
        answer = QMessageBox.question(
            parent,
            "Library folder not found",
            f"The photos under\n{root.path}\nare not found on this workstation.\n\n"
            "Where is this folder mounted here (for example /mnt/photos)?",
            QMessageBox.StandardButton.Open | QMessageBox.StandardButton.Ignore,
        )
        if answer != QMessageBox.StandardButton.Open:
            continue
        folder = QFileDialog.getExistingDirectory(parent, f"Where is {root.path}?", str(Path.home()))
        if folder:
            lib.writer.call(lambda r=root.id, f=folder: roots.map_root(r, f))
            mapped += 1
    if mapped:
        roots.activate(roots.load_path_map())
    return mapped


def ask_studio_catalog(parent: QWidget, lib: Library) -> Library | None:
    """Ask for a postgresql:// URL and open the library folder on it (None: cancelled or refused).
    The folder remembers it (library.json), so the command line opens the same catalog."""
    from app.core.errors import TesseraError
    from app.core.library import set_catalog_setting

    current = lib.location.url if lib.is_studio else "postgresql://user@server:5432/tessera"
    url, ok = QInputDialog.getText(
        parent,
        "Open Studio Catalog",
        "PostgreSQL catalog shared by the studio's workstations\n(postgresql://user@host:port/database):",
        QLineEdit.EchoMode.Normal,
        current,
    )
    if not ok or not url.strip():
        return None
    try:
        opened = Library.open(lib.root, catalog=url.strip(), auto_backup=False)
    except (TesseraError, ValueError) as exc:
        QMessageBox.warning(parent, "Cannot open the studio catalog", str(exc))
        return None
    set_catalog_setting(lib.root, url.strip())
    return opened
