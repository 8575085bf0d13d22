"""Side-by-side compare of up to six photos of one duplicate cluster: the 1024 px thumbnails (the
full image, decoded off the GUI thread, only where no thumbnail exists), a facts grid aligned under
them with the values that differ between the shown photos highlighted, a keep/trash badge per photo
and synchronized zoom and pan across the views."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QPointF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPalette, QPixmap, QTransform
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from app.core.analysis.thumbnails import thumb_path
from app.core.catalog.roots import local_path
from app.gui.inspector import _size as human_size
from app.gui.thumbs import LARGE, ThumbnailCache
from app.gui.viewer import PhotoView, _Loader

MAX_SHOWN = 6  # beyond this the columns get too narrow to compare anything; the rest page in with ←/→
FIELDS = ("Pixels", "File size", "Format", "Taken", "Camera", "Folder", "File name", "Match")
DIFF_FIELDS = FIELDS[:-1]  # "Match" is relative to the keeper: it differs by construction
DIFF_BACKGROUND = QColor(255, 170, 0, 80)  # amber, translucent: reads on the light and dark palettes
KEEP_STYLE = "background:#2e7d32;color:white;border-radius:4px;padding:3px 8px;font-weight:bold"
TRASH_STYLE = "background:#b3261e;color:white;border-radius:4px;padding:3px 8px"
FOCUS_STYLE = "QFrame#member {border:2px solid palette(highlight);border-radius:4px}"
NO_FOCUS_STYLE = "QFrame#member {border:2px solid transparent;border-radius:4px}"


@dataclass
class MemberInfo:
    """What the compare grid shows of one photo (read from the catalog off the GUI thread)."""

    id: int
    path: str
    width: int
    height: int
    size: int
    format: str
    quality: int | None
    taken: str | None
    camera: str
    thumb_key: str | None
    sha256: str | None

    def facts(self) -> dict[str, str]:
        pixels = f"{self.width} × {self.height}  ({self.width * self.height / 1e6:.1f} MP)" if self.width else "unknown"
        fmt = (self.format or "unknown") + (f"  q{self.quality}" if self.quality else "")
        taken = self.taken.replace("T", " ")[:19] if self.taken else "unknown"
        path = Path(self.path)
        return {"Pixels": pixels, "File size": human_size(self.size), "Format": fmt, "Taken": taken,
                "Camera": self.camera or "none", "Folder": str(path.parent), "File name": path.name}  # fmt: skip


def differing(facts: Sequence[dict[str, str]], keeper: dict[str, str]) -> list[set[str]]:
    """Per photo, the fields whose value is not the keeper's (the keeper's own set is empty)."""
    return [{f for f in DIFF_FIELDS if row[f] != keeper[f]} for row in facts]


class FactLabel(QWidget):
    """One value of the grid: elided in the middle (paths keep both ends), the full text in the
    tooltip, on an amber background when it differs from the keeper's."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.text = ""
        self.differs = False
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)

    def set_value(self, text: str, differs: bool) -> None:
        self.text, self.differs = text, differs
        self.setToolTip(text + ("\n(not the same as the keeper)" if differs else ""))
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(120, self.fontMetrics().height() + 8)

    def minimumSizeHint(self) -> QSize:
        return QSize(20, self.sizeHint().height())

    def paintEvent(self, _event: object) -> None:
        painter = QPainter(self)
        font = QFont(self.font())
        if self.differs:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(DIFF_BACKGROUND)
            painter.drawRoundedRect(self.rect(), 3, 3)
            font.setBold(True)
        painter.setFont(font)
        painter.setPen(self.palette().color(self.foregroundRole()))
        inner = self.rect().adjusted(6, 0, -6, 0)
        shown = painter.fontMetrics().elidedText(self.text, Qt.TextElideMode.ElideMiddle, inner.width())
        painter.drawText(inner, int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft), shown)


class _MemberColumn:
    """The widgets of one compared photo: badge, framed view and one value per field."""

    def __init__(self) -> None:
        self.badge = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        self.badge.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.frame = QFrame(objectName="member")
        self.frame.setStyleSheet(NO_FOCUS_STYLE)
        self.view = PhotoView()
        self.view.setMinimumSize(120, 120)
        layout = QVBoxLayout(self.frame)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.view)
        self.values = {name: FactLabel() for name in FIELDS}
        self.photo_id: int | None = None

    def widgets(self) -> list[QWidget]:
        return [self.badge, self.frame, *self.values.values()]

    def set_visible(self, on: bool) -> None:
        for w in self.widgets():
            w.setVisible(on)


class ZoomSync(QObject):
    """Keeps the views on the same part of the photo: zoom as screen pixels per photo width and the
    center as a fraction of the photo, so a half-size copy shows the same detail as its original.
    Only what the user does is copied (wheel, drag, 100%); a view fitting itself after a resize is not."""

    def __init__(self, views: Sequence[PhotoView], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.views = list(views)
        self._busy = False
        for view in self.views:
            view.zoom_changed.connect(lambda _z, v=view: self.follow(v))
            view.horizontalScrollBar().valueChanged.connect(lambda _x, v=view: self.follow(v))
            view.verticalScrollBar().valueChanged.connect(lambda _y, v=view: self.follow(v))

    def follow(self, source: PhotoView) -> None:
        if self._busy or source.fit_mode or not source.isVisible() or source.sceneRect().isEmpty():
            return
        rect = source.sceneRect()
        center = source.mapToScene(source.viewport().rect().center())
        per_width = source.zoom() * rect.width()
        cx, cy = (center.x() - rect.x()) / rect.width(), (center.y() - rect.y()) / rect.height()
        self._busy = True  # moving the others fires their scroll bars: not a user action to copy back
        try:
            for view in self.views:
                target = view.sceneRect()
                if view is source or not view.isVisible() or target.isEmpty():
                    continue
                view.fit_mode = False
                scale = per_width / target.width()
                view.setTransform(QTransform.fromScale(scale, scale))
                view.centerOn(QPointF(target.x() + cx * target.width(), target.y() + cy * target.height()))
        finally:
            self._busy = False


class CompareView(QWidget):
    member_clicked = Signal(int)  # index into the members shown by show_members
    member_activated = Signal(int)  # double click: open it in the viewer

    def __init__(self, thumbs_dir: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.thumbs_dir = thumbs_dir
        # a cache of its own: the grid's LRU is sized for 320 px pixmaps, 1024 px ones would take GBs
        self.large = ThumbnailCache(thumbs_dir, threads=2, parent=self)
        self.large.ready.connect(self._thumb_ready)
        self.loader = _Loader()  # the full image, only for photos without a thumbnail
        self.loader.loaded.connect(self._full_loaded)
        self._full: dict[int, QPixmap] = {}
        self._loading: dict[int, int] = {}  # loader generation -> photo id
        self._generation = 0
        self._requested: set[int] = set()  # ids asked of `large`: what prefetch may forget
        self.members: list[MemberInfo] = []
        self.match: dict[int, str] = {}
        self.keeper: int | None = None
        self.focus = 0
        self.start = 0  # first member shown: clusters larger than MAX_SHOWN page with the focus

        self.header = QLabel(wordWrap=True, textFormat=Qt.TextFormat.RichText)
        self.header.setContentsMargins(4, 4, 4, 4)
        self.grid = grid = QGridLayout()
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(2)
        self.columns = [_MemberColumn() for _ in range(MAX_SHOWN)]
        grid.setRowStretch(1, 1)
        self.field_labels: dict[str, QLabel] = {}
        for row, name in enumerate(FIELDS, start=2):
            label = QLabel(name)
            label.setForegroundRole(QPalette.ColorRole.PlaceholderText)  # muted: the values are what counts
            self.field_labels[name] = label
            grid.addWidget(label, row, 0, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        for i, col in enumerate(self.columns, start=1):
            grid.addWidget(col.badge, 0, i)
            grid.addWidget(col.frame, 1, i)
            for row, name in enumerate(FIELDS, start=2):
                grid.addWidget(col.values[name], row, i)
            grid.setColumnStretch(i, 1)
            col.view.viewport().installEventFilter(self)
        self.sync = ZoomSync([c.view for c in self.columns], self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.addWidget(self.header)
        layout.addLayout(grid, 1)

    # -- content ----------------------------------------------------------------------------------
    def show_members(self, members: list[MemberInfo], keeper: int, match: dict[int, str], focus: int) -> None:
        same_photos = [m.id for m in members] == [m.id for m in self.members]
        self.members, self.keeper, self.match = members, keeper, match
        if not same_photos:
            self.start = 0
        self.set_focus(focus, refit=not same_photos)

    def set_focus(self, focus: int, refit: bool = False) -> None:
        self.focus = max(0, min(focus, len(self.members) - 1))
        start = min(self.start, self.focus)
        start = max(start, self.focus - MAX_SHOWN + 1)
        refit = refit or start != self.start
        self.start = start
        self._fill(refit)

    def shown(self) -> list[MemberInfo]:
        return self.members[self.start : self.start + MAX_SHOWN]

    def column_of(self, photo_id: int) -> _MemberColumn | None:
        return next((c for c in self.columns if c.photo_id == photo_id and c.frame.isVisible()), None)

    def _fill(self, refit: bool) -> None:
        shown = self.shown()
        facts = [m.facts() for m in shown]
        keeper = next((m for m in self.members if m.id == self.keeper), shown[0])  # may be paged out of view
        diff = differing(facts, keeper.facts())
        any_diff = set().union(*diff)
        for name, label in self.field_labels.items():
            font = label.font()
            font.setBold(name in any_diff)  # the rows worth reading stand out
            label.setFont(font)
        for i, col in enumerate(self.columns):
            self.grid.setColumnStretch(i + 1, int(i < len(shown)))  # empty columns would still take space
            if i >= len(shown):
                col.photo_id = None
                col.set_visible(False)
                continue
            member, row = shown[i], facts[i]
            changed = col.photo_id != member.id
            col.photo_id = member.id
            col.set_visible(True)
            for name in DIFF_FIELDS:
                col.values[name].set_value(row[name], name in diff[i])
            col.values["Match"].set_value(self.match.get(member.id, ""), False)
            keep = member.id == self.keeper
            col.badge.setText("★  KEEP" if keep else "TRASH")
            col.badge.setStyleSheet(KEEP_STYLE if keep else TRASH_STYLE)
            col.badge.setToolTip("kept" if keep else "goes to the system trash with D (Trash others)")
            col.frame.setStyleSheet(FOCUS_STYLE if self.start + i == self.focus else NO_FOCUS_STYLE)
            if changed or refit:
                col.view.fit_mode = True
                col.view.pixmap_item.setPixmap(QPixmap())
                self._show_image(col, member)

    # -- images -----------------------------------------------------------------------------------
    def _show_image(self, col: _MemberColumn, member: MemberInfo) -> None:
        pixmap = self._full.get(member.id)
        has_thumb = member.thumb_key and thumb_path(self.thumbs_dir, member.thumb_key, LARGE).exists()
        if pixmap is None and has_thumb:
            self._requested.add(member.id)
            pixmap = self.large.get(member.id, member.thumb_key, LARGE)  # None: `ready` brings it
        elif pixmap is None and member.id not in self._loading.values():
            self._generation += 1
            self._loading[self._generation] = member.id
            self.loader.load(self._generation, local_path(member.path))
        if pixmap is not None:
            col.view.set_pixmap(pixmap, member.width or pixmap.width())

    def prefetch(self, members: Sequence[MemberInfo]) -> None:
        """Queue the next cluster's thumbnails and drop everything else: memory stays at two clusters."""
        keep = {m.id for m in self.members} | {m.id for m in members}
        for pid in self._requested - keep:
            self.large.forget(pid)
        self._requested &= keep
        for pid in set(self._full) - keep:
            del self._full[pid]
        for m in members[:MAX_SHOWN]:
            if m.thumb_key:
                self._requested.add(m.id)
                self.large.get(m.id, m.thumb_key, LARGE)

    def _thumb_ready(self, photo_id: int) -> None:
        col = self.column_of(photo_id)
        member = next((m for m in self.shown() if m.id == photo_id), None)
        if col is not None and member is not None:
            self._show_image(col, member)

    def _full_loaded(self, generation: int, image: QImage | None, _error: str) -> None:
        photo_id = self._loading.pop(generation, None)
        if photo_id is None or image is None:
            return
        self._full[photo_id] = QPixmap.fromImage(image)
        self._thumb_ready(photo_id)

    def fit_all(self) -> None:
        for col in self.columns:
            if col.frame.isVisible():
                col.view.fit()

    def actual_size(self) -> None:
        """100% on the focused photo; the others follow at the same detail."""
        col = self.columns[self.focus - self.start]
        col.view.actual_size()

    def close_loaders(self) -> None:
        self.large.close()
        self._loading.clear()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind in (QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonDblClick):
            index = next((i for i, c in enumerate(self.columns) if c.view.viewport() is obj), None)
            if index is not None and index < len(self.shown()):
                signal = self.member_clicked if kind == QEvent.Type.MouseButtonPress else self.member_activated
                signal.emit(self.start + index)
        return False  # the view still pans on drag
