"""The duplicates review window: clusters on the left (photos, tier, space to reclaim), the chosen
cluster compared side by side on the right, driven from the keyboard. The engine and the catalog
calls are the CLI's (`tessera dupes`): find_clusters over duplicates.load() and the edited tier's
links (find_duplicates.library_links), mark_not_duplicates, trash.trash_photos. Loading, the edited
tier's checks (cached in the catalog; a first run shows their progress) and clustering run on a
background thread; the hashes and links are loaded once and re-clustered when the threshold moves.
Nothing is ever deleted: "trash others" moves files to the system trash after a dry-run summary,
and Undo puts them back."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QEvent, QModelIndex, QObject, QPersistentModelIndex, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QColor, QFont, QKeyEvent, QKeySequence, QPainter, QPalette, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QSlider,
    QSplitter,
    QStackedWidget,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from app.core import dupes, find_duplicates, trash
from app.core.catalog import duplicates
from app.core.catalog.facets import camera_name
from app.core.catalog.models import Photo, TrashRecord, db
from app.core.edited_links import CROP_COVER, EditedLinks, Transform, transform
from app.gui.bridge import JobRunner
from app.gui.compare_view import CompareView, MemberInfo, Region
from app.gui.inspector import _size as human_size
from app.gui.thumbs import SMALL, ThumbnailCache
from app.gui.viewer import Viewer

RECLUSTER_DELAY_MS = 150  # the slider re-clusters once it rests, not at every step of a drag
ROW_HEIGHT, ROW_THUMB = 64, 52
ClusterRole = Qt.ItemDataRole.UserRole + 1
TIER_COLORS = {dupes.EXACT: QColor("#1f7a4d"), dupes.SIMILAR: QColor("#3d5a99"), dupes.EDITED: QColor("#8a4fbf")}
TIER_CHOICES = {  # the tier menu: its key, what it says, the tiers it clusters with
    "all": ("Exact, similar and edited copies", find_duplicates.DEFAULT_TIERS),
    dupes.SIMILAR: ("Exact and similar", (dupes.EXACT, dupes.SIMILAR)),
    dupes.EDITED: ("Edited copies: crops, watermarks, colour", (dupes.EXACT, dupes.EDITED)),
    dupes.EXACT: ("Exact copies only", (dupes.EXACT,)),
}
HINTS = ("↑↓ cluster    ←→ photo    K keep this one    D trash the others    N not duplicates    "
         "⏎ open    F fit    [ ] threshold")  # fmt: skip
_IN_CHUNK = 900  # ids per IN (...) query: below SQLite's variable limit


@dataclass(frozen=True)
class Settings:
    tiers: tuple[str, ...] = find_duplicates.DEFAULT_TIERS
    threshold: int = dupes.DEFAULT_THRESHOLD
    rotations: bool = True

    @property
    def edited(self) -> bool:
        return dupes.EDITED in self.tiers


@dataclass
class Snapshot:
    """The catalog's hashes, keeper facts and (when asked for) the edited tier's links as of one load:
    re-clustered without re-reading."""

    hashes: dupes.HashSet
    facts: dict[int, dupes.PhotoFacts]
    sha: dict[int, str]
    edited: EditedLinks | None = None
    index_of: dict[int, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.index_of = {pid: i for i, pid in enumerate(self.hashes.ids.tolist())}

    @classmethod
    def load(cls, lib: Any, settings: Settings, progress: Any, cancelled: Any) -> Snapshot:
        hashes, facts, sha = duplicates.load()
        links = find_duplicates.library_links(lib, facts, sha, settings.tiers, progress=progress, cancelled=cancelled)
        return cls(hashes, facts, sha, links)

    def without(self, photo_ids: Iterable[int]) -> Snapshot:
        """The same photos minus some (trashed): cheaper than loading 100k rows again."""
        gone = set(photo_ids)
        keep = ~np.isin(self.hashes.ids, list(gone))
        h = self.hashes
        hashes = dupes.HashSet(h.ids[keep], h.orient[keep], None if h.detail is None else h.detail[keep],
                               None if h.lightness is None else h.lightness[keep])  # fmt: skip
        return Snapshot(hashes, {k: v for k, v in self.facts.items() if k not in gone},
                        {k: v for k, v in self.sha.items() if k not in gone}, self.edited)  # fmt: skip

    def clusters(self, s: Settings, not_duplicates: list[tuple[int, int]]) -> list[dupes.Cluster]:
        return dupes.find_clusters(
            self.hashes, self.facts, self.sha, tiers=s.tiers, threshold=s.threshold, rotations=s.rotations,
            not_duplicates=not_duplicates, edited=self.edited,
        )  # fmt: skip

    def distances(self, keeper: int, others: list[int], rotations: bool) -> list[int]:
        """Bits between the keeper and each photo (the engine's measure, orientations included)."""
        k = self.index_of[keeper]
        pairs = np.array([[k, self.index_of[o]] for o in others], dtype=np.int64).reshape(-1, 2)
        return [int(d) for d in dupes.pair_distance(self.hashes, pairs, rotations)]

    def geometry(self, keeper: int, member: int) -> Transform | None:
        """Where `member` lies on `keeper`, when the edited tier matched the two."""
        link = self.edited.get(keeper, member) if self.edited is not None else None
        if link is None:
            return None
        return transform(link, keeper, self.facts[keeper].size_px, self.facts[member].size_px)


def match_text(bits: int, geometry: Transform | None, threshold: int) -> str:
    """The compare grid's "Match" row for a member, most telling first (a narrow column elides the
    middle; the tooltip has it all): the edit when the edited tier matched it, how alike by pHash."""
    alike = f"{dupes.Member(0, bits).similarity:.1%} alike · {bits} bits apart"
    if geometry is None or (not geometry.edits and bits <= threshold):
        return alike
    edit = ", ".join(geometry.edits) or "same picture"
    if geometry.is_crop:
        edit += f", {geometry.keeper_cover:.0%} of the keeper"
    return f"edited: {edit}" if bits > threshold else f"{edit} · {alike}"


def member_infos(photo_ids: Iterable[int]) -> dict[int, MemberInfo]:
    ids = sorted(set(photo_ids))
    out: dict[int, MemberInfo] = {}
    for lo in range(0, len(ids), _IN_CHUNK):
        q = Photo.select(Photo.id, Photo.path, Photo.width, Photo.height, Photo.size, Photo.format, Photo.jpeg_quality,
                         Photo.taken_at, Photo.make, Photo.model, Photo.thumb_key, Photo.sha256)  # fmt: skip
        for p in q.where(Photo.id.in_(ids[lo : lo + _IN_CHUNK])).namedtuples():
            out[p.id] = MemberInfo(p.id, p.path, p.width or 0, p.height or 0, p.size or 0, p.format or "",
                                   p.jpeg_quality, p.taken_at, camera_name(p.make, p.model), p.thumb_key,
                                   p.sha256)  # fmt: skip
    return out


@dataclass
class TrashPlan:
    """The dry run shown before anything moves."""

    keeper: str
    files: list[tuple[str, int]]  # (path, bytes)

    @property
    def total(self) -> int:
        return sum(size for _, size in self.files)


def confirm_trash(parent: QWidget, plan: TrashPlan) -> bool:
    """The dry-run summary; only an explicit "Move to Trash" goes on (Cancel is the default)."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Trash the other copies")
    n = len(plan.files)
    box.setText(f"Move {n} file{'s' * (n != 1)} ({human_size(plan.total)}) to the system trash?")
    listed = "\n".join(f"  •  {Path(p).name}   {human_size(s)}" for p, s in plan.files[:10])
    more = f"\n  … and {n - 10} more (see details)" if n > 10 else ""
    box.setInformativeText(
        f"Keeping  {Path(plan.keeper).name}\n\nTo the trash:\n{listed}{more}\n\n"
        "Nothing is deleted: the files go to the system trash. Undo here, restore them later with "
        "File > Trashed Photos…, or run `tessera untrash`."
    )
    box.setDetailedText("\n".join(f"{p}  ({s:,} bytes)" for p, s in plan.files))
    go = box.addButton("Move to Trash", QMessageBox.ButtonRole.AcceptRole)
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(cancel)
    box.exec()
    return box.clickedButton() is go


class ClusterDelegate(QStyledItemDelegate):
    """A cluster row: the keeper's thumbnail, photo count, tier pill, space to reclaim, keeper name."""

    def __init__(self, thumbs: ThumbnailCache, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.thumbs = thumbs

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        return QSize(240, ROW_HEIGHT)

    def paint(
        self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        row: dict[str, Any] = index.data(ClusterRole)
        style = option.widget.style() if option.widget else QApplication.style()
        style.drawPrimitive(QStyle.PrimitiveElement.PE_PanelItemViewItem, option, painter, option.widget)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        pal = option.palette
        text = pal.highlightedText().color() if selected else pal.text().color()
        muted = QColor(text)
        muted.setAlphaF(0.7)
        r = option.rect.adjusted(6, 6, -8, -6)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        thumb_rect = QRect(r.left(), r.top(), ROW_THUMB, ROW_THUMB)
        pixmap = self.thumbs.get(row["keeper"], row["thumb_key"], SMALL)
        if pixmap is None:
            painter.fillRect(thumb_rect, pal.alternateBase())
        else:
            scaled = pixmap.scaled(thumb_rect.size(), Qt.AspectRatioMode.KeepAspectRatio,
                                   Qt.TransformationMode.SmoothTransformation)  # fmt: skip
            painter.drawPixmap(thumb_rect.center().x() - scaled.width() // 2 + 1,
                               thumb_rect.center().y() - scaled.height() // 2 + 1, scaled)  # fmt: skip
        x = thumb_rect.right() + 10
        line = painter.fontMetrics().height()
        bold = QFont(option.font)
        bold.setBold(True)
        painter.setFont(bold)
        painter.setPen(text)
        title = f"{row['count']} photos"
        painter.drawText(QRect(x, r.top(), r.right() - x, line), int(Qt.AlignmentFlag.AlignLeft), title)
        # tier pill after the title
        small = QFont(option.font)
        small.setPointSizeF(max(6.0, option.font.pointSizeF() * 0.8))
        pill_x = x + painter.fontMetrics().horizontalAdvance(title) + 8
        painter.setFont(small)
        tier = row["tier"].upper()
        pill = QRect(pill_x, r.top() + 1, painter.fontMetrics().horizontalAdvance(tier) + 10, line - 2)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(TIER_COLORS.get(row["tier"], QColor("#666")))
        painter.drawRoundedRect(pill, 4, 4)
        painter.setPen(QColor("white"))
        painter.drawText(pill, int(Qt.AlignmentFlag.AlignCenter), tier)
        painter.setFont(option.font)
        painter.setPen(text)
        painter.drawText(QRect(x, r.top() + line + 2, r.right() - x, line), int(Qt.AlignmentFlag.AlignLeft),
                         f"{human_size(row['reclaim'])} to reclaim")  # fmt: skip
        painter.setPen(muted)
        name = painter.fontMetrics().elidedText(row["name"], Qt.TextElideMode.ElideMiddle, r.right() - x)
        painter.drawText(QRect(x, r.top() + 2 * line + 4, r.right() - x, line), int(Qt.AlignmentFlag.AlignLeft), name)
        painter.restore()


class DupesWindow(QWidget):
    clusters_changed = Signal()  # the list now shows the clusters for the current settings
    library_changed = Signal()  # photos were trashed or restored: the main window refreshes

    def __init__(self, lib: Any, thumbs: ThumbnailCache, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setWindowTitle("Review Duplicates — Tessera")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)  # its loader threads stop with it
        self.lib = lib
        self.thumbs = thumbs
        self.runner = JobRunner(self)
        self.snapshot: Snapshot | None = None
        self.not_duplicates: list[tuple[int, int]] = []
        self.infos: dict[int, MemberInfo] = {}
        self.clusters: list[dupes.Cluster] = []
        self.keepers: dict[int, int] = {}  # cluster id -> the photo the user chose to keep
        self.focus = 0
        self.last_trashed: list[int] = []
        self._reload_wanted = True
        self._stale = False  # settings or decisions changed while a job ran: run again
        self._loaded_once = False
        self.viewer: Viewer | None = None

        self.summary = QLabel()
        font = self.summary.font()
        font.setPointSizeF(font.pointSizeF() * 1.15)
        font.setBold(True)
        self.summary.setFont(font)
        self.tier_combo = QComboBox()
        for key, (text, _tiers) in TIER_CHOICES.items():
            self.tier_combo.addItem(text, key)
        self.slider = QSlider(Qt.Orientation.Horizontal, minimum=0, maximum=dupes.MAX_THRESHOLD)
        self.slider.setValue(dupes.DEFAULT_THRESHOLD)
        self.slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.slider.setTickInterval(2)
        self.slider.setFixedWidth(180)
        self.slider.setToolTip(
            "How many of the 64 pHash bits may differ ([ and ] to change). Higher finds more "
            f"edited copies, but risks unrelated photos; default {dupes.DEFAULT_THRESHOLD}."
        )
        self.threshold_label = QLabel()
        self.threshold_label.setMinimumWidth(140)
        self.rotations = QCheckBox("Match rotated/mirrored", checked=True)
        self.rotations.setToolTip("Also match copies that were turned or flipped (8 orientations)")
        for w in (self.tier_combo, self.slider, self.rotations):
            w.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the arrows stay with the review, not the controls
        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(self.tier_combo)
        top.addSpacing(12)
        top.addWidget(QLabel("Threshold"))
        top.addWidget(self.slider)
        top.addWidget(self.threshold_label)
        top.addWidget(self.rotations)

        self.cluster_list = QListWidget()
        self.cluster_list.setItemDelegate(ClusterDelegate(thumbs, self.cluster_list))
        self.cluster_list.setUniformItemSizes(True)
        self.cluster_list.setMinimumWidth(260)
        self.compare = CompareView(lib.thumbs_dir)
        self.empty = QLabel(alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True)
        self.empty.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.pages = QStackedWidget()
        self.pages.addWidget(self.compare)
        self.pages.addWidget(self.empty)
        self.keep_button = QPushButton("Keep this one  (K)")
        self.trash_button = QPushButton("Trash the others…  (D)")
        self.not_dupes_button = QPushButton("Not duplicates  (N)")
        self.keep_button.setToolTip("Make the highlighted photo the one to keep")
        self.trash_button.setToolTip("Move every photo but the keeper to the system trash, after a summary")
        self.not_dupes_button.setToolTip("These are different photos: never propose them together again")
        self.message = QLabel()
        self.undo_button = QPushButton("Undo")
        self.undo_button.setToolTip("Put the files just trashed back where they were (Ctrl+Z)")
        self.undo_button.hide()
        actions = QHBoxLayout()
        for b in (self.keep_button, self.trash_button, self.not_dupes_button, self.undo_button):
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        actions.addWidget(self.keep_button)
        actions.addWidget(self.trash_button)
        actions.addWidget(self.not_dupes_button)
        actions.addSpacing(16)
        actions.addWidget(self.message, 1)
        actions.addWidget(self.undo_button)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.pages, 1)
        right_layout.addLayout(actions)
        splitter = QSplitter()
        splitter.addWidget(self.cluster_list)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([300, 1100])
        hints = QLabel(HINTS)
        hints.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)
        layout.addWidget(hints)

        self._debounce = QTimer(self, singleShot=True, interval=RECLUSTER_DELAY_MS)
        self._debounce.timeout.connect(lambda: self.request(reload=False))
        self.slider.valueChanged.connect(self._threshold_moved)
        self.rotations.toggled.connect(lambda _on: self._debounce.start())
        self.tier_combo.currentIndexChanged.connect(self._tier_changed)
        self.cluster_list.currentRowChanged.connect(lambda _row: self._show_current(reset_focus=True))
        self.compare.member_clicked.connect(self.set_focus)
        self.compare.member_activated.connect(lambda i: (self.set_focus(i), self.open_viewer()))
        self.keep_button.clicked.connect(self.keep_focused)
        self.trash_button.clicked.connect(self.trash_others)
        self.not_dupes_button.clicked.connect(self.not_duplicate)
        self.undo_button.clicked.connect(self.undo_trash)
        QShortcut(QKeySequence.StandardKey.Undo, self, self.undo_trash)
        QShortcut(QKeySequence(Qt.Key.Key_F5), self, lambda: self.request(reload=True))
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, self.close)
        self.runner.finished.connect(self._job_finished)
        self.runner.failed.connect(self._job_failed)
        self.runner.progress.connect(self._job_progress)
        thumbs.ready.connect(self._thumb_ready)  # a bound slot: disconnected when this window is deleted
        # keys go through one filter whichever part has focus, so ←/→ never scroll a view instead
        self.cluster_list.installEventFilter(self)
        for col in self.compare.columns:
            col.view.installEventFilter(self)
        self._keys = {
            Qt.Key.Key_Up: lambda: self.step_cluster(-1), Qt.Key.Key_Down: lambda: self.step_cluster(1),
            Qt.Key.Key_Left: lambda: self.step_member(-1), Qt.Key.Key_Right: lambda: self.step_member(1),
            Qt.Key.Key_K: self.keep_focused, Qt.Key.Key_D: self.trash_others, Qt.Key.Key_N: self.not_duplicate,
            Qt.Key.Key_Return: self.open_viewer, Qt.Key.Key_Enter: self.open_viewer, Qt.Key.Key_F: self.compare.fit_all,
            Qt.Key.Key_1: self.compare.actual_size,
            Qt.Key.Key_BracketLeft: lambda: self.slider.setValue(self.slider.value() - 1),
            Qt.Key.Key_BracketRight: lambda: self.slider.setValue(self.slider.value() + 1),
        }  # fmt: skip
        self._threshold_moved(self.slider.value(), recluster=False)
        self._set_empty("Finding duplicates…")
        self.resize(1480, 920)
        self.request(reload=True)

    # -- clustering -------------------------------------------------------------------------------
    def settings(self) -> Settings:
        tiers = TIER_CHOICES[self.tier_combo.currentData()][1]
        return Settings(tiers, self.slider.value(), self.rotations.isChecked())

    def request(self, reload: bool) -> None:
        """Re-cluster with the current settings (re-reading the catalog when `reload`)."""
        self._reload_wanted |= reload or (self.settings().edited and self.snapshot is not None and
                                          self.snapshot.edited is None)  # fmt: skip
        if self.runner.is_running():
            self._stale = True  # picked up when the running job is done
            return
        self._stale = False
        settings, not_dupes = self.settings(), list(self.not_duplicates)
        snapshot = None if self._reload_wanted or self.snapshot is None else self.snapshot
        known = frozenset() if snapshot is None else frozenset(self.infos)
        self._reload_wanted = False

        def job(progress, cancelled):  # type: ignore[no-untyped-def]
            try:  # catalog reads on this thread's own connection, closed when done
                snap = snapshot or Snapshot.load(self.lib, settings, progress, cancelled)
                nd = not_dupes if snapshot is not None else duplicates.not_duplicate_pairs()
                clusters = snap.clusters(settings, nd)
                infos = member_infos({m.id for c in clusters for m in c.members} - known)
                return snap, nd, settings, clusters, infos, snapshot is None
            finally:
                if not db.is_closed():
                    db.close()

        self.runner.start(job)

    def _job_finished(self, result: Any) -> None:
        snap, nd, settings, clusters, infos, reloaded = result
        if self._stale or settings != self.settings():
            # a decision or a setting came in meanwhile: this result may still hold a trashed photo
            self.request(reload=reloaded)
            return
        self.snapshot = snap
        if reloaded:
            self.not_duplicates, self.infos = nd, {}
        self.infos.update(infos)
        self._loaded_once = True
        self.clusters = clusters
        self._populate()

    def _job_progress(self, progress: Any) -> None:
        """The edited tier's first checks (later runs read them from the catalog)."""
        if self._loaded_once:
            self._say(progress.describe())
        else:
            self._set_empty(f"Finding duplicates…\n\n{progress.describe()}")

    def _job_failed(self, message: str) -> None:
        self._set_empty(f"Could not look for duplicates: {message}")

    def _threshold_moved(self, value: int, recluster: bool = True) -> None:
        self.threshold_label.setText(f"{value} bits  (≥ {dupes.Member(0, value).similarity:.0%} alike)")
        if recluster:
            self._debounce.start()

    def _tier_changed(self) -> None:
        similar = dupes.SIMILAR in self.settings().tiers
        for w in (self.slider, self.threshold_label, self.rotations):
            w.setEnabled(similar)
        self._debounce.start()

    # -- the list ---------------------------------------------------------------------------------
    def keeper_of(self, c: dupes.Cluster) -> int:
        chosen = self.keepers.get(c.id)
        return chosen if chosen in {m.id for m in c.members} else c.keeper

    def reclaimable(self, c: dupes.Cluster) -> int:
        keeper = self.keeper_of(c)
        assert self.snapshot is not None
        return sum(self.snapshot.facts[m.id].size for m in c.members if m.id != keeper)

    def current_cluster(self) -> dupes.Cluster | None:
        row = self.cluster_list.currentRow()
        return self.clusters[row] if 0 <= row < len(self.clusters) else None

    def _row_data(self, c: dupes.Cluster) -> dict[str, Any]:
        keeper = self.infos[self.keeper_of(c)]
        return {"count": len(c.members), "tier": c.tier, "reclaim": self.reclaimable(c), "keeper": keeper.id,
                "thumb_key": keeper.thumb_key, "name": Path(keeper.path).name}  # fmt: skip

    def _populate(self) -> None:
        current = self.current_cluster()
        keep_id = current.id if current is not None else None
        row = max(0, self.cluster_list.currentRow())
        self.cluster_list.blockSignals(True)  # one _show_current at the end, not one per row
        self.cluster_list.clear()
        for c in self.clusters:
            data = self._row_data(c)
            item = QListWidgetItem(f"{data['count']} photos · {c.tier} · {human_size(data['reclaim'])}")
            item.setData(ClusterRole, data)
            self.cluster_list.addItem(item)
        ids = [c.id for c in self.clusters]
        if keep_id in ids:
            row = ids.index(keep_id)
        self.cluster_list.setCurrentRow(min(row, len(self.clusters) - 1))
        self.cluster_list.blockSignals(False)
        self._update_summary()
        self._show_current(reset_focus=keep_id not in ids)
        self.clusters_changed.emit()

    def _thumb_ready(self, _photo_id: int) -> None:
        self.cluster_list.viewport().update()

    def _update_summary(self) -> None:
        if not self._loaded_once:
            return
        n = len(self.clusters)
        total = sum(self.reclaimable(c) for c in self.clusters)
        photos = sum(len(c.members) for c in self.clusters)
        self.summary.setText(f"{n:,} cluster{'s' * (n != 1)} · {photos:,} photos · {human_size(total)} reclaimable")

    def _remove_current(self) -> None:
        """Takes the decided cluster off the list at once; the background re-cluster confirms it."""
        row = self.cluster_list.currentRow()
        if row < 0:
            return
        del self.clusters[row]
        self.cluster_list.blockSignals(True)
        self.cluster_list.takeItem(row)
        self.cluster_list.setCurrentRow(min(row, len(self.clusters) - 1))
        self.cluster_list.blockSignals(False)
        self._update_summary()
        self._show_current(reset_focus=True)

    def _set_empty(self, text: str) -> None:
        self.empty.setText(text)
        self.pages.setCurrentWidget(self.empty)
        for b in (self.keep_button, self.trash_button, self.not_dupes_button):
            b.setEnabled(False)

    # -- the compare ------------------------------------------------------------------------------
    def _show_current(self, reset_focus: bool = False) -> None:
        c = self.current_cluster()
        if c is None:
            analyzed = self.snapshot is not None and len(self.snapshot.hashes.ids) > 0
            self.summary.setText("No duplicates" if analyzed else "No analyzed photos")
            self._set_empty(
                "No duplicates with these settings.\n\nA higher threshold finds more edited copies."
                if analyzed
                else "No analyzed photos yet.\n\nImport a folder or run Analyze Library; duplicates show up here."
            )
            return
        self.pages.setCurrentWidget(self.compare)
        for b in (self.keep_button, self.trash_button, self.not_dupes_button):
            b.setEnabled(True)
        assert self.snapshot is not None
        keeper = self.keeper_of(c)
        members = [self.infos[m.id] for m in c.members]
        others = [m.id for m in members if m.id != keeper]
        settings = self.settings()
        bits = dict(zip(others, self.snapshot.distances(keeper, others, settings.rotations), strict=True))
        match = {keeper: "keeper (reference)"}
        regions = {}
        for m in members:
            if m.id == keeper:
                continue
            geometry = self.snapshot.geometry(keeper, m.id)
            if m.sha256 and m.sha256 == self.infos[keeper].sha256:
                match[m.id] = "identical file (same bytes)"
            else:
                match[m.id] = match_text(bits[m.id], geometry, settings.threshold)
            if geometry is not None and geometry.keeper_cover < CROP_COVER:
                regions[m.id] = Region(*geometry.crop, f"{', '.join(geometry.edits) or 'crop'}: {Path(m.path).name}")
        if reset_focus:
            self.focus = 0
        self.compare.show_members(members, keeper, match, self.focus, regions)
        self.focus = self.compare.focus
        self.compare.header.setText(self._header(c, keeper))  # after: it names the page now shown
        nxt = self.cluster_list.currentRow() + 1
        if nxt < len(self.clusters):
            self.compare.prefetch([self.infos[m.id] for m in self.clusters[nxt].members])

    def _header(self, c: dupes.Cluster, keeper: int) -> str:
        row = self.cluster_list.currentRow()
        name = Path(self.infos[keeper].path).name
        why = (
            c.keeper_reason if keeper == c.keeper else f"your choice (proposed: {Path(self.infos[c.keeper].path).name})"
        )
        paging = ""
        if len(c.members) > len(self.compare.columns):
            first = self.compare.start + 1
            paging = f" · showing {first}–{first + len(self.compare.shown()) - 1} (←/→ for more)"
        return (f"<b>Cluster {row + 1} of {len(self.clusters)}</b> · {c.tier} · {len(c.members)} photos{paging} · "
                f"{human_size(self.reclaimable(c))} to reclaim<br>Keep <b>{name}</b> — {why}")  # fmt: skip

    # -- keyboard ---------------------------------------------------------------------------------
    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.KeyPress and self._key(event):  # type: ignore[arg-type]
            return True
        return super().eventFilter(obj, event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if not self._key(event):
            super().keyPressEvent(event)

    def _key(self, event: QKeyEvent) -> bool:
        if event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            return False  # Ctrl+Z and friends are shortcuts, not review keys
        handler = self._keys.get(Qt.Key(event.key()))
        if handler is None:
            return False
        handler()
        return True

    def step_cluster(self, delta: int) -> None:
        if self.clusters:
            self.cluster_list.setCurrentRow(max(0, min(self.cluster_list.currentRow() + delta, len(self.clusters) - 1)))

    def step_member(self, delta: int) -> None:
        self.set_focus(self.focus + delta)

    def set_focus(self, index: int) -> None:
        c = self.current_cluster()
        if c is None:
            return
        self.focus = max(0, min(index, len(c.members) - 1))
        self.compare.set_focus(self.focus)
        self.compare.header.setText(self._header(c, self.keeper_of(c)))

    def focused_id(self) -> int | None:
        c = self.current_cluster()
        return None if c is None else c.members[self.focus].id

    # -- decisions --------------------------------------------------------------------------------
    def keep_focused(self) -> None:
        c, pid = self.current_cluster(), self.focused_id()
        if c is None or pid is None:
            return
        self.keepers[c.id] = pid
        item = self.cluster_list.currentItem()
        data = self._row_data(c)
        item.setData(ClusterRole, data)
        item.setText(f"{data['count']} photos · {c.tier} · {human_size(data['reclaim'])}")
        self._update_summary()
        self._show_current()
        self._say(f"Keeping {Path(self.infos[pid].path).name}; D trashes the other {len(c.members) - 1}.")

    def trash_others(self) -> None:
        c = self.current_cluster()
        if c is None:
            return
        keeper = self.keeper_of(c)
        others = [self.infos[m.id] for m in c.members if m.id != keeper]
        plan = TrashPlan(self.infos[keeper].path, [(m.path, m.size) for m in others])
        if not confirm_trash(self, plan):
            self._say("Nothing moved.")
            return
        results = trash.trash_photos(self.lib, [m.id for m in others])
        moved = [r.photo_id for r in results if r.error is None]
        failed = [r for r in results if r.error]
        if failed:
            QMessageBox.warning(self, "Some files stayed", "\n".join(f"{r.path}: {r.error}" for r in failed[:20]))
        self.last_trashed = moved
        freed = sum(self.infos[pid].size for pid in moved)
        self._say(f"Moved {len(moved)} file{'s' * (len(moved) != 1)} to the trash, {human_size(freed)} freed. "
                  f"Kept {Path(self.infos[keeper].path).name}.", undo=bool(moved))  # fmt: skip
        if moved:
            assert self.snapshot is not None
            self.snapshot = self.snapshot.without(moved)
            self._remove_current()
            self.request(reload=False)
            self.library_changed.emit()

    def not_duplicate(self) -> None:
        c = self.current_cluster()
        if c is None:
            return
        ids = [m.id for m in c.members]
        duplicates.mark_not_duplicates(self.lib, ids)
        self.not_duplicates += [(min(a, b), max(a, b)) for i, a in enumerate(ids) for b in ids[i + 1 :]]
        self._remove_current()
        self._say(f"Remembered: these {len(ids)} photos are different pictures. They won't be proposed together again.")
        self.request(reload=False)

    def undo_trash(self) -> None:
        if not self.last_trashed:
            return
        records = TrashRecord.select().where(
            TrashRecord.photo.in_(self.last_trashed) & TrashRecord.restored_at.is_null()
        )
        errors = []
        for record in list(records):
            try:
                trash.restore(self.lib, record.id)
            except (ValueError, OSError) as exc:
                errors.append(f"{record.path}: {exc}")
        n = len(self.last_trashed) - len(errors)
        self.last_trashed = []
        if errors:
            QMessageBox.warning(self, "Not everything came back", "\n".join(errors[:20]))
        self._say(f"Restored {n} file{'s' * (n != 1)} from the trash.")
        self.request(reload=True)
        self.library_changed.emit()

    def _say(self, text: str, undo: bool = False) -> None:
        self.message.setText(text)
        self.undo_button.setVisible(undo)

    def open_viewer(self) -> None:
        c = self.current_cluster()
        if c is None:
            return
        self.viewer = Viewer(self.lib.thumbs_dir, [m.id for m in c.members], self.focus, self)
        self.viewer.show()

    # -- window -----------------------------------------------------------------------------------
    def reload(self) -> None:
        self.request(reload=True)

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self.cluster_list.setFocus()

    def closeEvent(self, event: QCloseEvent) -> None:
        self._debounce.stop()
        self.runner.cancel()  # the edited tier's checks stop after the pairs in hand (kept for next time)
        self.runner.wait(30)  # a running re-cluster takes seconds at most; it touches no widget
        self.compare.close_loaders()
        event.accept()
