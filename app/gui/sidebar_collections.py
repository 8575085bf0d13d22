"""The sidebar's Collections section (sets, collections and smart collections with their counts, the
target collection marked "+" as in Lightroom) and the hints that tell what fills an empty section."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QTreeWidgetItem

from app.core import collections

ManualRole = Qt.ItemDataRole.UserRole + 3  # True on collections photos can be put into by hand
# (short text that fits the sidebar, the whole story in its tooltip)
EMPTY_HINTS = {
    "Collections": (
        "New: Ctrl+N, then drag photos in",
        "Collection > New Collection… (Ctrl+N), then drag photos "
        "onto it, or select photos and press B to add them to the target collection",
    ),
    "Folders": ("Import a folder: Ctrl+I", "File > Import Folder… (Ctrl+I), or drop a folder on the window"),
    "Tags": (
        "Filled in as photos are analyzed",
        "The offline tagger tags photos as they are analyzed; add your own tags with Ctrl+T",
    ),
    "Cameras": ("From the photos' EXIF", "Cameras are read from the photos' EXIF when they are imported"),
    "Dates": ("From when photos were taken", "Years and months from the photos' capture dates"),
    "People": ("Photos with faces, once analyzed", "Photos by number of faces found by the analysis"),
}
_ICONS = {collections.SET: "▸ ", collections.SMART: "⚙ ", collections.COLLECTION: ""}


def fill(sidebar: Any, section: QTreeWidgetItem, target: int | None) -> None:
    """One entry per collection, nested under its set; clicking one shows its photos."""
    items: dict[int, QTreeWidgetItem] = {}
    for info in collections.listing():
        parent = items.get(info.parent_id or -1, section)
        label = ("+ " if info.id == target else "") + _ICONS[info.kind] + info.name  # "+" first: long names elide
        kind = "collection_set" if info.kind == collections.SET else "collection"
        item = sidebar._entry(parent, label, info.count, kind, info.id)
        item.setData(0, ManualRole, info.kind == collections.COLLECTION)
        item.setToolTip(0, _tooltip(info, target))
        if info.kind == collections.SET:
            item.setExpanded(True)
        items[info.id] = item


def _tooltip(info: collections.CollectionInfo, target: int | None) -> str:
    if info.kind == collections.SET:
        return f"{info.path}: a collection set"
    if info.kind == collections.SMART:
        return f"{info.path}: a smart collection, live as the library changes (right-click to edit)"
    mark = "\nThe target collection: B adds the selected photos" if info.id == target else ""
    return f"{info.path}: drop photos here to add them{mark}"


def hint(section: QTreeWidgetItem, texts: tuple[str, str], color: QColor) -> None:
    """A muted line in an empty section saying what fills it (not selectable), more in its tooltip."""
    text, tip = texts
    item = QTreeWidgetItem(section, [text])
    item.setFlags(Qt.ItemFlag.NoItemFlags)
    item.setForeground(0, color)
    font = item.font(0)
    font.setItalic(True)
    item.setFont(0, font)
    item.setToolTip(0, tip)
    item.setFirstColumnSpanned(True)
