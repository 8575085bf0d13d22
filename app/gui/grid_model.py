"""The grid's model: holds the ids a Filter matches and reads row details lazily, a page at a
time, so a 100k-photo library opens as fast as a 100-photo one.

In "similar" mode the rows are the photo Find Similar started from, then its most similar photos
in similarity order; the filter still narrows them, its sort order does not apply."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractListModel, QMimeData, QModelIndex, QPersistentModelIndex, Qt, QTimer, Signal

from app.core.catalog import queries
from app.core.catalog.models import Photo
from app.core.catalog.queries import Filter
from app.core.catalog.roots import local_path

PAGE = 256
PhotoRole = Qt.ItemDataRole.UserRole + 1

Index = QModelIndex | QPersistentModelIndex


@dataclass
class RowInfo:
    id: int
    filename: str
    path: str
    status: str
    error: str | None
    thumb_key: str | None
    face_count: int | None
    width: int | None
    height: int | None
    taken_at: str | None
    rating: int | None
    picked: bool = False
    label: str | None = None
    duplicate: bool = False


_FIELDS = (
    Photo.id,
    Photo.filename,
    Photo.path,
    Photo.status,
    Photo.error,
    Photo.thumb_key,
    Photo.face_count,
    Photo.width,
    Photo.height,
    Photo.taken_at,
    Photo.rating,
    Photo.picked,
    Photo.label,
)
PHOTO_IDS_MIME = "application/x-tessera-photo-ids"  # dragged photos: their ids, one a line


def photo_ids_mime(ids: list[int]) -> QMimeData:
    data = QMimeData()
    data.setData(PHOTO_IDS_MIME, "\n".join(map(str, ids)).encode())
    return data


def ids_from_mime(data: QMimeData) -> list[int]:
    if not data.hasFormat(PHOTO_IDS_MIME):
        return []
    text = bytes(data.data(PHOTO_IDS_MIME).data()).decode(errors="replace")
    return [int(x) for x in text.split() if x.isdigit()]


class PhotoListModel(QAbstractListModel):
    # photos dropped on the grid before the photo `before` (None: at the end), while it shows a
    # collection in its own order: the main window moves them there
    reorder_requested = Signal(list, object)

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.filter = Filter()
        self._ids: list[int] = []
        self._row_of: dict[int, int] = {}
        self._rows: dict[int, RowInfo] = {}
        self.duplicate_ids: set[int] = set()
        self.similar_to: int | None = None
        self._similarity: dict[int, float] = {}  # photo id -> cosine, in rank order

    # -- contents ---------------------------------------------------------------------------------
    def set_filter(self, f: Filter) -> None:
        self.filter = f
        self.reload()

    def set_similar(self, photo_id: int, hits: list[tuple[int, float]]) -> None:
        """Show `photo_id` and `hits` [(photo id, similarity)], best first."""
        self.similar_to = photo_id
        self._similarity = {photo_id: 1.0, **dict(hits)}
        self.reload()

    def clear_similar(self) -> None:
        self.similar_to = None
        self._similarity = {}
        self.reload()

    def similarity(self, photo_id: int) -> float | None:
        return self._similarity.get(photo_id) if self.similar_to is not None else None

    def _matching_ids(self) -> list[int]:
        if self.similar_to is None:
            return queries.search_ids(self.filter)
        allowed = set(queries.search_ids(self.filter.with_(photo_ids=tuple(self._similarity))))
        return [pid for pid in self._similarity if pid in allowed]

    def reload(self) -> None:
        self.beginResetModel()
        self._ids = self._matching_ids()
        self._row_of = {pid: row for row, pid in enumerate(self._ids)}
        self._rows.clear()
        self.endResetModel()

    def refresh_rows(self) -> None:
        """Re-read details of the rows (thumbnails and faces arrive while analysis runs), keeping
        the selection; picks up new photos only when the ids changed."""
        ids = self._matching_ids()
        if ids != self._ids:
            self.reload()
            return
        self._rows.clear()
        if self._ids:
            self.dataChanged.emit(self.index(0), self.index(len(self._ids) - 1))

    def ids(self) -> list[int]:
        return list(self._ids)

    def photo_id(self, row: int) -> int:
        return self._ids[row]

    def row_of(self, photo_id: int) -> int | None:
        return self._row_of.get(photo_id)

    def info(self, row: int) -> RowInfo:
        pid = self._ids[row]
        info = self._rows.get(pid)
        if info is None:
            self._load_page(row)
            info = self._rows[pid]
        return info

    def photo_changed(self, photo_id: int) -> None:
        row = self._row_of.get(photo_id)
        if row is not None:
            idx = self.index(row)
            self.dataChanged.emit(idx, idx)

    def _load_page(self, row: int) -> None:
        start = row - row % PAGE
        page = self._ids[start : start + PAGE]
        found = {r[0]: r for r in Photo.select(*_FIELDS).where(Photo.id.in_(page)).tuples()}
        for pid in page:
            r = found.get(pid)
            if r is None:  # removed since the ids were read: show as missing until the next reload
                self._rows[pid] = RowInfo(pid, "(removed)", "", "missing", *(None,) * 7)
            else:
                self._rows[pid] = RowInfo(*r, duplicate=pid in self.duplicate_ids)

    # -- drag and drop: photos into collections (the sidebar), and in a collection's own order ------
    def by_hand(self) -> bool:
        """Whether the rows are a collection in its own order (dragging them reorders it)."""
        return self.filter.collection is not None and self.filter.sort == "manual" and self.similar_to is None

    def flags(self, index: Index) -> Qt.ItemFlag:
        flags = super().flags(index)
        if index.isValid():
            flags |= Qt.ItemFlag.ItemIsDragEnabled
        if self.by_hand():
            flags |= Qt.ItemFlag.ItemIsDropEnabled
        return flags

    def mimeTypes(self) -> list[str]:
        return [PHOTO_IDS_MIME]

    def mimeData(self, indexes: list[QModelIndex]) -> QMimeData:  # type: ignore[override]
        return photo_ids_mime([self._ids[i.row()] for i in sorted(indexes, key=lambda i: i.row()) if i.isValid()])

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.CopyAction | Qt.DropAction.MoveAction

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction | Qt.DropAction.CopyAction

    def canDropMimeData(self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: Index) -> bool:
        return self.by_hand() and bool(ids_from_mime(data))

    def dropMimeData(self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: Index) -> bool:
        ids = ids_from_mime(data)
        if not (self.by_hand() and ids):
            return False
        at = parent.row() if parent.isValid() else row  # on a photo: before it; between: that row
        before = self._ids[at] if 0 <= at < len(self._ids) else None
        # once the view is done with the drop: reordering reloads the model, which must not happen under it
        QTimer.singleShot(0, lambda: self.reorder_requested.emit(ids, before))
        return True

    # -- Qt ---------------------------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's own signature
        return 0 if parent.isValid() else len(self._ids)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        if role == PhotoRole:
            return self.info(index.row())
        if role == Qt.ItemDataRole.DisplayRole:
            return self.info(index.row()).filename
        if role == Qt.ItemDataRole.ToolTipRole:
            info = self.info(index.row())
            lines = [local_path(info.path)]
            if info.width:
                lines.append(f"{info.width}×{info.height}")
            if info.taken_at:
                lines.append(info.taken_at.replace("T", " "))
            if info.error:
                lines.append(f"Error: {info.error}")
            score = self.similarity(info.id)
            if score is not None and info.id != self.similar_to:
                lines.append(f"Similarity: {score:.0%}")
            return "\n".join(lines)
        return None
