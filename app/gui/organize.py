"""Organizing in the main window: pick flags and colour labels from the keyboard (Lightroom's P, X, U,
6-9), collections (B adds the selection to the target collection; drag photos onto a collection in
the sidebar, or within a collection to reorder it), smart collections saved from the filter bar, and
Export. The main window owns the widgets; this puts the menus, keys and slots on them."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QPoint, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QAbstractItemView, QInputDialog, QMenu, QMessageBox

from app.core import collections
from app.core import tags as tag_ops
from app.core.catalog.queries import SORTS
from app.core.export import ExportReport, ExportSettings, export_photos
from app.core.flags import PICK, REJECT, UNFLAGGED
from app.core.xmp.export import ExportReport as SidecarReport
from app.gui.collection_dialog import NewCollectionDialog
from app.gui.export_dialog import ExportDialog
from app.gui.flag_label import FLAG_KEYS, FLAG_TEXT, LABEL_KEYS

if TYPE_CHECKING:
    from app.gui.main_window import MainWindow

_FLAG_MESSAGES = {PICK: "Flagged {n} as pick", REJECT: "Rejected {n}", UNFLAGGED: "Unflagged {n}"}


def _photos(n: int) -> str:
    return f"{n:,} photo{'s' if n != 1 else ''}"


class Organizer(QObject):
    def __init__(self, win: MainWindow) -> None:
        super().__init__(win)
        self.win = win
        self.lib = win.lib
        self.shown: collections.Collection | None = None  # the collection the grid shows, if any
        self.export_dialog: ExportDialog | None = None
        self._make_actions()
        self._connect()
        win.sidebar.target_collection = self._target_id()

    # -- construction -------------------------------------------------------------------------------
    def _grid_action(self, text: str, slot: Callable[[], Any], key: str | None, tip: str) -> QAction:
        """An action whose plain key works on the grid only (digits and letters still type elsewhere)."""
        action = self.win._action(text, slot, key, tip)
        action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        return action

    def _make_actions(self) -> None:
        win = self.win
        flag_menu = win.photo_menu.addMenu("&Flag")
        self.flag_actions: dict[str, QAction] = {}
        for flag, key in FLAG_KEYS:
            self.flag_actions[flag] = self._grid_action(
                FLAG_TEXT[flag],
                lambda _=False, f=flag: self.flag_selection(f),
                key,
                f"Flag the selected photos ({key})",
            )
            flag_menu.addAction(self.flag_actions[flag])
        label_menu = win.photo_menu.addMenu("Color &Label")
        self.label_actions: dict[str | None, QAction] = {}
        for label, key in (*LABEL_KEYS, (None, None)):
            tip = f"Label the selected photos {label} (again: take it off)" if label else "Take the label off"
            self.label_actions[label] = self._grid_action(
                label or "None", lambda _=False, n=label: self.label_selection(n), key, tip
            )
            if label is None:
                label_menu.addSeparator()
            label_menu.addAction(self.label_actions[label])
        for menu in (flag_menu, label_menu):
            win.grid.addAction(menu.menuAction())

        menu = QMenu("&Collection", win)
        win.menuBar().insertMenu(win.menuBar().actions()[-1], menu)  # before Help
        tips = {
            "new": "A collection: gather photos by hand, in your own order",
            "smart": "A smart collection: the current filters, live as the library changes",
            "update": "Save the current filters as the shown smart collection's criteria",
            "target": "Add the selected photos to the target collection (marked + in the sidebar)",
            "remove": "Take the selected photos out of the collection shown (not out of the library)",
            "export": "Export the selected photos (or all shown) to a folder",
        }
        self.new_action = win._action("&New Collection…", self.new_collection, "Ctrl+N", tips["new"])
        self.new_set_action = win._action("New Collection &Set…", self.new_set, None, "A set holds collections")
        self.save_smart_action = win._action("Save Filter as S&mart Collection…", self.save_smart, "Ctrl+Shift+N",
                                             tips["smart"])  # fmt: skip
        self.update_smart_action = win._action("&Update Smart Collection from Filter", self.update_smart, None,
                                               tips["update"])  # fmt: skip
        self.add_target_action = self._grid_action("Add to &Target Collection", self.add_to_target, "B", tips["target"])
        self.remove_action = win._action("&Remove from This Collection", self.remove_from_shown, None, tips["remove"])
        self.add_to_menu = QMenu("&Add to Collection", win)
        self.add_to_menu.aboutToShow.connect(self._fill_add_to)
        for a in (self.new_action, self.new_set_action, self.save_smart_action, self.update_smart_action, None,
                  self.add_target_action, self.add_to_menu.menuAction(), self.remove_action):  # fmt: skip
            menu.addSeparator() if a is None else menu.addAction(a)
        for a in (self.add_target_action, self.add_to_menu.menuAction(), self.remove_action):
            win.grid.addAction(a)

        self.export_action = win._action("E&xport Photos…", self.open_export, "Ctrl+Shift+E", tips["export"])
        file_menu = win.menuBar().actions()[0].menu()
        file_menu.insertAction(win.export_xmp_action, self.export_action)
        win.grid.addAction(self.export_action)
        self.sort_item = "Custom order"  # the sort combo's entry for a collection's own order
        win.sort_combo.addItem(self.sort_item)

        grid = win.grid
        grid.setDragEnabled(True)
        grid.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        grid.setDefaultDropAction(Qt.DropAction.CopyAction)  # a move would make QListView move rows itself
        grid.setDropIndicatorShown(True)
        grid.viewport().setAcceptDrops(True)

    def _connect(self) -> None:
        win = self.win
        win.sidebar.photos_dropped.connect(self.add_photos)
        win.sidebar.menu_requested.connect(self.collection_menu)
        win.model.reorder_requested.connect(self.reorder)
        win.filter_bar.collection_cleared.connect(self._collection_cleared)
        win.inspector.flag_set.connect(lambda pid, flag: self.flag([pid], flag))
        win.inspector.label_set.connect(lambda pid, label: self.label([pid], label))

    # -- flags and labels ---------------------------------------------------------------------------
    def _selection(self, what: str) -> list[int]:
        ids = self.win.selected_ids()
        if not ids:
            self.win.statusBar().showMessage(f"Select the photos to {what}.", 5000)
        return ids

    def flag_selection(self, flag: str) -> None:
        ids = self._selection("flag")
        if ids:
            self.flag(ids, flag)

    def flag(self, ids: list[int], flag: str) -> None:
        self._edited(tag_ops.set_flag(self.lib, ids, flag), _FLAG_MESSAGES[flag].format(n=_photos(len(ids))))

    def label_selection(self, label: str | None) -> None:
        """6-9 as in Lightroom: a label, or off again when every selected photo has it already."""
        ids = self._selection("label")
        if not ids:
            return
        if label is not None and all(self.win.model.info(self.win.model.row_of(pid)).label == label for pid in ids):
            label = None
        self.label(ids, label)

    def label(self, ids: list[int], label: str | None) -> None:
        text = f"Labelled {_photos(len(ids))} {label}" if label else f"Took the label off {_photos(len(ids))}"
        self._edited(tag_ops.set_label(self.lib, ids, label), text)

    def _edited(self, report: SidecarReport | None, message: str) -> None:
        self.win.statusBar().showMessage(message, 5000)
        self.win._sidecar_outcome(report)
        f = self.win.model.filter
        depends = bool(f.flags or f.labels or f.min_rating is not None or f.sort == "rating")
        self.win._show_edit(requery=depends)
        if self.shown is not None and self.shown.kind == collections.SMART:
            self.win.sidebar.refresh_collections()  # smart counts follow the edit

    # -- collections -------------------------------------------------------------------------------
    def _target_id(self) -> int | None:
        target = collections.target(self.lib)
        return target.id if target is not None else None

    def refresh_sidebar(self) -> None:
        self.win.sidebar.target_collection = self._target_id()
        self.win.sidebar.refresh_collections()

    def new_collection(self, smart: bool = False) -> int | None:
        dialog = NewCollectionDialog(self.win, "Smart Collection" if smart else "Collection",
                                     len(self.win.selected_ids()) if not smart else 0)  # fmt: skip
        if not dialog.exec():
            return None
        try:
            if smart:
                current = self.win.filter_bar.current()
                if current is None:
                    raise collections.CollectionError("finish typing the dates first")
                saved = current.with_(collection=None)
                cid = collections.create(self.lib, dialog.name(), kind=collections.SMART, parent=dialog.parent_id(),
                                         saved=saved)  # fmt: skip
            else:
                cid = collections.create(self.lib, dialog.name(), parent=dialog.parent_id())
                if dialog.add_selected():
                    collections.add(self.lib, cid, self.win.selected_ids())
                if dialog.make_target():
                    collections.set_target(self.lib, cid)
        except collections.CollectionError as exc:
            QMessageBox.warning(self.win, "Collection", str(exc))
            return None
        self.refresh_sidebar()
        self.win.statusBar().showMessage(f"Created {dialog.name()!r}", 5000)
        return cid

    def new_set(self) -> int | None:
        name, ok = QInputDialog.getText(self.win, "New Collection Set", "Name of the set:")
        if not ok or not name.strip():
            return None
        try:
            cid = collections.create(self.lib, name, kind=collections.SET)
        except collections.CollectionError as exc:
            QMessageBox.warning(self.win, "Collection set", str(exc))
            return None
        self.refresh_sidebar()
        return cid

    def save_smart(self) -> int | None:
        return self.new_collection(smart=True)

    def update_smart(self) -> bool:
        current = self.win.filter_bar.current()
        if self.shown is None or self.shown.kind != collections.SMART or current is None:
            self.win.statusBar().showMessage("Open a smart collection first, then change the filters.", 5000)
            return False
        collections.save_filter(self.lib, self.shown.id, current.with_(collection=None))
        self.refresh_sidebar()
        self.win.statusBar().showMessage(f"Updated the smart collection {self.shown.name!r}", 5000)
        return True

    def open_collection(self, collection_id: int) -> None:
        c = collections.resolve(collection_id)
        bar = self.win.filter_bar
        if c.kind == collections.SMART:
            bar.load(collections.filter_of(c))
            self.shown = c
            bar.show_collection(None, f"Smart collection: {c.name} — change the filters, then Collection > "
                                "Update Smart Collection")  # fmt: skip
        elif c.kind == collections.COLLECTION:
            self.shown = c
            bar.set_sort(c.sort, c.descending)
            bar.show_collection(
                c.id, f"Collection: {c.name}" + (" — drag photos to reorder" if c.sort == "manual" else "")
            )
            self._show_sort(c.sort, c.descending)
        bar.apply_now()  # a click in the sidebar, not typing: no debounce

    def _show_sort(self, key: str, descending: bool) -> None:
        combo = self.win.sort_combo
        combo.blockSignals(True)
        if key == "manual":
            combo.setCurrentText(self.sort_item)
        else:
            from app.gui.main_window import SORTS as GUI_SORTS

            index = next((i for i, (_, k, d) in enumerate(GUI_SORTS) if (k, d) == (key, descending)), 0)
            combo.setCurrentIndex(index)
        combo.blockSignals(False)

    def sort_changed(self, key: str, descending: bool) -> None:
        """The toolbar's sort while a collection is shown becomes the collection's order."""
        if self.shown is not None and self.shown.kind == collections.COLLECTION and key in SORTS:
            collections.set_sort(self.lib, self.shown.id, key, descending)

    def _collection_cleared(self) -> None:
        self.shown = None
        if self.win.sort_combo.currentText() == self.sort_item:
            self.win.sort_combo.setCurrentIndex(0)

    def add_photos(self, collection_id: int, ids: list[int]) -> int:
        try:
            added = collections.add(self.lib, collection_id, ids)
        except collections.CollectionError as exc:
            QMessageBox.warning(self.win, "Collection", str(exc))
            return 0
        name = collections.resolve(collection_id).name
        self.win.statusBar().showMessage(f"Added {_photos(added)} to {name!r}" + (
            f" ({len(ids) - added} already in it)" if added < len(ids) else ""), 5000)  # fmt: skip
        self.refresh_sidebar()
        if self.shown is not None and self.shown.id == collection_id:
            self.win.apply_filter(self.win.model.filter)
        return added

    def add_to_target(self) -> None:
        ids = self._selection("add to the target collection")
        if not ids:
            return
        target = collections.target(self.lib)
        if target is None:
            answer = QMessageBox.question(self.win, "Target collection", "There is no target collection yet.\n"
                                          "Create one now? (B then adds the selected photos to it.)")  # fmt: skip
            if answer != QMessageBox.StandardButton.Yes:
                return
            cid = self.new_collection()
            if cid is None:
                return
            collections.set_target(self.lib, cid)
            self.refresh_sidebar()
            target = collections.target(self.lib)
        if target is not None:
            self.add_photos(target.id, ids)

    def remove_from_shown(self) -> None:
        ids = self.win.selected_ids()
        if self.shown is None or self.shown.kind != collections.COLLECTION or not ids:
            self.win.statusBar().showMessage("Open a collection and select the photos to take out of it.", 5000)
            return
        n = collections.remove(self.lib, self.shown.id, ids)
        self.win.statusBar().showMessage(f"Took {_photos(n)} out of {self.shown.name!r}", 5000)
        self.refresh_sidebar()
        self.win.apply_filter(self.win.model.filter)

    def reorder(self, ids: list[int], before: int | None) -> None:
        if self.shown is None or self.shown.kind != collections.COLLECTION:
            return
        collections.move(self.lib, self.shown.id, ids, before)
        self.win.apply_filter(self.win.model.filter)

    def _fill_add_to(self) -> None:
        self.add_to_menu.clear()
        manual = [c for c in collections.listing(counts=False) if c.kind == collections.COLLECTION]
        for info in manual:
            self.add_to_menu.addAction(info.path, lambda cid=info.id: self.add_photos(cid, self.win.selected_ids()))
        if manual:
            self.add_to_menu.addSeparator()
        self.add_to_menu.addAction("New Collection…", self.new_collection)

    def collection_menu(self, collection_id: int | None, pos: QPoint) -> QMenu:
        """The sidebar's right-click menu on the Collections section or on one of its entries."""
        menu = QMenu(self.win)
        menu.addAction(self.new_action)
        menu.addAction(self.new_set_action)
        menu.addAction(self.save_smart_action)
        c = collections.resolve(collection_id) if collection_id is not None else None
        if c is not None:
            menu.addSeparator()
            if c.kind == collections.COLLECTION:
                menu.addAction("Set as Target Collection", lambda: self._set_target(c.id))
            if c.kind == collections.SMART:
                menu.addAction("Edit Smart Collection (in the filter bar)", lambda: self.open_collection(c.id))
            if c.kind != collections.SET:
                menu.addAction("Export This Collection…", lambda: self.open_export(c.id))
            menu.addAction("Rename…", lambda: self.rename(c.id))
            menu.addAction("Delete…", lambda: self.delete(c.id))
        menu.popup(pos)
        return menu

    def _set_target(self, collection_id: int) -> None:
        collections.set_target(self.lib, collection_id)
        self.refresh_sidebar()

    def rename(self, collection_id: int) -> None:
        c = collections.resolve(collection_id)
        name, ok = QInputDialog.getText(self.win, "Rename", "New name:", text=c.name)
        if ok:
            try:
                collections.rename(self.lib, c.id, name)
            except collections.CollectionError as exc:
                QMessageBox.warning(self.win, "Rename", str(exc))
            self.refresh_sidebar()

    def delete(self, collection_id: int) -> None:
        c = collections.resolve(collection_id)
        answer = QMessageBox.question(self.win, "Delete", f"Delete {c.name!r}? The photos stay in the library.")
        if answer == QMessageBox.StandardButton.Yes:
            collections.delete(self.lib, c.id)
            if self.shown is not None and self.shown.id == c.id:
                self.win.filter_bar.clear_collection()
            self.refresh_sidebar()

    # -- export ------------------------------------------------------------------------------------
    def open_export(self, collection_id: int | None = None) -> ExportDialog | None:
        if collection_id is not None:
            c = collections.resolve(collection_id)
            ids, what = collections.photo_ids(c), f"the collection {c.name!r}"
        else:
            ids = self.win.selected_ids() or self.win.model.ids()
            what = "the selected photos" if self.win.selected_ids() else "the photos shown"
        if not ids:
            self.win.statusBar().showMessage("Nothing to export.", 5000)
            return None
        dialog = ExportDialog(self.lib, ids, what, self.win)
        dialog.export_requested.connect(lambda folder, settings: self.start_export(ids, folder, settings))
        dialog.open()
        self.export_dialog = dialog
        return dialog

    def start_export(self, ids: list[int], folder: Path, settings: ExportSettings) -> bool:
        if self.win.runner.is_running():
            self.win.statusBar().showMessage("Wait for the running job to finish, or cancel it.", 5000)
            return False

        def job(progress, cancelled) -> ExportReport:  # type: ignore[no-untyped-def]
            return export_photos(ids, folder, settings, progress=lambda p: progress(dataclasses.replace(p)),
                                 cancelled=cancelled)  # fmt: skip

        self.win._start_job(f"Exporting {_photos(len(ids))} to {folder}", job)
        return True
