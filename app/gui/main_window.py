"""The main window: sidebar, filter bar, thumbnail grid, inspector and the progress panel, with
menus, toolbar and status bar. All catalog writes go through the Library's single writer; long
work runs in a JobRunner thread and reports back through batched signals."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any, TypeVar

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QSettings, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QDockWidget,
    QFileDialog,
    QInputDialog,
    QLabel,
    QListView,
    QMainWindow,
    QMenu,
    QMessageBox,
    QSlider,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.core import tags as tag_ops
from app.core import trash
from app.core.analysis.pipeline import Progress
from app.core.catalog import facets, queries
from app.core.catalog.models import Photo
from app.core.catalog.people import PEOPLE, person_label, person_summaries
from app.core.catalog.places import place_names
from app.core.catalog.queries import Filter
from app.core.catalog.roots import local_path
from app.core.ingest.importer import ImportReport
from app.core.library import Library
from app.core.people import persons
from app.core.similar import SimilarityIndex
from app.core.stats import library_stats
from app.core.xmp.export import ExportReport, export_sidecars
from app.gui.analysis_control import AnalysisControl
from app.gui.bridge import JobRunner
from app.gui.dupes_view import DupesWindow
from app.gui.filter_bar import FilterBar
from app.gui.grid_delegate import GridDelegate
from app.gui.grid_model import PhotoListModel
from app.gui.import_panel import ProgressPanel
from app.gui.inspector import Inspector
from app.gui.map_and_timeline import MapAndTimeline
from app.gui.organize import Organizer
from app.gui.people_view import PeopleWindow
from app.gui.rating_stars import RATING_KEYS, REJECTED, rating_text
from app.gui.settings_dialog import RetagResult, SettingsDialog
from app.gui.shortcuts_dialog import ShortcutsDialog, menu_rows
from app.gui.sidebar import Sidebar
from app.gui.studio import ChangeWatcher, ask_studio_catalog, describe_changes
from app.gui.theme import THEMES, apply_theme
from app.gui.thumbs import ThumbnailCache
from app.gui.trash_view import TrashedPhotosWindow
from app.gui.viewer import Viewer
from app.gui.welcome import WelcomePage

SIMILAR_TOP = 100  # Find Similar shows this many photos after the one it started from
REFRESH_WHILE_RUNNING_S = 1.5  # the grid fills in while analysis runs, without repainting constantly
SORTS = (("Date taken", "date", False), ("Newest first", "date", True), ("Name", "name", False),
         ("Size", "size", True), ("Rating", "rating", True), ("Recently imported", "imported", True))  # fmt: skip


class MainWindow(QMainWindow):
    writer_waiting = Signal(str)  # from the writer thread
    library_opened = Signal(object)  # a Library to show instead of this one (File > Open Studio Catalog…)

    def __init__(self, lib: Library, settings: QSettings | None = None) -> None:
        super().__init__()
        self.lib = lib
        self.settings = settings or QSettings("Tessera", "Tessera")
        self.setWindowTitle(f"Tessera — {lib.location.display if lib.is_studio else lib.root}")
        self.setAcceptDrops(True)
        self.runner = JobRunner(self)
        self.naming = JobRunner(self)  # names given in the viewer, stored off the GUI thread
        self.naming.finished.connect(self._face_named)
        self.naming.failed.connect(lambda message: self.statusBar().showMessage(message, 10000))
        self._job_is_import = False  # what closing the window asks about (see closeEvent)
        self.thumbs = ThumbnailCache(lib.thumbs_dir, parent=self, locate=_photo_file)
        self.model = PhotoListModel(self)
        self.viewers: list[Viewer] = []
        self.dupes_window: DupesWindow | None = None
        self.trash_window: TrashedPhotosWindow | None = None
        self.people_window: PeopleWindow | None = None
        self._last_refresh = 0.0
        self.last_report: ImportReport | None = None
        self._similarity: SimilarityIndex | None = None  # loaded on the first Find Similar, kept until a job ends

        self.filter_bar = FilterBar()
        self.grid = self._make_grid()
        self.progress_panel = ProgressPanel()
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.filter_bar)
        self.grid_header_index = layout.count()  # the timeline strip goes here (MapAndTimeline)
        self.welcome = WelcomePage(lib.root)  # instead of the grid while the library is empty
        self.grid_stack = QStackedWidget()
        self.grid_stack.addWidget(self.grid)
        self.grid_stack.addWidget(self.welcome)
        layout.addWidget(self.grid_stack, 1)
        layout.addWidget(self.progress_panel)
        self.setCentralWidget(central)

        self.sidebar = Sidebar()
        self.inspector = Inspector()
        self.sidebar_dock = self._dock("Library", self.sidebar, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.inspector_dock = self._dock("Inspector", self.inspector, Qt.DockWidgetArea.RightDockWidgetArea)
        self.status_label = QLabel()
        self.where_when = MapAndTimeline(self)
        layout.insertWidget(self.grid_header_index, self.where_when.strip)
        self._make_actions()
        self.statusBar().addPermanentWidget(self.analysis.label)
        self.statusBar().addPermanentWidget(self.status_label)
        self._connect()
        self.organizer = Organizer(self)  # flags, labels, collections, export
        self.welcome.import_requested.connect(self.choose_import)
        self._default_size()
        self._restore_settings()
        self.refresh_all()
        self.changes = ChangeWatcher(self)
        self.changes.changed.connect(self._changed_elsewhere)
        self.analysis.show_idle()
        QTimer.singleShot(0, self.resume_unfinished_analysis)  # once the window shows

    # -- construction -----------------------------------------------------------------------------
    def _make_grid(self) -> QListView:
        grid = QListView()
        grid.setViewMode(QListView.ViewMode.IconMode)
        grid.setResizeMode(QListView.ResizeMode.Adjust)
        grid.setMovement(QListView.Movement.Static)
        grid.setUniformItemSizes(True)  # constant-time layout: 100k rows scroll as smoothly as 100
        grid.setLayoutMode(QListView.LayoutMode.Batched)
        grid.setBatchSize(500)
        grid.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        grid.setSpacing(4)
        grid.setModel(self.model)
        self.delegate = GridDelegate(self.thumbs, grid)
        grid.setItemDelegate(self.delegate)
        grid.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        return grid

    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock-{title}")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _action(self, text: str, slot, shortcut: Any = None, tip: str = "") -> QAction:  # type: ignore[no-untyped-def]
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.setStatusTip(tip or text)
        action.triggered.connect(slot)
        return action

    def _make_actions(self) -> None:
        self.import_action = self._action("&Import Folder…", self.choose_import, "Ctrl+I", "Add a folder of photos")
        self.analyze_action = self._action("&Analyze Library", lambda: self.start_analysis(), "Ctrl+Shift+A",
                                           "Analyze photos that are not analyzed yet")  # fmt: skip
        self.cancel_action = self._action("&Cancel", self.cancel_job, Qt.Key.Key_Escape, "Stop the running import")
        self.cancel_action.setEnabled(False)
        self.analysis = AnalysisControl(self.lib, self)
        self.progress_panel.set_pause_action(self.analysis.action)
        open_lib = self._action("&Open Library…", self.choose_library, "Ctrl+O", "Switch to another library folder")
        self.studio_action = self._action("Open &Studio Catalog…", self.open_studio_catalog, None,
                                          "Work on a PostgreSQL catalog shared with other workstations")  # fmt: skip
        backup = self._action("&Back Up Catalog", self.backup_catalog, None, "Copy the catalog to backups/ now")
        quit_ = self._action("&Quit", self.close, QKeySequence.StandardKey.Quit)
        self.view_action = self._action("&Open in Viewer", self.open_viewer, Qt.Key.Key_Return)
        self.tag_action = self._action("Add &Tag…", self.tag_selection, "Ctrl+T", "Tag the selected photos")
        self.trash_action = self._action("Move to &Trash…", self.trash_selection, QKeySequence.StandardKey.Delete,
                                         "Send the selected files to the system trash (can be undone)")  # fmt: skip
        find = self._action("&Find", lambda: self.filter_bar.text.setFocus(), QKeySequence.StandardKey.Find)
        clear = self._action("Clear &Filters", self.filter_bar.reset, "Ctrl+Shift+F")
        bigger = self._action("&Larger Thumbnails", lambda: self.size_slider.setValue(self.size_slider.value() + 40),
                              "Ctrl+=")  # fmt: skip
        smaller = self._action("&Smaller Thumbnails", lambda: self.size_slider.setValue(self.size_slider.value() - 40),
                               "Ctrl+-")  # fmt: skip
        self.export_xmp_action = self._action("&Export XMP Sidecars", self.export_xmp, "Ctrl+E",
                                              "Write tags, rating and label to .xmp sidecars of the selected "
                                              "photos (or all shown, when none is selected)")  # fmt: skip
        self.prefs_action = self._action("&Preferences…", self.open_preferences, "Ctrl+,")
        self.prefs_action.setMenuRole(QAction.MenuRole.PreferencesRole)
        self.similar_action = self._action("Find &Similar", self.find_similar, "Ctrl+Shift+S",
                                           "Show the photos that look most like the current one")  # fmt: skip
        self.trashed_action = self._action("T&rashed Photos…", self.show_trashed, None,
                                           "See what Tessera moved to the trash and put photos back")  # fmt: skip
        file_menu = self.menuBar().addMenu("&File")
        for a in (self.import_action, self.analyze_action, self.analysis.action, self.cancel_action, None,
                  self.export_xmp_action, None, self.trashed_action, None, open_lib, self.studio_action, backup, None,
                  quit_):  # fmt: skip
            file_menu.addSeparator() if a is None else file_menu.addAction(a)
        edit_menu = self.menuBar().addMenu("&Edit")
        for a in (find, clear, None, self.tag_action, self.trash_action, None, self.prefs_action):
            edit_menu.addSeparator() if a is None else edit_menu.addAction(a)
        view_menu = self.menuBar().addMenu("&View")
        view_menu.addAction(bigger)
        view_menu.addAction(smaller)
        view_menu.addSeparator()
        view_menu.addAction(self.sidebar_dock.toggleViewAction())
        view_menu.addAction(self.inspector_dock.toggleViewAction())
        view_menu.addAction(self.where_when.toggle_action)
        theme_menu = view_menu.addMenu("&Theme")
        for name in THEMES:
            theme_menu.addAction(self._action(name.capitalize(), lambda _=False, n=name: self.set_theme(n)))
        photo_menu = self.menuBar().addMenu("&Photo")
        photo_menu.addAction(self.view_action)
        photo_menu.addAction(self.similar_action)
        photo_menu.addAction(self.where_when.nearby_action)
        self.dupes_action = self._action("Review &Duplicates…", self.review_duplicates, "Ctrl+D",
                                         "Compare duplicate photos and trash the extra copies")  # fmt: skip
        photo_menu.addAction(self.dupes_action)
        self.people_action = self._action("&People…", self.show_people, "Ctrl+Shift+O",
                                          "Name the people in your photos: faces that look alike, grouped")  # fmt: skip
        photo_menu.addAction(self.people_action)
        photo_menu.addSeparator()
        self.rating_menu = self._make_rating_menu(photo_menu)
        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addAction(self._action("&Keyboard Shortcuts", self.show_shortcuts, "F1"))
        help_menu.addAction(self._action("&About Tessera", self.show_about))
        self.photo_menu = photo_menu
        for a in (self.view_action, self.similar_action, self.where_when.nearby_action, self.tag_action,
                  self.export_xmp_action, self.trash_action):  # fmt: skip
            self.grid.addAction(a)
        self.grid.addAction(self.rating_menu.menuAction())  # a Rating submenu in the context menu, its keys on the grid
        # Return and Delete act on the grid only: in a text field they keep their usual meaning
        self.view_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.trash_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)

        toolbar = self.addToolBar("Main")
        toolbar.setObjectName("main-toolbar")
        toolbar.setMovable(False)
        toolbar.addAction(self.import_action)
        toolbar.addAction(self.analyze_action)
        toolbar.addAction(self.analysis.action)
        toolbar.addAction(self.cancel_action)
        toolbar.addSeparator()
        toolbar.addWidget(QLabel(" Sort: "))
        self.sort_combo = QComboBox()
        self.sort_combo.addItems([label for label, _, _ in SORTS])
        toolbar.addWidget(self.sort_combo)
        toolbar.addWidget(QLabel("  Size: "))
        self.size_slider = QSlider(Qt.Orientation.Horizontal, minimum=80, maximum=480, value=160, maximumWidth=160)
        self.size_slider.setToolTip("Thumbnail size (Ctrl+= / Ctrl+-)")
        toolbar.addWidget(self.size_slider)
        self.toolbar = toolbar

    def _make_rating_menu(self, parent: QMenu) -> QMenu:
        menu = parent.addMenu("&Rating")
        self.rating_actions: dict[int | None, QAction] = {}
        for rating, key in RATING_KEYS:
            if rating == REJECTED:  # X is Photo > Flag > Rejected (app/gui/organize.py), as in Lightroom
                continue
            text = rating_text(rating)
            action = self._action(text, lambda _=False, r=rating: self.rate_selection(r), key,
                                  f"Rate the selected photos: {text}")  # fmt: skip
            # plain keys: on the grid only, so digits and X still type into text fields and spin boxes
            action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
            menu.addAction(action)
            self.rating_actions[rating] = action
        return menu

    def _default_size(self) -> None:
        """1400x900, or less on a smaller screen: a first start must not open past its edges."""
        screen = self.screen().availableGeometry()
        self.resize(min(1400, screen.width() * 9 // 10), min(900, screen.height() * 9 // 10))

    def _connect(self) -> None:
        self.analysis.resume_requested.connect(self.resume_unfinished_analysis)
        self.filter_bar.changed.connect(self.apply_filter)
        self.filter_bar.similar_cleared.connect(self.clear_similar)
        self.sidebar.picked.connect(self.sidebar_picked)
        self.grid.selectionModel().currentChanged.connect(lambda cur, _prev: self._show_current(cur))
        self.grid.selectionModel().selectionChanged.connect(lambda *_: self._update_status())
        self.grid.selectionModel().selectionChanged.connect(
            lambda *_: self.where_when.selection_changed(self.selected_ids())
        )
        self.grid.doubleClicked.connect(lambda index: self.open_viewer())
        self.thumbs.ready.connect(self.model.photo_changed)
        self.size_slider.valueChanged.connect(self.set_thumb_size)
        self.sort_combo.currentIndexChanged.connect(self._sort_changed)
        self.inspector.color_clicked.connect(lambda name, share: self.filter_bar.set_color(name, min(share, 20)))
        self.inspector.tag_clicked.connect(self.filter_bar.add_tag)
        self.inspector.tag_added.connect(lambda pid, name: self._edit_tags(tag_ops.add_user_tag, [pid], name))
        self.inspector.tag_removed.connect(lambda pid, name: self._edit_tags(tag_ops.remove_tag, [pid], name))
        self.inspector.rating_set.connect(lambda pid, rating: self.rate([pid], rating))
        self.runner.progress.connect(self._job_progress)
        self.runner.finished.connect(self._job_finished)
        self.runner.failed.connect(self._job_failed)
        self.progress_panel.cancel_requested.connect(self.cancel_job)
        self.writer_waiting.connect(lambda msg: self.statusBar().showMessage(msg, 5000))
        self.lib.on_writer_wait = self.writer_waiting.emit

    # -- settings ---------------------------------------------------------------------------------
    def _restore_settings(self) -> None:
        geometry = self.settings.value("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        state = self.settings.value("windowState")
        if state is not None:
            self.restoreState(state)
        self.size_slider.setValue(int(self.settings.value("thumbSize", 160)))
        self.set_thumb_size(self.size_slider.value())

    def _save_settings(self) -> None:
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("windowState", self.saveState())
        self.settings.setValue("thumbSize", self.size_slider.value())
        self.settings.setValue("lastLibrary", str(self.lib.root))

    def set_theme(self, name: str) -> None:
        self.settings.setValue("theme", name)
        apply_theme(QApplication.instance(), name)  # type: ignore[arg-type]

    # -- browsing ---------------------------------------------------------------------------------
    def refresh_all(self) -> None:
        self.filter_bar.set_known(
            [name for name, _, _ in queries.tag_counts()], [c for c, _ in facets.camera_counts()], place_names()
        )
        self.filter_bar.set_people({s.name: s.id for s in person_summaries() if s.name})
        self.sidebar.refresh()
        self.where_when.refresh()
        current = self.filter_bar.current()
        self.apply_filter(current if current is not None else Filter())

    def apply_filter(self, f: Filter) -> None:
        selected = self.selected_ids()
        self.model.set_filter(f)
        self.where_when.filter_changed(f)
        self.grid_stack.setCurrentWidget(self.welcome if self.lib.photo_count() == 0 else self.grid)
        self.filter_bar.set_match_count(self.model.rowCount())
        self._reselect(selected)
        self._update_status()

    def _reselect(self, ids: list[int]) -> None:
        selection = self.grid.selectionModel()
        first = True
        for pid in ids:
            row = self.model.row_of(pid)
            if row is None:
                continue
            flags = QItemSelectionModel.SelectionFlag.Select
            if first:
                selection.setCurrentIndex(self.model.index(row), flags)
                first = False
            else:
                selection.select(self.model.index(row), flags)
        if first:
            self.inspector.show_photo(None)

    def sidebar_picked(self, kind: str, value: Any) -> None:
        bar = self.filter_bar
        if kind == "all":
            bar.reset()
        elif kind == "collection":
            self.organizer.open_collection(value)
        elif kind == "folder":
            bar.set_folder(value)
        elif kind == "tag":
            bar.add_tag(value)
        elif kind == "color":
            bar.set_color(value)
        elif kind == "camera":
            bar.set_camera(value)
        elif kind == "place":
            bar.set_place_path(value)
        elif kind == "date":
            bar.set_dates(*value)
        elif kind == "faces":
            bar.set_faces(*value)
        elif kind == "person":
            bar.add_person(value, person_label(value))
        elif kind == "people":
            self.show_people()
        elif kind == "duplicates":
            self.review_duplicates()

    def _sort_changed(self, index: int) -> None:
        _, key, descending = SORTS[index] if index < len(SORTS) else ("", "manual", False)  # a collection's own
        self.filter_bar.set_sort(key, descending)
        self.organizer.sort_changed(key, descending)

    def set_thumb_size(self, size: int) -> None:
        self.delegate.thumb_size = size
        self.grid.setGridSize(QSize())  # let the delegate's size hint decide
        self.model.layoutChanged.emit()

    def selected_ids(self) -> list[int]:
        rows = sorted(i.row() for i in self.grid.selectionModel().selectedIndexes())
        return [self.model.photo_id(r) for r in rows if r < self.model.rowCount()]

    def _show_current(self, index: QModelIndex) -> None:
        self.inspector.show_photo(self.model.photo_id(index.row()) if index.isValid() else None)

    def _update_status(self) -> None:
        n, sel = self.model.rowCount(), len(self.grid.selectionModel().selectedIndexes())
        total = self.lib.photo_count()
        self.status_label.setText(f"{n:,} shown · {sel:,} selected · {total:,} in library")

    # -- actions on photos ------------------------------------------------------------------------
    def review_duplicates(self) -> DupesWindow:
        if self.dupes_window is None:  # one review window; it deletes itself when closed
            self.dupes_window = DupesWindow(self.lib, self.thumbs, self)
            self.dupes_window.library_changed.connect(self.refresh_all)
            self.dupes_window.destroyed.connect(lambda *_: setattr(self, "dupes_window", None))
        else:
            self.dupes_window.reload()
        return _present(self.dupes_window)

    def show_trashed(self) -> TrashedPhotosWindow:
        if self.trash_window is None:  # one window, hidden when closed (it runs no threads)
            self.trash_window = TrashedPhotosWindow(self.lib, self.thumbs, self)
            self.trash_window.library_changed.connect(self._photos_restored)
        else:
            self.trash_window.reload()  # photos may have been trashed since it was last shown
        return _present(self.trash_window)

    def _photos_restored(self) -> None:
        self.refresh_all()
        if self.dupes_window is not None:
            self.dupes_window.reload()  # restored copies are duplicates again

    def open_viewer(self) -> Viewer | None:
        index = self.grid.currentIndex()
        if not index.isValid():
            return None
        viewer = Viewer(self.lib.thumbs_dir, self.model.ids(), index.row())
        viewer.rating_set.connect(lambda pid, rating: self.rate([pid], rating))
        viewer.face_named.connect(lambda fid, name: self.name_face(viewer, fid, name))
        viewer.destroyed.connect(lambda *_: self.viewers.remove(viewer) if viewer in self.viewers else None)
        self.viewers.append(viewer)
        viewer.show()
        return viewer

    # -- people -----------------------------------------------------------------------------------
    def show_people(self) -> PeopleWindow:
        if self.people_window is None:  # one window; it deletes itself when closed
            self.people_window = PeopleWindow(self.lib, self)
            self.people_window.library_changed.connect(self.people_changed)
            self.people_window.open_photo.connect(self.show_photo)
            self.people_window.destroyed.connect(lambda *_: setattr(self, "people_window", None))
        else:
            self.people_window.reload()
        return _present(self.people_window)

    def name_face(self, viewer: Viewer, face_id: int, name: str) -> None:
        """A face named in the viewer: confirmed as that person in the background (a decision places
        faces again over the whole library), then shown everywhere."""
        if self.naming.is_running():
            self.statusBar().showMessage("Still saving the last name: a moment…", 5000)
            return

        def job(_progress: Any, _cancelled: Any) -> tuple[str, ExportReport]:
            report = ExportReport()
            persons.name_faces(self.lib, [face_id], name, sidecars=report)
            return name, report

        self.statusBar().showMessage(f"Naming {name}…")
        self.naming.start(job)

    def _face_named(self, result: tuple[str, ExportReport]) -> None:
        name, report = result
        self.statusBar().showMessage(f"Named {name}", 5000)
        self.people_changed()  # the viewers show the name too
        self._sidecar_outcome(report)

    def people_changed(self) -> None:
        """Names changed: the sidebar, the person filter's names, the inspector and the viewers follow."""
        self.sidebar.refresh()
        self.filter_bar.set_people({s.name: s.id for s in person_summaries() if s.name})
        self.inspector.show_photo(self.inspector.photo_id)
        for viewer in self.viewers:
            viewer.show_faces()
        if self.filter_bar.current() is not None and self.filter_bar.current().person_ids:
            self.apply_filter(self.filter_bar.current())
        if self.people_window is not None and self.sender() is not self.people_window:
            self.people_window.reload()

    def show_photo(self, photo_id: int) -> None:
        """Bring a photo up in the viewer (from the People window), even when the filter hides it."""
        if self.model.row_of(photo_id) is None:
            self.filter_bar.reset()
            self.apply_filter(self.filter_bar.current() or Filter())
        row = self.model.row_of(photo_id)
        if row is not None:
            self.grid.selectionModel().setCurrentIndex(self.model.index(row),
                                                       QItemSelectionModel.SelectionFlag.ClearAndSelect)  # fmt: skip
            self.open_viewer()

    def _edit_tags(self, op, photo_ids: list[int], name: str) -> None:  # type: ignore[no-untyped-def]
        self._sidecar_outcome(op(self.lib, photo_ids, name))
        self.sidebar.refresh()
        f = self.model.filter
        self._show_edit(requery=bool(f.tags or f.text))

    def _show_edit(self, requery: bool) -> None:
        """After an edit of photos: query again when the filter or sort depends on what changed (they
        may leave the grid, join it or move; the selection is kept), else re-read the cached rows so
        the cells repaint; the inspector shows the new values either way."""
        if requery:
            self.apply_filter(self.model.filter)
        else:
            self.model.refresh_rows()
        self.inspector.show_photo(self.inspector.photo_id)

    def _sidecar_outcome(self, report: ExportReport | None) -> None:
        """Say when the auto-written sidecars of an edit could not all be written."""
        if report is not None and report.failed:
            path, reason = report.failed[0]
            more = f" (and {len(report.failed) - 1} more)" if len(report.failed) > 1 else ""
            self.statusBar().showMessage(f"Sidecar not updated for {Path(path).name}: {reason}{more}", 15000)

    def rate_selection(self, rating: int | None) -> None:
        ids = self.selected_ids()
        if ids:
            self.rate(ids, rating)
        else:
            self.statusBar().showMessage("Select the photos to rate.", 5000)

    def rate(self, photo_ids: list[int], rating: int | None) -> None:
        """Rate photos (None clears, -1 rejects): the grid, the inspector and the status bar show it."""
        report = tag_ops.set_rating(self.lib, photo_ids, rating)
        self.statusBar().showMessage(_rated_message(len(photo_ids), rating), 5000)
        self._sidecar_outcome(report)  # after the message above: a sidecar that failed matters more
        f = self.model.filter
        self._show_edit(requery=f.min_rating is not None or f.sort == "rating")

    def tag_selection(self) -> None:
        ids = self.selected_ids()
        if not ids:
            return
        name, ok = QInputDialog.getText(self, "Add tag", f"Tag for {len(ids)} photo(s):")
        if ok and name.strip():
            self._edit_tags(tag_ops.add_user_tag, ids, name.strip())

    def trash_selection(self) -> None:
        ids = self.selected_ids()
        if not ids:
            return
        answer = QMessageBox.question(
            self, "Move to trash",
            f"Move {len(ids)} file(s) to the system trash?\nYou can restore them with File > Trashed "
            "Photos… (or `tessera untrash`).",
        )  # fmt: skip
        if answer != QMessageBox.StandardButton.Yes:
            return
        failed = [r for r in trash.trash_photos(self.lib, ids) if r.error]
        if failed:
            QMessageBox.warning(self, "Some files stayed", "\n".join(f"{r.path}: {r.error}" for r in failed[:20]))
        self.refresh_all()

    # -- long work --------------------------------------------------------------------------------
    def choose_import(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Import folder", str(Path.home()))
        if folder:
            self.start_import([Path(folder)])

    def start_import(self, folders: list[Path]) -> bool:
        if self.runner.is_running():
            self.statusBar().showMessage("Wait for the running import to finish, or cancel it.", 5000)
            return False

        def job(progress, cancelled) -> ImportReport:  # type: ignore[no-untyped-def]
            # Progress objects are reused by the pipeline: hand the GUI a snapshot
            return self.lib.import_folders(folders, progress=lambda p: progress(dataclasses.replace(p)),
                                           cancelled=cancelled, paused=self.analysis.is_paused)  # fmt: skip

        self._start_job(f"Importing {', '.join(str(f) for f in folders)}", job, importing=True)
        return True

    def start_analysis(self, title: str = "Analyzing") -> bool:
        if self.runner.is_running() or self.analysis.is_paused():
            if self.analysis.is_paused():
                self.statusBar().showMessage("Analysis is paused: resume it first (Ctrl+Shift+P).", 5000)
            return False

        def job(progress, cancelled):  # type: ignore[no-untyped-def]
            return self.lib.analyze(progress=lambda p: progress(dataclasses.replace(p)), cancelled=cancelled,
                                    paused=self.analysis.is_paused)  # fmt: skip

        self._start_job(title, job)
        return True

    def resume_unfinished_analysis(self) -> bool:
        """On start, after an import and on Resume: analyze what is unfinished, unless paused."""
        if self.runner.is_running() or self.analysis.is_paused() or not self.lib.unfinished_analysis():
            return False
        return self.start_analysis("Resuming analysis")

    def _start_job(self, title: str, job, importing: bool = False) -> None:  # type: ignore[no-untyped-def]
        self._job_is_import = importing
        self.progress_panel.start(title)
        self.import_action.setEnabled(False)
        self.analyze_action.setEnabled(False)
        self.cancel_action.setEnabled(True)
        self.runner.start(job)

    def cancel_job(self) -> None:
        if self.runner.is_running():
            self.runner.cancel()
            self.statusBar().showMessage("Cancelling: finishing the files in progress…")

    def _job_progress(self, p: Any) -> None:
        self.progress_panel.update_progress(p)
        if isinstance(p, Progress):
            self.analysis.show_progress(p)
        now = time.monotonic()
        if now - self._last_refresh >= REFRESH_WHILE_RUNNING_S:
            self._last_refresh = now
            self.model.refresh_rows()
            self.filter_bar.set_match_count(self.model.rowCount())
            self._update_status()

    def _job_done(self) -> None:
        if self.people_window is not None:
            self.people_window.reload()  # new faces were grouped
        self.import_action.setEnabled(True)
        self.analyze_action.setEnabled(True)
        self.cancel_action.setEnabled(False)
        self._similarity = None  # analysis may have added features
        self.refresh_all()
        self.analysis.show_idle()

    def _job_finished(self, result: Any) -> None:
        if isinstance(result, ImportReport):
            self.last_report = result
            if not result.cancelled:  # photos imported while paused, or analysis an earlier run left
                QTimer.singleShot(0, self.resume_unfinished_analysis)
        if hasattr(result, "summary"):  # import, XMP export and re-tag reports describe themselves
            self.progress_panel.add_errors(list(result.failed))
            summary = result.summary()
        else:
            ending = " (paused: resume to go on)" if result.paused else ""
            ending = ending or (" (cancelled: run again to resume)" if result.cancelled else "")
            summary = f"{result.done} photos analyzed{ending}"
            self.progress_panel.add_errors([(p, f"{stage}: {why}") for p, stage, why in result.stage_failures])
        self.progress_panel.finish(summary)
        self.statusBar().showMessage(summary, 10000)
        self._job_done()

    def _job_failed(self, message: str) -> None:
        self.progress_panel.finish(f"Stopped: {message}")
        QMessageBox.critical(self, "Tessera", message)
        self._job_done()

    # -- tagging, similarity, sidecars -------------------------------------------------------------
    def find_similar(self) -> bool:
        """Show the current photo and the photos that look most like it, best first."""
        index = self.grid.currentIndex()
        if not index.isValid():
            self.statusBar().showMessage("Select a photo to find similar ones.", 5000)
            return False
        info = self.model.info(index.row())
        if self._similarity is None:
            self._similarity = SimilarityIndex.load()
        try:
            hits = self._similarity.query(info.id, SIMILAR_TOP)
        except KeyError:
            QMessageBox.information(self, "Find Similar", f"{info.filename} has not been analyzed for "
                                    "similarity yet.\nRun File > Analyze Library, then try again.")  # fmt: skip
            return False
        self.model.set_similar(info.id, hits)
        self.filter_bar.show_similar(info.filename, len(hits))
        self.filter_bar.set_match_count(self.model.rowCount())
        self._reselect([info.id])
        self.grid.scrollToTop()
        self._update_status()
        return True

    def clear_similar(self) -> None:
        if self.model.similar_to is not None:
            selected = self.selected_ids()
            self.model.clear_similar()
            self.filter_bar.set_match_count(self.model.rowCount())
            self._reselect(selected)
            self._update_status()

    def export_xmp(self) -> bool:
        """Sidecars for the selected photos, or for every photo shown when none is selected."""
        ids = self.selected_ids() or self.model.ids()
        if not ids or self.runner.is_running():
            self.statusBar().showMessage("Nothing to export." if not ids else "Wait for the running job.", 5000)
            return False

        def job(progress, cancelled) -> ExportReport:  # type: ignore[no-untyped-def]
            return export_sidecars(self.lib, ids, progress=lambda p: progress(dataclasses.replace(p)),
                                   cancelled=cancelled)  # fmt: skip

        self._start_job(f"Writing XMP sidecars for {len(ids):,} photo(s)", job)
        return True

    def open_preferences(self) -> SettingsDialog:
        theme = str(self.settings.value("theme", "system"))
        dialog = SettingsDialog(self.lib, theme, busy=self.runner.is_running(), parent=self)
        dialog.accepted.connect(lambda: self.apply_preferences(dialog))
        dialog.open()  # window-modal, returns at once
        return dialog

    def apply_preferences(self, dialog: SettingsDialog) -> None:
        if dialog.theme() != self.settings.value("theme", "system"):
            self.set_theme(dialog.theme())
        if dialog.auto_write_sidecars() != self.lib.auto_write_sidecars:
            self.lib.set_auto_write_sidecars(dialog.auto_write_sidecars())
        if dialog.threshold_changed() and not self.runner.is_running():
            threshold = dialog.threshold()
            self.lib.set_setting("auto_tagging", str(threshold))
            self._start_job(f"Re-applying auto tags at {threshold:.0%}",
                            lambda _progress, _cancelled: RetagResult(tag_ops.retag_library(self.lib, threshold),
                                                                      threshold))  # fmt: skip

    # -- library ----------------------------------------------------------------------------------
    def choose_library(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open library folder", str(self.lib.root))
        if folder:
            self.settings.setValue("lastLibrary", folder)
            QMessageBox.information(self, "Tessera", "The library opens the next time Tessera starts.")

    def open_studio_catalog(self) -> None:
        opened = ask_studio_catalog(self, self.lib)
        if opened is not None:
            self.library_opened.emit(opened)

    def _changed_elsewhere(self, changes: Any) -> None:
        """Another workstation (or process) changed photos: the grid, sidebar and inspector show the
        catalog as it is now; the later edit of a field is what everyone sees."""
        if self.runner.is_running():
            self.model.refresh_rows()  # the job's own refresh re-queries when it ends
        else:
            self.refresh_all()
        self.inspector.show_photo(self.inspector.photo_id)
        if PEOPLE in changes.whats and self.people_window is not None:
            self.people_window.reload()  # names, merges and answers given elsewhere
        self.statusBar().showMessage(describe_changes(changes), 5000)

    def backup_catalog(self) -> None:
        path = self.lib.backup()
        self.statusBar().showMessage(f"Catalog backed up to {path}", 8000)

    def shortcut_rows(self) -> list[tuple[str, str]]:
        """("Menu > Command", key) for every menu command that has a key, in menu order."""
        return [(command, key) for command, key in menu_rows(self.menuBar()) if key]

    def show_shortcuts(self) -> ShortcutsDialog:
        dialog = ShortcutsDialog(self.menuBar(), self)
        dialog.open()
        return dialog

    def show_about(self) -> None:
        stats = library_stats(self.lib)
        QMessageBox.about(self, "About Tessera", f"Tessera — photo library\n\nLibrary: {stats['library']}\n"
                          f"{stats['photos']:,} photos, {stats['total_size_mb']:,} MB")  # fmt: skip

    # -- window events ----------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and any(Path(u.toLocalFile()).is_dir() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        folders = [Path(u.toLocalFile()) for u in event.mimeData().urls() if Path(u.toLocalFile()).is_dir()]
        if folders:
            self.start_import(folders)
            event.acceptProposedAction()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.runner.is_running():
            # an import is asked about; background analysis just stops: it resumes when the library opens
            if self._job_is_import:
                answer = QMessageBox.question(self, "Tessera", "An import is running. Stop it and quit?\n"
                                              "Everything done so far is kept; the next import resumes.")  # fmt: skip
                if answer != QMessageBox.StandardButton.Yes:
                    event.ignore()
                    return
            self.runner.cancel()
            self.runner.wait(60)
        self.naming.wait()  # a name being stored is kept (the writer has it already)
        self._save_settings()
        self.changes.stop()
        for viewer in list(self.viewers):
            viewer.close()
        self.thumbs.close()
        event.accept()


W = TypeVar("W", bound=QWidget)


def _present(window: W) -> W:
    """Show a tool window in front, focused."""
    window.show()
    window.raise_()
    window.activateWindow()
    return window


def _photo_file(photo_id: int) -> str | None:
    """Where this workstation finds a photo's file (the thumbnail cache makes missing thumbnails)."""
    row = Photo.select(Photo.path).where(Photo.id == photo_id).first()
    return local_path(row.path) if row is not None else None


def _rated_message(count: int, rating: int | None) -> str:
    photos = f"{count:,} photo{'s' if count != 1 else ''}"
    if rating is None:
        return f"Cleared the rating of {photos}"
    return f"Rejected {photos}" if rating == REJECTED else f"Rated {photos} {rating_text(rating)}"
