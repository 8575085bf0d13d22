"""File > Trashed Photos…: lists what Tessera sent to the (temporary) system trash, the same records
as `tessera trashed`, and puts the selected photos back; a file already emptied from the trash is
reported in words and stays listed."""

from __future__ import annotations

import shutil
from pathlib import Path

from PySide6.QtCore import Qt

from app.core import trash
from app.core.catalog.models import Photo
from app.gui.inspector import _size as human_size
from app.gui.trash_view import EMPTY_TEXT, ICON, PHOTO, TrashedPhotosWindow

NAMES = ("g02_coffee.jpg", "g02_coffee_gray.jpg", "g21_city.jpg", "g24_string_resize25.jpg")


def _library_with_trash(window, corpus: Path, tmp_path: Path) -> dict[str, int]:
    """Copies of corpus photos, imported with thumbnails, and all but the last one trashed."""
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in NAMES:
        shutil.copy2(corpus / "dupes" / name, folder)  # only these copies are ever trashed
    window.lib.import_folders([folder], analyze=False)
    window.lib.analyze(stages=["thumbnails"])
    window.lib.writer.flush()
    ids = {Path(p.path).name: p.id for p in Photo.select()}
    assert not [r for r in trash.trash_photos(window.lib, [ids[n] for n in NAMES[:3]]) if r.error]
    window.lib.writer.flush()
    window.refresh_all()
    return ids


def _open(window) -> TrashedPhotosWindow:
    window.trashed_action.trigger()  # what File > Trashed Photos… does
    tv = window.trash_window
    assert tv is not None and tv.isVisible()
    return tv


def _row_of(tv: TrashedPhotosWindow, name: str):  # type: ignore[no-untyped-def]
    return next(
        tv.tree.topLevelItem(i) for i in range(tv.tree.topLevelItemCount()) if tv.tree.topLevelItem(i).text(0) == name
    )


def _has_thumbnail(item) -> bool:  # type: ignore[no-untyped-def]
    """The photo, not the transparent placeholder, is drawn in the middle of the icon."""
    return item.icon(PHOTO).pixmap(ICON).toImage().pixelColor(ICON // 2, ICON // 2).alpha() == 255


def test_lists_the_trash_records_and_restores_one(qtbot, window, corpus, tmp_path, trash_dir) -> None:
    ids = _library_with_trash(window, corpus, tmp_path)
    assert window.model.rowCount() == 1
    tv = _open(window)
    records = trash.trashed(window.lib)
    assert len(records) == 3
    assert tv.record_ids() == [r.id for r in records]
    for r in records:
        item = _row_of(tv, Path(r.path).name)
        assert item.toolTip(PHOTO) == r.path and item.text(1) == str(Path(r.path).parent)
        assert item.text(2) == human_size(Path(trash_dir / "files" / Path(r.path).name).stat().st_size)
        assert item.text(3) == r.trashed_at.replace("T", " ")[:16]
    total = sum(Photo.get_by_id(r.photo_id).size for r in records)
    assert tv.summary.text() == f"3 photos in the trash · {human_size(total)}"
    assert tv.pages.currentWidget() is tv.tree and not tv.restore_button.isEnabled()
    # the cached thumbnails fill in
    qtbot.waitUntil(lambda: all(_has_thumbnail(_row_of(tv, n)) for n in NAMES[:3]), timeout=10_000)

    # click a row, then Restore
    item = _row_of(tv, "g21_city.jpg")
    qtbot.mouseClick(tv.tree.viewport(), Qt.MouseButton.LeftButton, pos=tv.tree.visualItemRect(item).center())
    assert tv.record_ids(selected_only=True) == [next(r.id for r in records if r.path.endswith("g21_city.jpg"))]
    assert tv.restore_button.isEnabled()
    qtbot.mouseClick(tv.restore_button, Qt.MouseButton.LeftButton)
    path = Photo.get_by_id(ids["g21_city.jpg"]).path
    assert Path(path).exists() and not (trash_dir / "files" / "g21_city.jpg").exists()
    assert Photo.get_by_id(ids["g21_city.jpg"]).status == "ok"
    assert tv.message.text() == "Restored 1 file to where it was."
    assert tv.record_ids() == [r.id for r in trash.trashed(window.lib)] and len(tv.record_ids()) == 2
    assert window.model.rowCount() == 2  # the main window shows it again
    # shown again from the menu, the same window re-reads the catalog
    tv.close()
    assert _open(window) is tv and len(tv.record_ids()) == 2


def test_emptied_trash_is_reported_and_multi_select_restores(qtbot, window, corpus, tmp_path, trash_dir) -> None:
    ids = _library_with_trash(window, corpus, tmp_path)
    (trash_dir / "files" / "g02_coffee_gray.jpg").unlink()  # the user emptied that one from the trash
    tv = _open(window)
    tv.tree.selectAll()
    assert tv.restore_button.text() == "Restore 3"
    qtbot.keyClick(tv.tree, Qt.Key.Key_Return)
    gone = Photo.get_by_id(ids["g02_coffee_gray.jpg"])
    assert tv.message.text() == (
        "Restored 2 files to where they were. Could not restore g02_coffee_gray.jpg: it is no longer in the "
        "trash (emptied?)"
    )
    assert gone.status == "trashed" and not Path(gone.path).exists()
    assert [r.path for r in trash.trashed(window.lib)] == [gone.path]
    assert tv.record_ids() == tv.record_ids(selected_only=True) == [r.id for r in trash.trashed(window.lib)]
    for name in ("g02_coffee.jpg", "g21_city.jpg"):
        assert Path(Photo.get_by_id(ids[name]).path).exists() and Photo.get_by_id(ids[name]).status == "ok"
    assert window.model.rowCount() == 3


def test_empty_state(window) -> None:
    tv = _open(window)
    assert tv.pages.currentWidget() is tv.empty and tv.empty.text() == EMPTY_TEXT
    assert tv.summary.text() == "No photos in the trash"
    assert tv.record_ids() == [] and not tv.restore_button.isEnabled()
    assert tv.restore_selected() == 0
