"""File > Trashed Photos…: what Tessera sent to the system trash (app.core.trash.trashed, the same list
as `tessera trashed`), with Restore for the selected rows (trash.restore, as `tessera untrash`). The
catalog keeps a record per trashed photo, so the list survives restarts; a file the user already
emptied from the trash is reported, not silently dropped."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from PySide6.QtCore import QEvent, QObject, QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QKeyEvent, QKeySequence, QPalette, QPixmap, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QStackedWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core import trash
from app.core.catalog.models import Photo
from app.gui.inspector import _size as human_size
from app.gui.thumbs import SMALL, ThumbnailCache

ICON = 56
ERROR_COLOR = QColor("#d0342c")
RecordRole = Qt.ItemDataRole.UserRole + 1
PHOTO, FOLDER, SIZE, WHEN = range(4)
EMPTY_TEXT = (
    "Nothing Tessera moved to the trash is waiting there.\n\n"
    "Photos you remove with Edit > Move to Trash or in Review Duplicates are listed here, "
    "so you can put them back."
)


class TrashedPhotosWindow(QWidget):
    library_changed = Signal()  # photos came back: the main window refreshes

    def __init__(self, lib: Any, thumbs: ThumbnailCache, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setWindowTitle("Trashed Photos — Tessera")
        self.lib = lib
        self.thumbs = thumbs
        self._items: dict[int, QTreeWidgetItem] = {}  # photo id -> row, to fill in thumbnails as they load
        self._blank = QPixmap(ICON, ICON)
        self._blank.fill(Qt.GlobalColor.transparent)

        self.summary = QLabel()
        font = self.summary.font()
        font.setPointSizeF(font.pointSizeF() * 1.15)
        font.setBold(True)
        self.summary.setFont(font)

        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Photo", "Original location", "Size", "Trashed"])
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.setIconSize(QSize(ICON, ICON))
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.tree.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # long folders keep both ends
        self.tree.setStyleSheet("QTreeView::item { padding: 2px 10px 2px 2px; }")  # columns don't touch
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(FOLDER, QHeaderView.ResizeMode.Stretch)
        for column in (PHOTO, SIZE, WHEN):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)

        self.empty = QLabel(EMPTY_TEXT, alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True)
        self.empty.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.empty.setContentsMargins(40, 40, 40, 40)
        self.pages = QStackedWidget()
        self.pages.addWidget(self.tree)
        self.pages.addWidget(self.empty)

        self.message = QLabel(wordWrap=True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.restore_button = QPushButton("Restore")
        self.restore_button.setToolTip("Put the selected files back where they were (Enter)")
        self.restore_button.setDefault(True)
        close = QPushButton("Close")
        buttons = QHBoxLayout()
        buttons.addWidget(self.message, 1)
        buttons.addWidget(self.restore_button)
        buttons.addWidget(close)

        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.pages, 1)
        layout.addLayout(buttons)

        self.restore_button.clicked.connect(self.restore_selected)
        close.clicked.connect(self.close)
        self.tree.itemSelectionChanged.connect(self._selection_changed)
        self.thumbs.ready.connect(self._thumb_ready)
        self.tree.installEventFilter(self)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, self.close)
        self.resize(860, 480)
        self.reload()

    # -- contents ---------------------------------------------------------------------------------
    def reload(self) -> None:
        """Re-read the catalog's records: photos may have been trashed since the window opened."""
        records = trash.trashed(self.lib)
        photos = {p.id: p for p in Photo.select(Photo.id, Photo.size, Photo.thumb_key)
                  .where(Photo.id.in_([r.photo_id for r in records]))}  # fmt: skip
        self.tree.clear()
        self._items = {}
        total = 0
        for r in records:
            photo = photos.get(r.photo_id)
            size = photo.size if photo is not None else None
            total += size or 0
            path = Path(r.path)
            item = QTreeWidgetItem([path.name, str(path.parent), human_size(size), _when(r.trashed_at)])
            item.setData(PHOTO, RecordRole, r.id)
            item.setToolTip(PHOTO, r.path)
            item.setToolTip(FOLDER, str(path.parent))
            item.setTextAlignment(SIZE, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.tree.addTopLevelItem(item)
            self._items[r.photo_id] = item
            pixmap = self.thumbs.get(r.photo_id, photo.thumb_key if photo is not None else None, SMALL)
            self._set_icon(item, pixmap)
        n = len(records)
        summary = f"{n} photo{'s' * (n != 1)} in the trash · {human_size(total)}"
        self.summary.setText(summary if n else "No photos in the trash")
        self.pages.setCurrentWidget(self.tree if n else self.empty)
        self._selection_changed()

    def _set_icon(self, item: QTreeWidgetItem, pixmap: QPixmap | None) -> None:
        # until the thumbnail loads (or when there is none) a blank square keeps the names lined up
        item.setIcon(PHOTO, QIcon(pixmap if pixmap is not None else self._blank))

    def _thumb_ready(self, photo_id: int) -> None:
        item = self._items.get(photo_id)
        if item is not None:
            self._set_icon(item, self.thumbs.get(photo_id, None, SMALL))

    def record_ids(self, selected_only: bool = False) -> list[int]:
        """Record ids in list order (newest first)."""
        items = [self.tree.topLevelItem(i) for i in range(self.tree.topLevelItemCount())]
        return [int(it.data(PHOTO, RecordRole)) for it in items if it.isSelected() or not selected_only]

    def _selection_changed(self) -> None:
        n = len(self.tree.selectedItems())
        self.restore_button.setEnabled(n > 0)
        self.restore_button.setText(f"Restore {n}" if n > 1 else "Restore")

    # -- restore ----------------------------------------------------------------------------------
    def restore_selected(self) -> int:
        """Restore the selected rows; returns how many came back. Failures stay listed and selected."""
        chosen = self.record_ids(selected_only=True)
        if not chosen:
            return 0
        paths = {int(it.data(PHOTO, RecordRole)): it.toolTip(PHOTO) for it in self.tree.selectedItems()}
        errors: list[tuple[int, str]] = []
        for record_id in chosen:
            try:
                trash.restore(self.lib, record_id)
            except (ValueError, OSError) as exc:  # emptied from the trash, path taken again, not Linux
                path = paths[record_id]  # named once: "x.jpg: it is no longer in the trash (emptied?)"
                errors.append((record_id, f"{Path(path).name}: {str(exc).replace(path, 'it')}"))
        back = len(chosen) - len(errors)
        self.reload()
        for record_id, _ in errors:
            self._select(record_id)
        text = f"Restored {back} file{'s' * (back != 1)} to where {'it was' if back == 1 else 'they were'}."
        if errors:
            text = (text + " " if back else "") + "Could not restore " + "; ".join(e for _, e in errors[:5])
            text += f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        self._say(text, error=bool(errors))
        if back:
            self.library_changed.emit()
        return back

    def _select(self, record_id: int) -> None:
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            if int(item.data(PHOTO, RecordRole)) == record_id:
                item.setSelected(True)

    def _say(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        palette = self.palette()
        if error:  # a red that reads on the light and the dark theme (BrightText is white in light)
            palette.setColor(QPalette.ColorRole.WindowText, ERROR_COLOR)
        self.message.setPalette(palette)

    # -- window -----------------------------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # Enter restores the whole selection; the tree alone would only "activate" the current row
        enter = (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        if watched is self.tree and event.type() == QEvent.Type.KeyPress and cast(QKeyEvent, event).key() in enter:
            self.restore_selected()
            return True
        return super().eventFilter(watched, event)

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self.tree.setFocus()


def _when(stamp: str) -> str:
    """Local time as trash records store it, to the minute: 2024-05-01T10:22:03 -> 2024-05-01 10:22."""
    return stamp.replace("T", " ")[:16]
