"""Rating photos in the GUI, driven as a person would: keys on the grid, the Photo > Rating menu, the
inspector's stars, with the grid's filter by rating; the grid's star badges; sidecars written as
ratings change. Photos are copies of the corpus, imported for real; values are read back from the
catalog."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QItemSelectionModel, QPoint, QRect, Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QApplication, QStyle, QStyleOptionViewItem

from app.core.catalog.models import Photo
from app.core.xmp.sidecars import read_sidecar
from app.gui.grid_model import RowInfo
from app.gui.main_window import MainWindow

SHOWN = ("ok", "error")  # what the grid lists (the filter bar's statuses)


def _select(win: MainWindow, photo_ids: list[int]) -> None:
    """Select these photos, the first one current, and give the grid the keyboard."""
    selection = win.grid.selectionModel()
    for i, pid in enumerate(photo_ids):
        row = win.model.row_of(pid)
        assert row is not None
        flag = QItemSelectionModel.SelectionFlag.ClearAndSelect if i == 0 else QItemSelectionModel.SelectionFlag.Select
        (selection.setCurrentIndex if i == 0 else selection.select)(win.model.index(row), flag)
    assert sorted(win.selected_ids()) == sorted(photo_ids)
    win.activateWindow()
    win.grid.setFocus()


def _press(qtbot, win: MainWindow, key: Qt.Key) -> None:
    qtbot.waitUntil(lambda: QApplication.focusWidget() is win.grid, timeout=3000)
    qtbot.keyClick(win.grid, key)


def _ratings() -> dict[int, int | None]:
    return dict(Photo.select(Photo.id, Photo.rating).tuples())


def _row_info(win: MainWindow, photo_id: int) -> RowInfo:
    """The grid model's (cached) row of a photo."""
    row = win.model.row_of(photo_id)
    assert row is not None
    return win.model.info(row)


def _cached_rating(win: MainWindow, photo_id: int) -> int | None:
    return _row_info(win, photo_id).rating


def _click_star(qtbot, win: MainWindow, star: int) -> None:
    stars = win.inspector.stars
    qtbot.mouseClick(stars, Qt.MouseButton.LeftButton, pos=stars.star_rect(star).center())


def test_keys_rate_the_selected_photos(qtbot, photos_window: MainWindow) -> None:
    win = photos_window
    ids = win.model.ids()
    chosen = [ids[1], ids[3]]
    _select(win, chosen)
    _press(qtbot, win, Qt.Key.Key_4)
    assert _ratings() == {pid: 4 if pid in chosen else None for pid in ids}
    assert win.statusBar().currentMessage() == "Rated 2 photos ★★★★"
    assert all(_cached_rating(win, pid) == 4 for pid in chosen), "the grid's cached rows were re-read"
    assert win.inspector.photo_id == chosen[0] and win.inspector.stars.rating() == 4
    assert sorted(win.selected_ids()) == sorted(chosen)

    _press(qtbot, win, Qt.Key.Key_X)
    assert {pid: r for pid, r in _ratings().items() if r is not None} == dict.fromkeys(chosen, -1)
    assert win.statusBar().currentMessage() == "Rejected 2 photos"

    _press(qtbot, win, Qt.Key.Key_0)
    assert set(_ratings().values()) == {None}
    assert win.statusBar().currentMessage() == "Cleared the rating of 2 photos"
    assert _cached_rating(win, chosen[0]) is None
    assert win.inspector.stars.rating() is None


def test_rating_menu_and_shortcut_list(qtbot, photos_window: MainWindow) -> None:
    win = photos_window
    menu = win.rating_menu
    assert menu.menuAction() in win.photo_menu.actions()
    assert menu.menuAction() in win.grid.actions()  # the grid's context menu has it too
    texts = [(a.text(), a.shortcut().toString()) for a in menu.actions() if not a.isSeparator()]
    assert texts == [("No Rating", "0"), ("★", "1"), ("★★", "2"), ("★★★", "3"), ("★★★★", "4"), ("★★★★★", "5")]
    listed = win.shortcut_rows()  # what Help > Keyboard Shortcuts lists
    assert {(f"Photo > Rating > {text}", key) for text, key in texts} <= set(listed)
    assert ("Photo > Flag > Rejected", "X") in listed  # X rejects, from the Flag menu as in Lightroom
    assert all(key for _, key in listed), "only actions that have a key"
    # the menu acts on the selection like the keys do
    pid = win.model.ids()[0]
    _select(win, [pid])
    win.rating_actions[5].trigger()
    assert _ratings()[pid] == 5
    assert win.statusBar().currentMessage() == "Rated 1 photo ★★★★★"


def test_inspector_stars_set_and_clear(qtbot, photos_window: MainWindow) -> None:
    win = photos_window
    pid = win.model.ids()[2]
    _select(win, [pid])
    stars = win.inspector.stars
    qtbot.waitUntil(lambda: win.inspector.photo_id == pid, timeout=3000)
    _click_star(qtbot, win, 2)
    assert _ratings()[pid] == 2
    assert sum(r is not None for r in _ratings().values()) == 1
    assert stars.rating() == 2 and _cached_rating(win, pid) == 2
    _click_star(qtbot, win, 2)  # the same star again clears
    assert _ratings()[pid] is None and stars.rating() is None


def test_rating_filter_follows_new_ratings(qtbot, photos_window: MainWindow) -> None:
    win = photos_window
    ids = win.model.ids()
    good = ids[:3]
    _select(win, good)
    _press(qtbot, win, Qt.Key.Key_4)
    win.filter_bar.rating.setCurrentIndex(3)  # "★ 3+"
    assert win.filter_bar.rating.currentText() == "★ 3+"

    def catalog_3_plus() -> list[int]:
        return [p.id for p in Photo.select().where(Photo.status.in_(SHOWN) & (Photo.rating >= 3))]

    qtbot.waitUntil(lambda: win.model.filter.min_rating == 3, timeout=3000)
    assert sorted(win.model.ids()) == sorted(good) == sorted(catalog_3_plus())

    _select(win, [good[0]])
    _press(qtbot, win, Qt.Key.Key_1)
    assert win.model.rowCount() == len(catalog_3_plus()) == 2
    assert good[0] not in win.model.ids()
    assert win.filter_bar.count.text() == "2 photos"

    # two selected, one rated down from the inspector: it leaves, the other stays selected
    _select(win, good[1:])
    qtbot.waitUntil(lambda: win.inspector.photo_id == good[1], timeout=3000)
    _click_star(qtbot, win, 1)
    assert win.model.ids() == catalog_3_plus() == [good[2]]
    assert win.selected_ids() == [good[2]]
    assert win.inspector.photo_id == good[2]


def test_sorted_by_rating_a_rated_photo_moves(qtbot, photos_window: MainWindow) -> None:
    win = photos_window
    win.sort_combo.setCurrentText("Rating")  # best first
    qtbot.waitUntil(lambda: win.model.filter.sort == "rating", timeout=3000)
    last = win.model.ids()[-1]
    _select(win, [last])
    _press(qtbot, win, Qt.Key.Key_5)
    assert win.model.ids()[0] == last
    assert win.selected_ids() == [last] and win.grid.currentIndex().row() == 0


def test_sidecars_follow_ratings_and_failures_show(qtbot, photos_window: MainWindow) -> None:
    win = photos_window
    win.lib.set_auto_write_sidecars(True)
    ids = win.model.ids()
    broken, fine = Photo.get_by_id(ids[0]), Photo.get_by_id(ids[1])
    bad_sidecar = Path(broken.path + ".xmp")
    bad_sidecar.write_text("not xml at all")  # unreadable: Tessera must leave it alone and say so
    _select(win, [broken.id, fine.id])
    _press(qtbot, win, Qt.Key.Key_3)
    assert _ratings()[broken.id] == _ratings()[fine.id] == 3  # the catalog has it either way
    assert read_sidecar(Path(fine.path + ".xmp")).rating == 3
    assert bad_sidecar.read_text() == "not xml at all"
    assert win.statusBar().currentMessage().startswith(f"Sidecar not updated for {broken.filename}: ")


def _render_cell(win: MainWindow, photo_id: int) -> np.ndarray:
    """The grid cell of a photo as the delegate paints it, as an RGBA array."""
    row = win.model.row_of(photo_id)
    assert row is not None
    index = win.model.index(row)
    option = QStyleOptionViewItem()
    option.palette = win.grid.palette()
    option.state = QStyle.StateFlag.State_Enabled
    size = win.delegate.sizeHint(option, index)
    option.rect = QRect(QPoint(0, 0), size)
    image = QImage(size, QImage.Format.Format_RGBA8888)
    image.fill(Qt.GlobalColor.white)
    painter = QPainter(image)
    painter.setFont(win.grid.font())
    win.delegate.paint(painter, option, index)
    painter.end()
    return np.frombuffer(image.constBits(), np.uint8).reshape(size.height(), image.bytesPerLine() // 4, 4).copy()


def test_grid_cell_shows_rating(qtbot, photos_window: MainWindow) -> None:
    win = photos_window
    pid = win.model.ids()[0]
    info = _row_info(win, pid)
    if info.thumb_key:  # thumbnails load in threads: paint the same picture each time
        qtbot.waitUntil(lambda: win.thumbs.get(pid, info.thumb_key, 320) is not None, timeout=5000)
    unrated = _render_cell(win, pid)
    assert np.array_equal(unrated, _render_cell(win, pid)), "painting is deterministic"
    rendered = {}
    for rating in (3, -1, None):
        win.rate([pid], rating)
        rendered[rating] = _render_cell(win, pid)
    assert np.array_equal(rendered[None], unrated)
    changed = np.argwhere((rendered[3] != unrated).any(axis=2))
    assert len(changed), "the stars are drawn"
    top, left = changed.min(axis=0)
    height, width = unrated.shape[:2]
    assert top > height / 2 and left < width / 2, "in the bottom-left corner of the thumbnail"
    # a reject fades the whole thumbnail (as in Lightroom), with its red mark bottom-left
    assert rendered[-1][..., :3].mean() < unrated[..., :3].mean() - 10
    red = (rendered[-1][..., 0] > 180) & (rendered[-1][..., 1] < 100) & (rendered[-1][..., 2] < 100)
    rows, cols = np.nonzero(red)
    assert len(rows) and rows.min() > height / 2 and cols.max() < width / 2


def test_rating_while_viewing(qtbot, photos_window: MainWindow) -> None:
    """Culling in the viewer as in Lightroom's loupe: digits rate the photo shown, X rejects, Z is
    100%; the catalog, the viewer's status line and the grid follow."""
    win = photos_window
    first, second = (Photo.get(Photo.filename == n).id for n in ("flower.jpg", "flower2.jpg"))
    _select(win, [first])
    viewer = win.open_viewer()
    qtbot.waitUntil(lambda: "loading" not in viewer.status.text(), timeout=10_000)
    viewer.activateWindow()
    viewer.setFocus()
    qtbot.waitUntil(lambda: viewer.isActiveWindow(), timeout=3000)
    qtbot.keyClick(viewer, Qt.Key.Key_3)
    assert _ratings()[first] == 3 and "★★★" in viewer.status.text()
    qtbot.keyClick(viewer, Qt.Key.Key_Z)
    assert viewer.view.zoom() == pytest.approx(1.0)
    while viewer.photo.id != second:  # the next photos in grid order
        qtbot.keyClick(viewer, Qt.Key.Key_Right)
    qtbot.keyClick(viewer, Qt.Key.Key_X)
    assert _ratings()[second] == -1 and "Rejected" in viewer.status.text()
    assert _ratings()[first] == 3
    assert win.model.info(win.model.row_of(second)).rating == -1  # the grid's row was re-read
    viewer.close()
