"""Culling and gathering in the GUI, driven as a person would: P/X/U and 6-9 on the grid, the
inspector's flag and label buttons, the filter bar's flag filter, B into the target collection,
photos dragged onto a collection and within it, a smart collection saved from the filters, Export,
the welcome page of an empty library and Help > Keyboard Shortcuts. Values are read back from the
catalog; photos are copies of the corpus, imported for real."""

from __future__ import annotations

import shutil
from pathlib import Path

from PySide6.QtCore import QPointF, Qt, QTimer
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QFileDialog, QLineEdit, QPushButton

from app.core import collections
from app.core.catalog.models import Photo
from app.gui.collection_dialog import NewCollectionDialog
from app.gui.main_window import MainWindow
from app.gui.sidebar import KindRole
from tests.gui.conftest import JOB_TIMEOUT_MS
from tests.gui.test_rating import _press, _select


def _flags() -> dict[int, tuple[int | None, bool, str | None]]:
    return {p.id: (p.rating, p.picked, p.label) for p in Photo.select()}


def test_p_x_u_and_6_to_9_on_the_selection(qtbot, photos_window: MainWindow) -> None:
    win = photos_window
    ids = win.model.ids()
    _select(win, ids[:2])
    _press(qtbot, win, Qt.Key.Key_P)
    assert [_flags()[p][1] for p in ids[:2]] == [True, True]
    _press(qtbot, win, Qt.Key.Key_6)
    assert [_flags()[p][2] for p in ids[:2]] == ["Red", "Red"]
    _press(qtbot, win, Qt.Key.Key_6)  # the same key again takes the label off, as in Lightroom
    assert [_flags()[p][2] for p in ids[:2]] == [None, None]
    _press(qtbot, win, Qt.Key.Key_9)
    _select(win, [ids[1]])
    _press(qtbot, win, Qt.Key.Key_X)
    assert _flags()[ids[1]] == (-1, False, "Blue")
    assert win.model.info(win.model.row_of(ids[1])).rating == -1  # the grid's row shows it
    _press(qtbot, win, Qt.Key.Key_U)
    assert _flags()[ids[1]] == (None, False, "Blue")
    _press(qtbot, win, Qt.Key.Key_8)
    assert _flags()[ids[1]][2] == "Green"
    win.organizer.label_actions["Purple"].trigger()  # Purple has no key: Photo > Color Label
    assert _flags()[ids[1]][2] == "Purple"
    # the inspector shows the current photo's flag and label and sets them with a click
    row = win.inspector.flag_label
    assert row.label_buttons["Purple"].isChecked() and row.flag_buttons["none"].isChecked()
    qtbot.mouseClick(row.flag_buttons["pick"], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(row.label_buttons["Yellow"], Qt.MouseButton.LeftButton)
    assert _flags()[ids[1]] == (None, True, "Yellow")
    # the filter bar's flag filter
    win.filter_bar.flag.setCurrentText("Picked")
    qtbot.waitUntil(lambda: win.model.rowCount() == 2, timeout=3000)
    assert set(win.model.ids()) == set(ids[:2])
    win.filter_bar.flag.setCurrentText("Rejected")
    qtbot.waitUntil(lambda: win.model.rowCount() == 0, timeout=3000)


def _collection_item(win: MainWindow, name: str):  # -> QTreeWidgetItem
    section = win.sidebar.sections["Collections"]
    for item in (section.child(i) for i in range(section.childCount())):
        if item.data(0, KindRole) == "collection" and item.text(0).endswith(name):
            return item
    raise AssertionError(f"no sidebar entry for {name}")


def _drag_and_drop(viewport, pos: QPointF, mime) -> None:  # type: ignore[no-untyped-def]
    """What a drag delivers to the widget under the mouse: enter, move, then the drop (Qt refuses a
    drop that no drag move was accepted for)."""
    for kind in (QDragEnterEvent, QDragMoveEvent, QDropEvent):
        point = pos.toPoint() if kind is not QDropEvent else pos
        event = kind(point, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(viewport, event)
        assert event.isAccepted(), kind.__name__


def _fill_dialog(name: str, target: bool = False) -> None:
    """Answer the New Collection dialog when it opens, as a person would type into it."""

    def answer() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, NewCollectionDialog)
        dialog.name_edit.setText(name)
        dialog.target_box.setChecked(target)
        dialog.findChildren(QPushButton)[0].click()  # Create

    QTimer.singleShot(50, answer)


def test_collections_b_drop_and_reorder(qtbot, photos_window: MainWindow) -> None:
    win = photos_window
    ids = win.model.ids()
    _select(win, ids[:2])
    _fill_dialog("Keepers", target=True)
    cid = win.organizer.new_collection()
    assert collections.photo_ids(collections.resolve(cid)) == ids[:2]  # "add the selected photos" was ticked
    assert _collection_item(win, "Keepers").text(0).startswith("+ ")  # the target collection
    _select(win, [ids[4]])
    _press(qtbot, win, Qt.Key.Key_B)
    assert collections.photo_ids(collections.resolve(cid)) == [*ids[:2], ids[4]]
    # drag two photos from the grid onto the collection in the sidebar
    mime = win.model.mimeData([win.model.index(win.model.row_of(p)) for p in (ids[5], ids[3])])
    item = _collection_item(win, "Keepers")
    _drag_and_drop(win.sidebar.viewport(), QPointF(win.sidebar.visualItemRect(item).center()), mime)
    assert collections.photo_ids(collections.resolve(cid)) == [*ids[:2], ids[4], ids[3], ids[5]]
    assert _collection_item(win, "Keepers").text(1) == "5"  # the sidebar's count
    # open it and drag its last photo onto its first: it goes before it
    win.sidebar_picked("collection", cid)
    qtbot.waitUntil(lambda: win.model.rowCount() == 5, timeout=3000)
    order = win.model.ids()
    assert order == [*ids[:2], ids[4], ids[3], ids[5]]
    mime = win.model.mimeData([win.model.index(4)])
    _drag_and_drop(win.grid.viewport(), QPointF(win.grid.visualRect(win.model.index(0)).center()), mime)
    qtbot.waitUntil(lambda: win.model.ids()[0] == order[4], timeout=3000)
    assert collections.photo_ids(collections.resolve(cid)) == [order[4], *order[:4]]
    # take one out (context menu entry), the collection banner's Clear shows the library again
    _select(win, [order[0]])
    win.organizer.remove_action.trigger()
    qtbot.waitUntil(lambda: win.model.rowCount() == 4, timeout=3000)
    win.filter_bar.collection_clear.click()
    qtbot.waitUntil(lambda: win.model.rowCount() == len(ids), timeout=3000)


def test_smart_collection_from_the_filter_bar_stays_live(qtbot, photos_window: MainWindow) -> None:
    win = photos_window
    ids = win.model.ids()
    _select(win, ids[:3])
    _press(qtbot, win, Qt.Key.Key_P)
    win.filter_bar.flag.setCurrentText("Picked")
    qtbot.waitUntil(lambda: win.model.rowCount() == 3, timeout=3000)
    _fill_dialog("Picks")
    cid = win.organizer.save_smart()
    smart = collections.resolve(cid)
    assert smart.kind == "smart" and collections.filter_of(smart).flags == ("pick",)
    win.filter_bar.reset()
    qtbot.waitUntil(lambda: win.model.rowCount() == len(ids), timeout=3000)
    _select(win, [ids[4]])
    _press(qtbot, win, Qt.Key.Key_P)  # live: a new pick is in it
    win.sidebar_picked("collection", cid)
    qtbot.waitUntil(lambda: win.model.rowCount() == 4, timeout=3000)
    assert win.filter_bar.flag.currentText() == "Picked"  # its criteria are in the filter bar, to edit
    win.filter_bar.rating.setCurrentIndex(1)  # edit: and at least one star
    qtbot.waitUntil(lambda: win.model.rowCount() == 0, timeout=3000)
    assert win.organizer.update_smart()
    assert collections.filter_of(collections.resolve(cid)).min_rating == 1
    item = _collection_item(win, "Picks")
    assert item.text(1) == "0"


def test_export_dialog_runs_a_job(qtbot, photos_window: MainWindow, tmp_path: Path) -> None:
    win = photos_window
    ids = win.model.ids()
    cid = collections.create(win.lib, "Client")
    collections.add(win.lib, cid, ids[:3])
    dialog = win.organizer.open_export(cid)
    dialog.folder.setText(str(tmp_path / "out"))
    dialog.size_mode.setCurrentIndex(1)
    dialog.long_edge.setValue(120)
    dialog.metadata.setCurrentIndex(1)  # all but location
    dialog.template.setText("{seq:02}_{nope}")
    assert "unknown field" in dialog.preview.text() and not dialog.buttons.buttons()[0].isEnabled()
    dialog.template.setText("{seq:02}_{name}")
    assert dialog.preview.text().startswith("First file: 01_")
    with qtbot.waitSignal(win.runner.finished, timeout=JOB_TIMEOUT_MS):
        dialog.buttons.buttons()[0].click()  # Export
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert len(written) == 3 and written[0].startswith("01_")
    assert "3 photo(s) exported" in win.progress_panel.title.text() + win.statusBar().currentMessage()


def test_welcome_page_imports_a_folder(qtbot, window: MainWindow, corpus: Path, tmp_path: Path, monkeypatch) -> None:
    win = window
    assert win.grid_stack.currentWidget() is win.welcome
    assert str(win.lib.root) in win.welcome.location.text()
    hints = win.sidebar.sections["Collections"].child(0)
    assert hints.text(0) and not hints.flags() & Qt.ItemFlag.ItemIsSelectable  # says what fills the section
    folder = tmp_path / "photos"
    folder.mkdir()
    shutil.copy(corpus / "exif" / "flower.jpg", folder / "flower.jpg")
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(folder))  # the OS's dialog
    with qtbot.waitSignal(win.runner.finished, timeout=JOB_TIMEOUT_MS):
        qtbot.mouseClick(win.welcome.import_button, Qt.MouseButton.LeftButton)
    assert win.grid_stack.currentWidget() is win.grid and win.model.rowCount() == 1


def test_keyboard_shortcuts_list_menus_and_keys(qtbot, window: MainWindow) -> None:
    dialog = window.show_shortcuts()
    rows = dict(dialog.rows())
    assert rows["Photo > Flag > Flagged (Pick)"] == "P" and rows["Photo > Flag > Rejected"] == "X"
    assert rows["Photo > Color Label > Red"] == "6" and rows["Photo > Color Label > Blue"] == "9"
    assert rows["Collection > Add to Target Collection"] == "B"
    assert rows["File > Export Photos…"] == "Ctrl+Shift+E"
    assert "Collection > Save Filter as Smart Collection…" in rows
    assert not [w for w in dialog.findChildren(QLineEdit)]  # a list to read, nothing to type into
