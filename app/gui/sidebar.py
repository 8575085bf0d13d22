"""The sidebar: Library, Collections, Folders, Tags, Colors, Cameras, Places, Timeline, People and
Duplicates, with counts. Clicking an entry tells the main window what to filter by; the sidebar
itself filters nothing."""

from __future__ import annotations

import calendar
from typing import Any

from PySide6.QtCore import QEvent, QPoint, Qt, Signal
from PySide6.QtGui import QColor, QContextMenuEvent, QDragMoveEvent, QDropEvent, QPalette
from PySide6.QtWidgets import QHeaderView, QTreeWidget, QTreeWidgetItem, QWidget

from app.core.catalog import facets, timeline
from app.core.catalog.models import OK, Photo
from app.core.catalog.people import person_summaries
from app.core.catalog.places import PlaceNode, children_sorted, place_tree
from app.core.palette import PALETTE
from app.gui import sidebar_collections
from app.gui.grid_model import ids_from_mime
from app.gui.swatch import chip_icon

KindRole = Qt.ItemDataRole.UserRole + 1
ValueRole = Qt.ItemDataRole.UserRole + 2
COLOR_SHARE = 20.0  # a color entry lists photos that are at least this much of the color
SIDEBAR_GROUPS = 12  # unnamed groups listed under People, largest first (the People window has all)


class Sidebar(QTreeWidget):
    # (kind, value): all | collection | folder | tag | color | camera | place | date | faces | person
    # | people | duplicates
    picked = Signal(str, object)
    photos_dropped = Signal(int, list)  # (collection id, photo ids) dragged from the grid onto a collection
    menu_requested = Signal(object, QPoint)  # (collection id or None, global position): the Collections menu

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setHeaderHidden(True)
        self.setColumnCount(2)
        self.setIndentation(14)
        self.setUniformRowHeights(True)
        # names take the width; counts ("42 · 87%") only what they need
        self.header().setStretchLastSection(False)
        self.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.header().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.setMinimumWidth(220)
        self.itemClicked.connect(self._clicked)
        self.itemActivated.connect(self._clicked)
        self.sections: dict[str, QTreeWidgetItem] = {}
        self.setAcceptDrops(True)
        self.viewport().setAcceptDrops(True)
        self.setDropIndicatorShown(True)
        self.target_collection: int | None = None  # marked "+": where B adds photos

    def refresh(self, duplicate_clusters: int | None = None) -> None:
        expanded = {name for name, item in self.sections.items() if item.isExpanded()} or {
            "Collections",
            "Folders",
            "Tags",
            "Colors",
            "People",
        }
        self.clear()
        self.sections = {}
        total = Photo.select().where(Photo.status == OK).count()
        self._entry(self.invisibleRootItem(), "All photos", total, "all", None)
        sidebar_collections.fill(self, self._section("Collections"), self.target_collection)
        folders = self._section("Folders")
        for node in facets.folder_tree():
            self._add_folder(folders, node)
        self._add_tags(self._section("Tags"))
        colors = self._section("Colors")
        counts = facets.color_counts(COLOR_SHARE)
        for name in PALETTE:
            item = self._entry(colors, name, counts.get(name, 0), "color", name)
            item.setIcon(0, chip_icon(name))
            item.setToolTip(0, f"photos that are at least {COLOR_SHARE:.0f}% {name}")
        cameras = self._section("Cameras")
        for name, n in facets.camera_counts():
            self._entry(cameras, name, n, "camera", name)
        places = self._section("Places")
        for node in place_tree():
            self._add_place(places, node)
        self._add_timeline(self._section("Timeline"))
        self._add_people(self._section("People"))
        dup_label = "Duplicates" if duplicate_clusters is None else f"Duplicates ({duplicate_clusters} clusters)"
        self._entry(self.invisibleRootItem(), dup_label, None, "duplicates", None)
        for name, item in self.sections.items():
            if item.childCount() == 0 and name in sidebar_collections.EMPTY_HINTS:
                sidebar_collections.hint(item, sidebar_collections.EMPTY_HINTS[name], self._muted())
            item.setExpanded(name in expanded)

    def _add_place(self, parent: QTreeWidgetItem, node: PlaceNode) -> None:
        unknown = ("Unknown region", "Unknown city")[len(node.path) - 2] if len(node.path) > 1 else "Unknown"
        item = self._entry(parent, node.name or unknown, node.count, "place", node.path)
        item.setToolTip(0, " › ".join(p or "?" for p in node.path))
        for child in children_sorted(node):
            self._add_place(item, child)

    def _add_timeline(self, section: QTreeWidgetItem) -> None:
        """Years > months > days, newest first, each a date range for the filter."""
        for year, months in timeline.nested(timeline.day_counts()).items():
            y = self._entry(section, year, sum(n for days in months.values() for _, n in days), "date", (year, year))
            for ym, days in months.items():
                name = calendar.month_name[int(ym[5:7])]
                m = self._entry(y, name, sum(n for _, n in days), "date", (ym, ym))
                m.setToolTip(0, f"{name} {year}")
                for day, n in days:
                    weekday = calendar.day_abbr[calendar.weekday(int(day[:4]), int(day[5:7]), int(day[8:]))]
                    self._entry(m, f"{weekday} {int(day[8:])}", n, "date", (day, day)).setToolTip(0, day)

    def _add_tags(self, section: QTreeWidgetItem) -> None:
        section.setToolTip(0, "Count · mean confidence of the automatic tags. Italic: only applied automatically")
        summaries = facets.tag_summaries()
        parent_of = facets.tag_tree([t.name for t in summaries])
        items: dict[str, QTreeWidgetItem] = {}
        for t in summaries:
            count = f"{t.photos:,}" if t.mean_confidence is None else f"{t.photos:,} · {t.mean_confidence:.0%}"
            item = items[t.name] = self._entry(None, t.name, None, "tag", t.name)
            item.setText(1, count)
            item.setToolTip(0, _tag_tooltip(t))
            item.setToolTip(1, item.toolTip(0))
            if t.auto_only:  # the tagger's guesses look different from what a person said
                font = item.font(0)
                font.setItalic(True)
                item.setFont(0, font)
                for column in (0, 1):
                    item.setForeground(column, self._muted())
        for t in summaries:  # nested under the narrowest parent tag present ("retriever" in "dog")
            parent = items.get(parent_of.get(t.name, ""), section)
            parent.addChild(items[t.name])

    def _add_people(self, section: QTreeWidgetItem) -> None:
        """Named persons with their photos, then the largest unnamed groups with their faces, then the
        People window and the photos by number of faces."""
        summaries = person_summaries()
        groups = [s for s in summaries if s.name is None]
        for s in summaries:
            if s.name is not None:
                item = self._entry(section, s.name, s.photos, "person", s.id)
                item.setToolTip(
                    0, f"{s.name}: {s.photos:,} photos" + (f", {s.suggested} to confirm" if s.suggested else "")
                )
        for s in groups[:SIDEBAR_GROUPS]:
            item = self._entry(section, s.label, s.faces, "person", s.id)
            item.setToolTip(0, f"{s.faces} faces that look alike, not named yet: name them in the People window")
            item.setForeground(0, self._muted())
        more = f" ({len(groups) - SIDEBAR_GROUPS} more groups)" if len(groups) > SIDEBAR_GROUPS else ""
        self._entry(section, f"Name people…{more}", None, "people", None)
        buckets = self._entry(section, "By number of faces", None, "", None)
        for label, low, high, n in facets.face_bucket_counts():
            self._entry(buckets, label, n, "faces", (low, high))

    def _muted(self) -> QColor:
        """Text color a third of the way to the background: quieter but readable in both themes."""
        text, base = self.palette().color(QPalette.ColorRole.Text), self.palette().color(QPalette.ColorRole.Base)
        mix = [round(a * 0.68 + b * 0.32) for a, b in zip(text.getRgb()[:3], base.getRgb()[:3], strict=True)]
        return QColor(*mix)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and self.sections:
            self.refresh()  # the muted tag color follows a theme switch

    def _section(self, title: str) -> QTreeWidgetItem:
        item = QTreeWidgetItem(self.invisibleRootItem(), [title])
        font = item.font(0)
        font.setBold(True)
        item.setFont(0, font)
        item.setFlags(Qt.ItemFlag.ItemIsEnabled)
        self.sections[title] = item
        return item

    def _entry(
        self, parent: QTreeWidgetItem | None, label: str, count: int | None, kind: str, value: Any
    ) -> QTreeWidgetItem:
        texts = [label, "" if count is None else f"{count:,}"]
        item = QTreeWidgetItem(texts) if parent is None else QTreeWidgetItem(parent, texts)
        item.setData(0, KindRole, kind)
        item.setData(0, ValueRole, value)
        item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return item

    def _add_folder(self, parent: QTreeWidgetItem, node: facets.FolderNode) -> None:
        item = self._entry(parent, node.name, node.total, "folder", node.path)
        item.setToolTip(0, node.path)
        for child in sorted(node.children.values(), key=lambda c: c.name.lower()):
            self._add_folder(item, child)

    def find(self, kind: str, value: Any) -> QTreeWidgetItem | None:
        for item in self._walk(self.invisibleRootItem()):
            if item.data(0, KindRole) == kind and item.data(0, ValueRole) == value:
                return item
        return None

    def _walk(self, item: QTreeWidgetItem):  # -> Iterator[QTreeWidgetItem]
        for i in range(item.childCount()):
            child = item.child(i)
            yield child
            yield from self._walk(child)

    # -- collections: drop photos on one, and its menu ----------------------------------------------
    def refresh_collections(self) -> None:
        """Only the Collections section: after a collection edit, without recounting the whole library."""
        section = self.sections.get("Collections")
        if section is None:
            self.refresh()
            return
        section.takeChildren()
        sidebar_collections.fill(self, section, self.target_collection)
        if section.childCount() == 0:
            sidebar_collections.hint(section, sidebar_collections.EMPTY_HINTS["Collections"], self._muted())

    def collection_at(self, pos: QPoint) -> int | None:
        """The manual collection under `pos` (viewport coordinates), the one photos can be dropped on."""
        item = self.itemAt(pos)
        if item is None or item.data(0, KindRole) != "collection":
            return None
        return item.data(0, ValueRole) if item.data(0, sidebar_collections.ManualRole) else None

    def dragEnterEvent(self, event: QDragMoveEvent) -> None:  # type: ignore[override]
        if ids_from_mime(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if ids_from_mime(event.mimeData()) and self.collection_at(event.position().toPoint()) is not None:
            event.setDropAction(Qt.DropAction.CopyAction)
            event.accept()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        ids = ids_from_mime(event.mimeData())
        target = self.collection_at(event.position().toPoint())
        if ids and target is not None:
            event.setDropAction(Qt.DropAction.CopyAction)
            event.accept()
            self.photos_dropped.emit(target, ids)
        else:
            event.ignore()

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        item = self.itemAt(event.pos())
        in_collections = item is not None and (
            item is self.sections.get("Collections") or item.data(0, KindRole) in ("collection", "collection_set")
        )
        if in_collections:
            value = item.data(0, ValueRole) if item.data(0, KindRole) else None  # type: ignore[union-attr]
            self.menu_requested.emit(value, event.globalPos())

    def _clicked(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        kind = item.data(0, KindRole)
        if kind:
            self.picked.emit(kind, item.data(0, ValueRole))


def _tag_tooltip(t: facets.TagSummary) -> str:
    lines = [f"{t.name}: {t.photos:,} photo{'s' if t.photos != 1 else ''}"]
    if t.mine:
        lines.append(f"{t.mine:,} tagged by you or in the files' keywords")
    if t.auto:
        lines.append(f"{t.auto:,} tagged automatically")
    if t.mean_confidence is not None:
        lines.append(f"confidence: mean {t.mean_confidence:.0%}, from {t.min_confidence:.0%} to {t.max_confidence:.0%}")
    return "\n".join(lines)
